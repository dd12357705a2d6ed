"""GitLab Code Quality: a JSON array without BOM, every field GitLab reads, fingerprints unique."""

from __future__ import annotations

import json

from promoter.model.finding import CheckResult, Finding, Location, Severity
from promoter.report import codequality, render
from tests.report.report_samples import NASTY, sample_result


def _issues(result: CheckResult) -> list[dict]:
    text = render(result, "codequality", title="t")
    assert not text.encode("utf-8").startswith(b"\xef\xbb\xbf")
    data = json.loads(text)
    assert isinstance(data, list)
    return data


def test_fields_and_types() -> None:
    issues = _issues(sample_result())
    assert len(issues) == len(sample_result().findings)
    for issue in issues:
        assert set(issue) >= {"description", "check_name", "fingerprint", "severity", "location"}
        assert issue["severity"] in {"info", "minor", "major", "critical", "blocker"}
        assert isinstance(issue["location"]["path"], str) and issue["location"]["path"]
        begin = issue["location"]["lines"]["begin"]
        assert isinstance(begin, int) and begin >= 1


def test_severity_mapping_and_waivers() -> None:
    by_check = {}
    for issue in _issues(sample_result()):
        by_check.setdefault(issue["check_name"], []).append(issue)
    assert {i["severity"] for i in by_check["schema"]} == {"critical"}
    assert by_check["image-latest"][0]["severity"] == "minor"
    assert by_check["deprecated-api"][0]["severity"] == "info"
    soak = by_check["gate-soak"][0]
    assert soak["severity"] == "info" and soak["description"].endswith("(waived: hotfix, INC-42: approved)")
    assert codequality.SEVERITY == {Severity.ERROR: "critical", Severity.WARNING: "minor", Severity.INFO: "info"}


def test_locations_and_text() -> None:
    issues = _issues(sample_result())
    nasty = next(i for i in issues if i["description"] == NASTY)
    assert nasty["location"] == {"path": "apps/checkout/base/deployment.yaml", "lines": {"begin": 30}}
    first = next(i for i in issues if "three" in i["description"])
    assert first["location"]["lines"] == {"begin": 12, "end": 12}
    render_failed = next(i for i in issues if i["check_name"] == "render-failed")
    assert render_failed["location"]["path"] == "apps/checkout/overlays/prod"  # its target


def test_fingerprints_unique_even_for_identical_findings() -> None:
    same = [Finding("schema", Severity.ERROR, "dup", Location("a.yaml", 3)) for _ in range(3)]
    issues = _issues(CheckResult(findings=same + sample_result().findings))
    prints = [i["fingerprint"] for i in issues]
    assert len(prints) == len(set(prints))
    # The first of the duplicates keeps the finding's own stable fingerprint.
    assert same[0].fingerprint() in prints


def test_empty_is_an_empty_array() -> None:
    assert _issues(CheckResult()) == []
