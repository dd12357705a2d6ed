"""SARIF: the log validates against the SARIF 2.1.0 schema and says what the findings say."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from promoter.model.finding import CheckResult, Finding, Location, Severity
from promoter.report import render, sarif
from tests.report.report_samples import NASTY, sample_result

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-2.1.0-rtm.5.json").read_text())


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft4Validator:
    return jsonschema.Draft4Validator(SCHEMA)


def _run(result: CheckResult) -> dict:
    log = json.loads(render(result, "sarif", title="t"))
    assert log["version"] == "2.1.0"
    [run] = log["runs"]
    return run


def test_valid_against_the_sarif_schema(validator: jsonschema.Draft4Validator) -> None:
    log = json.loads(render(sample_result(), "sarif", title="t"))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(log)]
    assert errors == []
    # The validator really bites: a wrong level is rejected.
    log["runs"][0]["results"][0]["level"] = "fatal"
    assert not validator.is_valid(log)


def test_empty_result_is_valid(validator: jsonschema.Draft4Validator) -> None:
    log = json.loads(render(CheckResult(), "sarif", title="t"))
    assert validator.is_valid(log) and log["runs"][0]["results"] == []


def test_driver_and_rules() -> None:
    run = _run(sample_result())
    driver = run["tool"]["driver"]
    assert driver["name"] == "promoter" and driver["version"]
    ids = [r["id"] for r in driver["rules"]]
    assert len(ids) == len(set(ids)) == len({f.rule for f in sample_result().findings})
    schema_rule = driver["rules"][ids.index("schema")]
    assert schema_rule["help"]["text"] == "Fix the field to match the Kubernetes schema."
    assert all(r["shortDescription"]["text"] and r["help"]["text"] for r in driver["rules"])
    for res in run["results"]:
        assert driver["rules"][res["ruleIndex"]]["id"] == res["ruleId"]


def test_results_match_findings() -> None:
    result = sample_result()
    run = _run(result)
    assert len(run["results"]) == len(result.findings)
    # Results follow the ranked findings one to one; the fingerprint is the finding's stable identity.
    for f, r in zip(result.ranked(), run["results"], strict=True):
        assert r["partialFingerprints"][sarif.FINGERPRINT_KEY] == f.fingerprint()
        assert r["level"] == {"error": "error", "warning": "warning", "info": "note"}[f.severity.value]
        assert r["message"]["text"] == f.message  # exact, multi-line and control characters included
        assert ("suppressions" in r) == f.waived
    nasty = next(r for r in run["results"] if r["message"]["text"] == NASTY)
    assert nasty["locations"][0]["physicalLocation"]["region"] == {"startLine": 30}
    waived = next(r for r in run["results"] if "suppressions" in r)
    assert waived["suppressions"] == [{"kind": "external", "justification": "hotfix, INC-42: approved"}]


def test_locations_are_repo_relative_uris_with_lines_from_one() -> None:
    run = _run(sample_result())
    first = next(r for r in run["results"] if "three" in r["message"]["text"])["locations"][0]["physicalLocation"]
    assert first["artifactLocation"]["uri"] == "apps/checkout/base/deployment.yaml"
    assert first["region"] == {"startLine": 12, "startColumn": 5, "endLine": 12}
    uris = {
        loc["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"] for loc in r.get("locations", [])
    }
    assert "dir%20with%20space/100%25.yaml" in uris
    for r in run["results"]:
        for loc in r.get("locations", []):
            assert loc["physicalLocation"]["region"]["startLine"] >= 1
            assert not loc["physicalLocation"]["artifactLocation"]["uri"].startswith("/")


def test_no_location_falls_back_to_the_subject_then_none() -> None:
    result = sample_result()
    result.findings.append(Finding("schema", Severity.ERROR, "from the subject", None, subject=result.subjects[1].id))
    run = _run(result)
    r = next(r for r in run["results"] if r["message"]["text"] == "from the subject")
    assert r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "apps/checkout/base/service.yaml"
    render_failed = next(r for r in run["results"] if r["ruleId"] == "render-failed")
    assert "locations" not in render_failed and render_failed["properties"]["target"] == "apps/checkout/overlays/prod"


def test_unchecked_subjects_are_notifications() -> None:
    run = _run(sample_result())
    notes = run["invocations"][0]["toolExecutionNotifications"]
    texts = [n["message"]["text"] for n in notes]
    assert any("no schema for example.com/v1 Widget" in t for t in texts)
    assert any(t.startswith("render:apps/checkout/overlays/prod: error") for t in texts)


def test_line_zero_or_missing_becomes_one() -> None:
    run = _run(CheckResult(findings=[Finding("r", Severity.WARNING, "m", Location("a.yaml", 0))]))
    assert run["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 1
