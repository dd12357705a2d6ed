"""Policies: the built-in Rego pack and users' conftest folders, evaluated on rendered resources."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from promoter.config.model import Config
from promoter.model.errors import ConfigError
from promoter.model.finding import (
    CheckResult,
    Finding,
    Location,
    Severity,
    Status,
    Subject,
    repo_relative,
)
from promoter.model.resource import Resource
from promoter.policy.pack import pack_dir, rule_id
from promoter.policy.rego import PolicySet, Verdict, rego_files
from promoter.policy.severity import check_severity_config, rule_severity
from promoter.policy.waivers import (
    WAIVE_ANNOTATION,
    WAIVE_REASON_ANNOTATION,
    apply_waivers,
)

__all__ = ["BUILTIN", "apply_waivers", "evaluate_policies", "policy_data", "policy_sets"]

BUILTIN = "builtin"
POLICY_ERROR = "policy-error"
# Below this many resources a second process costs more (start, compile) than it saves.
PARALLEL_MIN_RESOURCES = 2000

_SET_CACHE: dict[tuple[Any, ...], PolicySet] = {}


def _load_cached(
    path: Path, name: str, namespaces: Sequence[str], batch: str | None = None, *, trusted: bool = False
) -> PolicySet:
    """Load a folder once per process while its files are unchanged (check calls once per env)."""
    stamp = []
    for p in [path] if path.is_file() else rego_files(path):
        try:
            st = p.stat()
        except OSError:
            continue
        stamp.append((str(p), st.st_mtime_ns, st.st_size))
    key = (str(path), name, tuple(namespaces), tuple(stamp), batch, trusted)
    cached = _SET_CACHE.get(key)
    if cached is None:
        cached = _SET_CACHE[key] = PolicySet.load(path, name, namespaces, batch, trusted=trusted)
    return cached


def policy_sets(config: Config, repo: Path, extra_dirs: Iterable[Path] = ()) -> list[PolicySet]:
    """The built-in pack (unless policies.builtin is false), config folders, then --policy folders."""
    settings = config.policies
    sets: list[PolicySet] = []
    if settings.get("builtin", True):
        # The pack is tested with this engine; other folders are compiled in a child process first.
        sets.append(_load_cached(pack_dir(), BUILTIN, ("main",), batch="main.checks", trusted=True))
    namespaces = tuple(settings.get("namespaces") or ("main",))
    for p in settings.get("paths") or []:
        path = repo / p
        if not path.exists():
            raise ConfigError(f"{config.file or '.promoter.yaml'}: policies.paths: policy folder {p} does not exist")
        sets.append(_load_cached(path, str(p).rstrip("/"), namespaces))
    for d in extra_dirs:
        path = d if d.is_absolute() else repo / d
        if not path.exists():
            raise ConfigError(f"--policy {d}: policy folder does not exist")
        sets.append(_load_cached(path, repo_relative(path, repo), namespaces))
    return sets


def policy_data(config: Config, env: str | None) -> dict[str, Any]:
    """What policies see as data.promoter: the environment, target Kubernetes version, allowlist, digest rule."""
    gates = next((e.gates for e in config.environments if e.name == env), {})
    require_digest = bool(gates.get("digest_required", False))
    return {
        "promoter": {
            "env": env,
            "kubernetes_version": config.kubernetes_version,
            "allowed_registries": list(config.policies.get("allowed_registries") or []),
            "require_digest": require_digest,
            "config": config.policies.get("data") or {},
        }
    }


def _evaluate_values(
    sets: list[PolicySet], data: dict[str, Any], set_index: int, values: list[Any], files: list[str | None]
) -> list[Verdict]:
    return sets[set_index].evaluator(data).evaluate_many(values, files)


_WORKER: dict[str, Any] = {}


def _worker_init(sets: list[PolicySet], data: dict[str, Any]) -> None:
    _WORKER["sets"], _WORKER["data"] = sets, data


def _worker_run(args: tuple[int, list[Any], list[str | None]]) -> list[Verdict]:
    return _evaluate_values(_WORKER["sets"], _WORKER["data"], *args)


def _verdicts(
    sets: list[PolicySet], data: dict[str, Any], set_index: int, values: list[Any], files: list[str | None], jobs: int
) -> list[Verdict]:
    """Evaluate values in order; with jobs > 1, in forked processes that compile the set themselves."""
    if jobs <= 1 or len(values) < PARALLEL_MIN_RESOURCES:
        return _evaluate_values(sets, data, set_index, values, files)
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    size = -(-len(values) // (jobs * 4))
    chunks = [(set_index, values[i : i + size], files[i : i + size]) for i in range(0, len(values), size)]
    with ctx.Pool(jobs, initializer=_worker_init, initargs=(sets, data)) as pool:
        out: list[Verdict] = []
        for part in pool.map(_worker_run, chunks):
            out.extend(part)
    return out


def _default_jobs() -> int:
    value = os.environ.get("PROMOTER_POLICY_JOBS")
    if value and value.isdigit():
        return max(1, int(value))
    return min(4, os.cpu_count() or 1)


def _findings(
    verdict: Verdict,
    policy_set: PolicySet,
    config: Config,
    env: str | None,
    subject: str,
    location: Location | None,
    target: str | None,
) -> list[Finding]:
    out = []
    for m in verdict.messages:
        rid = rule_id(m.rule)
        default = Severity.ERROR if m.level == "failure" else Severity.WARNING
        severity = rule_severity(config, rid, env, default)
        if severity is None:
            continue
        evidence: dict[str, Any] = {"policy_set": policy_set.name, "namespace": m.namespace, "rule": m.rule, "env": env}
        if m.metadata:
            evidence["metadata"] = m.metadata
        out.append(
            Finding(
                rule=rid,
                severity=severity,
                message=m.message,
                location=location,
                source="policy",
                subject=subject,
                target=target,
                help=f'to accept it, annotate the resource with {WAIVE_ANNOTATION}: "{rid}" and a {WAIVE_REASON_ANNOTATION}, or add a waiver in .promoter.yaml',
                waived=m.excepted,
                waiver_reason=f"exception rule in {policy_set.name} ({m.namespace})" if m.excepted else None,
                evidence=evidence,
            )
        )
    for e in verdict.errors:
        severity = rule_severity(config, POLICY_ERROR, env, Severity.ERROR)
        if severity is None:
            continue
        where = f"{e.namespace}.{e.rule}" if e.rule else e.namespace
        out.append(
            Finding(
                rule=POLICY_ERROR,
                severity=severity,
                message=f"policy rule {where} in {policy_set.name} failed while evaluating: {e.message}",
                location=location,
                source="policy",
                subject=subject,
                target=target,
                help="fix the rule (a complete rule producing two values, or a result without msg, are the usual causes)",
                evidence={"policy_set": policy_set.name, "namespace": e.namespace, "rule": e.rule, "env": env},
            )
        )
    return out


def evaluate_policies(
    resources: list[Resource],
    config: Config,
    env: str | None,
    repo: Path,
    extra_dirs: Sequence[Path] = (),
    combine: bool = False,
    *,
    today: dt.date | None = None,
    jobs: int | None = None,
) -> CheckResult:
    """Every policy set on every resource: one Subject (kind "policy") per resource, findings with
    the rule id, per-environment severity and waivers applied. `env` None takes each resource's env.
    With combine (or policies.combine) each environment's resources are one input, conftest's
    --combine shape: [{"path", "contents"}]."""
    start = time.perf_counter()
    check_severity_config(config)
    sets = policy_sets(config, repo, extra_dirs)
    combine = combine or bool(config.policies.get("combine", False))
    jobs = _default_jobs() if jobs is None else jobs
    result = CheckResult()
    groups: dict[str | None, list[Resource]] = {}
    for r in resources:
        groups.setdefault(env if env is not None else r.env, []).append(r)
    counts = {"policy_successes": 0, "policy_exceptions": 0}
    for group_env, group in sorted(groups.items(), key=lambda kv: kv[0] or ""):
        data = policy_data(config, group_env)
        if combine:
            _combined(result, sets, data, config, group_env, group, counts)
        else:
            _each(result, sets, data, config, group_env, group, counts, jobs)
    result = apply_waivers(result, resources, config, today, repo=repo, report_unmatched_expired=False)
    _set_statuses(result)
    result.stats.update(
        {
            "policy_resources": len(resources),
            "policy_sets": [s.name for s in sets],
            "policy_seconds": round(time.perf_counter() - start, 3),
            **counts,
        }
    )
    return result


def _each(
    result: CheckResult,
    sets: list[PolicySet],
    data: dict[str, Any],
    config: Config,
    env: str | None,
    group: list[Resource],
    counts: dict[str, int],
    jobs: int,
) -> None:
    values = [r.obj for r in group]
    files: list[str | None] = [r.location.file if r.location else r.target for r in group]
    per_set = [_verdicts(sets, data, i, values, files, jobs) for i in range(len(sets))]
    for k, r in enumerate(group):
        result.subjects.append(Subject(id=r.id, kind="policy", target=r.target, location=r.location))
        for i, s in enumerate(sets):
            verdict = per_set[i][k]
            counts["policy_successes"] += verdict.successes
            counts["policy_exceptions"] += verdict.exceptions
            result.findings.extend(_findings(verdict, s, config, env, r.id, r.location, r.target))


def _combined(
    result: CheckResult,
    sets: list[PolicySet],
    data: dict[str, Any],
    config: Config,
    env: str | None,
    group: list[Resource],
    counts: dict[str, int],
) -> None:
    value = [{"path": r.location.file if r.location else r.target, "contents": r.obj} for r in group]
    subject = f"combined/{env or '-'}"
    result.subjects.append(Subject(id=subject, kind="policy", target=env))
    for s in sets:
        verdict = s.evaluator(data).evaluate(value, "Combined")
        counts["policy_successes"] += verdict.successes
        counts["policy_exceptions"] += verdict.exceptions
        result.findings.extend(_findings(verdict, s, config, env, subject, None, env))


def _set_statuses(result: CheckResult) -> None:
    blocking = {(f.subject, f.target) for f in result.findings if f.blocking}
    for s in result.subjects:
        if (s.id, s.target) in blocking:
            s.status = Status.FAILED
