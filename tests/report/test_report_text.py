"""The text summary: counts, ranked findings, waivers and skips said plainly, PASS/FAIL last, ANSI only when asked."""

from __future__ import annotations

import re

from promoter.model.finding import CheckResult, Finding, Location, Severity
from promoter.report import render
from tests.report.report_samples import many, sample_result

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_layout_and_ranking() -> None:
    out = render(sample_result(), "text", title="promoter check")
    lines = out.splitlines()
    assert lines[0] == "promoter check"
    assert lines[1] == "3 errors, 1 warning, 1 note, 1 waived; 4 subjects in 2 targets (1 skipped, 1 not checked)"
    assert lines[-1] == "FAIL: 3 blocking errors"
    finding_lines = [l for l in lines if re.match(r"^\S.*: (error|warning|info) [\w-]+: ", l)]
    severities = [re.search(r": (error|warning|info) ", l).group(1) for l in finding_lines]
    # Grouped by file, the file with the worst finding first; in a file errors first, the waived one last.
    assert severities == ["error", "error", "error", "error", "warning", "info"]
    groups = [g.splitlines() for g in out.split("\n\n")[1:-2]]
    files = [{l.split(":")[0] for l in g if not l.startswith(" ")} for g in groups]
    assert files == [
        {"apps/checkout/base/deployment.yaml"},
        {"apps/checkout/overlays/prod", "-"},  # no file: the target, else -
        {"apps/checkout/overlays/dev/kustomization.yaml"},
        {"dir with space/100%.yaml"},
    ]
    assert (
        "apps/checkout/base/deployment.yaml:12: error schema: spec.replicas: 'three' is not of type 'integer'" in lines
    )
    assert finding_lines[3] == "-: error gate-soak: dev soak 2h < 24h (waived: hotfix, INC-42: approved)"
    assert "apps/checkout/overlays/prod: error render-failed: kustomize build failed:" in lines
    assert "    missing resource ../base2" in lines  # continuation lines indented under their finding


def test_unchecked_subjects_have_reasons() -> None:
    out = render(sample_result(), "text", title="t")
    assert (
        "  example.com/v1/Widget/shop/w (apps/checkout/overlays/dev): skipped: no schema for example.com/v1 Widget"
        in out
    )
    assert "render:apps/checkout/overlays/prod (apps/checkout/overlays/prod): error: kustomize build failed" in out


def test_no_ansi_without_color_and_control_characters_neutralised() -> None:
    out = render(sample_result(), "text", title="t", color=False)
    assert "\x1b" not in out and "\x01" not in out
    assert "\\x1b[31mred" in out  # shown, not obeyed


def test_color_when_asked() -> None:
    out = render(sample_result(), "text", title="t", color=True)
    assert "\x1b[1;31merror\x1b[0m" in out
    assert ANSI.sub("", out) == render(sample_result(), "text", title="t")


def test_pass_line_and_warnings_do_not_fail() -> None:
    out = render(CheckResult(findings=many(2, Severity.WARNING), targets=["a"]), "text", title="t")
    assert out.splitlines()[-1] == "PASS"
    waived = Finding("r", Severity.ERROR, "m", Location("f.yaml", 1), waived=True, waiver_reason="ok")
    assert render(CheckResult(findings=[waived]), "text", title="t").splitlines()[-1] == "PASS"


def test_existing_findings_are_marked_and_environments_close_the_report() -> None:
    from promoter.model.finding import CheckResult

    new = Finding("schema", Severity.ERROR, "m1", Location("a.yaml", 3), target="o/dev", baseline="new", envs=["dev"])
    old = Finding(
        "schema",
        Severity.ERROR,
        "m2",
        Location("base/d.yaml", 9),
        target="o/dev",
        baseline="existing",
        envs=["dev", "prod"],
        targets=["o/dev", "o/prod"],
    )
    result = CheckResult(findings=[new, old], targets=["o/dev", "o/prod"], fail_on="new")
    result.target_envs = {"o/dev": "dev", "o/prod": "prod"}
    lines = render(result, "text", title="t").splitlines()
    assert "base/d.yaml:9: error [existing] schema: m2" in lines
    assert "    in dev, prod; 2 targets: o/dev, o/prod" in lines
    assert "FAIL: 1 new blocking error (1 existing error already on the base, not blocking with --fail-on new)" in lines
    assert lines[-2:] == [
        "dev: FAIL: 2 errors, 0 warnings, 0 notes, 1 existing, not blocking in 1 target",
        "prod: PASS: 1 error, 0 warnings, 0 notes, 1 existing, not blocking in 1 target",
    ]
    result.fail_on = "any"
    lines = render(result, "text", title="t").splitlines()
    assert "FAIL: 2 blocking errors" in lines and lines[-1].startswith("prod: FAIL: 1 error")
