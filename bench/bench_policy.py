"""Benchmark: the built-in Rego policy pack over N rendered resources, in one process and in --jobs.

Generates rendered apps of eight kinds (ServiceAccount, ConfigMap, Deployment, Service, Ingress,
HorizontalPodAutoscaler, plus a StatefulSet or CronJob and a Secret in some apps), each a
realistic object with a pod spec where the kind has one, then times `evaluate_policies` (compile
included) and checks that every process count gives the same findings.

    python bench/bench_policy.py --resources 10000 --jobs 2
"""

from __future__ import annotations

import argparse
import os
import resource as rusage
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from promoter.config.model import Config, Environment
from promoter.model.finding import Location
from promoter.model.resource import Resource
from promoter.policy import evaluate_policies, policy_data
from promoter.policy.cache import _MEMORY


def pod_spec(name: str, i: int) -> dict:
    secure = i % 3 != 0  # two apps in three are hardened, the rest trip the security rules
    container = {
        "name": name,
        "image": f"ghcr.io/acme/{name}:1.{i % 20}.0" if i % 7 else f"docker.io/library/{name}:latest",
        "ports": [{"containerPort": 8080, "name": "http"}],
        "env": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "PORT", "value": "8080"}],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}},
        "livenessProbe": {"httpGet": {"path": "/live", "port": "http"}},
    }
    if secure:
        container["securityContext"] = {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        }
    spec = {"serviceAccountName": name, "containers": [container], "volumes": [{"name": "tmp", "emptyDir": {}}]}
    if secure:
        spec["securityContext"] = {"runAsNonRoot": True, "runAsUser": 10001}
    if i % 5 == 0:
        spec["initContainers"] = [{"name": "migrate", "image": f"ghcr.io/acme/{name}-migrate:1.0.0"}]
    return spec


def app(i: int) -> list[dict]:
    name = f"app-{i:04d}"
    ns = f"team-{i % 12}"
    meta = {"name": name, "namespace": ns, "labels": {"app.kubernetes.io/name": name}}
    objs = [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta},
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {**meta, "name": f"{name}-config"},
            "data": {"LOG_LEVEL": "info", "FEATURES": "a,b,c"},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": meta,
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
                "template": {"metadata": {"labels": {"app.kubernetes.io/name": name}}, "spec": pod_spec(name, i)},
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": meta,
            "spec": {"selector": {"app.kubernetes.io/name": name}, "ports": [{"port": 80, "targetPort": "http"}]},
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": meta,
            "spec": {
                "rules": [
                    {
                        "host": f"{name}.example.com",
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {"service": {"name": name, "port": {"number": 80}}},
                                }
                            ]
                        },
                    }
                ]
            },
        },
        {
            "apiVersion": "autoscaling/v2" if i % 11 else "autoscaling/v2beta2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": meta,
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                "minReplicas": 2,
                "maxReplicas": 10,
            },
        },
    ]
    if i % 4 == 0:
        objs.append(
            {
                "apiVersion": "batch/v1",
                "kind": "CronJob",
                "metadata": {**meta, "name": f"{name}-nightly"},
                "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": {"spec": pod_spec(name, i)}}}},
            }
        )
    if i % 4 == 1:
        objs.append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {**meta, "name": f"{name}-db"},
                "type": "Opaque",
                "data": {"password": "aHVudGVyMg=="},
            }
        )
    return objs


def resources(n: int) -> list[Resource]:
    out: list[Resource] = []
    i = 0
    while len(out) < n:
        for obj in app(i):
            out.append(
                Resource(
                    obj,
                    target=f"apps/app-{i:04d}/overlays/prod",
                    location=Location(f"apps/app-{i:04d}/base/{obj['kind'].lower()}.yaml", 1),
                    env="prod",
                )
            )
        i += 1
    return out[:n]


def _cpu() -> float:
    """CPU seconds of this process and its finished workers: the cost whatever else the machine runs."""
    me, kids = rusage.getrusage(rusage.RUSAGE_SELF), rusage.getrusage(rusage.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=10000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--naive-pack",
        type=Path,
        help="Folder of another pack for the naive run (e.g. the pack before this work, from git archive).",
    )
    args = parser.parse_args()
    config = Config(
        file=None,
        environments=[Environment("dev", 0), Environment("prod", 1, gates={"digest_required": True})],
        apps={},
        policies={"allowed_registries": ["ghcr.io/acme"]},
    )
    res = resources(args.resources)
    kinds: dict[str, int] = {}
    for r in res:
        kinds[r.kind] = kinds.get(r.kind, 0) + 1
    print(f"{len(res)} resources: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    keys: dict[str, list[tuple[str, str]]] = {}

    t, cpu0 = time.perf_counter(), _cpu()
    keys["before"] = naive(res, policy_data(config, "prod"))
    report(
        "before (naive: every rule on every resource, in process)",
        time.perf_counter() - t,
        _cpu() - cpu0,
        len(res),
        len(keys["before"]),
    )
    if args.naive_pack:
        t, cpu0 = time.perf_counter(), _cpu()
        other = naive(res, policy_data(config, "prod"), args.naive_pack)
        report(
            f"before, pack of {args.naive_pack} (naive)", time.perf_counter() - t, _cpu() - cpu0, len(res), len(other)
        )

    with tempfile.TemporaryDirectory() as cache:
        for label, jobs, cache_dir in (
            ("after, cold, 1 worker", 1, "off"),
            (f"after, cold, {args.jobs} workers", args.jobs, "off"),
            ("after, cold, cache on", 1, cache),
            ("after, warm (cache)", 1, cache),
        ):
            os.environ["PROMOTER_CACHE_DIR"] = cache_dir
            _MEMORY.clear()
            if label.startswith("after, warm"):
                pass  # the on-disk cache filled by the previous run
            t, cpu0 = time.perf_counter(), _cpu()
            result = evaluate_policies(res, config, "prod", Path("."), jobs=jobs)
            keys[label] = sorted((f.subject, f.rule, f.message) for f in result.findings)
            counts = result.counts()
            report(
                f"{label}",
                time.perf_counter() - t,
                _cpu() - cpu0,
                len(res),
                len(keys[label]),
                f"{counts['error']} errors, {counts['warning']} warnings",
            )
    same = len({tuple(v) for v in keys.values()}) == 1
    print("same findings in every variant:", same)
    if not same:
        sys.exit(1)


def report(label: str, seconds: float, cpu: float, n: int, findings: int, extra: str = "") -> None:
    print(
        f"{label}: CPU {cpu:.2f} s ({cpu / n * 1000:.3f} ms per resource), wall {seconds:.2f} s; {findings} findings {extra}".rstrip()
    )


def naive(res: list[Resource], data: dict, pack: Path | None = None) -> list[tuple[str, str]]:
    """The pack queried the simplest way: each check rule by its path, on each resource."""
    from promoter.policy import builtin_set
    from promoter.policy.engine import Engine
    from promoter.policy.pack import rule_id
    from promoter.policy.policyset import PolicySet
    from promoter.policy.source import read_modules

    policy_set = (
        builtin_set()
        if pack is None
        else PolicySet("other", [m for m in read_modules(pack, "other") if not m.file.endswith("checks.rego")])
    )
    engine = Engine()
    for m in policy_set.modules:
        engine.add_module(m.file, m.source)
    engine.add_data(data)
    out = []
    for r in res:
        engine.set_input(r.obj)
        for rule in policy_set.checks:
            for msg in engine.eval_rule(rule.path) or []:
                out.append((r.id, rule_id(rule.name), msg))
    return sorted(out)


if __name__ == "__main__":
    main()
