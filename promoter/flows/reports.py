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


def merge_reports(paths: list[Path]) -> CheckResult:
    """One result from the shards' results: every finding and subject once, a finding several shards
    reached through targets sharing a base merged into one (as a single run merges it)."""
    if not paths:
        raise UsageError("report merge: give the JSON reports to merge")
    parts = [read_report(p) for p in paths]
    modes = {(r.fail_on, r.stats.get("mode"), r.stats.get("base"), r.stats.get("env")) for r in parts}
    if len(modes) > 1:
        raise UsageError(
            "report merge: the reports come from different checks (--base/--all, --env or --fail-on differ): "
            "merge the shards of one check"
        )
    shards = [r.stats.get("shard") for r in parts]
    labelled = [s for s in shards if isinstance(s, str)]
    if len(set(labelled)) != len(labelled):
        twice = sorted({s for s in labelled if labelled.count(s) > 1})
        raise UsageError(f"report merge: shard {', '.join(twice)} is given twice")
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
            if k == "shard":
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
    stats["shards"] = sorted(labelled)
    out.stats = stats
    return out
