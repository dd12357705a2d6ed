"""Policies: the built-in Rego pack and users' conftest folders, evaluated on rendered resources."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
from promoter.policy.inputs import read_data
from promoter.policy.pack import pack_data, pack_dir, pack_kinds, rule_id
from promoter.policy.severity import check_severity_config, rule_severity
from promoter.policy.source import read_modules, rego_files
from promoter.policy.waivers import (
    WAIVE_ANNOTATION,
    WAIVE_REASON_ANNOTATION,
    apply_waivers,
)

if TYPE_CHECKING:
    from promoter.policy.cache import VerdictCache
    from promoter.policy.policyset import PolicySet, Verdict
    from promoter.policy.sandbox import Item

# The engine, the verdict cache and the sandbox are imported where policies are evaluated: a check
# with policies off (and `--help`) does not pay for them.

__all__ = [
    "BUILTIN",
    "apply_waivers",
    "discard_started",
    "evaluate_policies",
    "policy_data",
    "policy_sets",
    "prestart_policies",
]

BUILTIN = "builtin"
POLICY_ERROR = "policy-error"
# Below this many inputs per process a second worker costs more (start, load) than it saves.
PARALLEL_MIN_RESOURCES = 2000

_SET_CACHE: dict[tuple[Any, ...], PolicySet] = {}


def _stamp(path: Path) -> tuple[Any, ...]:
    out = []
    for p in [path] if path.is_file() else rego_files(path):
        try:
            st = p.stat()
        except OSError:
            continue
        out.append((str(p), st.st_mtime_ns, st.st_size))
    return tuple(out)


def builtin_set() -> PolicySet:
    """The pack: trusted (shipped and tested with promoter), its rules skipped for kinds they do not apply to."""
    path = pack_dir()
    key = (str(path), BUILTIN, _stamp(path))
    cached = _SET_CACHE.get(key)
    if cached is None:
        from promoter.policy.policyset import PolicySet

        modules = read_modules(path, BUILTIN)
        cached = _SET_CACHE[key] = PolicySet(BUILTIN, modules, ("main",), trusted=True, kinds=pack_kinds(modules))
    return cached


def _load_cached(path: Path, name: str, namespaces: Sequence[str]) -> PolicySet:
    """Load a folder or file once per process while its files are unchanged (check calls once per env)."""
    key = (str(path), name, tuple(namespaces), _stamp(path))
    cached = _SET_CACHE.get(key)
    if cached is None:
        from promoter.policy.policyset import PolicySet

        cached = _SET_CACHE[key] = PolicySet.load([(path, name)], namespaces, name=name)
    return cached


def policy_sets(config: Config, repo: Path, extra_dirs: Iterable[Path] = ()) -> list[PolicySet]:
    """The built-in pack (unless policies.builtin is false), config folders, then --policy folders or files."""
    settings = config.policies
    sets: list[PolicySet] = []
    if settings.get("builtin", True):
        sets.append(builtin_set())
    namespaces = tuple(settings.get("namespaces") or ("main",))
    for p in settings.get("paths") or []:
        path = repo / p
        if not path.exists():
            raise ConfigError(f"{config.file or '.promoter.yaml'}: policies.paths: policy folder {p} does not exist")
        sets.append(_load_cached(path, str(p).rstrip("/"), namespaces))
    for d in extra_dirs:
        path = d if d.is_absolute() else repo / d
        if not path.exists():
            raise ConfigError(f"--policy {d}: no such policy folder or file")
        sets.append(_load_cached(path, repo_relative(path, repo), namespaces))
    return sets


def policy_data(config: Config, env: str | None) -> dict[str, Any]:
    """What policies see as data.promoter: the pack's defaults (policies/data.yaml) overlaid with
    the environment, target Kubernetes version, allowlist and digest rule from .promoter.yaml."""
    gates = next((e.gates for e in config.environments if e.name == env), {})
    defaults = dict(pack_data().get("promoter") or {})
    return {
        "promoter": {
            **defaults,
            "env": env,
            "kubernetes_version": config.kubernetes_version,
            "allowed_registries": list(
                config.policies.get("allowed_registries") or defaults.get("allowed_registries") or []
            ),
            "require_digest": bool(gates.get("digest_required", defaults.get("require_digest", False))),
            "config": config.policies.get("data") or defaults.get("config") or {},
        }
    }


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
        where = f"{e.namespace}.{e.rule}" if e.rule else (e.namespace or policy_set.name)
        out.append(
            Finding(
                rule=POLICY_ERROR,
                severity=severity,
                message=f"policy rule {where} in {policy_set.name} failed while evaluating: {e.message}",
                location=location,
                source="policy",
                subject=subject,
                target=target,
                help="fix the rule; until then this resource counts as failed (a complete rule producing two values, "
                "a builtin given the wrong type, or a time or memory limit reached are the usual causes)",
                evidence={
                    "policy_set": policy_set.name,
                    "namespace": e.namespace,
                    "rule": e.rule,
                    "env": env,
                    "files": e.files,
                },
            )
        )
    return out


def _verdicts(
    policy_set: PolicySet, datas: list[dict[str, Any]], items: list[Item], jobs: int, cache: VerdictCache
) -> list[Verdict]:
    """Each item's verdict: from the cache when the set, data and input are unchanged, else evaluated."""
    from promoter.policy.cache import key as verdict_key
    from promoter.policy.policyset import Verdict
    from promoter.policy.sandbox import evaluate

    data_texts = [json.dumps(d, sort_keys=True, default=str) for d in datas]
    keys: list[str | None] = [None] * len(items)
    if policy_set.cacheable:
        keys = [
            verdict_key(policy_set.digest, data_texts[it.data], it.text, it.file if policy_set.reads_conftest else None)
            for it in items
        ]
    known = cache.get_many([k for k in keys if k is not None])
    todo = [i for i, k in enumerate(keys) if k is None or k not in known]
    fresh = evaluate(
        policy_set, datas, [items[i] for i in todo], jobs=jobs if len(todo) >= PARALLEL_MIN_RESOURCES else 1
    )
    out: list[Verdict] = [known[k] if k is not None and k in known else Verdict() for k in keys]
    stored = []
    for i, verdict in zip(todo, fresh, strict=True):
        out[i] = verdict
        if keys[i] is not None:
            stored.append((keys[i], verdict))
    cache.put_many(stored)  # type: ignore[arg-type]
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
    --combine shape: [{"path", "contents"}]. print() output of policies goes to stderr."""
    start = time.perf_counter()
    check_severity_config(config)
    sets = policy_sets(config, repo, extra_dirs)
    if not sets:  # policies.builtin false and no folder: nothing evaluates, nothing to say
        return CheckResult(stats={"policy_resources": 0, "policy_sets": [], "policy_seconds": 0.0})
    from promoter.policy.cache import VerdictCache
    from promoter.policy.runner import write_prints
    from promoter.policy.sandbox import Item

    combine = combine or bool(config.policies.get("combine", False))
    jobs = _default_jobs() if jobs is None else jobs
    result = CheckResult()
    groups: dict[str | None, list[Resource]] = {}
    for r in resources:
        groups.setdefault(env if env is not None else r.env, []).append(r)
    envs = sorted(groups, key=lambda e: e or "")
    datas = _datas(config, envs)
    counts = {"policy_successes": 0, "policy_exceptions": 0}
    cache = VerdictCache()
    try:
        if combine:
            items = [
                Item(
                    json.dumps([{"path": _file_of(r), "contents": r.obj} for r in groups[e]], default=str),
                    "Combined",
                    data=i,
                )
                for i, e in enumerate(envs)
            ]
            subjects: list[tuple[str, Location | None, str | None, str | None]] = [
                (f"combined/{e or '-'}", None, e, e) for e in envs
            ]
        else:
            items, subjects = [], []
            for i, e in enumerate(envs):
                for r in groups[e]:
                    items.append(Item(json.dumps(r.obj, default=str), _file_of(r), data=i, kind=r.kind or None))
                    subjects.append((r.id, r.location, r.target, e))
        per_set = [_verdicts(s, datas, items, jobs, cache) for s in sets]
    finally:
        cache.close()
    for k, (subject, location, target, group_env) in enumerate(subjects):
        result.subjects.append(Subject(id=subject, kind="policy", target=target, location=location))
        for s, verdicts in zip(sets, per_set, strict=True):
            verdict = verdicts[k]
            counts["policy_successes"] += verdict.successes
            counts["policy_exceptions"] += len(verdict.exceptions)
            result.findings.extend(_findings(verdict, s, config, group_env, subject, location, target))
    write_prints([v for verdicts in per_set for v in verdicts])
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


def _datas(config: Config, envs: list[str | None]) -> list[dict[str, Any]]:
    """The data document of each environment, in the order of `envs` (sorted)."""
    extra = read_data([Path(p) for p in config.policies.get("data_paths") or []])
    if "promoter" in extra:
        raise ConfigError(
            "--data: data.promoter is promoter's own document (from .promoter.yaml); put your data under another key"
        )
    return [{**extra, **policy_data(config, e)} for e in envs]


def prestart_policies(
    config: Config,
    envs: Iterable[str | None],
    repo: Path,
    extra_dirs: Sequence[Path] = (),
    *,
    inputs: int,
) -> None:
    """Start the policy workers that evaluating about `inputs` resources of `envs` will take, now,
    so that loading the engine and the policies overlaps rendering. Nothing is evaluated; a problem
    (a policy that does not load) is left for `evaluate_policies` to report."""
    if inputs <= 0:
        return
    try:
        check_severity_config(config)
        sets = policy_sets(config, repo, extra_dirs)
        datas = _datas(config, sorted(set(envs), key=lambda e: e or ""))
    except (ConfigError, OSError):
        return
    if not sets:
        return
    from promoter.policy.sandbox import prestart

    # One worker a set: the renders (parsing in as many processes as there are CPUs) need the CPUs
    # more than further workers need a head start; those start when the inputs are there.
    for s in sets:
        prestart(s, datas, 1)


def _file_of(r: Resource) -> str | None:
    return r.location.file if r.location else r.target


def _set_statuses(result: CheckResult) -> None:
    blocking = {(f.subject, f.target) for f in result.findings if f.blocking}
    for s in result.subjects:
        if (s.id, s.target) in blocking:
            s.status = Status.FAILED


def discard_started() -> None:
    """Close the policy workers started ahead and not taken (none when no policy was loaded)."""
    sandbox = sys.modules.get("promoter.policy.sandbox")
    if sandbox is not None:
        sandbox.discard()
