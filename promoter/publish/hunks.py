"""Hunks: rebuild a file's text at a branch head from its text at the base and the forge's diff hunks.

The compare answer of both forges carries, per file, the unified-diff hunks (without the
`---`/`+++` header). Applied to the base text they give the head text without reading the file
again; every context and removed line must match the base exactly, else the result is None and
the caller reads the file instead. GitHub also names the head blob, which proves the result.
"""

from __future__ import annotations

import hashlib
import re

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def apply_hunks(old: str, patch: str) -> str | None:
    """`old` with `patch` applied, or None when the patch does not fit it exactly."""
    if not patch.strip():
        return None
    src = old.splitlines(keepends=True)
    out: list[str] = []
    pos = 0  # next line of `src` not yet copied
    lines = patch.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    i = 0
    while i < len(lines):
        m = _HUNK.match(lines[i])
        if not m:
            return None
        start, count = int(m.group(1)), int(m.group(2) if m.group(2) is not None else 1)
        # A hunk with no old lines (an insertion) starts after line `start`; otherwise at it.
        at = start if count == 0 else start - 1
        if at < pos or at > len(src):
            return None
        out.extend(src[pos:at])
        pos = at
        i += 1
        last: str | None = None  # which side the previous line belonged to, for "\ No newline"
        while i < len(lines) and not lines[i].startswith("@@"):
            line = lines[i]
            tag, text = line[:1], line[1:]
            if tag == "\\":
                # The line before has no newline at the end of the file (on its side).
                if last in ("+", " ") and out and out[-1].endswith("\n"):
                    out[-1] = out[-1][:-1]
                i += 1
                continue
            if tag in (" ", "-"):
                expected = src[pos] if pos < len(src) else None
                if expected is None or expected.rstrip("\n") != text:
                    return None
                pos += 1
                if tag == " ":
                    out.append(expected)
            elif tag == "+":
                out.append(text + "\n")
            elif line == "":
                # Some servers drop the leading space of an empty context line.
                expected = src[pos] if pos < len(src) else None
                if expected is None or expected.rstrip("\n") != "":
                    return None
                pos += 1
                out.append(expected)
                tag = " "
            else:
                return None
            last = tag
            i += 1
    out.extend(src[pos:])
    return "".join(out)


def blob_sha(text: str) -> str:
    """The git blob id of `text` (UTF-8), as GitHub names a file's content."""
    data = text.encode("utf-8")
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()
