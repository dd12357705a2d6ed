"""Unified diff of two texts in time about linear in their length when they differ in a few places.

`difflib.unified_diff` matches whole files with `SequenceMatcher`, whose longest-match search is
quadratic in the number of repeated lines: the diff of a one-line bump in a 5 MB values file made of
real chart values took 9 s, 50 MB minutes (issue 12 item 7). Here the common head and tail are skipped
first, the middle is cut at lines found exactly once on each side (patience anchors), and only the
small pieces left between them go to `SequenceMatcher`; hunks are grouped and printed as difflib does,
so an edit in one place diffs to the same bytes as before.
"""

from __future__ import annotations

import bisect
import difflib
from collections import Counter
from collections.abc import Iterator

# A middle piece at most this long (lines, both sides together) goes to SequenceMatcher whole; a longer
# one is cut at unique lines first, and one with none is shown replaced whole (bounded time, still a
# correct diff).
MATCHER_LINES = 4_000

Opcode = tuple[str, int, int, int, int]


def unified_diff(old: str, new: str, fromfile: str, tofile: str, n: int = 3) -> str:
    """`difflib.unified_diff` of the two texts' lines, joined (same headers, hunks and line prefixes)."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    out: list[str] = []
    for group in _grouped(opcodes(a, b), n):
        if not out:
            out += [f"--- {fromfile}\n", f"+++ {tofile}\n"]
        first, last = group[0], group[-1]
        out.append(f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@\n")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out += [" " + line for line in a[i1:i2]]
                continue
            if tag in ("replace", "delete"):
                out += ["-" + line for line in a[i1:i2]]
            if tag in ("replace", "insert"):
                out += ["+" + line for line in b[j1:j2]]
    return "".join(out)


def opcodes(a: list[str], b: list[str]) -> list[Opcode]:
    """Opcodes (as SequenceMatcher.get_opcodes) turning `a` into `b`, adjacent equal runs merged."""
    merged: list[Opcode] = []
    for code in _pieces(a, 0, len(a), b, 0, len(b)):
        if code[1] == code[2] and code[3] == code[4]:
            continue
        if merged and (merged[-1][0] == "equal") == (code[0] == "equal"):
            tag, i1, _, j1, _ = merged[-1]
            merged[-1] = (tag if tag == "equal" else "replace", i1, code[2], j1, code[4])
        else:
            merged.append(code)
    return merged or [("equal", 0, 0, 0, 0)]


def _pieces(a: list[str], alo: int, ahi: int, b: list[str], blo: int, bhi: int) -> Iterator[Opcode]:
    head = alo
    while head < ahi and head - alo + blo < bhi and a[head] == b[head - alo + blo]:
        head += 1
    shift = head - alo
    yield ("equal", alo, head, blo, blo + shift)
    alo, blo = head, blo + shift
    tail = 0
    while tail < ahi - alo and tail < bhi - blo and a[ahi - 1 - tail] == b[bhi - 1 - tail]:
        tail += 1
    ahi, bhi = ahi - tail, bhi - tail
    if (ahi - alo) + (bhi - blo) <= MATCHER_LINES or alo == ahi or blo == bhi:
        yield from _matched(a, alo, ahi, b, blo, bhi)
    else:
        anchors = _anchors(a, alo, ahi, b, blo, bhi)
        if not anchors:
            yield ("replace", alo, ahi, blo, bhi)
        else:
            i, j = alo, blo
            for ai, bj in anchors:
                yield from _pieces(a, i, ai, b, j, bj)
                yield ("equal", ai, ai + 1, bj, bj + 1)
                i, j = ai + 1, bj + 1
            yield from _pieces(a, i, ahi, b, j, bhi)
    yield ("equal", ahi, ahi + tail, bhi, bhi + tail)


def _matched(a: list[str], alo: int, ahi: int, b: list[str], blo: int, bhi: int) -> Iterator[Opcode]:
    if alo == ahi and blo == bhi:
        return
    if alo == ahi:
        yield ("insert", alo, ahi, blo, bhi)
    elif blo == bhi:
        yield ("delete", alo, ahi, blo, bhi)
    else:
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a[alo:ahi], b[blo:bhi]).get_opcodes():
            yield (tag, alo + i1, alo + i2, blo + j1, blo + j2)


def _anchors(a: list[str], alo: int, ahi: int, b: list[str], blo: int, bhi: int) -> list[tuple[int, int]]:
    """Lines found exactly once in each side, the longest run of them in the same order on both (patience)."""
    count_a, count_b = Counter(a[alo:ahi]), Counter(b[blo:bhi])
    where_b = {b[j]: j for j in range(blo, bhi) if count_b[b[j]] == 1 and count_a.get(b[j]) == 1}
    pairs = [(i, where_b[a[i]]) for i in range(alo, ahi) if a[i] in where_b]
    # Longest increasing run of b positions (patience sorting, n log n), walked back from its end.
    tops: list[int] = []
    top_at: list[int] = []
    back: list[int] = [-1] * len(pairs)
    for k, (_, j) in enumerate(pairs):
        pile = bisect.bisect_left(tops, j)
        back[k] = top_at[pile - 1] if pile else -1
        if pile == len(tops):
            tops.append(j)
            top_at.append(k)
        else:
            tops[pile], top_at[pile] = j, k
    run: list[tuple[int, int]] = []
    k = top_at[-1] if top_at else -1
    while k >= 0:
        run.append(pairs[k])
        k = back[k]
    return run[::-1]


def _grouped(codes: list[Opcode], n: int) -> Iterator[list[Opcode]]:
    """Hunks as SequenceMatcher.get_grouped_opcodes(n) makes them: changes with up to `n` equal lines around."""
    codes = list(codes)
    if codes[0][0] == "equal":
        tag, i1, i2, j1, j2 = codes[0]
        codes[0] = (tag, max(i1, i2 - n), i2, max(j1, j2 - n), j2)
    if codes[-1][0] == "equal":
        tag, i1, i2, j1, j2 = codes[-1]
        codes[-1] = (tag, i1, min(i2, i1 + n), j1, min(j2, j1 + n))
    group: list[Opcode] = []
    for tag, i1, i2, j1, j2 in codes:
        if tag == "equal" and i2 - i1 > 2 * n:  # a long equal run ends one hunk and starts the next
            group.append((tag, i1, min(i2, i1 + n), j1, min(j2, j1 + n)))
            yield group
            group = []
            i1, j1 = max(i1, i2 - n), max(j1, j2 - n)
        group.append((tag, i1, i2, j1, j2))
    if group and not (len(group) == 1 and group[0][0] == "equal"):
        yield group


def _range(start: int, stop: int) -> str:
    """A unified diff hunk range, as difflib writes it."""
    beginning, length = start + 1, stop - start
    if length == 1:
        return f"{beginning}"
    if not length:
        beginning -= 1  # an empty range begins before its position
    return f"{beginning},{length}"
