"""Kubernetes objects for the policy tests: a hardened workload of each kind, and ways to spoil it."""

from __future__ import annotations

import copy
from typing import Any

from promoter.model.finding import Location
from promoter.model.resource import Resource

DIGEST = "sha256:" + "ab" * 32

HARDENED_CONTAINER: dict[str, Any] = {
    "name": "app",
    "image": f"ghcr.io/acme/app:1.4.2@{DIGEST}",
    "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "128Mi"}},
    "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
    "livenessProbe": {"httpGet": {"path": "/live", "port": 8080}},
    "securityContext": {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    },
}

HARDENED_POD_SPEC: dict[str, Any] = {
    "securityContext": {"runAsNonRoot": True, "runAsUser": 10001},
    "containers": [HARDENED_CONTAINER],
    "volumes": [{"name": "tmp", "emptyDir": {}}],
}

POD_KINDS = ["Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"]
API = {"Pod": "v1", "Job": "batch/v1", "CronJob": "batch/v1"}


def workload(
    kind: str = "Deployment", spec: dict[str, Any] | None = None, name: str = "app", namespace: str = "shop"
) -> dict[str, Any]:
    """A kind holding `spec` (default: the hardened pod spec) where Kubernetes keeps its pod spec."""
    pod = copy.deepcopy(spec if spec is not None else HARDENED_POD_SPEC)
    meta = {"name": name, "namespace": namespace}
    if kind == "Pod":
        body: dict[str, Any] = pod
    elif kind == "CronJob":
        body = {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": {"spec": pod}}}}
    else:
        body = {"template": {"metadata": {"labels": {"app": name}}, "spec": pod}}
        if kind != "Job":
            body["selector"] = {"matchLabels": {"app": name}}
    return {"apiVersion": API.get(kind, "apps/v1"), "kind": kind, "metadata": meta, "spec": body}


def pod_spec_of(obj: dict[str, Any]) -> dict[str, Any]:
    kind = obj["kind"]
    if kind == "Pod":
        return obj["spec"]
    if kind == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return obj["spec"]["template"]["spec"]


def with_container(obj: dict[str, Any], field: str = "containers", **changes: Any) -> dict[str, Any]:
    """A copy whose first container of `field` (created from the hardened one) has `changes` merged in."""
    obj = copy.deepcopy(obj)
    spec = pod_spec_of(obj)
    containers = spec.setdefault(field, [])
    if not containers:
        containers.append({**copy.deepcopy(HARDENED_CONTAINER), "name": f"{field.lower()}-1"})
    for key, value in changes.items():
        if value is None:
            containers[0].pop(key, None)
        elif isinstance(value, dict) and isinstance(containers[0].get(key), dict):
            containers[0][key] = {**containers[0][key], **value}
        else:
            containers[0][key] = value
    return obj


def with_pod(obj: dict[str, Any], **changes: Any) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    pod_spec_of(obj).update(changes)
    return obj


def resource(
    obj: dict[str, Any], env: str | None = "prod", target: str | None = None, file: str = "apps/app/base/manifest.yaml"
) -> Resource:
    return Resource(obj, target=target or f"apps/app/overlays/{env or 'dev'}", location=Location(file, 1), env=env)
