"""What every report format shares: the format contract and read-only views of a CheckResult."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from promoter.model.finding import (
    CheckResult,
    Finding,
    Location,
    Severity,
    Status,
    Subject,
)


class Format(Protocol):
    """One output format: a module with these names (see promoter/report/__init__.py).

    `render` is a pure function of the result. A format that also writes somewhere its
    platform dictates (GitHub's step summary) says so through an optional module-level
    `appendices(result, *, title, environ) -> list[Appendix]`; the caller does the writing.
    """

    NAME: str

    def render(self, result: CheckResult, *, title: str, color: bool = False) -> str: ...


@dataclass(frozen=True)
class Appendix:
    """Text a format wants appended to a file named by the environment (not one the user chose)."""

    path: Path
    text: str
    what: str  # for error messages: "GitHub step summary"


def appendices_of(fmt: object, result: CheckResult, *, title: str, environ: Mapping[str, str]) -> list[Appendix]:
    hook = getattr(fmt, "appendices", None)
    return list(hook(result, title=title, environ=environ)) if hook else []


class View:
    """Read-only lookups every format needs, built once per render: subjects by id, resolved locations."""

    def __init__(self, result: CheckResult) -> None:
        self.result = result
        self.subjects: dict[str, Subject] = {s.id: s for s in result.subjects}
        self.findings = result.ranked()
        self._by_subject: dict[str, list[Finding]] = {}
        for f in self.findings:
            if f.subject is not None:
                self._by_subject.setdefault(f.subject, []).append(f)

    def location(self, finding: Finding) -> Location | None:
        """The finding's own location, else its subject's (a schema error found on a resource)."""
        if finding.location is not None:
            return finding.location
        subject = self.subjects.get(finding.subject) if finding.subject else None
        return subject.location if subject else None

    def target(self, finding: Finding) -> str | None:
        if finding.target:
            return finding.target
        subject = self.subjects.get(finding.subject) if finding.subject else None
        return subject.target if subject else None

    def where(self, finding: Finding) -> str:
        """`file:line` for humans, else the target (overlay or chart), else `-`."""
        loc = self.location(finding)
        if loc is not None:
            return f"{loc.file}:{loc.line}" if loc.line else loc.file
        return self.target(finding) or "-"

    def findings_of(self, subject: Subject) -> list[Finding]:
        """The subject's findings, ranked (a dict lookup: JUnit asks once per subject)."""
        return self._by_subject.get(subject.id, [])

    @property
    def unsettled(self) -> list[Subject]:
        """Subjects that were not fully checked: skipped or errored, each with its reason."""
        return [s for s in self.result.subjects if s.status in (Status.SKIPPED, Status.ERROR)]


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def summary_line(result: CheckResult) -> str:
    """The one-line tally every human-facing format opens with."""
    c = result.counts()
    skipped = sum(1 for s in result.subjects if s.status is Status.SKIPPED)
    existing = sum(1 for f in result.findings if f.baseline == "existing" and not f.waived)
    errored = sum(1 for s in result.subjects if s.status is Status.ERROR)
    parts = [plural(c["error"], "error"), plural(c["warning"], "warning"), plural(c["info"], "note")]
    if c["waived"]:
        parts.append(f"{c['waived']} waived")
    if existing:
        parts.append(f"{existing} existing")
    checked = f"{plural(len(result.subjects), 'subject')} in {plural(len(result.targets), 'target')}"
    extra = []
    if skipped:
        extra.append(f"{skipped} skipped")
    if errored:
        extra.append(f"{errored} not checked")
    if extra:
        checked += f" ({', '.join(extra)})"
    return f"{', '.join(parts)}; {checked}"


def verdict(result: CheckResult) -> str:
    """`FAIL: 2 blocking errors`, or `PASS`; with a base, errors the base already had are said, not counted."""
    blocking = len(result.blocking())
    existing = sum(1 for f in result.findings if f.blocking and f.baseline == "existing")
    kept = (
        f" ({plural(existing, 'existing error')} already on the base, not blocking with --fail-on new)"
        if existing and result.fail_on == "new"
        else ""
    )
    if blocking:
        return f"FAIL: {plural(blocking, 'new blocking error' if result.fail_on == 'new' else 'blocking error')}{kept}"
    return f"PASS{kept}"


# Control characters other than TAB/LF would move a terminal's cursor or break a file format.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def visible_controls(text: str) -> str:
    """Show control characters (an ESC from a manifest, say) as `\\xNN` instead of obeying them."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text.replace("\r\n", "\n").replace("\r", "\n"))


SEVERITY_ORDER: tuple[Severity, ...] = (Severity.ERROR, Severity.WARNING, Severity.INFO)
