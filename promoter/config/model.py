"""Config model: the typed form of `.promoter.yaml` that every stage reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from promoter.model.errors import UsageError

CONFIG_NAMES = (".promoter.yaml", ".promoter.yml")


DEFAULT_KUBERNETES_VERSION = "1.32.0"


@dataclass(frozen=True)
class Target:
    """An explicit place of an app's image: a file and a dotted YAML key."""

    file: str
    key: str


@dataclass
class Environment:
    name: str
    index: int
    gates: dict[str, Any] = field(default_factory=dict)
    pull_request: dict[str, Any] = field(default_factory=dict)


@dataclass
class App:
    name: str
    image: str
    path: str | None = None  # template with {app} {env}
    paths: dict[str, str] = field(default_factory=dict)
    targets: dict[str, list[Target]] = field(default_factory=dict)
    chart: str | None = None

    def location(self, env: str, default_template: str | None) -> str | None:
        """Folder or file holding this app's env, relative to the repository."""
        if env in self.paths:
            return self.paths[env]
        template = self.path or default_template
        if template is None:
            return None
        return template.format(app=self.name, env=env)


@dataclass
class Config:
    """The repository's configuration. Sections other modules own stay as validated dicts."""

    file: str | None
    environments: list[Environment]
    apps: dict[str, App]
    default_path: str | None = None
    validation: dict[str, Any] = field(default_factory=dict)
    policies: dict[str, Any] = field(default_factory=dict)
    waivers: list[dict[str, Any]] = field(default_factory=list)
    forge: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def empty(cls) -> Config:
        return cls(file=None, environments=[], apps={})

    def env(self, name: str) -> Environment:
        for e in self.environments:
            if e.name == name:
                return e
        known = ", ".join(e.name for e in self.environments) or "none configured"
        raise UsageError(f"unknown environment {name!r} (known: {known})")

    def app(self, name: str) -> App:
        if name not in self.apps:
            known = ", ".join(sorted(self.apps)) or "none configured"
            raise UsageError(f"unknown app {name!r} (known: {known})")
        return self.apps[name]

    def previous_env(self, name: str) -> Environment | None:
        e = self.env(name)
        return self.environments[e.index - 1] if e.index > 0 else None

    def next_env(self, name: str) -> Environment | None:
        e = self.env(name)
        return self.environments[e.index + 1] if e.index + 1 < len(self.environments) else None

    @property
    def kubernetes_version(self) -> str:
        v = str(self.validation.get("kubernetes_version", DEFAULT_KUBERNETES_VERSION)).lstrip("v")
        return v if v.count(".") == 2 else v + ".0"
