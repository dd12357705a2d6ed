"""The one result model: findings and the subjects they were found on, read by every report format."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        # Lower sorts first: reports rank errors before warnings before notes.
        return {"error": 0, "warning": 1, "info": 2}[self.value]


@dataclass(frozen=True)
class Location:
    """A place in the source repository: a repo-relative POSIX path, 1-based line/column."""

    file: str
    line: int | None = None
    column: int | None = None
    end_line: int | None = None

    def __str__(self) -> str:
        out = self.file
        if self.line:
            out += f":{self.line}"
            if self.column:
                out += f":{self.column}"
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "column": self.column, "end_line": self.end_line}

    @classmethod
    def from_dict(cls, d: Any) -> Location | None:
        """The inverse of to_dict (None stays None); ValueError on anything else."""
        if d is None:
            return None
        if not isinstance(d, dict) or not isinstance(d.get("file"), str):
            raise ValueError("a location needs a file")
        return cls(d["file"], _int(d.get("line")), _int(d.get("column")), _int(d.get("end_line")))


def _int(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{value!r} is not a line or column number")
    return value


def _str(value: Any, what: str, *, optional: bool = True) -> Any:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string, not {value!r}")
    return value


def _strs(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise ValueError(f"{what} must be a list of strings")
    return list(value)


def repo_relative(path: Path, repo: Path | None) -> str:
    """`path` as reports and messages show it: relative to the repository (POSIX), else as given."""
    if repo is not None:
        try:
            return path.resolve().relative_to(repo.resolve()).as_posix()
        except (RuntimeError, OSError):  # a symlink loop: placed by its own name
            try:
                return path.absolute().relative_to(repo.absolute()).as_posix()
            except ValueError:
                pass
        except ValueError:  # outside the repository: shown as given
            pass
    return str(path)


# Evidence that is a line or a tool's wording: left out of a finding's identity.
_UNSTABLE_EVIDENCE = frozenset({"line", "kubeconform", "message"})


@dataclass
class Finding:
    """One problem (or note) found by a validator, a policy, a gate or a renderer.

    `rule` is a stable id (`schema`, `render-failed`, `image-latest`, `gate-soak`, ...);
    `source` says which stage produced it (`render`, `schema`, `kubeconform`, `values-schema`,
    `policy`, `gate`, `config`); `subject` names the checked thing it belongs to (see Subject.id),
    `target` the overlay, chart or environment being checked.
    """

    rule: str
    severity: Severity
    message: str
    location: Location | None = None
    source: str = ""
    subject: str | None = None
    target: str | None = None
    help: str | None = None
    waived: bool = False
    waiver_reason: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    # Against a base (`check --base`): "new" when the change adds it, "existing" when the base had it
    # already; None when no baseline was computed.
    baseline: str | None = None
    # Every environment and target that reached this finding (one finding through several overlays
    # sharing a base is reported once); `target` is the first of `targets`.
    envs: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)

    @property
    def blocking(self) -> bool:
        return self.severity is Severity.ERROR and not self.waived

    @property
    def field_path(self) -> str:
        """The field the finding is about (a JSON pointer or a values key path), '' when it is about a whole thing."""
        ev = self.evidence or {}
        return str(ev.get("pointer") or ev.get("key_path") or ev.get("path") or "")

    def identity(self) -> tuple[str, str, str]:
        """What the finding is about, independent of lines and wording: rule, object, field path.

        The object is the subject (a resource's apiVersion/kind/namespace/name, a render, a gate), else
        the file; a line number or a message never enters, so moving a manifest or rewording a policy
        keeps an old finding old."""
        thing = self.subject or (self.location.file if self.location else "") or (self.target or "")
        what = self.field_path or ";".join(
            f"{k}={v}"
            for k, v in sorted((self.evidence or {}).items())
            if isinstance(v, (str, int, float, bool)) and k not in _UNSTABLE_EVIDENCE
        )
        return (self.rule, thing, what)

    def fingerprint(self) -> str:
        """A stable hash of `identity()`: SARIF partialFingerprints, GitLab Code Quality fingerprint."""
        import hashlib

        return hashlib.sha256("|".join(self.identity()).encode()).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "message": self.message,
            "location": self.location.to_dict() if self.location else None,
            "source": self.source,
            "subject": self.subject,
            "target": self.target,
            "help": self.help,
            "waived": self.waived,
            "waiver_reason": self.waiver_reason,
            "evidence": self.evidence,
            "baseline": self.baseline,
            "envs": self.envs,
            "targets": self.targets or ([self.target] if self.target else []),
            "fingerprint": self.fingerprint(),
        }

    @classmethod
    def from_dict(cls, d: Any) -> Finding:
        """A finding as the JSON report wrote it (its fingerprint is computed again, not read)."""
        if not isinstance(d, dict):
            raise ValueError("a finding must be an object")
        evidence = d.get("evidence") or {}
        if not isinstance(evidence, dict):
            raise ValueError("a finding's evidence must be an object")
        baseline = d.get("baseline")
        if baseline not in (None, "new", "existing"):
            raise ValueError(f"baseline {baseline!r} is not new or existing")
        return cls(
            rule=_str(d.get("rule"), "rule", optional=False),
            severity=Severity(d.get("severity")),
            message=_str(d.get("message"), "message", optional=False),
            location=Location.from_dict(d.get("location")),
            source=_str(d.get("source"), "source") or "",
            subject=_str(d.get("subject"), "subject"),
            target=_str(d.get("target"), "target"),
            help=_str(d.get("help"), "help"),
            waived=bool(d.get("waived", False)),
            waiver_reason=_str(d.get("waiver_reason"), "waiver_reason"),
            evidence=evidence,
            baseline=baseline,
            envs=_strs(d.get("envs"), "envs"),
            targets=_strs(d.get("targets"), "targets"),
        )


class Status(str, enum.Enum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    ERROR = "error"


@dataclass
class Subject:
    """One thing that was checked: a rendered resource, a values file, a render, a gate.

    Reports with one entry per checked item (JUnit test cases, the text summary) read these;
    a subject's findings are the findings whose `subject` equals its `id`.
    """

    id: str
    kind: str  # "resource" | "values" | "render" | "gate" | "policy"
    target: str | None = None
    location: Location | None = None
    status: Status = Status.PASSED
    reason: str | None = None  # why skipped / errored
    details: dict[str, Any] = field(default_factory=dict)  # what the check established (e.g. a verified image)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "target": self.target,
            "location": self.location.to_dict() if self.location else None,
            "status": self.status.value,
            "reason": self.reason,
            "details": self.details,
        }

    @classmethod
    def from_dict(cls, d: Any) -> Subject:
        if not isinstance(d, dict):
            raise ValueError("a subject must be an object")
        details = d.get("details") or {}
        if not isinstance(details, dict):
            raise ValueError("a subject's details must be an object")
        return cls(
            id=_str(d.get("id"), "id", optional=False),
            kind=_str(d.get("kind"), "kind", optional=False),
            target=_str(d.get("target"), "target"),
            location=Location.from_dict(d.get("location")),
            status=Status(d.get("status", "passed")),
            reason=_str(d.get("reason"), "reason"),
            details=details,
        )


@dataclass
class CheckResult:
    """Everything a check (or the checks inside a promotion) produced."""

    findings: list[Finding] = field(default_factory=list)
    subjects: list[Subject] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)  # overlays / charts / files checked
    stats: dict[str, Any] = field(default_factory=dict)
    # "any": every blocking finding fails the check; "new": only those a change adds (`check --base`).
    fail_on: str = "any"
    target_envs: dict[str, str | None] = field(default_factory=dict)  # target id -> its environment

    def extend(self, other: CheckResult) -> None:
        self.findings.extend(other.findings)
        self.subjects.extend(other.subjects)
        self.targets.extend(t for t in other.targets if t not in self.targets)
        for t, e in other.target_envs.items():
            self.target_envs.setdefault(t, e)
        for k, v in other.stats.items():
            self.stats[k] = self.stats.get(k, 0) + v if isinstance(v, (int, float)) else v

    def counts_against(self, f: Finding) -> bool:
        """`f` fails this check: blocking, and new when only new findings fail it (`--fail-on new`)."""
        return f.blocking and not (self.fail_on == "new" and f.baseline == "existing")

    @property
    def failed(self) -> bool:
        return any(self.counts_against(f) for f in self.findings)

    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if self.counts_against(f)]

    def ranked(self) -> list[Finding]:
        """Findings by severity (errors first), waived last, then by location."""
        return sorted(
            self.findings,
            key=lambda f: (
                f.waived,
                f.severity.rank,
                f.location.file if f.location else "",
                (f.location.line or 0) if f.location else 0,
                f.rule,
            ),
        )

    def counts(self) -> dict[str, int]:
        out = {"error": 0, "warning": 0, "info": 0, "waived": 0}
        for f in self.findings:
            if f.waived:
                out["waived"] += 1
            else:
                out[f.severity.value] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": not self.failed,
            "fail_on": self.fail_on,
            "counts": self.counts(),
            "targets": self.targets,
            "findings": [f.to_dict() for f in self.ranked()],
            "subjects": [s.to_dict() for s in self.subjects],
            "stats": self.stats,
            "target_envs": self.target_envs,
        }

    @classmethod
    def from_dict(cls, d: Any) -> CheckResult:
        """A result as the JSON report wrote it; ValueError naming what is wrong otherwise."""
        if (
            not isinstance(d, dict)
            or not isinstance(d.get("findings"), list)
            or not isinstance(d.get("subjects"), list)
        ):
            raise ValueError("not a promoter JSON report (no findings and subjects lists)")
        fail_on = d.get("fail_on", "any")
        if fail_on not in ("any", "new"):
            raise ValueError(f"fail_on {fail_on!r} is not any or new")
        stats = d.get("stats") or {}
        envs = d.get("target_envs") or {}
        if not isinstance(stats, dict) or not isinstance(envs, dict):
            raise ValueError("stats and target_envs must be objects")
        return cls(
            findings=[Finding.from_dict(f) for f in d["findings"]],
            subjects=[Subject.from_dict(s) for s in d["subjects"]],
            targets=_strs(d.get("targets"), "targets"),
            stats=stats,
            fail_on=fail_on,
            target_envs={str(k): (None if v is None else str(v)) for k, v in envs.items()},
        )
