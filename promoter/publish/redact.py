"""Redactor: keeps forge tokens out of messages, exceptions, log records, reports and PR bodies.

A token can reach an output in more forms than its own text: escaped for Markdown (`ghp\\_...`),
HTML (`&#95;`) or JSON (`\\u005f`), percent-encoded, or base64-encoded inside a longer value. Each
secret is matched in all of these forms, and a base64 run that holds it (at any of the three
byte alignments, standard or URL-safe alphabet) is masked whole.
"""

from __future__ import annotations

import base64
import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager

MASK = "***"
# Token shapes worth hiding even when we were not told the value (a URL with credentials, a pasted token).
# A URL's userinfo is hidden whole, with or without a colon: https://TOKEN@host carries a token too.
_KNOWN_SHAPES = re.compile(
    r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_-]{16,})"
    r"|(?<=://)[^/\s@]+(?=@)"
)
# Environment variables that hold forge or CI credentials (also any *_TOKEN set by the user).
TOKEN_VARIABLES = ("GITHUB_TOKEN", "GH_TOKEN", "GITLAB_TOKEN", "CI_JOB_TOKEN", "PROMOTER_FORGE_TOKEN")
_NAMED = {"&": ("&amp;",), "<": ("&lt;",), ">": ("&gt;",), '"': ("&quot;",), "'": ("&#39;", "&apos;")}
_B64_RUN = "A-Za-z0-9+/_-"


def _char_forms(ch: str) -> str:
    """A regex for one character in any escaped form an output format may give it."""
    code = ord(ch)
    forms = [
        r"\\?" + re.escape(ch),  # itself, or Markdown's backslash escape
        f"&#0*{code};",
        f"&#[xX]0*{code:x};",
        f"\\\\u{code:04x}",
        f"\\\\u{code:04X}",
        f"%{code:02X}",
        f"%{code:02x}",
        *(re.escape(n) for n in _NAMED.get(ch, ())),
    ]
    return "(?:" + "|".join(forms) + ")"


def _base64_cores(secret: str) -> set[str]:
    """The base64 text that encodes the secret inside any longer value, for the 3 byte alignments."""
    raw = secret.encode()
    cores = set()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw).decode().rstrip("=")
        start = {0: 0, 1: 2, 2: 3}[offset]  # characters mixing in the unknown bytes before
        end = (8 * (offset + len(raw))) // 6  # characters fully decided by the secret
        core = encoded[start:end]
        if len(core) >= 8:
            cores.add(core)
            cores.add(core.replace("+", "-").replace("/", "_"))
    return cores


class Redactor:
    def __init__(self, *secrets: str | None) -> None:
        # Longest first, so a secret containing another is replaced whole.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)
        patterns = ["".join(_char_forms(ch) for ch in s) for s in self.secrets]
        cores = sorted({c for s in self.secrets if len(s) >= 8 for c in _base64_cores(s)}, key=len, reverse=True)
        patterns += [f"[{_B64_RUN}]*{re.escape(c)}[{_B64_RUN}]*=*" for c in cores]
        self._pattern = re.compile("|".join(patterns)) if patterns else None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], *extra: str | None) -> Redactor:
        """Every credential the environment holds (forge and CI tokens, any *_TOKEN), plus `extra`."""
        found: list[str | None] = [environ.get(name) for name in TOKEN_VARIABLES]
        found += [value for name, value in environ.items() if name.endswith("_TOKEN") and len(value) >= 8]
        return cls(*found, *extra)

    def __call__(self, text: object) -> str:
        out = str(text)
        for s in self.secrets:
            out = out.replace(s, MASK)
        if self._pattern is not None:
            out = self._pattern.sub(MASK, out)
        return _KNOWN_SHAPES.sub(MASK, out)

    def all(self, texts: Iterable[str]) -> list[str]:
        return [self(t) for t in texts]

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


def environ_redactor(environ: Mapping[str, str]) -> Callable[[str], str]:
    """A redactor of the environment's tokens, or the identity when it holds none (no regex cost)."""
    if not any(name.endswith("TOKEN") for name in environ):
        return str
    return Redactor.from_environ(environ)


class RedactingStream:
    """A text stream that redacts what is written through it (stdout and stderr of the CLI),
    and through its binary `buffer`, which click writes to directly."""

    def __init__(self, stream: object, redact: Redactor) -> None:
        self._stream = stream
        self._redact = redact

    def write(self, text: str | bytes) -> int:
        if isinstance(text, bytes):
            return self.buffer.write(text)
        self._stream.write(self._redact(text))  # type: ignore[attr-defined]
        return len(text)

    @property
    def buffer(self) -> _RedactingBuffer:
        return _RedactingBuffer(self._stream.buffer, self._redact, getattr(self._stream, "encoding", None) or "utf-8")  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


class _RedactingBuffer:
    def __init__(self, buffer: object, redact: Redactor, encoding: str) -> None:
        self._buffer = buffer
        self._redact = redact
        self._encoding = encoding

    def write(self, data: bytes) -> int:
        text = self._redact(data.decode(self._encoding, errors="replace"))
        self._buffer.write(text.encode(self._encoding, errors="replace"))  # type: ignore[attr-defined]
        return len(data)

    def __getattr__(self, name: str) -> object:
        return getattr(self._buffer, name)
