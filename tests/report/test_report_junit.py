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
    # 4 subjects + 4 findings that belong to no subject's check (render-failed, gate-soak,
    # deprecated-api, and the policy warning on a Service that only its schema check listed)
    assert totals == {"tests": 8, "failures": 2, "errors": 1, "skipped": 1}


def test_one_suite_per_target_one_case_per_subject() -> None:
    root = _xml(sample_result())
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert list(suites)[:2] == [DEV, PROD]
    dev = {c.get("name"): c for c in suites[DEV].findall("testcase")}
    deploy, service, crd = DEPLOY + " [schema]", SERVICE + " [schema]", CRD + " [schema]"
    assert {deploy, service, crd} <= set(dev)
    assert all(c.get("classname") == DEV for c in dev.values())
    assert dev[crd].find("skipped").get("message") == "no schema for example.com/v1 Widget"
    assert dev[service].find("failure") is None and dev[service].find("system-out") is None
    # The policy warning on the Service is reported in a case of its own, and does not fail it.
    warned = dev[SERVICE + " [policy: image-latest]"]
    assert "image-latest" in warned.find("system-out").text and warned.find("failure") is None
    prod = {c.get("name"): c for c in suites[PROD].findall("testcase")}
    assert prod["render:" + PROD + " [render]"].find("error").get("message") == "kustomize build failed"


def test_failure_carries_every_blocking_finding_text() -> None:
    root = _xml(sample_result())
    case = next(c for c in root.iter("testcase") if c.get("name") == DEPLOY + " [schema]")
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
    assert case.get("name") == 'v1/ConfigMap/ns/a"b<c>&d]]>e\nf [schema]'
    assert root.find("testsuite").get("name") == "t<1>"
    assert case.find("failure").get("message") == '<msg attr="x">]]>'


def test_no_subjects_no_findings_is_an_empty_valid_report() -> None:
    root = _xml(CheckResult(targets=["apps/x"]))
    assert root.get("tests") == "0" and root.find("testsuite").get("name") == "apps/x"


def test_failed_subject_without_findings_still_fails() -> None:
    root = _xml(CheckResult(subjects=[Subject("gate:soak", "gate", "prod", None, Status.FAILED, "soak not met")]))
    assert root.find("testsuite/testcase/failure").get("message") == "soak not met"
    assert root.get("failures") == "1"


def _object_checked_twice(policy_status: Status = Status.FAILED) -> CheckResult:
    """One Deployment judged by its schema and by the policies, each finding one error."""
    where = Location("apps/checkout/base/deployment.yaml", 3)
    return CheckResult(
        findings=[
            Finding(
                "schema",
                Severity.ERROR,
                "spec.replicas: not an integer",
                where,
                source="schema",
                subject=DEPLOY,
                target=DEV,
            ),
            Finding("image-latest", Severity.ERROR, "moving tag", where, source="policy", subject=DEPLOY, target=DEV),
            Finding(
                "run-as-non-root", Severity.WARNING, "runs as root", where, source="policy", subject=DEPLOY, target=DEV
            ),
        ],
        subjects=[
            Subject(DEPLOY, "resource", DEV, where, Status.FAILED),
            Subject(DEPLOY, "policy", DEV, where, policy_status),
        ],
        targets=[DEV],
    )


def test_one_case_per_object_and_check_each_failure_counted_once() -> None:
    root = _xml(_object_checked_twice())
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert set(cases) == {DEPLOY + " [schema]", DEPLOY + " [policy]"}
    schema, policy = cases[DEPLOY + " [schema]"], cases[DEPLOY + " [policy]"]
    # Each case carries its own check's findings only: the schema case knows nothing of the policies.
    assert "spec.replicas" in schema.find("failure").text and "moving tag" not in schema.find("failure").text
    assert schema.find("system-out") is None
    assert policy.find("failure").get("type") == "image-latest" and "spec.replicas" not in policy.find("failure").text
    assert "runs as root" in policy.find("system-out").text
    assert root.get("tests") == "2" and root.get("failures") == "2"
    # every finding appears in exactly one case
    text = ET.tostring(root, encoding="unicode")
    assert text.count("spec.replicas: not an integer") == 2  # message attribute + failure text of one case
    assert text.count("moving tag") == 2


