"""A bump of a big values file costs time linear in its length (issue 12 item 7): a one-line bump of a
5 MB file of real chart values took 14 s, 9 of them in difflib's SequenceMatcher diffing the whole
file (quadratic in repeated lines), and FileEdit.apply spliced the whole text once per edit. Speed is
measured in bench/bench_big_values.py, not here: these tests count the work (lines handed to the
matcher) and hold the results to what the old code gave."""

from __future__ import annotations

import difflib
import random
from pathlib import Path
from typing import Any

import pytest

from promoter.config.model import Config
from promoter.edit.editor import FileEdit, _Op
from promoter.edit.plan import plan_bump
from promoter.model import textdiff
from promoter.model.image import ImageRef
from promoter.yamlio.document import YamlDoc

_UNIFIED = difflib.unified_diff  # (the tests below count textdiff's matchers by patching difflib's)
TARGET = "target:\n  image:\n    repository: ghcr.io/acme/target\n    tag: v1\n"


def _difflib(old: str, new: str) -> str:
    return "".join(_UNIFIED(old.splitlines(True), new.splitlines(True), "a/x", "b/x"))


def _patched(old: str, diff: str) -> str:
    """`old` with a unified diff applied, hunk by hunk (context and removed lines must match)."""
    lines, out, at = old.splitlines(True), [], 0
    body = diff.splitlines(True)[2:]
    for row in body:
        if row.startswith("@@"):
            start = int(row.split()[1][1:].split(",")[0])
            count = row.split()[1].split(",")
            start = start - 1 if len(count) == 1 or count[1] != "0" else start
            out += lines[at:start]
            at = start
        elif row[0] in " -":
            assert lines[at] == row[1:], (at, row)
            at += 1
            if row[0] == " ":
                out.append(row[1:])
        else:
            out.append(row[1:])
    return "".join(out + lines[at:])


def _chart_values(corpus: Path) -> list[str]:
    return [p.read_text() for p in sorted(corpus.glob("helm-values/**/values.yaml"))]


_MATCHER = difflib.SequenceMatcher


class _Counting:
    """SequenceMatcher as textdiff uses it, recording how many lines each one is given."""

    sizes: list[int] = []

    def __new__(cls, isjunk: Any, a: list[str], b: list[str]) -> difflib.SequenceMatcher[str]:
        cls.sizes.append(len(a) + len(b))
        return _MATCHER(isjunk, a, b)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    _Counting.sizes = []
    monkeypatch.setattr(textdiff.difflib, "SequenceMatcher", _Counting)
    return _Counting.sizes


def test_a_few_edits_in_real_files_diff_as_difflib_did(corpus: Path) -> None:
    rng = random.Random(4)
    checked = 0
    for path in sorted(corpus.rglob("*.yaml")):
        old = path.read_text()
        lines = old.splitlines(True)
        if not lines:
            continue
        for edits in (1, 2, 3):
            new_lines = list(lines)
            for _ in range(edits):
                k = rng.randrange(len(new_lines))
                new_lines[k] = new_lines[k].rstrip("\n") + "-v2\n"
            new = "".join(new_lines)
            assert textdiff.unified_diff(old, new, "a/x", "b/x") == _difflib(old, new), path
            checked += 1
    assert checked > 100


def test_any_diff_applies_back_to_the_new_text() -> None:
    # Where difflib would choose between equally long matches, the two may align a change differently;
    # both are correct diffs. This holds every diff to that: applied to the old text it gives the new.
    rng = random.Random(7)
    vocab = ["a\n", "b\n", "  x: 1\n", "  y: 2\n", "k:\n", "\n", "- z\n"]
    for _ in range(3_000):
        old_lines = [rng.choice(vocab) for _ in range(rng.randint(0, 40))]
        new_lines = list(old_lines)
        for _ in range(rng.randint(0, 4)):
            k = rng.randint(0, len(new_lines))
            if rng.random() < 0.5 or k == len(new_lines):
                new_lines.insert(k, rng.choice(vocab))
            else:
                del new_lines[k]
        old, new = "".join(old_lines), "".join(new_lines)
        diff = textdiff.unified_diff(old, new, "a/x", "b/x")
        assert (diff == "") == (old == new)
        assert _patched(old, diff) == new, (old, new, diff)


def test_no_newline_at_the_end_diffs_as_difflib_did() -> None:
    for old, new in (("a\nb", "a\nc"), ("a\nb\n", "a\nb"), ("", "a\n"), ("a\n", ""), ("x", "x")):
        assert textdiff.unified_diff(old, new, "a/x", "b/x") == _difflib(old, new)


