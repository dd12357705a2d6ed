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
    # Errors, then warnings, then notes; the waived error comes last.
    assert severities == ["error", "error", "error", "warning", "info", "error"]
    assert (
        "apps/checkout/base/deployment.yaml:12: error schema: spec.replicas: 'three' is not of type 'integer'" in lines
    )
    assert finding_lines[-1] == "-: error gate-soak: dev soak 2h < 24h (waived: hotfix, INC-42: approved)"
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