def test_a_passing_check_stays_passing_when_another_check_of_the_object_fails() -> None:
    result = _object_checked_twice()
    result.findings = [f for f in result.findings if f.source == "schema"]
    result.subjects[1].status = Status.PASSED
    root = _xml(result)
    policy = next(c for c in root.iter("testcase") if c.get("name") == DEPLOY + " [policy]")
    assert policy.find("failure") is None and policy.find("system-out") is None
    assert root.get("failures") == "1"


def test_names_never_collide_within_a_suite() -> None:
    # Two identical objects in one render (a kustomization listing a file twice) and a loose finding.
    twin = Subject(SERVICE, "resource", DEV, None, Status.PASSED)
    result = CheckResult(
        findings=[Finding("schema", Severity.ERROR, "bad", None, source="schema", subject=SERVICE, target=DEV)],
        subjects=[twin, Subject(SERVICE, "resource", DEV, None, Status.FAILED)],
        targets=[DEV],
    )
    names = [c.get("name") for c in _xml(result).iter("testcase")]
    assert names == [SERVICE + " [schema]", SERVICE + " [schema] #2"]
    assert len(set(names)) == len(names)


def test_a_case_is_placed_where_its_findings_are_not_where_the_object_starts() -> None:
    """An overlay's patch fails the object: the case's file/line is the patch's, as its failure text says
    (CI tools annotate the case's file/line); a passing case keeps the object's own place."""
    base = Location("apps/checkout-api/base/deployment.yaml", 1)
    patch = "apps/checkout-api/overlays/prod/replicas.yaml"
    result = CheckResult(
        findings=[
            Finding(
                "schema",
                Severity.ERROR,
                'spec.replicas: "lots" is not an integer',
                Location(patch, 7),
                source="schema",
                subject=DEPLOY,
                target=PROD,
            ),
            Finding("latest", Severity.ERROR, "moving tag", Location(patch, 9), source="policy", subject=DEPLOY),
            Finding("root", Severity.WARNING, "runs as root", base, source="policy", subject=DEPLOY, target=PROD),
        ],
        subjects=[
            Subject(DEPLOY, "resource", PROD, base, Status.FAILED),
            Subject(DEPLOY, "policy", PROD, base, Status.FAILED),
            Subject(SERVICE, "resource", PROD, Location("apps/checkout-api/base/service.yaml", 1), Status.PASSED),
        ],
        targets=[PROD],
    )
    root = _xml(result)
    cases = {c.get("name"): c for c in root.iter("testcase")}
    schema = cases[DEPLOY + " [schema]"]
    assert (schema.get("file"), schema.get("line")) == (patch, "7")
    assert f"{patch}:7:" in schema.find("failure").text
    # Findings in two files: no one place stands for them all; the object's own place stays.
    policy = cases[DEPLOY + " [policy]"]
    assert (policy.get("file"), policy.get("line")) == (base.file, "1")
    service = cases[SERVICE + " [schema]"]
    assert (service.get("file"), service.get("line")) == ("apps/checkout-api/base/service.yaml", "1")
    assert len(cases) == 3 and root.get("tests") == "3" and root.get("failures") == "2"


def test_findings_on_several_lines_of_one_file_place_the_case_on_the_first() -> None:
    patch = "apps/checkout-api/overlays/prod/patch.yaml"
    result = CheckResult(
        findings=[
            Finding("a", Severity.ERROR, "later", Location(patch, 12), source="schema", subject=DEPLOY, target=PROD),
            Finding("b", Severity.ERROR, "earlier", Location(patch, 4), source="schema", subject=DEPLOY, target=PROD),
        ],
        subjects=[Subject(DEPLOY, "resource", PROD, Location("apps/checkout-api/base/deployment.yaml", 1))],
        targets=[PROD],
    )
    case = next(_xml(result).iter("testcase"))
    assert (case.get("file"), case.get("line")) == (patch, "4")
