"""JUnit XML: parses with a real XML parser, counts agree with the test cases, hostile text survives."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from promoter.model.finding import (
    CheckResult,
    Finding,
    Location,
    Severity,
    Status,
    Subject,
)
from promoter.report import render
from tests.report.report_samples import (
    CRD,
    DEPLOY,
    DEV,
    NASTY,
    PROD,
    SERVICE,
    sample_result,
)


def _xml(result: CheckResult) -> ET.Element:
    text = render(result, "junit", title="promoter check")
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(text.encode("utf-8"))


def _counted(suite: ET.Element) -> dict[str, int]:
    cases = suite.findall("testcase")
    return {
        "tests": len(cases),
        "failures": sum(1 for c in cases if c.find("failure") is not None),
        "errors": sum(1 for c in cases if c.find("error") is not None),
        "skipped": sum(1 for c in cases if c.find("skipped") is not None),
    }


def test_counts_match_the_testcases() -> None:
    root = _xml(sample_result())
    assert root.tag == "testsuites"
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in root.findall("testsuite"):
        counted = _counted(suite)
        assert {k: int(suite.get(k)) for k in counted} == counted
        for k in totals:
            totals[k] += counted[k]
    assert {k: int(root.get(k)) for k in totals} == totals
    # 4 subjects + 3 findings that belong to none (render-failed, gate-soak, deprecated-api)
    assert totals == {"tests": 7, "failures": 2, "errors": 1, "skipped": 1}


def test_one_suite_per_target_one_case_per_subject() -> None:
    root = _xml(sample_result())
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert list(suites)[:2] == [DEV, PROD]
    dev = {c.get("name"): c for c in suites[DEV].findall("testcase")}
    assert {DEPLOY, SERVICE, CRD} <= set(dev)
    assert all(c.get("classname") == DEV for c in dev.values())
    assert dev[CRD].find("skipped").get("message") == "no schema for example.com/v1 Widget"
    assert dev[SERVICE].find("failure") is None
    # The warning on the Service is reported, but does not fail it.
    assert "image-latest" in dev[SERVICE].find("system-out").text
    prod = {c.get("name"): c for c in suites[PROD].findall("testcase")}
    assert prod["render:" + PROD].find("error").get("message") == "kustomize build failed"


def test_failure_carries_every_blocking_finding_text() -> None:
    root = _xml(sample_result())
    case = next(c for c in root.iter("testcase") if c.get("name") == DEPLOY)
    failure = case.find("failure")
    assert failure.get("message") == "spec.replicas: 'three' is not of type 'integer' (and 1 more)"
    assert failure.get("type") == "schema"
    assert case.get("file") == "apps/checkout/base/deployment.yaml"
    # Escaped on the way out, intact on the way in; only the characters XML 1.0 forbids are gone.
    expected = NASTY.replace("\x01", "").replace("\x1b", "").replace("\r\n", "\n")
    assert expected in failure.text
    assert "apps/checkout/base/deployment.yaml:12: error schema:" in failure.text


def test_findings_without_subject_get_their_own_case() -> None:
    root = _xml(sample_result())
    prod_cases = [c for c in root.iter("testcase") if c.get("classname") == PROD]
    render_case = next(c for c in prod_cases if c.find("failure") is not None)
    assert "kustomize build failed" in render_case.find("failure").text
    loose = [c for c in root.iter("testcase") if c.get("classname") == "(no target)"]
    texts = " ".join(c.find("system-out").text for c in loose)
    assert "gate-soak" in texts and "(waived: hotfix, INC-42: approved)" in texts
    assert all(c.find("failure") is None for c in loose)  # waived and info never fail


def test_hostile_names_and_attributes_survive() -> None:
    name = 'v1/ConfigMap/ns/a"b<c>&d]]>\x02e\nf'
    result = CheckResult(
        findings=[Finding("schema", Severity.ERROR, '<msg attr="x">\x0c]]>', Location("a&b.yaml", 2), subject=name)],
        subjects=[Subject(name, "resource", "t<1>", None, Status.FAILED)],
        targets=["t<1>"],
    )
    root = _xml(result)
    case = root.find("testsuite/testcase")
    assert case.get("name") == 'v1/ConfigMap/ns/a"b<c>&d]]>e\nf'
    assert root.find("testsuite").get("name") == "t<1>"
    assert case.find("failure").get("message") == '<msg attr="x">]]>'


def test_no_subjects_no_findings_is_an_empty_valid_report() -> None:
    root = _xml(CheckResult(targets=["apps/x"]))
    assert root.get("tests") == "0" and root.find("testsuite").get("name") == "apps/x"


def test_failed_subject_without_findings_still_fails() -> None:
    root = _xml(CheckResult(subjects=[Subject("gate:soak", "gate", "prod", None, Status.FAILED, "soak not met")]))
    assert root.find("testsuite/testcase/failure").get("message") == "soak not met"
    assert root.get("failures") == "1"