def test_the_matcher_sees_only_the_changed_lines_of_a_big_repeated_file(corpus: Path, counted: list[int]) -> None:
    # Every chart repeated under k0, k1, ...: almost no line is unique, the shape that made difflib quadratic.
    charts = _chart_values(corpus)
    parts = [f"k{i}:\n" + "".join(f"  {line}\n" for line in charts[i % len(charts)].splitlines()) for i in range(120)]
    old = "".join(parts)
    lines = old.splitlines(True)
    new_lines = list(lines)
    for k in (10, len(lines) // 2, len(lines) - 5):  # three edits far apart
        new_lines[k] = "  changed: yes\n"
    new = "".join(new_lines)
    diff = textdiff.unified_diff(old, new, "a/x", "b/x")
    assert _patched(old, diff) == new
    assert diff.count("\n+  changed: yes\n") == 3
    assert len(lines) > 20_000
    # Without the cut, one matcher was given every line of both texts.
    assert sum(counted) <= 12, counted


def test_a_middle_with_no_unique_line_is_shown_replaced_not_matched(counted: list[int]) -> None:
    # Bounded work on any input: a long changed stretch made only of repeated lines goes to no matcher.
    old = "a\nb\n" * 5_000
    new = "b\na\n" * 5_000
    diff = textdiff.unified_diff(old, new, "a/x", "b/x")
    assert _patched(old, diff) == new
    assert sum(counted) == 0  # no line matched (one matcher over both texts was quadratic here)


def _old_apply(text: str, ops: list[_Op]) -> str:
    """FileEdit.apply's splice before: one whole-text copy per edit, from the last offset back."""
    for op in sorted(ops, key=lambda o: o.start, reverse=True):
        text = text[: op.start] + op.text + text[op.end :]
    return text


def test_edits_apply_as_the_splice_from_the_end_did(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(11)
    monkeypatch.setattr(FileEdit, "_verify", lambda self, text: None)
    checked = 0
    doc = YamlDoc.from_text("{}\n", "x.yaml")
    for _ in range(20_000):
        text = "".join(rng.choice("ab:\n ") for _ in range(rng.randint(0, 15)))
        ops = []
        for _ in range(rng.randint(0, 5)):
            start = rng.randint(0, len(text))
            end = rng.choice([start, start, rng.randint(start, len(text))])  # insertions at one offset too
            ops.append(_Op(start, end, rng.choice(["", "X", "YY", "\nZ"])))
        spans = sorted(ops, key=lambda o: (o.start, o.end))
        if any(b.start < a.end for a, b in zip(spans, spans[1:], strict=False)):
            continue  # apply refuses overlapping edits
        doc.text = text  # apply() splices the text alone (its check is turned off above)
        edit = FileEdit(doc)
        edit.ops = ops
        assert edit.apply() == edit.doc.full_text(_old_apply(text, ops))
        checked += 1
    assert checked > 10_000


def test_a_bump_in_a_file_of_real_chart_values_is_byte_exact_and_diffs_in_small_pieces(
    corpus: Path, tmp_path: Path, counted: list[int]
) -> None:
    charts = _chart_values(corpus)
    mine = "  mine:\n    image:\n      repository: ghcr.io/acme/target\n      tag: v1\n"
    parts = []
    for i in range(60):
        lines = [line for line in charts[i % len(charts)].splitlines() if line.rstrip() != "---"]
        body = "".join(f"  {line}\n" if line.strip() else "\n" for line in lines)
        parts.append(f"k{i}:\n{body}{mine if i % 20 == 0 else ''}")
    old = "".join(parts) + TARGET
    (tmp_path / "values.yaml").write_text(old)
    cs = plan_bump(tmp_path, Config.empty(), ImageRef.parse("ghcr.io/acme/target:v2"), paths=["values.yaml"])
    new = cs.files["values.yaml"].new_text
    # The edit: exactly the four tags, nothing else.
    assert len(cs.changes) == 4
    assert new == old.replace("tag: v1\n", "tag: v2\n")
    assert old.count("tag: v1\n") == 4
    counted.clear()
    diff = cs.diff()
    sizes = list(counted)  # (the reference below runs one matcher over the whole file)
    assert diff.replace("b/values.yaml", "b/x").replace("a/values.yaml", "a/x") == _difflib(old, new)
    assert sum(sizes) <= 4 * 2, sizes
