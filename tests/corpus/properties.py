"""The corpus README's three properties of an image edit, checked independently of the edit code.

1. Only the bytes of changed values differ (plus, where a key must be added, exactly that line):
   every differing region of a changed line lies inside one YAML scalar token, in the old text and
   in the new (PyYAML's scanner, not the ruamel positions the edit used), so comments, quoting of
   other values, indentation, blank lines, markers, flow punctuation and line endings are equal.
2. Parsing the new text gives the new values at the reported paths and every other value unchanged.
3. The same edit run again changes nothing.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

import yaml

from promoter.model.changeset import Change

BOM = "\ufeff"
ADDED_KEY = re.compile(r"^\s*(-\s+)?(digest|tag|newTag):\s")


def scalar_spans(text: str) -> list[tuple[int, int]]:
    """[start, end) of every scalar token, quotes included (pure-Python scanner: offsets are characters)."""
    return [
        (t.start_mark.index, t.end_mark.index)
        for t in yaml.scan(text, Loader=yaml.SafeLoader)
        if isinstance(t, yaml.ScalarToken)
    ]


def _inside(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(s <= start and end <= e for s, e in spans)


def _line_offsets(lines: list[str]) -> list[int]:
    out, pos = [], 0
    for line in lines:
        out.append(pos)
        pos += len(line)
    return out


def check_only_values_changed(old: str, new: str, changes: list[Change]) -> list[str]:
    """Property 1. Returns the problems found (empty when it holds)."""
    problems: list[str] = []
    if old.startswith(BOM) != new.startswith(BOM):
        return ["the BOM changed"]
    old, new = old.removeprefix(BOM), new.removeprefix(BOM)
    if ("\r\n" in old) != ("\r\n" in new):
        problems.append("line endings changed")
    added_allowed = sum(1 for c in changes if c.old is None and c.note and "added" in c.note)
    old_lines, new_lines = old.splitlines(keepends=True), new.splitlines(keepends=True)
    pairs: list[tuple[int, int]] = []
    added = 0
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        if op == "delete":
            problems.append(f"lines {i1 + 1}-{i2} were deleted")
            continue
        extra = [j for j in range(j1, j2)]
        kept = list(range(i1, i2))
        # New lines beyond the replaced ones must be added keys (digest/tag) with the line ending of the file.
        while len(extra) > len(kept):
            j = next((j for j in reversed(extra) if ADDED_KEY.match(new_lines[j])), None)
            if j is None:
                problems.append(f"new line {extra[-1] + 1} is not an added digest/tag key: {new_lines[extra[-1]]!r}")
                break
            extra.remove(j)
            added += 1
        if len(extra) != len(kept):
            problems.append(f"lines {i1 + 1}-{i2} were rewritten as {j2 - j1} lines")
            continue
        pairs.extend(zip(kept, extra, strict=False))
    if added > added_allowed:
        problems.append(f"{added} lines were added, {added_allowed} reported as added keys")
    if pairs:
        old_spans, new_spans = scalar_spans(old), scalar_spans(new)
        old_at, new_at = _line_offsets(old_lines), _line_offsets(new_lines)
        reported_lines = {c.line for c in changes if c.old is not None or not (c.note and "added" in c.note)}
        for i, j in pairs:
            a, b = old_lines[i], new_lines[j]
            if i + 1 not in reported_lines:
                problems.append(f"line {i + 1} changed but no value there was reported: {a!r} -> {b!r}")
                continue
            p = 0
            while p < min(len(a), len(b)) and a[p] == b[p]:
                p += 1
            s = 0
            while s < min(len(a), len(b)) - p and a[len(a) - 1 - s] == b[len(b) - 1 - s]:
                s += 1
            bare_key = p == len(a) - s and a[:p].rstrip().endswith(":")  # `tag:` had no value bytes at all
            if not bare_key and not _inside(old_spans, old_at[i] + p, old_at[i] + len(a) - s):
                problems.append(f"line {i + 1}: bytes outside a value changed: {a!r} -> {b!r}")
            # after a bare `key:` the one separating space is new too
            elif not _inside(
                new_spans,
                new_at[j] + p + (len(b[p:]) - len(b[p:].lstrip(" ")) if bare_key else 0),
                new_at[j] + len(b) - s,
            ):
                problems.append(f"line {i + 1}: the new bytes are not one value: {a!r} -> {b!r}")
    return problems


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], Any]:
    if isinstance(node, dict):
        out: dict[tuple[Any, ...], Any] = {}
        for k, v in node.items():
            out.update(_leaves(v, path + (str(k),)))
        return out or {path: {}}
    if isinstance(node, list):
        out = {}
        for i, v in enumerate(node):
            out.update(_leaves(v, path + (i,)))
        return out or {path: []}
    return {path: node}


def _fmt(path: tuple[Any, ...]) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else ("." if out else "") + p
    return out


def check_values(old: str, new: str, changes: list[Change]) -> list[str]:
    """Property 2: the new values at the reported paths, every other value unchanged (PyYAML, YAML 1.1)."""
    problems: list[str] = []
    reported = {}
    for c in changes:
        reported.setdefault(c.yaml_path.replace('"', ""), []).append(c)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    olds = list(yaml.load_all(old.removeprefix(BOM), Loader=loader))
    news = list(yaml.load_all(new.removeprefix(BOM), Loader=loader))
    if len(olds) != len(news):
        return [f"{len(olds)} documents became {len(news)}"]
    for o, n in zip(olds, news, strict=False):
        lo, ln = _leaves(o), _leaves(n)
        for path in sorted(set(lo) | set(ln), key=str):
            if path in lo and path in ln and lo[path] == ln[path]:
                continue
            shown = _fmt(path)
            if shown not in reported:
                problems.append(f"{shown}: changed from {lo.get(path)!r} to {ln.get(path)!r} without being reported")
                continue
            want = {c.new if c.new is not None else "" for c in reported[shown]}
            got = ln.get(path)
            if path in ln and ("" if got is None else str(got)) not in want:
                problems.append(f"{shown}: reads back as {got!r}, expected one of {sorted(want)}")
    return problems
