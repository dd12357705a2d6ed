"""The Markdown summary: the GitHub job summary, the `markdown` output, and the core of promotion PR bodies."""

from __future__ import annotations

import html
import re

from promoter.model.finding import CheckResult, Finding, Severity, Status, Subject
from promoter.report.base import SEVERITY_ORDER, View, summary_line, verdict

NAME = "markdown"

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
    parts = _Parts(View(result), title)
    full = parts.compose(limit=None)
    if max_chars is None or len(full) <= max_chars:
        return full
    best: str | None = None
    lo, hi = 0, parts.total
    while lo <= hi:  # the most rows that still fit; rows are escaped once, only joined here
        mid = (lo + hi) // 2
        text = parts.compose(limit=mid)
        if len(text) <= max_chars:
            best, lo = text, mid + 1
        else:
            hi = mid - 1
    if best is not None:
        return best
    # Not even the counts fit: keep whole lines of the head (it has no <details> to leave open).
    note = "\n_(summary truncated)_\n"
    head = "\n".join(parts.head)[: max(0, max_chars - len(note))]
    head = head[: head.rfind("\n") + 1]
    return (head + note)[:max_chars] if len(note) <= max_chars else ""


def escape(text: str, *, newlines: str = "<br>") -> str:
    """Text safe inside a Markdown table cell: no markup, no HTML, no @-mentions, no cell breaks."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    # Other line breaks (U+2028, U+2029, NEL, VT, FF) would split a table row as surely as LF.
    text = text.translate(
        {0x2028: "\n", 0x2029: "\n", 0x85: "\n", 0x0B: "\n", 0x0C: "\n", 0x1C: "\n", 0x1D: "\n", 0x1E: "\n"}
    )
    text = html.escape(text, quote=False)
    text = _MD_SPECIAL.sub(r"\\\1", text)
    # A zero-width space after @ keeps `image@sha256` or `@team` from pinging anyone.
    text = text.replace("@", "@&#8203;")
    return text.replace("\n", newlines)


def _clip(text: str) -> str:
    return text if len(text) <= CELL_MAX else text[: CELL_MAX - 1] + "\u2026"


class _Parts:
    """The summary's pieces, each row escaped once, so truncation only re-joins them."""

    def __init__(self, view: View, title: str) -> None:
        result = view.result
        counts = result.counts()
        icon = "\u274c" if result.failed else "\u2705"
        self.head = [
            f"## {escape(title, newlines=' ')}",
            "",
            f"**{icon} {escape(verdict(result), newlines=' ')}** \u00b7 {escape(summary_line(result), newlines=' ')}",
            "",
            "| Severity | Findings |",
            "| --- | ---: |",
            *(f"| {_ICON[sev]} {_LABEL[sev]} | {counts[sev.value]} |" for sev in SEVERITY_ORDER),
            f"| \U0001f4a4 waived | {counts['waived']} |",
        ]
        self.active = _findings_rows(view, [f for f in view.findings if not f.waived])
        self.waived = _findings_rows(view, [f for f in view.findings if f.waived], waived=True)
        self.unsettled = _subjects_rows(view.unsettled)
        self.total = len(self.active) + len(self.waived) + len(self.unsettled)

    def compose(self, *, limit: int | None) -> str:
        budget = self.total if limit is None else limit
        active, budget = self.active[:budget], budget - min(budget, len(self.active))
        waived, budget = self.waived[:budget], budget - min(budget, len(self.waived))
        unsettled = self.unsettled[:budget]
        out = list(self.head)
        if active:
            table = [_FINDINGS_HEAD, _FINDINGS_RULE, *active]
            if len(active) > COLLAPSE_AFTER:
                out += ["", f"<details><summary>Findings ({len(self.active)})</summary>", "", *table, "", "</details>"]
            else:
                out += ["", "### Findings", "", *table]
        if waived:
            out += ["", f"<details><summary>Waived findings ({len(self.waived)})</summary>", ""]
            out += [_FINDINGS_HEAD + " Waiver |", _FINDINGS_RULE + " --- |", *waived, "", "</details>"]
        if unsettled:
            out += ["", f"<details><summary>Not checked ({len(self.unsettled)})</summary>", ""]
            out += ["| Subject | Target | Status | Reason |", "| --- | --- | --- | --- |", *unsettled, "", "</details>"]
        hidden = self.total - (len(active) + len(waived) + len(unsettled))
        if hidden:
            entries = "entry is" if hidden == 1 else "entries are"
            note = f"> **Truncated:** {hidden} more {entries} not shown here; the full list is in the check's other reports"
            out += ["", note + " (for example `--output json`)."]
        return "\n".join(out) + "\n"


_FINDINGS_HEAD = "| Severity | Rule | Location | Message |"
_FINDINGS_RULE = "| --- | --- | --- | --- |"


def _findings_rows(view: View, findings: list[Finding], *, waived: bool = False) -> list[str]:
    rows = []
    for f in findings:
        existing = " (existing)" if f.baseline == "existing" else ""
        row = (
            f"| {_ICON[f.severity]} {_LABEL[f.severity]}{existing} | {escape(f.rule)} | {escape(view.where(f))} "
            f"| {escape(_clip(f.message or f.rule))} |"
        )
        if waived:
            row += f" {escape(_clip(f.waiver_reason or 'no reason given'))} |"
        rows.append(row)
    return rows


def _subjects_rows(subjects: list[Subject]) -> list[str]:
    return [
        f"| {escape(s.id)} | {escape(s.target or '-')} | {'skipped' if s.status is Status.SKIPPED else 'error'} "
        f"| {escape(_clip(s.reason or 'no reason given'))} |"
        for s in subjects
    ]
