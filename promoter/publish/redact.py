"""Redactor: keeps forge tokens out of messages, exceptions and log records."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator
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
        """While active, every log record any library creates is redacted when it is made.

        Several redactors may be active at once (parallel publishes in threads): one process-wide
        record factory applies all of them, so contexts may end in any order without leaking one.
        """
        with _ACTIVE_LOCK:
            if not _ACTIVE:
                _install_factory()
            _ACTIVE.append(self)
        try:
            yield self
        finally:
            with _ACTIVE_LOCK:
                _ACTIVE.remove(self)
                if not _ACTIVE:
                    _uninstall_factory()


_ACTIVE: list[Redactor] = []
_ACTIVE_LOCK = threading.Lock()
_PREVIOUS: list[Callable[..., logging.LogRecord]] = []


def _redact_all(text: str) -> str:
    for r in list(_ACTIVE):
        text = r(text)
    return text


def _factory(*args: object, **kwargs: object) -> logging.LogRecord:
    record = _PREVIOUS[-1](*args, **kwargs)
    try:
        message = record.getMessage()
    except (TypeError, ValueError):  # a broken format string is the caller's problem, not a leak
        message = str(record.msg)
    record.msg, record.args = _redact_all(message), ()
    if record.exc_info and record.exc_info[1] is not None:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.exc_info = None
    if record.exc_text:
        record.exc_text = _redact_all(record.exc_text)
    return record


def _install_factory() -> None:
    _PREVIOUS.append(logging.getLogRecordFactory())
    logging.setLogRecordFactory(_factory)


def _uninstall_factory() -> None:
    # Put back what was there, unless someone installed their own factory on top of ours meanwhile.
    previous = _PREVIOUS.pop()
    if logging.getLogRecordFactory() is _factory:
        logging.setLogRecordFactory(previous)
