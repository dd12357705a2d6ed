"""Reports: the JSON reports of a check's shards read back and merged into the one result a single run gives."""

from __future__ import annotations

import json
from pathlib import Path

from promoter.flows.check import merge_findings
from promoter.model.errors import UsageError
from promoter.model.finding import CheckResult

# Counters that add up across shards; every other number is the same in each shard (or a time: the longest).
_SUMMED = (
    "targets",
    "rendered",
    "skipped",
    "not_rendered",
    "resources",
    "resources_valid",
    "resources_invalid",
    "resources_skipped",
    "resources_errors",
    "policy_resources",
    "policy_successes",
    "policy_exceptions",
    "existing",
)


def read_report(path: Path) -> CheckResult:
    """A JSON report written by `check --output json=FILE`; one UsageError naming the file otherwise."""
    from promoter.yamlio.files import FileRefused, read_regular

    try:
        return CheckResult.from_dict(json.loads(read_regular(path, str(path))))
    except FileNotFoundError:
        raise UsageError(f"{path}: no such report") from None
    except FileRefused as exc:
        raise UsageError(str(exc)) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError(
            f"{path}: {exc}; merge the JSON reports of `promoter check --output json=FILE` (one per shard)"
        ) from None


def merge_reports(paths: list[Path], *, allow_missing: bool = False) -> CheckResult:
    """One result from the shards' results: every finding and subject once, a finding several shards
    reached through targets sharing a base merged into one (as a single run merges it).

    Fails closed: the reports must be the shards of one cut, every one of them (a shard that crashed
    before writing its report would otherwise drop its findings and the merge pass); `allow_missing`
    merges an incomplete set on purpose, and the result's stats name what is missing."""
    if not paths:
        raise UsageError("report merge: give the JSON reports to merge")
    parts = [read_report(p) for p in paths]
    modes = {(r.fail_on, r.stats.get("mode"), r.stats.get("base"), r.stats.get("env")) for r in parts}
    if len(modes) > 1:
        raise UsageError(
            "report merge: the reports come from different checks (--base/--all, --env or --fail-on differ): "
            "merge the shards of one check"
        )
    labelled, total, missing = _shards(paths, parts)
    if missing and not allow_missing:
        raise UsageError(
            f"report merge: shard{'s' if len(missing) > 1 else ''} {', '.join(missing)} missing: a shard that "
            "failed before writing its report; rerun it (or give --allow-missing to merge an incomplete check)"
        )
    out = CheckResult(fail_on=parts[0].fail_on)
    order: list[str] = []
    for r in parts:
        out.findings.extend(r.findings)
        out.subjects.extend(r.subjects)
        out.targets.extend(r.targets)
        for t, e in r.target_envs.items():
            out.target_envs.setdefault(t, e)
        envs = r.stats.get("environments")
        if isinstance(envs, list) and len(envs) > len(order):
            order = [str(e) for e in envs]
    out.targets = sorted(set(out.targets))
    out.findings = merge_findings(out.findings, order)
    stats: dict[str, object] = {}
    for r in parts:
        for k, v in r.stats.items():
            if k in ("shard", "cut"):
                continue
            if k in _SUMMED and isinstance(v, (int, float)) and not isinstance(v, bool):
                prev = stats.get(k, 0)
                stats[k] = (prev if isinstance(prev, (int, float)) else 0) + v
            elif k.endswith("seconds") and isinstance(v, (int, float)):
                prev = stats.get(k, 0.0)
                stats[k] = max(prev if isinstance(prev, (int, float)) else 0.0, v)
            else:
                stats.setdefault(k, v)
    stats["merged"] = len(parts)
    stats["shards"] = sorted(labelled, key=lambda s: int(s.split("/")[0]))
    if total:
        stats["shards_total"] = total
    if missing:
        stats["shards_missing"] = missing
    out.stats = stats
    return out


def _shard_label(text: object) -> tuple[int, int] | None:
    if not isinstance(text, str):
        return None
    k, _, n = text.partition("/")
    if not (k.isdigit() and n.isdigit()) or not 1 <= int(k) <= int(n):
        return None
    return int(k), int(n)


def _shards(paths: list[Path], parts: list[CheckResult]) -> tuple[list[str], int, list[str]]:
    """The shard labels given, the N they share and the labels missing of 1/N..N/N; a UsageError when
    the reports are not shards of one cut (one unsharded, different N, different cuts, one given twice)."""
    labels = [r.stats.get("shard") for r in parts]
    parsed = [_shard_label(s) for s in labels]
    unsharded = [str(p) for p, kn in zip(paths, parsed, strict=True) if kn is None]
    if unsharded:
        if len(parts) == 1:
            return [], 0, []  # one unsharded report: the whole check, nothing to join
        raise UsageError(
            f"report merge: {', '.join(unsharded)} is not a shard's report (its check was not sharded): "
            "merge the reports of `promoter check --shard K/N`, one per shard"
        )
    totals = sorted({kn[1] for kn in parsed if kn})
    if len(totals) > 1:
        raise UsageError(
            f"report merge: the shards come from different plans (cut into {' and '.join(map(str, totals))} "
            "shards): merge the shards of one plan"
        )
    cuts = {r.stats.get("cut") for r in parts}
    if len(cuts) > 1:
        raise UsageError(
            "report merge: the shards come from different plans (they cut the targets differently: another "
            "plan, or another commit): merge the shards of one plan, checked on one commit"
        )
    labelled = [str(s) for s in labels]
    if len(set(labelled)) != len(labelled):
        twice = sorted({s for s in labelled if labelled.count(s) > 1})
        raise UsageError(f"report merge: shard {', '.join(twice)} is given twice")
    n = totals[0]
    have = {kn[0] for kn in parsed if kn}
    return labelled, n, [f"{k}/{n}" for k in range(1, n + 1) if k not in have]
