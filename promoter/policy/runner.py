"""conftest's two commands for people writing policies, on promoter's engine and sandbox:
`test` (policies on any YAML/JSON file) and `verify` (the policies' own `test_*` rules).

Both return the one result model (CheckResult) that every report format reads.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from promoter.model.finding import CheckResult, Finding, Location, Severity, Status, Subject
from promoter.policy.inputs import Document, read_documents
from promoter.policy.pack import rule_id
from promoter.policy.policyset import PolicySet, Verdict, input_kind
from promoter.policy.sandbox import Item, Limits, evaluate

POLICY_ERROR = "policy-error"
COMBINED = "Combined"


@dataclass
class Outcome:
    """The verdict on one document (or on the combined input), with where it came from."""

    file: str
    index: int
    verdict: Verdict
    line: int | None = None


@dataclass
class TestRun:
    outcomes: list[Outcome] = field(default_factory=list)
    documents: int = 0


def test_files(
    policy_set: PolicySet,
    files: Sequence[tuple[Path, str]],
    data: dict[str, Any],
    *,
    combine: bool = False,
    jobs: int = 1,
    limits: Limits | None = None,
) -> TestRun:
    """conftest test: each document of each file (or all of them as one input with combine)."""
    docs: list[Document] = []
    for path, display in files:
        docs.extend(read_documents(path, display))
    run = TestRun(documents=len(docs))
    if combine:
        value = [{"path": d.file, "contents": d.value} for d in docs]
        verdicts = evaluate(policy_set, data, [Item(json.dumps(value), COMBINED)], jobs=1, limits=limits)
        run.outcomes.append(Outcome(COMBINED, 0, verdicts[0]))
        return run
    items = [Item(json.dumps(d.value), d.file, null=d.null, kind=input_kind(d.value)) for d in docs]
    for d, verdict in zip(docs, evaluate(policy_set, data, items, jobs=jobs, limits=limits), strict=True):
        run.outcomes.append(Outcome(d.file, d.index, verdict, d.line))
    return run


test_files.__test__ = False  # type: ignore[attr-defined]  # a conftest command, not a pytest test


def verify(policy_set: PolicySet, data: dict[str, Any], *, limits: Limits | None = None) -> Verdict:
    """conftest verify / opa test: every `test_*` rule, evaluated without input."""
    return evaluate(policy_set, data, [Item("null", None, null=True)], limits=limits)[0]


def write_prints(verdicts: Sequence[Verdict], stream: TextIO | None = None) -> None:
    """print() output goes to stderr, never into a report."""
    out = stream or sys.stderr
    for v in verdicts:
        for line in v.prints:
            out.write(line if line.endswith("\n") else line + "\n")
    out.flush()


def test_result(run: TestRun, policy_set: PolicySet) -> CheckResult:
    """One subject per document, a finding per failure, warning and error; exceptions as waived findings."""
    result = CheckResult()
    exceptions = successes = 0
    for o in run.outcomes:
        subject = f"{o.file}#{o.index}" if o.file != COMBINED else COMBINED
        location = Location(o.file, o.line) if o.file != COMBINED else None
        findings = verdict_findings(o.verdict, policy_set.name, subject, location)
        result.findings.extend(findings)
        exceptions += len(o.verdict.exceptions)
        successes += o.verdict.successes
        status = Status.FAILED if any(f.blocking for f in findings) else Status.PASSED
        result.subjects.append(Subject(id=subject, kind="policy", location=location, status=status))
    result.stats.update(
        {
            "documents": run.documents,
            "policy_successes": successes,
            "policy_exceptions": exceptions,
            "policy_sets": [policy_set.name],
        }
    )
    return result


test_result.__test__ = False  # type: ignore[attr-defined]


def verify_result(verdict: Verdict, policy_set: PolicySet) -> CheckResult:
    """One subject per test rule: passed, or failed with a finding saying why."""
    result = CheckResult()
    failed: dict[str, list[Finding]] = {}
    for m in verdict.messages:
        failed.setdefault(f"{m.namespace}.{m.rule}", []).append(
            Finding(
                rule="test-failed",
                severity=Severity.ERROR,
                message=m.message,
                source="policy",
                subject=f"{m.namespace}.{m.rule}",
                location=_rule_location(policy_set, m.namespace, m.rule),
            )
        )
    for e in verdict.errors:
        name = f"{e.namespace}.{e.rule}"
        failed.setdefault(name, []).append(
            Finding(
                rule=POLICY_ERROR,
                severity=Severity.ERROR,
                message=f"test {name} failed while evaluating: {e.message}",
                source="policy",
                subject=name,
                location=_rule_location(policy_set, e.namespace, e.rule or ""),
            )
        )
    for rule in policy_set.checks:
        name = f"{rule.namespace}.{rule.name}"
        findings = failed.get(name, [])
        result.findings.extend(findings)
        result.subjects.append(
            Subject(
                id=name,
                kind="test",
                location=_rule_location(policy_set, rule.namespace, rule.name),
                status=Status.FAILED if findings else Status.PASSED,
            )
        )
    result.stats.update(
        {"tests": len(policy_set.checks), "tests_failed": len(failed), "policy_sets": [policy_set.name]}
    )
    return result


def _rule_location(policy_set: PolicySet, namespace: str, rule: str) -> Location | None:
    for r in policy_set.analysis.rules:
        if r.package == namespace and r.name == rule:
            return Location(r.file, r.line)
    return None


def verdict_findings(
    verdict: Verdict, set_name: str, subject: str, location: Location | None, target: str | None = None
) -> list[Finding]:
    """A verdict as findings with conftest's defaults: failures errors, warnings warnings, exceptions waived."""
    out = []
    for m in verdict.messages:
        evidence: dict[str, Any] = {"policy_set": set_name, "namespace": m.namespace, "rule": m.rule}
        if m.metadata:
            evidence["metadata"] = m.metadata
        out.append(
            Finding(
                rule=rule_id(m.rule),
                severity=Severity.ERROR if m.level == "failure" else Severity.WARNING,
                message=m.message,
                location=location,
                source="policy",
                subject=subject,
                target=target,
                waived=m.excepted,
                waiver_reason=f"exception rule in {set_name} ({m.namespace})" if m.excepted else None,
                evidence=evidence,
            )
        )
    for e in verdict.errors:
        where = f"{e.namespace}.{e.rule}" if e.rule else (e.namespace or set_name)
        out.append(
            Finding(
                rule=POLICY_ERROR,
                severity=Severity.ERROR,
                message=f"policy rule {where} in {set_name} failed while evaluating: {e.message}",
                location=location,
                source="policy",
                subject=subject,
                target=target,
                help="fix the rule; until then this input counts as failed (a complete rule producing two values, a builtin given the wrong type, or a limit reached are the usual causes)",
                evidence={"policy_set": set_name, "namespace": e.namespace, "rule": e.rule, "files": e.files},
            )
        )
    return out
