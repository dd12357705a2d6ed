"""Resource: one rendered Kubernetes object, with where it came from in the source repository."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from promoter.model.finding import Location


@dataclass
class Resource:
    """A rendered object. `target` is the overlay/chart/file that produced it (repo-relative);
    `location` is the best-known source position (the manifest or patch that defines it)."""

    obj: dict[str, Any]
    target: str
    location: Location | None = None
    env: str | None = None

    @property
    def api_version(self) -> str:
        return str(self.obj.get("apiVersion", ""))

    @property
    def kind(self) -> str:
        return str(self.obj.get("kind", ""))

    @property
    def name(self) -> str:
        meta = self.obj.get("metadata") or {}
        return str(meta.get("name", "")) if isinstance(meta, dict) else ""

    @property
    def namespace(self) -> str:
        meta = self.obj.get("metadata") or {}
        return str(meta.get("namespace", "") or "") if isinstance(meta, dict) else ""

    @property
    def id(self) -> str:
        """`apps/v1/Deployment/ns/name` (namespace `-` when unset): the Subject id of this resource."""
        return f"{self.api_version}/{self.kind}/{self.namespace or '-'}/{self.name}"

    @property
    def display(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {ns}{self.name}"
