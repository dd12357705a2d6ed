"""The human summary: counts, findings ranked errors first, skipped subjects, a PASS/FAIL line."""

from __future__ import annotations

from collections.abc import Callable

from promoter.model.finding import CheckResult, Finding, Severity, Status
from promoter.report.base import View, summary_line, verdict, visible_controls

NAME = "text"

_RESET = "\x1b[0m"
_STYLE: dict[object, str] = {
    Severity.ERROR: "\x1b[1;31m",
    Severity.WARNING: "\x1b[33m",
    Severity.INFO: "\x1b[36m",
    "dim": "\x1b[2m",
    "pass": "\x1b[1;32m",
    "fail": "\x1b[1;31m",
    "bold": "\x1b[1m",
}


def render(result: CheckResult, *, title: str, color: bool = False) -> str:
    def paint(text: str, style: object) -> str:
        return f"{_STYLE[style]}{text}{_RESET}" if color else text

    view = View(result)
    lines = [paint(visible_controls(title), "bold"), summary_line(result)]
    if view.findings:
        lines.append("")
    for f in view.findings:
        lines.append(_finding_line(view, f, paint))
    unsettled = view.unsettled
    if unsettled:
        lines += ["", "Not checked:"]
        for s in unsettled:
            what = "skipped" if s.status is Status.SKIPPED else "error"
            where = f" ({s.target})" if s.target else ""
            reason = visible_controls(s.reason or "no reason given").replace("\n", " ")
            lines.append(f"  {visible_controls(s.id)}{where}: {what}: {reason}")
    lines += ["", paint(verdict(result), "fail" if result.failed else "pass")]
    return "\n".join(lines) + "\n"


def _finding_line(view: View, f: Finding, paint: Callable[[str, object], str]) -> str:
    first, *rest = visible_controls(f.message).split("\n")
    where = visible_controls(view.where(f))
    if f.waived:
        reason = visible_controls(f.waiver_reason or "no reason given").replace("\n", " ")
        head = paint(f"{where}: {f.severity.value} {f.rule}: {first} (waived: {reason})", "dim")
    else:
        head = f"{where}: {paint(f.severity.value, f.severity)} {f.rule}: {first}"
    # Continuation lines are indented so each finding still starts at column 0 (grep-able).
    return "\n".join([head, *(f"    {line}" for line in rest)])
