"""The Markdown summary: the GitHub job summary, the `markdown` output, and the core of promotion PR bodies."""

from __future__ import annotations

import html
import re

from promoter.finding import CheckResult, Finding, Severity, Status, Subject
from promoter.report.base import SEVERITY_ORDER, View, summary_line, verdict

NAME = "markdown"
DESCRIPTION = "a Markdown summary (job summaries, PR comments)"

COLLAPSE_AFTER = 10  # a findings table longer than this is folded into <details>
CELL_MAX = 1000  # characters of one message shown in a table cell
_ICON = {Severity.ERROR: "\u274c", Severity.WARNING: "\u26a0\ufe0f", Severity.INFO: "\u2139\ufe0f"}
_LABEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Characters that would start Markdown emphasis, code, links or table cells inside a cell.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def render(result: CheckResult, *, title: str, color: bool = False) -> str:
    return markdown_summary(result, title=title)


def markdown_summary(result: CheckResult, *, title: str, max_chars: int | None = None) -> str:
    """The summary as Markdown; with `max_chars`, at most that many characters, saying what was cut.

    Whole table rows are dropped from the end (notes and waived findings go before errors,
    as rows are ranked), so the text never ends inside a tag or a table.
    """
    view = View(result)
    full = _compose(view, title, limit=None)
    if max_chars is None or len(full) <= max_chars:
        return full
    total = _row_count(view)
    best: str | None = None
    lo, hi = 0, total
    while lo <= hi:  # the most rows that still fit
        mid = (lo + hi) // 2
        text = _compose(view, title, limit=mid)
        if len(text) <= max_chars:
            best, lo = text, mid + 1
        else:
            hi = mid - 1
    if best is not None:
        return best
    note = "\n\n_(summary truncated)_\n"
    return (full[: max(0, max_chars - len(note))] + note)[:max_chars]


def escape(text: str, *, newlines: str = "<br>") -> str:
    """Text safe inside a Markdown table cell: no markup, no HTML, no @-mentions, no cell breaks."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = html.escape(text, quote=False)
    text = _MD_SPECIAL.sub(r"\\\1", text)
    # A zero-width space after @ keeps `image@sha256` or `@team` from pinging anyone.
    text = text.replace("@", "@&#8203;")
    return text.replace("\n", newlines)


def _clip(text: str) -> str:
    return text if len(text) <= CELL_MAX else text[: CELL_MAX - 1] + "\u2026"


def _row_count(view: View) -> int:
    return len(view.findings) + len(view.unsettled)


def _compose(view: View, title: str, *, limit: int | None) -> str:
    result = view.result
    counts = result.counts()
    out = [f"## {escape(title, newlines=' ')}", ""]
    icon = "\u274c" if result.failed else "\u2705"
    out += [f"**{icon} {escape(verdict(result), newlines=' ')}** \u00b7 {escape(summary_line(result), newlines=' ')}", ""]
    out += ["| Severity | Findings |", "| --- | ---: |"]
    for sev in SEVERITY_ORDER:
        out.append(f"| {_ICON[sev]} {_LABEL[sev]} | {counts[sev.value]} |")
    out.append(f"| \U0001f4a4 waived | {counts['waived']} |")

    budget = _row_count(view) if limit is None else limit
    active = [f for f in view.findings if not f.waived]
    waived = [f for f in view.findings if f.waived]
    shown_active, budget = active[:budget], budget - min(budget, len(active))
    shown_waived, budget = waived[:budget], budget - min(budget, len(waived))
    shown_unsettled = view.unsettled[:budget]

    if shown_active:
        table = _findings_table(view, shown_active)
        if len(shown_active) > COLLAPSE_AFTER:
            out += ["", f"<details><summary>Findings ({len(active)})</summary>", "", *table, "", "</details>"]
        else:
            out += ["", "### Findings", "", *table]
    if shown_waived:
        out += ["", f"<details><summary>Waived findings ({len(waived)})</summary>", ""]
        out += _findings_table(view, shown_waived, waived=True)
        out += ["", "</details>"]
    if shown_unsettled:
        out += ["", f"<details><summary>Not checked ({len(view.unsettled)})</summary>", ""]
        out += _subjects_table(shown_unsettled)
        out += ["", "</details>"]

    hidden = _row_count(view) - (len(shown_active) + len(shown_waived) + len(shown_unsettled))
    if hidden:
        out += ["", f"> **Truncated:** {hidden} more {'entry is' if hidden == 1 else 'entries are'} not shown here; "
                "the full list is in the check's other reports (for example `--output json`)."]
    return "\n".join(out) + "\n"


def _findings_table(view: View, findings: list[Finding], *, waived: bool = False) -> list[str]:
    head = "| Severity | Rule | Location | Message |" + (" Waiver |" if waived else "")
    rows = [head, "| --- | --- | --- | --- |" + (" --- |" if waived else "")]
    for f in findings:
        row = (
            f"| {_ICON[f.severity]} {_LABEL[f.severity]} | {escape(f.rule)} | {escape(view.where(f))} "
            f"| {escape(_clip(f.message or f.rule))} |"
        )
        if waived:
            row += f" {escape(_clip(f.waiver_reason or 'no reason given'))} |"
        rows.append(row)
    return rows


def _subjects_table(subjects: list[Subject]) -> list[str]:
    rows = ["| Subject | Target | Status | Reason |", "| --- | --- | --- | --- |"]
    for s in subjects:
        status = "skipped" if s.status is Status.SKIPPED else "error"
        rows.append(
            f"| {escape(s.id)} | {escape(s.target or '-')} | {status} | {escape(_clip(s.reason or 'no reason given'))} |"
        )
    return rows
