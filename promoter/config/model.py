"""Config model: the typed form of `.promoter.yaml` that every stage reads."""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from typing import Any

from promoter.model.errors import UsageError, shorten

CONFIG_NAMES = (".promoter.yaml", ".promoter.yml")


DEFAULT_KUBERNETES_VERSION = "1.32.0"
PLACEHOLDERS = ("app", "env")


def template_problem(template: str) -> str | None:
    """Why `template` is not a path or branch template, None when it is: literal text, `{app}`,
    `{env}` and doubled braces only. `str.format` would also take `{app.__class__}` (attribute
    access on promoter's own objects), `{0}` or `{app!r:>99}`."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        return str(exc)
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            written = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            return f"{written} is not a placeholder (only {{app}} and {{env}})"
    return None


def fill_template(template: str, *, app: str, env: str) -> str:
    """`template` with {app} and {env} replaced: plain substitution, nothing else is evaluated."""
    values = {"app": app, "env": env}
    out = []
    for literal, name, _, _ in string.Formatter().parse(template):
        out.append(literal)
        if name is not None:
            if name not in values:
                raise UsageError(f"bad template {template!r}: {template_problem(template)}")
            out.append(values[name])
    return "".join(out)


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
        return fill_template(template, app=self.name, env=env)


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
        raise UsageError(f"unknown environment {shorten(name)!r} (known: {known})")

    def app(self, name: str) -> App:
        if name not in self.apps:
            known = ", ".join(sorted(self.apps)) or "none configured"
            raise UsageError(f"unknown app {shorten(name)!r} (known: {known})")
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
