"""GitHub annotations: escaping survives a round trip through the runner's parsing; caps and the count of the rest."""

from __future__ import annotations

import re
from pathlib import Path

from promoter.model.finding import CheckResult, Finding, Location, Severity
from promoter.report import github, write_reports
from tests.report.report_samples import NASTY, many, sample_result

_LINE = re.compile(r"^::(?P<kind>[a-z]+)(?: (?P<props>[^:]*))?::(?P<message>.*)$")


def _unescape(text: str, *, prop: bool) -> str:
    # The runner's inverse (actions/runner ActionCommand.Unescape*), applied in reverse order.
    if prop:
        text = text.replace("%2C", ",").replace("%3A", ":")
    return text.replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")


def parse(output: str) -> list[tuple[str, dict[str, str], str]]:
    """Parse workflow commands the way the runner does: split on `::`, props on `,` then `=`."""
    out = []
    # The runner reads its output line by line on CR/LF only (not str.splitlines' U+2028 and kin).
    for line in output.rstrip("\n").split("\n"):
        m = _LINE.match(line)
        assert m, f"not a workflow command: {line!r}"
        props = {}
        if m["props"]:
            for pair in m["props"].split(","):
                key, _, value = pair.partition("=")
                props[key] = _unescape(value, prop=True)
        out.append((m["kind"], props, _unescape(m["message"], prop=False)))
    return out


def test_escaping_round_trips_through_the_runner_parser() -> None:
    title = "a:b,c%d\ne"
    line = github.annotation(
        "error", NASTY.replace("\x01", "").replace("\x1b", ""), file="x,y:z%.yaml", line=3, title=title
    )
    assert "\n" not in line and "\r" not in line
    [(kind, props, message)] = parse(line)
    assert kind == "error"
    assert props == {"file": "x,y:z%.yaml", "line": "3", "title": title}
    assert message == NASTY.replace("\x01", "").replace("\x1b", "")


def test_exact_escapes_from_the_formats_reference() -> None:
    assert github.escape_data("%\r\n:,") == "%25%0D%0A:,"
    assert github.escape_property("%\r\n:,") == "%25%0D%0A%3A%2C"
    # A control character cannot reach the log raw (an ESC would drive the terminal).
    assert "\x1b" not in github.escape_data("a\x1bb") and "\\x1b" in github.escape_data("a\x1bb")


def test_annotations_carry_location_severity_and_rule() -> None:
    parsed = parse(github.render(sample_result(), title="check"))
    kinds = [k for k, _, _ in parsed]
    # Ranked: every error before any warning before any notice.
    assert kinds == sorted(kinds, key=["error", "warning", "notice"].index)
    first = next(p for k, p, m in parsed if "three" in m)
    assert first == {
        "file": "apps/checkout/base/deployment.yaml",
        "line": "12",
        "endLine": "12",
        "col": "5",
        "title": "error schema",
    }
    nasty = next(m for _, _, m in parsed if m.startswith("100%"))
    assert nasty.startswith("100% sure: a,b\nsecond line <b>&amp;</b> ]]>") and nasty.endswith("\r\nend")
    # No location: the target is named in the message; a waived error is only a notice.
    assert any(
        k == "error" and m.startswith("apps/checkout/overlays/prod: kustomize build failed") for k, _, m in parsed
    )
    waived = [(k, p) for k, p, m in parsed if "soak" in m]
    assert waived == [("notice", {"title": "error gate-soak (waived)"})]
    assert len(parsed) == len(sample_result().findings)  # nothing to cap, no "more" notice


def test_thirty_errors_give_ten_annotations_and_a_count_of_the_rest() -> None:
    result = CheckResult(findings=many(30, Severity.ERROR))
    parsed = parse(github.render(result, title="promoter check"))
    assert [k for k, _, _ in parsed] == ["error"] * 10 + ["notice"]
    assert [m for _, _, m in parsed[:10]] == [f"bad field {i}" for i in range(10)]
    assert parsed[-1][2].startswith("20 more findings not annotated")


def test_caps_per_kind_reserve_a_notice_slot_for_the_count() -> None:
    result = CheckResult(findings=many(12, Severity.ERROR) + many(12, Severity.WARNING) + many(12, Severity.INFO))
    kinds = [k for k, _, _ in parse(github.render(result, title="t"))]
    assert kinds.count("error") == 10 and kinds.count("warning") == 10
    assert kinds.count("notice") == 10  # 9 findings + the closing count, still within GitHub's 10
    last = parse(github.render(result, title="t"))[-1][2]
    assert last.startswith(f"{36 - 29} more findings")


def test_job_cap_limits_the_total() -> None:
    result = CheckResult(findings=many(60, Severity.ERROR))
    lines = github.render(result, title="t", per_kind=100, per_job=50).rstrip("\n").split("\n")
    assert len(lines) == 50
    assert parse(lines[-1])[0][2].startswith("11 more findings")


def test_no_findings_no_annotations() -> None:
    assert github.render(CheckResult(), title="t") == ""


def test_step_summary_is_appended_not_overwritten(tmp_path: Path) -> None:
    summary = tmp_path / "step_summary.md"
    summary.write_text("# earlier step\nkept\n")
    out = tmp_path / "annotations.txt"
    write_reports(
        sample_result(), [("github", str(out))], title="promoter check", environ={"GITHUB_STEP_SUMMARY": str(summary)}
    )
    text = summary.read_text()
    assert text.startswith("# earlier step\nkept\n")
    assert "## promoter check" in text and "FAIL: 3 blocking errors" in text
    assert parse(out.read_text())  # the annotations went to the file asked for
    write_reports(
        sample_result(), [("github", str(out))], title="second run", environ={"GITHUB_STEP_SUMMARY": str(summary)}
    )
    text = summary.read_text()
    assert text.startswith("# earlier step\nkept\n")
    assert text.count("\n## promoter check\n") == 1 and text.index("## promoter check") < text.index("## second run")


def test_no_step_summary_without_the_variable(tmp_path: Path) -> None:
    assert github.appendices(sample_result(), title="t", environ={}) == []


def test_step_summary_capped_in_bytes_with_a_note() -> None:
    # Multi-byte messages: the cap is in bytes even though Markdown truncation counts characters.
    result = CheckResult(
        findings=[Finding("r", Severity.ERROR, "ünïcødé ✓ " * 30, Location(f"f{i}.yaml", 1)) for i in range(400)]
    )
    text = github.step_summary(result, title="t", limit=20_000)
    assert len(text.encode()) <= 20_000
    assert "Truncated:" in text
    assert len(github.step_summary(result, title="t").encode()) <= github.SUMMARY_LIMIT
