"""Config: `.promoter.yaml` validated against the shipped JSON Schema, as typed objects."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from promoter.errors import ConfigError, UsageError
from promoter.finding import repo_relative
from promoter.image import ImageRef
from promoter.yamldoc import YamlDoc, format_path, line_of_path

CONFIG_NAMES = (".promoter.yaml", ".promoter.yml")
DEFAULT_KUBERNETES_VERSION = "1.32.0"


@lru_cache(maxsize=1)
def config_schema() -> dict[str, Any]:
    return json.loads(resources.files("promoter.schemas").joinpath("promoter-config.schema.json").read_text())


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


def find_config(repo: Path) -> Path | None:
    for name in CONFIG_NAMES:
        p = repo / name
        if p.is_file():
            return p
    return None


def load_config(repo: Path, explicit: Path | None = None) -> Config:
    """Load and validate the config; an absent (non-explicit) config gives an empty Config."""
    path = explicit if explicit is not None else find_config(repo)
    if path is None:
        return Config.empty()
    if not path.is_file():
        raise ConfigError(f"config file {path} " + ("is a folder, not a file" if path.is_dir() else "does not exist"))
    rel = repo_relative(path, repo)
    try:
        doc = YamlDoc.load(path, rel)
    except ConfigError:
        raise
    except UsageError as exc:  # unreadable, not YAML, duplicate keys: still the config's fault
        raise ConfigError(exc.message) from None
    if len(doc.docs) != 1:
        raise ConfigError(f"{rel}: expected exactly one YAML document, found {len(doc.docs)}")
    root = doc.docs[0]
    if root is None:
        root = {}
    if not isinstance(root, dict):
        raise ConfigError(f"{rel}:1: the config must be a mapping")
    data = json.loads(json.dumps(root, default=str))
    _validate(data, root, rel)
    config = _build(data, rel, root)
    # Values the schema cannot judge (time zones, date order, a soak on the first env) are
    # checked here too, so a bad gate fails every command at load time, not mid-promotion.
    from promoter.gates import validate_gate_config

    validate_gate_config(config, repo)
    return config


def _validate(data: dict[str, Any], root: Any, rel: str) -> None:
    from jsonschema import Draft7Validator

    validator = Draft7Validator(config_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if not errors:
        return
    err = errors[0]
    # For additionalProperties the offending key is not in the path: find it to point at its line.
    path = list(err.absolute_path)
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        allowed = set(err.schema.get("properties", {}))
        extra = [k for k in err.instance if k not in allowed]
        if extra:
            path.append(extra[0])
            msg = f"unknown key {extra[0]!r}" + (f" (allowed: {', '.join(sorted(allowed))})" if allowed else "")
        else:
            msg = err.message
    else:
        msg = err.message
    line = line_of_path(root, path)
    key = format_path(path) or "(top level)"
    raise ConfigError(f"{rel}:{line or 1}: {key}: {msg}")


def _where(rel: str, root: Any, path: list[Any]) -> str:
    """`file:line: key` for a message about the value at `path`."""
    return f"{rel}:{line_of_path(root, path) or 1}: {format_path(path)}"


def _build(data: dict[str, Any], rel: str, root: Any = None) -> Config:
    envs = [
        Environment(name=e["name"], index=i, gates=e.get("gates", {}), pull_request=e.get("pull_request", {}))
        for i, e in enumerate(data.get("environments", []))
    ]
    names = [e.name for e in envs]
    for i, n in enumerate(names):
        if n in names[:i]:
            raise ConfigError(f"{_where(rel, root, ['environments', i, 'name'])}: environment {n!r} is listed twice")
    default_path = data.get("defaults", {}).get("path")
    if default_path:
        _check_template(default_path, _where(rel, root, ["defaults", "path"]))
    apps: dict[str, App] = {}
    for name, a in (data.get("apps") or {}).items():
        try:
            ref = ImageRef.parse_repository(a["image"])
        except UsageError as exc:
            raise ConfigError(f"{_where(rel, root, ['apps', name, 'image'])}: {exc.message}") from None
        for section in ("paths", "targets"):
            for env in a.get(section, {}):
                if env not in names:
                    raise ConfigError(
                        f"{_where(rel, root, ['apps', name, section, env])}: unknown environment {env!r} (known: {', '.join(names)})"
                    )
        if a.get("path"):
            _check_template(a["path"], _where(rel, root, ["apps", name, "path"]))
        apps[name] = App(
            name=name,
            image=ref.name,
            path=a.get("path"),
            paths=dict(a.get("paths", {})),
            targets={env: [Target(t["file"], t["key"]) for t in ts] for env, ts in a.get("targets", {}).items()},
            chart=a.get("chart"),
        )
    return Config(
        file=rel,
        environments=envs,
        apps=apps,
        default_path=default_path,
        validation=data.get("validation", {}),
        policies=data.get("policies", {}),
        waivers=data.get("waivers", []),
        forge=data.get("forge", {}),
        raw=data,
    )


def _check_template(template: str, where: str) -> None:
    try:
        template.format(app="a", env="e")
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(
            f"{where}: bad path template {template!r} (placeholders are {{app}} and {{env}}): {exc}"
        ) from None
