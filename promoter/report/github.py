"""GitHub Actions: workflow-command annotations, ranked and capped, plus a Markdown job summary."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from promoter.model.finding import CheckResult, Finding, Severity
from promoter.report.base import Appendix, View, plural
from promoter.report.markdown import markdown_summary

NAME = "github"

# GitHub shows at most 10 annotations of each kind per step and 50 per job, dropping the
# rest silently: so findings are ranked and the overflow is counted in a last notice.
PER_KIND = 10
PER_JOB = 50
SUMMARY_LIMIT = 1024 * 1024  # bytes of job summary accepted per step
# Control characters other than CR/LF (which are escaped) would reach the log verbatim: shown as \xNN.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(kind: str, message: str, **props: object) -> str:
    """One workflow command line: `::kind k=v,...::message`, every part escaped."""
    fields = ",".join(f"{k}={escape_property(str(v))}" for k, v in props.items() if v not in (None, ""))
    return f"::{kind}{' ' + fields if fields else ''}::{escape_data(message)}"


def render(
    result: CheckResult, *, title: str, color: bool = False, per_kind: int = PER_KIND, per_job: int = PER_JOB
) -> str:
    view = View(result)
    # Waived findings are annotated as notices: visible, never alarming.
    kinds = [("notice" if f.waived else _COMMAND[f.severity], f) for f in view.findings]
    demand = {k: sum(1 for kind, _ in kinds if kind == k) for k in ("error", "warning", "notice")}
    caps = {k: per_kind for k in demand}
    overflow = min(per_job, sum(min(n, per_kind) for n in demand.values())) < len(kinds)
    if overflow:
        caps["notice"] -= 1  # the closing "N more" notice needs one notice slot of its own
    budget = per_job - (1 if overflow else 0)
    used = {k: 0 for k in demand}
    lines: list[str] = []
    for kind, f in kinds:  # already ranked: errors, warnings, notes, then waived
        if used[kind] >= caps[kind] or len(lines) >= budget:
            continue
        used[kind] += 1
        lines.append(_annotate(view, kind, f))
    left = len(kinds) - len(lines)
    if left:
        lines.append(
            annotation(
                "notice",
                f"{plural(left, 'more finding')} not annotated (GitHub shows {per_kind} per kind per step); "
                "see the job summary or the other reports for all of them.",
                title=f"{title}: {left} more",
            )
        )
    return "".join(line + "\n" for line in lines)


def _annotate(view: View, kind: str, f: Finding) -> str:
    loc = view.location(f)
    message = f.message or f.rule
    if f.waived:
        message += f"\n(waived: {f.waiver_reason or 'no reason given'})"
    elif loc is None and view.target(f):
        message = f"{view.target(f)}: {message}"
    props: dict[str, object] = {}
    if loc is not None:
        props["file"] = loc.file
        if loc.line:
            props["line"] = loc.line
            props["endLine"] = loc.end_line if loc.end_line and loc.end_line >= loc.line else loc.line
            if loc.column:
                props["col"] = loc.column
    props["title"] = (
        f"{f.severity.value} {f.rule}"
        + (" (waived)" if f.waived else "")
        + (" (existing)" if f.baseline == "existing" else "")
    )
    return annotation(kind, message, **props)


def step_summary(result: CheckResult, *, title: str, limit: int = SUMMARY_LIMIT) -> str:
    """The job summary, at most `limit` bytes of UTF-8 (the limit is in bytes, the truncation in characters)."""
    max_chars = limit
    while True:
        text = markdown_summary(result, title=title, max_chars=max_chars)
        size = len(text.encode("utf-8"))
        if size <= limit:
            return text
        max_chars = max(0, max_chars - (size - limit) - 16)


def appendices(result: CheckResult, *, title: str, environ: Mapping[str, str]) -> list[Appendix]:
    target = environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return []
    # Separated from what earlier steps appended, which may not end with a blank line.
    return [
        Appendix(Path(target), "\n" + step_summary(result, title=title, limit=SUMMARY_LIMIT - 1), "GitHub step summary")
    ]
