"""The byte-exact primitive: find a YAML scalar's exact span in the text and re-write only its bytes."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache

from promoter.model.errors import UsageError
from promoter.yamlio.loader import load


@dataclass(frozen=True)
class Span:
    """[start, end) offsets in the text of one scalar as written, with its quoting style."""

    start: int
    end: int
    style: str  # "plain" | "single" | "double"


class LineIndex:
    """Maps (0-based line, column) to offsets; line endings (LF or CRLF) stay part of the text."""

    def __init__(self, text: str, starts: list[int] | None = None) -> None:
        self.text = text
        self.starts = starts if starts is not None else [0] + [m.end() for m in re.finditer("\n", text)]

    def offset(self, line: int, column: int) -> int:
        return self.starts[line] + column

    def line_end(self, offset: int) -> int:
        """Offset of the end of the line holding `offset`, before its CR/LF."""
        nl = self.text.find("\n", offset)
        end = len(self.text) if nl < 0 else nl
        if end > 0 and end <= len(self.text) and self.text[end - 1 : end] == "\r":
            end -= 1
        return end

    def line_of(self, offset: int) -> int:
        import bisect

        return bisect.bisect_right(self.starts, offset) - 1

    def newline(self) -> str:
        return "\r\n" if "\r\n" in self.text else "\n"


def scalar_span(text: str, start: int, *, flow: bool) -> Span:
    """Span of the scalar beginning at `start` (ruamel's value position). Anchors and tags before it are skipped."""
    i = start
    # `&anchor value` / `!tag value`: the scalar follows the property.
    while i < len(text) and text[i] in "&!":
        while i < len(text) and text[i] not in " \t\r\n":
            i += 1
        while i < len(text) and text[i] in " \t":
            i += 1
    if i >= len(text):
        raise _unsupported("an empty value")
    c = text[i]
    if c == '"':
        j = i + 1
        while j < len(text):
            if text[j] == "\\":
                j += 2
                continue
            if text[j] == '"':
                return Span(i, j + 1, "double")
            if text[j] == "\n":
                raise _unsupported("a double-quoted value spanning lines")
            j += 1
        raise _unsupported("an unterminated double-quoted value")
    if c == "'":
        j = i + 1
        while j < len(text):
            if text[j] == "'":
                if text[j + 1 : j + 2] == "'":
                    j += 2
                    continue
                return Span(i, j + 1, "single")
            if text[j] == "\n":
                raise _unsupported("a single-quoted value spanning lines")
            j += 1
        raise _unsupported("an unterminated single-quoted value")
    if c in "|>":
        raise _unsupported("a block scalar (| or >)")
    if c == "*":
        raise _unsupported("an alias (*name); edit the anchored value instead")
    if c in "[{":
        raise _unsupported("a collection")
    j = i
    stops = ",]}" if flow else ""
    while j < len(text):
        ch = text[j]
        if ch in "\r\n":
            break
        if ch == "#" and j > i and text[j - 1] in " \t":
            break
        if ch in stops:
            break
        j += 1
    end = j
    while end > i and text[end - 1] in " \t":
        end -= 1
    return Span(i, end, "plain")


def _unsupported(what: str) -> UsageError:
    return UsageError(f"cannot rewrite {what} byte-exact")


@lru_cache(maxsize=4096)
def _needs_quotes(value: str) -> bool:
    """True when `value` written plain would not read back as this same string (YAML 1.1 or 1.2)."""
    if value == "" or value != value.strip():
        return True
    if value[0] in "!&*[]{}|>'\"%@`#,?:-" and not re.match(r"^-?[\w.]", value):
        return True
    if ": " in value or " #" in value or value.endswith(":"):
        return True
    try:
        if load(value) != value:
            return True
    except Exception:  # unreadable alone: quoting is the safe answer
        return True
    from ruamel.yaml import YAML

    try:
        return YAML(typ="safe", pure=True).load(value) != value
    except Exception:
        return True


def format_scalar(value: str, style: str, *, old_plain_was_string: bool = True) -> tuple[str, str]:
    """Text for `value` in the old value's quoting style; returns (text, style used).

    A plain value stays plain unless the new string would read back as a number, bool or null
    (tag `1.10` would become the float 1.1): then it is double-quoted, which is the only way to
    keep the value a string.
    """
    if style == "double":
        return json.dumps(value, ensure_ascii=False), "double"
    if style == "single":
        return "'" + value.replace("'", "''") + "'", "single"
    if _needs_quotes(value) and old_plain_was_string:
        return json.dumps(value, ensure_ascii=False), "double"
    return value, "plain"
