"""Shards: the targets of a check cut into N parts of about equal cost, and the plan that records the cut.

Every shard job of a CI matrix runs `promoter check --plan plan.json --shard K/N` and checks the
targets the plan gave shard K. Without a plan, `check --shard K/N` cuts the same way from the
repository itself (a target's cost from the size of its files, line endings not counted, so every
checkout cuts alike): each job computes the same assignment. A target the plan does not know (added
after the plan was made) still gets a shard, by a stable hash of its id: nothing goes unchecked.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promoter.model.errors import UsageError

PLAN_VERSION = 1
# Estimated seconds a target costs: a fixed part per renderer (a kustomize subprocess is most of an
# overlay's cost; Helm renders in process) plus its content (from file sizes, or from the resources
# the last run found in it). Rough on purpose: only the ratios between targets matter.
FIXED_SECONDS = {"kustomize": 0.15, "helm": 0.02, "plain": 0.001}
SECONDS_PER_KIB = 0.0006
SECONDS_PER_RESOURCE = 0.0003
_DIR_FILES_CAP = 5000  # files counted below a chart folder: enough to rank it, bounded on a huge tree


@dataclass
class PlannedTarget:
    id: str
    kind: str
    env: str | None
    cost: float
    shard: int

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "env": self.env, "cost": self.cost, "shard": self.shard}


@dataclass
class Plan:
    mode: str  # "all" | "base"
    shards: int
    base: str | None = None
    env: str | None = None
    costs: str = "sizes"  # where target costs came from: "sizes" or "report"
    targets: list[PlannedTarget] = field(default_factory=list)
    promotions: list[dict[str, str]] | None = None  # {app, from, to}; None: not asked for

    def shard_of(self, target_id: str) -> int | None:
        for t in self.targets:
            if t.id == target_id:
                return t.shard
        return None

    def loads(self) -> list[tuple[int, float]]:
        """(targets, estimated seconds) of each shard, in shard order."""
        out = [(0, 0.0)] * self.shards
        for t in self.targets:
            n, c = out[t.shard - 1]
            out[t.shard - 1] = (n + 1, c + t.cost)
        return out

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "version": PLAN_VERSION,
            "mode": self.mode,
            "base": self.base,
            "env": self.env,
            "shards": self.shards,
            "costs": self.costs,
            "matrix": [
                {"shard": f"{k}/{self.shards}", "targets": n, "cost": round(c, 3)}
                for k, (n, c) in enumerate(self.loads(), 1)
            ],
            "targets": [t.to_dict() for t in self.targets],
        }
        if self.promotions is not None:
            out["promotions"] = list(self.promotions)
        return out

    @classmethod
    def from_dict(cls, d: Any) -> Plan:
        if not isinstance(d, dict) or d.get("version") != PLAN_VERSION:
            raise ValueError(f"not a promoter plan (version {PLAN_VERSION})")
        mode, shards = d.get("mode"), d.get("shards")
        if mode not in ("all", "base") or not isinstance(shards, int) or isinstance(shards, bool) or shards < 1:
            raise ValueError("mode must be all or base, shards a number ≥ 1")
        targets = []
        for t in d.get("targets") or []:
            if not isinstance(t, dict) or not isinstance(t.get("id"), str):
                raise ValueError("every target needs an id")
            shard = t.get("shard")
            if not isinstance(shard, int) or isinstance(shard, bool) or not 1 <= shard <= shards:
                raise ValueError(f"target {t['id']}: shard must be between 1 and {shards}")
            cost = t.get("cost", 0.0)
            if not isinstance(cost, (int, float)) or isinstance(cost, bool):
                raise ValueError(f"target {t['id']}: cost must be a number")
            targets.append(PlannedTarget(t["id"], str(t.get("kind") or ""), t.get("env"), float(cost), shard))
        base, env = d.get("base"), d.get("env")
        if not isinstance(base, (str, type(None))) or not isinstance(env, (str, type(None))):
            raise ValueError("base and env must be strings")
        return cls(mode, shards, base, env, str(d.get("costs") or "sizes"), targets)


def read_plan(path: Path) -> Plan:
    """The plan in `path`; one UsageError naming the file otherwise."""
    from promoter.yamlio.files import FileRefused, read_regular

    try:
        data = json.loads(read_regular(path, str(path)))
        return Plan.from_dict(data)
    except FileNotFoundError:
        raise UsageError(f"--plan {path}: no such file") from None
    except FileRefused as exc:
        raise UsageError(f"--plan {exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"--plan {path}: {exc}; make it with `promoter plan --output json=FILE`") from None


def hashed_shard(target_id: str, total: int) -> int:
    """A stable shard for a target no plan knows: a hash of its id, the same on every CI job."""
    digest = hashlib.sha256(target_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") % total + 1


def balance(costs: dict[str, float], shards: int) -> dict[str, int]:
    """Each id's shard (1-based): the costliest first, each to the least loaded shard (ties: the lower
    shard; equal costs: by id). Deterministic: the same costs give the same cut on every machine."""
    loads = [0.0] * shards
    out: dict[str, int] = {}
    for tid in sorted(costs, key=lambda t: (-costs[t], t)):
        k = min(range(shards), key=lambda i: (loads[i], i))
        loads[k] += costs[tid]
        out[tid] = k + 1
    return out


def _size(repo: Path, rel: str) -> int:
    """Bytes of a file without carriage returns: the same on a checkout with CRLF line endings."""
    try:
        with open(repo / rel, "rb") as fh:
            data = fh.read(64 * 1024 * 1024)
    except OSError:
        return 0
    return len(data) - data.count(b"\r")


def _dir_size(repo: Path, rel: str) -> int:
    total, seen = 0, 0
    for root, dirs, files in os.walk(repo / rel):
        dirs.sort()
        for name in sorted(files):
            seen += 1
            if seen > _DIR_FILES_CAP:
                return total
            total += _size(Path(root), name)
    return total


def target_costs(repo: Path, targets: list[Any], resources: dict[str, int] | None = None) -> dict[str, float]:
    """Estimated seconds of each target: from `resources` (target id -> resources the last run found),
    else from the size of the files it reads."""
    out: dict[str, float] = {}
    for t in targets:
        fixed = FIXED_SECONDS.get(t.kind, 0.01)
        if resources is not None and t.id in resources:
            out[t.id] = round(fixed + resources[t.id] * SECONDS_PER_RESOURCE, 6)
            continue
        size = sum(_size(repo, f) for f in sorted(t.files))
        size += sum(_dir_size(repo, d) for d in sorted(t.dirs) if d)
        out[t.id] = round(fixed + size / 1024 * SECONDS_PER_KIB, 6)
    return out


def resources_by_target(report: Path) -> dict[str, int]:
    """Resources per target in a JSON report of an earlier check (`--costs`)."""
    from promoter.model.finding import CheckResult
    from promoter.yamlio.files import FileRefused, read_regular

    try:
        result = CheckResult.from_dict(json.loads(read_regular(report, str(report))))
    except FileNotFoundError:
        raise UsageError(f"--costs {report}: no such file") from None
    except FileRefused as exc:
        raise UsageError(f"--costs {exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"--costs {report}: {exc}; give the JSON report of an earlier check") from None
    out: dict[str, int] = {}
    for s in result.subjects:
        if s.kind == "resource" and s.target:
            out[s.target] = out.get(s.target, 0) + 1
    for t in result.targets:
        out.setdefault(t, 0)
    return out


def assign(
    repo: Path, targets: list[Any], shards: int, plan: Plan | None = None, resources: dict[str, int] | None = None
) -> dict[str, int]:
    """The shard of each target: the plan's when it has one, else balanced by cost (a target the plan
    does not know: by a hash of its id)."""
    if plan is not None:
        return {t.id: plan.shard_of(t.id) or hashed_shard(t.id, shards) for t in targets}
    return balance(target_costs(repo, targets, resources), shards)
