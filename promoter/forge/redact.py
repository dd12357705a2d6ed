"""Redactor: keeps forge tokens out of messages, exceptions and log records."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

MASK = "***"
# Token shapes worth hiding even when we were not told the value (a URL with credentials, a pasted token).
_KNOWN_SHAPES = re.compile(
    r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_-]{16,})"
    r"|(?<=://)[^/\s:@]+:[^/\s@]+(?=@)"
)


class Redactor:
    def __init__(self, *secrets: str | None) -> None:
        # Longest first, so a secret containing another is replaced whole.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: object) -> str:
        out = str(text)
        for s in self.secrets:
            out = out.replace(s, MASK)
        return _KNOWN_SHAPES.sub(MASK, out)

    @contextmanager
    def installed(self) -> Iterator[Redactor]:
        """While active, every log record any library creates is redacted when it is made."""
        previous = logging.getLogRecordFactory()

        def factory(*args: object, **kwargs: object) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            try:
                message = record.getMessage()
            except (
                TypeError,
                ValueError,
            ):  # a broken format string is the caller's problem, not a leak
                message = str(record.msg)
            record.msg, record.args = self(message), ()
            if record.exc_info and record.exc_info[1] is not None:
                record.exc_text = self(logging.Formatter().formatException(record.exc_info))
                record.exc_info = None
            return record

        logging.setLogRecordFactory(factory)
        try:
            yield self
        finally:
            logging.setLogRecordFactory(previous)
