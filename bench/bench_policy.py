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
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from promoter.config.model import Config, Environment
from promoter.model.finding import Location
from promoter.model.resource import Resource
from promoter.policy import evaluate_policies


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
    results = {}
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    for jobs in sorted({1, args.jobs}):
        t = time.perf_counter()
        cpu0 = _cpu()
        result = evaluate_policies(res, config, "prod", Path("."), jobs=jobs)
        seconds = time.perf_counter() - t
        cpu = _cpu() - cpu0
        results[jobs] = result
        counts = result.counts()
        print(
            f"jobs={jobs}: {seconds:.2f} s ({seconds / len(res) * 1000:.3f} ms per resource, {len(res) / seconds:,.0f} resources/s); "
            f"CPU {cpu:.2f} s; findings: {counts['error']} errors, {counts['warning']} warnings"
        )
    keys = {j: sorted((f.subject, f.rule, f.message) for f in r.findings) for j, r in results.items()}
    same = len({tuple(v) for v in keys.values()}) == 1
    print("same findings for every process count:", same)
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
