"""JUnit XML: one testsuite per target, one testcase per checked subject (the kubeconform/conftest convention)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from promoter.model.finding import CheckResult, Finding, Status, Subject
from promoter.report.base import View

NAME = "junit"

# Characters XML 1.0 cannot carry at all, escaped or not: dropped.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_NO_TARGET = "(no target)"


def _clean(text: str) -> str:
    return _ILLEGAL.sub("", text)


def render(result: CheckResult, *, title: str, color: bool = False) -> str:
    view = View(result)
    suites: dict[str, list[ET.Element]] = {t: [] for t in result.targets}
    tally: dict[str, dict[str, int]] = {}

    def add(target: str | None, case: ET.Element, outcome: str) -> None:
        name = target or _NO_TARGET
        suites.setdefault(name, []).append(case)
        counts = tally.setdefault(name, {"tests": 0, "failures": 0, "errors": 0, "skipped": 0})
        counts["tests"] += 1
        if outcome != "passed":
            counts[outcome] += 1

    claimed: set[int] = set()
    for subject in result.subjects:
        findings = view.findings_of(subject)
        claimed.update(id(f) for f in findings)
        case, outcome = _subject_case(view, subject, findings)
        add(subject.target, case, outcome)
    # Findings that belong to no listed subject (a config error, a render of a whole overlay).
    for f in view.findings:
        if id(f) in claimed:
            continue
        target = view.target(f)
        case = ET.Element(
            "testcase", classname=_clean(target or _NO_TARGET), name=_clean(f.subject or f"{f.rule} {view.where(f)}")
        )
        _set_file(case, view, f)
        outcome = _attach(case, view, [f])
        add(target, case, outcome)

    root = ET.Element("testsuites", name=_clean(title))
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for name, cases in suites.items():
        counts = tally.get(name, {"tests": 0, "failures": 0, "errors": 0, "skipped": 0})
        suite = ET.SubElement(root, "testsuite", {"name": _clean(name), **{k: str(v) for k, v in counts.items()}})
        suite.extend(cases)
        for k in totals:
            totals[k] += counts[k]
    for k, v in totals.items():
        root.set(k, str(v))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _subject_case(view: View, subject: Subject, findings: list[Finding]) -> tuple[ET.Element, str]:
    case = ET.Element("testcase", classname=_clean(subject.target or _NO_TARGET), name=_clean(subject.id))
    if subject.location is not None:
        case.set("file", _clean(subject.location.file))
        if subject.location.line:
            case.set("line", str(subject.location.line))
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
