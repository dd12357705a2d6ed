"""JUnit XML: one testsuite per target, one testcase per (checked subject, check).

A rendered object is judged by several checks (its schema, the policies); each is a test case of
its own, named `<subject> [<check>]`, carrying only that check's findings, so a failure is
counted once, by the check that found it, and no two cases of a suite share a name.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from promoter.model.finding import CheckResult, Finding, Location, Status, Subject
from promoter.report.base import View

NAME = "junit"

# Characters XML 1.0 cannot carry at all, escaped or not: dropped.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_NO_TARGET = "(no target)"
# The check a subject stands for, by its kind, and the check that produced a finding, by its source.
_KIND_CHECK = {"resource": "schema", "values": "values-schema", "policy": "policy", "render": "render", "gate": "gate"}
_SOURCE_CHECK = {
    "schema": "schema",
    "kubeconform": "schema",
    "values-schema": "values-schema",
    "policy": "policy",
    "render": "render",
    "gate": "gate",
    "config": "config",
}


def _clean(text: str) -> str:
    return _ILLEGAL.sub("", text)


class _Suites:
    """Test cases grouped by target, with their tallies; names made unique within a suite."""

    def __init__(self, targets: list[str]) -> None:
        self.cases: dict[str, list[ET.Element]] = {t: [] for t in targets}
        self.tally: dict[str, dict[str, int]] = {}
        self.names: dict[str, set[str]] = {}

    def add(self, target: str | None, name: str, outcome: str, case: ET.Element) -> None:
        suite = target or _NO_TARGET
        taken = self.names.setdefault(suite, set())
        unique, n = _clean(name), 1
        while unique in taken:  # two identical objects in one render: "#2", "#3", …
            n += 1
            unique = _clean(f"{name} #{n}")
        taken.add(unique)
        case.set("name", unique)
        self.cases.setdefault(suite, []).append(case)
        counts = self.tally.setdefault(suite, {"tests": 0, "failures": 0, "errors": 0, "skipped": 0})
        counts["tests"] += 1
        if outcome != "passed":
            counts[outcome] += 1


def render(result: CheckResult, *, title: str, color: bool = False) -> str:
    view = View(result)
    owners = _owners(view, result.subjects)
    suites = _Suites(result.targets)
    for index, subject in enumerate(result.subjects):
        case, outcome = _subject_case(view, subject, owners.get(index, []))
        suites.add(subject.target, f"{subject.id} [{_check_of(subject)}]", outcome, case)
    # Findings that belong to no listed subject's check (a config error, a whole overlay's render).
    claimed = {id(f) for found in owners.values() for f in found}
    for f in view.findings:
        if id(f) in claimed:
            continue
        target = view.target(f)
        case = ET.Element("testcase", classname=_clean(target or _NO_TARGET))
        _set_file(case, view, f)
        outcome = _attach(case, view, [f])
        check = _SOURCE_CHECK.get(f.source) or f.source or f.rule
        suites.add(target, f"{f.subject or view.where(f)} [{check}: {f.rule}]", outcome, case)

    root = ET.Element("testsuites", name=_clean(title))
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for name, cases in suites.cases.items():
        counts = suites.tally.get(name, {"tests": 0, "failures": 0, "errors": 0, "skipped": 0})
        suite = ET.SubElement(root, "testsuite", {"name": _clean(name), **{k: str(v) for k, v in counts.items()}})
        suite.extend(cases)
        for k in totals:
            totals[k] += counts[k]
    for k, v in totals.items():
        root.set(k, str(v))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _check_of(subject: Subject) -> str:
    return _KIND_CHECK.get(subject.kind, subject.kind)


def _owners(view: View, subjects: list[Subject]) -> dict[int, list[Finding]]:
    """Each finding given to exactly one subject (by index): the one it names, checked by the check
    that found it, in the finding's target when it has one. A finding of unknown source goes to
    the first subject it names."""
    by_id: dict[str, list[int]] = {}
    for i, s in enumerate(subjects):
        by_id.setdefault(s.id, []).append(i)
    owners: dict[int, list[Finding]] = {}
    for f in view.findings:
        candidates = by_id.get(f.subject or "", []) if f.subject is not None else []
        if f.target is not None and any(subjects[i].target == f.target for i in candidates):
            candidates = [i for i in candidates if subjects[i].target == f.target]
        check = _SOURCE_CHECK.get(f.source)
        if check is not None:
            candidates = [i for i in candidates if _check_of(subjects[i]) == check]
        if candidates:
            owners.setdefault(candidates[0], []).append(f)
    return owners


def _subject_case(view: View, subject: Subject, findings: list[Finding]) -> tuple[ET.Element, str]:
    case = ET.Element("testcase", classname=_clean(subject.target or _NO_TARGET))
    where = _findings_place(view, findings) or subject.location
    if where is not None:
        case.set("file", _clean(where.file))
        if where.line:
            case.set("line", str(where.line))
    if subject.status is Status.SKIPPED:
        ET.SubElement(case, "skipped", message=_clean(subject.reason or "skipped"))
        _system_out(case, view, findings)
        return case, "skipped"
    if subject.status is Status.ERROR:
        ET.SubElement(case, "error", message=_clean(subject.reason or "not checked"))
        _system_out(case, view, findings)
        return case, "errors"
    outcome = _attach(case, view, findings)
    if outcome == "passed" and subject.status is Status.FAILED:
        ET.SubElement(case, "failure", message=_clean(subject.reason or "failed"))
        outcome = "failures"
    return case, outcome


def _findings_place(view: View, findings: list[Finding]) -> Location | None:
    """Where the case's findings are, when they are all in one file: a rendered object's location is
    where it starts (an overlay's base), but a finding of a patch is in the overlay's patch file, and
    a CI tool annotates the case's file/line. Several lines of one file: the first of them."""
    places = [loc for loc in (view.location(f) for f in findings) if loc is not None]
    if not places or len(places) != len(findings) or len({p.file for p in places}) != 1:
        return None
    lines = sorted(p.line for p in places if p.line)
    return Location(places[0].file, lines[0] if lines else None)


def _attach(case: ET.Element, view: View, findings: list[Finding]) -> str:
    """A <failure> carrying every blocking finding's text; other findings go to <system-out>."""
    blocking = [f for f in findings if f.blocking]
    if blocking:
        first = blocking[0]
        message = re.split(r"\r\n|\r|\n", first.message)[0] if first.message else first.rule
        if all(f.baseline == "existing" for f in blocking):
            message = f"[existing] {message}"  # the base has it too: CI tools diffing test reports agree
        if len(blocking) > 1:
            message += f" (and {len(blocking) - 1} more)"
        failure = ET.SubElement(case, "failure", message=_clean(message), type=_clean(first.rule))
        failure.text = _clean("\n".join(_line(view, f) for f in blocking))
    rest = [f for f in findings if not f.blocking]
    if rest:
        out = ET.SubElement(case, "system-out")
        out.text = _clean("\n".join(_line(view, f) for f in rest))
    return "failures" if blocking else "passed"


def _system_out(case: ET.Element, view: View, findings: list[Finding]) -> None:
    if findings:
        out = ET.SubElement(case, "system-out")
        out.text = _clean("\n".join(_line(view, f) for f in findings))


def _line(view: View, f: Finding) -> str:
    where = view.where(f)
    waived = f" (waived: {f.waiver_reason or 'no reason given'})" if f.waived else ""
    existing = " [existing]" if f.baseline == "existing" else ""
    return f"{where}: {f.severity.value}{existing} {f.rule}: {f.message}{waived}"


def _set_file(case: ET.Element, view: View, f: Finding) -> None:
    loc = view.location(f)
    if loc is not None:
        case.set("file", _clean(loc.file))
        if loc.line:
            case.set("line", str(loc.line))
