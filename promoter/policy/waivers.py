"""Waivers: findings accepted by a resource annotation or a `.promoter.yaml` waiver, until they expire."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from fnmatch import fnmatchcase
from pathlib import Path

from promoter.config.model import Config
from promoter.model.errors import ConfigError, UsageError
from promoter.model.finding import CheckResult, Finding, Location, Severity
from promoter.model.resource import Resource

WAIVE_ANNOTATION = "promoter.dev/waive"
WAIVE_REASON_ANNOTATION = "promoter.dev/waive-reason"
EXPIRED_RULE = "waiver-expired"
# What promoter says about its own evaluation (a rule that errored, broke the sandbox's time or
# memory limit, or was not evaluated because of one): a resource cannot waive that for itself, or
# a pull request could turn a trusted policy off by making it slow on one resource and waiving the
# error there. A `.promoter.yaml` waiver (the platform team's) still can.
NOT_WAIVABLE_BY_ANNOTATION = frozenset({"policy-error"})


@dataclasses.dataclass(frozen=True)
class Waiver:
    """One `waivers:` entry of the config, with its index (for messages) and parsed expiry."""

    index: int
    rule: str  # glob on the finding's rule id
    match: dict[str, str]
    reason: str
    expires: dt.date | None

    def expired(self, today: dt.date) -> bool:
        # The expiry date is the last day the waiver holds.
        return self.expires is not None and today > self.expires


def config_waivers(config: Config) -> list[Waiver]:
    out = []
    for i, w in enumerate(config.waivers):
        expires = None
        if w.get("expires"):
            try:
                expires = dt.date.fromisoformat(str(w["expires"]))
            except ValueError:
                raise ConfigError(
                    f"{config.file or '.promoter.yaml'}: waivers[{i}].expires: {w['expires']!r} is not a date (YYYY-MM-DD)"
                ) from None
        out.append(Waiver(i, str(w["rule"]), dict(w.get("match") or {}), str(w["reason"]), expires))
    return out


def annotation_waivers(resource: Resource) -> tuple[set[str], str | None]:
    """Rule ids (globs) a resource waives for itself, and the reason it gives."""
    meta = resource.obj.get("metadata") or {}
    notes = meta.get("annotations") if isinstance(meta, dict) else None
    if not isinstance(notes, dict) or not notes.get(WAIVE_ANNOTATION):
        return set(), None
    rules = {r.strip() for r in str(notes[WAIVE_ANNOTATION]).split(",") if r.strip()}
    reason = notes.get(WAIVE_REASON_ANNOTATION)
    return rules, str(reason) if reason else None


def _resource_of(
    finding: Finding, by_key: dict[tuple[str, str | None], Resource], by_id: dict[str, Resource]
) -> Resource | None:
    if finding.subject is None:
        return None
    return by_key.get((finding.subject, finding.target)) or by_id.get(finding.subject)


def _env_of(finding: Finding, resource: Resource | None) -> str | None:
    env = finding.evidence.get("env") if finding.evidence else None
    return env or (resource.env if resource else None)


def matches(waiver: Waiver, finding: Finding, resource: Resource | None) -> bool:
    """Every field of the waiver's `match` must glob-match; kind/name/namespace need a resource."""
    if not fnmatchcase(finding.rule, waiver.rule):
        return False
    for key, pattern in waiver.match.items():
        if key in ("kind", "name", "namespace"):
            if resource is None:
                return False
            value = {"kind": resource.kind, "name": resource.name, "namespace": resource.namespace}[key]
            if not fnmatchcase(value, pattern):
                return False
        elif key == "file":
            files = [
                finding.location.file if finding.location else None,
                resource.location.file if resource and resource.location else None,
                finding.target,
            ]
            if not any(f and fnmatchcase(f, pattern) for f in files):
                return False
        elif key == "env":
            env = _env_of(finding, resource)
            if env is None or not fnmatchcase(env, pattern):
                return False
        else:
            return False
    return True


def _waiver_line(config: Config, repo: Path | None, index: int) -> int | None:
    if not config.file or repo is None:
        return None
    try:
        from promoter.yamlio.document import YamlDoc, line_of_path

        doc = YamlDoc.load(repo / config.file, config.file)
        return line_of_path(doc.docs[0], ["waivers", index])
    except (UsageError, OSError, IndexError, TypeError):  # the line is a courtesy; the message names the entry
        return None


def _expired_finding(config: Config, waiver: Waiver, repo: Path | None, target: str | None) -> Finding:
    file = config.file or ".promoter.yaml"
    return Finding(
        rule=EXPIRED_RULE,
        severity=Severity.ERROR,
        message=(
            f"waiver for rule {waiver.rule!r} ({waiver.reason}) expired on {waiver.expires.isoformat() if waiver.expires else '?'}: "
            "the findings it covered count again"
        ),
        location=Location(file, _waiver_line(config, repo, waiver.index)),
        source="config",
        target=target,
        help=f"fix the findings and remove waivers[{waiver.index}] from {file}, or renew it with a later expires date and a reason",
        evidence={
            "waiver": waiver.index,
            "rule": waiver.rule,
            "expires": waiver.expires.isoformat() if waiver.expires else None,
        },
    )


def apply_waivers(
    result: CheckResult,
    resources: Sequence[Resource],
    config: Config,
    today: dt.date | None = None,
    *,
    repo: Path | None = None,
    report_unmatched_expired: bool = True,
) -> CheckResult:
    """A copy of `result` with waived findings marked (waived=True, waiver_reason), plus an error
    finding per expired config waiver. Expired waivers waive nothing. With
    report_unmatched_expired=False only expired waivers that would have covered a finding here are
    reported (so per-environment calls do not repeat them)."""
    today = today or dt.datetime.now(dt.UTC).date()
    by_key: dict[tuple[str, str | None], Resource] = {(r.id, r.target): r for r in resources}
    by_id: dict[str, Resource] = {}
    for r in resources:
        by_id.setdefault(r.id, r)
    waivers = config_waivers(config)
    active = [w for w in waivers if not w.expired(today)]
    expired = [w for w in waivers if w.expired(today)]
    hit_expired: dict[int, str | None] = {}
    findings = []
    for f in result.findings:
        if f.waived or f.rule == EXPIRED_RULE:
            findings.append(f)
            continue
        resource = _resource_of(f, by_key, by_id)
        reason = None
        if resource is not None and f.rule not in NOT_WAIVABLE_BY_ANNOTATION:
            rules, why = annotation_waivers(resource)
            if any(fnmatchcase(f.rule, r) for r in rules):
                reason = why or f"waived by the {WAIVE_ANNOTATION} annotation on {resource.display}"
        if reason is None:
            for w in active:
                if matches(w, f, resource):
                    reason = w.reason
                    break
        if reason is None:
            for w in expired:
                if matches(w, f, resource):
                    hit_expired.setdefault(w.index, _env_of(f, resource))
        findings.append(dataclasses.replace(f, waived=True, waiver_reason=reason) if reason is not None else f)
    seen = {f.fingerprint() for f in findings}
    for w in expired:
        if not report_unmatched_expired and w.index not in hit_expired:
            continue
        extra = _expired_finding(config, w, repo, hit_expired.get(w.index))
        if extra.fingerprint() not in seen:
            seen.add(extra.fingerprint())
            findings.append(extra)
    return CheckResult(
        findings=findings, subjects=list(result.subjects), targets=list(result.targets), stats=dict(result.stats)
    )
