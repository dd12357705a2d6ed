"""The Markdown summary: tables that hold whatever the messages say, collapsing, and a hard size limit."""

from __future__ import annotations

import re

import pytest

from promoter.model.finding import CheckResult, Severity, Status, Subject
from promoter.report.markdown import COLLAPSE_AFTER, escape, markdown_summary
from tests.report.report_samples import many, sample_result

_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def _table_rows(md: str) -> list[str]:
    return [l for l in md.splitlines() if l.startswith("| ")]


def _assert_tables_well_formed(md: str) -> None:
    # Every row of a table has as many cell separators as its header row.
    blocks = re.split(r"\n(?!\|)", md)
    for block in blocks:
        rows = [l for l in block.splitlines() if l.startswith("|")]
        if rows:
            widths = {len(_UNESCAPED_PIPE.findall(r)) for r in rows}
            assert len(widths) == 1, rows
    assert md.count("<details>") == md.count("</details>")


def test_summary_content() -> None:
    md = markdown_summary(sample_result(), title="promoter check")
    assert md.startswith("## promoter check\n")
    assert "FAIL: 3 blocking errors" in md
    assert "| \u274c error | 3 |" in md and "| \U0001f4a4 waived | 1 |" in md
    assert (
        "| \u274c error | schema | apps/checkout/base/deployment.yaml:12 | spec.replicas: 'three' is not of type 'integer' |"
        in md
    )
    assert "<details><summary>Waived findings (1)</summary>" in md
    assert "hotfix, INC-42: approved" in md
    assert "no schema for example.com/v1 Widget" in md
    _assert_tables_well_formed(md)


def test_hostile_text_is_inert() -> None:
    md = markdown_summary(sample_result(), title="t")
    assert "<b>" not in md and "&lt;b&gt;&amp;amp;&lt;/b&gt;" in md
    assert "\\| pipe" in md and "\\`tick\\`" in md
    assert "@&#8203;team" in md and "@team" not in md
    assert "\x1b" not in md and "\x01" not in md
    row = next(l for l in md.splitlines() if "100% sure" in l)
    assert "second line" in row and "<br>" in row  # the multi-line message stays in one row


def test_escape_rules() -> None:
    assert escape("a|b") == "a\\|b"
    assert escape("<script>x</script>") == "&lt;script&gt;x&lt;/script&gt;"
    assert escape("*bold* _it_ [link](u)") == "\\*bold\\* \\_it\\_ \\[link\\](u)"
    assert escape("l1\nl2") == "l1<br>l2" and escape("l1\nl2", newlines=" ") == "l1 l2"


def test_long_findings_table_is_collapsed() -> None:
    short = markdown_summary(CheckResult(findings=many(COLLAPSE_AFTER, Severity.ERROR)), title="t")
    assert "### Findings" in short and "<details>" not in short
    long = markdown_summary(CheckResult(findings=many(COLLAPSE_AFTER + 1, Severity.ERROR)), title="t")
    assert f"<details><summary>Findings ({COLLAPSE_AFTER + 1})</summary>" in long
    _assert_tables_well_formed(long)


def test_fits_means_untouched() -> None:
    full = markdown_summary(sample_result(), title="t")
    assert markdown_summary(sample_result(), title="t", max_chars=len(full)) == full
    assert "Truncated" not in full


def _big() -> CheckResult:
    return CheckResult(
        findings=many(120, Severity.ERROR, message="x" * 40) + many(30, Severity.WARNING),
        subjects=[Subject(f"s{i}", "resource", "t", None, Status.SKIPPED, "no schema") for i in range(20)],
    )


@pytest.mark.parametrize("max_chars", [0, 10, 200, 600, 1500, 3000, 5000, 12000])
def test_max_chars_is_respected_with_a_note(max_chars: int) -> None:
    assert len(markdown_summary(_big(), title="promoter check")) > 12000
    md = markdown_summary(_big(), title="promoter check", max_chars=max_chars)
    assert len(md) <= max_chars
    if max_chars >= 30:
        assert "truncated" in md.lower()
    if max_chars >= 1500:
        # Whole rows were dropped, and the note counts exactly those.
        hidden = int(re.search(r"Truncated:\*\* (\d+) more", md).group(1))
        shown = sum(1 for l in md.splitlines() if "| apps/a.yaml:" in l or re.match(r"^\| s\d+ \|", l))
        assert shown > 0 and hidden + shown == 170
        _assert_tables_well_formed(md)


def test_truncation_keeps_errors_first() -> None:
    result = CheckResult(findings=many(50, Severity.WARNING) + many(50, Severity.ERROR))
    md = markdown_summary(result, title="t", max_chars=3000)
    rows = [l for l in _table_rows(md) if "apps/a.yaml" in l]
    assert rows and all("error" in r for r in rows)
