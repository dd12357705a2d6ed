"""The human summary: counts, findings grouped by file (worst first) and severity, what was not
checked, the verdict, and one line per environment."""

from __future__ import annotations

from collections.abc import Callable

from promoter.model.finding import CheckResult, Finding, Severity, Status
from promoter.report.base import SEVERITY_ORDER, View, plural, summary_line, verdict, visible_controls

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
    for group in _by_file(view):
        lines.append("")
        lines.extend(_finding_line(view, f, paint) for f in group)
    unsettled = view.unsettled
    if unsettled:
        lines += ["", "Not checked:"]
        for s in unsettled:
            what = "skipped" if s.status is Status.SKIPPED else "error"
            where = f" ({s.target})" if s.target else ""
            reason = visible_controls(s.reason or "no reason given").replace("\n", " ")
            lines.append(f"  {visible_controls(s.id)}{where}: {what}: {reason}")
    lines += ["", paint(verdict(result), "fail" if result.failed else "pass")]
    lines += _environments(result)
    return "\n".join(lines) + "\n"


def _by_file(view: View) -> list[list[Finding]]:
    """Findings in groups of one file each (no file: one group), the file with the worst finding first;
    inside a group errors, then warnings, then notes, waived last, then by line."""
    groups: dict[str, list[Finding]] = {}
    for f in view.findings:
        loc = view.location(f)
        groups.setdefault(loc.file if loc else "", []).append(f)

    def rank(f: Finding) -> tuple[bool, int, int, str]:
        loc = view.location(f)
        return (f.waived, f.severity.rank, (loc.line or 0) if loc else 0, f.rule)

    ordered = [sorted(g, key=rank) for g in groups.values()]
    return sorted(ordered, key=lambda g: (rank(g[0])[:2], view.location(g[0]) is None, view.where(g[0])))


def _finding_line(view: View, f: Finding, paint: Callable[[str, object], str]) -> str:
    first, *rest = visible_controls(f.message).split("\n")
    where = visible_controls(view.where(f))
    mark = " [existing]" if f.baseline == "existing" else ""
    if f.waived:
        reason = visible_controls(f.waiver_reason or "no reason given").replace("\n", " ")
        head = paint(f"{where}: {f.severity.value}{mark} {f.rule}: {first} (waived: {reason})", "dim")
    else:
        head = f"{where}: {paint(f.severity.value, f.severity)}{mark} {f.rule}: {first}"
    # Continuation lines are indented so each finding still starts at column 0 (grep-able).
    extra = [f"    {line}" for line in rest]
    reached = _reached(f)
    if reached:
        extra.append(f"    {visible_controls(reached)}")
    return "\n".join([head, *extra])


def _reached(f: Finding) -> str:
    """`in dev, prod; 3 targets: a, b, c` when a finding was reached through more than one target or names an env."""
    targets = f.targets or ([f.target] if f.target else [])
    parts = []
    if f.envs:
        parts.append("in " + ", ".join(f.envs))
    if len(targets) > 1:
        parts.append(f"{plural(len(targets), 'target')}: {', '.join(targets)}")
    return "; ".join(parts)


def _environments(result: CheckResult) -> list[str]:
    """One line per environment: its verdict and counts; none when no target or finding names one."""
    envs: list[str] = []
    targets: dict[str, set[str]] = {}
    for t, e in result.target_envs.items():
        if e:
            targets.setdefault(e, set()).add(t)
            if e not in envs:
                envs.append(e)
    for f in result.findings:
        for e in f.envs:
            if e not in envs:
                envs.append(e)
    if not envs:
        return []
    out = [""]
    for e in envs:
        mine = [f for f in result.findings if e in f.envs and not f.waived]
        blocking = [f for f in mine if result.counts_against(f)]
        counts = [
            plural(sum(1 for f in mine if f.severity is s), {Severity.INFO: "note"}.get(s, s.value))
            for s in SEVERITY_ORDER
        ]
        existing = sum(1 for f in mine if f.baseline == "existing" and f.blocking)
        if existing and result.fail_on == "new":
            counts.append(f"{existing} existing, not blocking")
        n = len(targets.get(e, ()))
        where = f" in {plural(n, 'target')}" if n else ""
        out.append(f"{e}: {'FAIL' if blocking else 'PASS'}: {', '.join(counts)}{where}")
    return out
