"""Config: `.promoter.yaml` validated against the shipped JSON Schema, as typed objects."""

from __future__ import annotations

import json
import os
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from promoter.config.model import CONFIG_NAMES, App, Config, Environment, Target, template_problem
from promoter.model.errors import ConfigError, UsageError, shorten
from promoter.model.finding import repo_relative
from promoter.model.image import ImageRef
from promoter.yamlio.document import YamlDoc, format_path, line_of_path


@lru_cache(maxsize=1)
def config_schema() -> dict[str, Any]:
    return json.loads(resources.files("promoter.config").joinpath("promoter-config.schema.json").read_text())


def find_config(repo: Path) -> Path | None:
    for name in CONFIG_NAMES:
        p = repo / name
        # Anything there is the config: a FIFO or a looping link is refused when read, never taken for "no config".
        if p.is_file() or p.is_symlink() or (p.exists() and not p.is_dir()):
            return p
    return None


def load_config(repo: Path, explicit: Path | None = None) -> Config:
    """Load and validate the config; an absent (non-explicit) config gives an empty Config."""
    path = explicit if explicit is not None else find_config(repo)
    if path is None:
        return Config.empty()
    if path.is_dir():
        raise ConfigError(f"config file {path} is a folder, not a file")
    if not path.exists() and not path.is_symlink():
        raise ConfigError(f"config file {path} does not exist")
    rel = repo_relative(path, repo)
    if rel == str(path) and not path.is_absolute():
        # Outside the repository: named absolutely, since hints repeat `--config` next to `--repo`
        # and a path relative to the current folder would be read as relative to the repository.
        rel = os.path.abspath(path)
    try:
        doc = YamlDoc.read_file(path, rel)  # libyaml's marks: a 600-app config in milliseconds
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
    # Gate values the schema cannot judge are checked by flows.workspace, which knows the gates.
    return _build(data, rel, root)


_FAST: list[Any] = []  # the compiled schema, built once per process


def _validate(data: dict[str, Any], root: Any, rel: str) -> None:
    # jsonschema-rs (the schema validator's engine, already loaded) answers "valid?" in microseconds;
    # python-jsonschema, whose errors the messages below are written from, is imported only for an invalid config.
    try:
        if not _FAST:
            import jsonschema_rs

            _FAST.append(jsonschema_rs.Draft7Validator(config_schema()))
        if _FAST[0].is_valid(data):
            return
    except Exception:  # noqa: BLE001 - any trouble with the fast path: the careful one decides
        pass
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
    elif "propertyNames" in err.relative_schema_path and isinstance(err.instance, str):
        # A bad key: point at the key's own line, and say what keys look like.
        path.append(err.instance)
        msg = f"key {err.instance!r} " + (
            err.schema.get("description") or f"does not match {err.schema.get('pattern')}"
        )
    elif err.validator == "enum" and isinstance(err.schema, dict) and err.schema.get("description"):
        # The choices alone do not say what they mean (or why a value is refused); the schema does.
        msg = f"{err.message}: {err.schema['description']}"
    elif err.validator == "pattern" and err.schema.get("description"):
        # The schema's words, not its regular expression: a user reads "a duration like 30m", not ^([0-9]+[smhdw])+$.
        expected = str(err.schema["description"]).rstrip(".")
        expected = expected if expected[1:2].isupper() else expected[0].lower() + expected[1:]  # not YYYY-MM-DD
        msg = f"{err.instance!r} is not valid here: expected {expected}"
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
    branch = (data.get("forge") or {}).get("branch_template")
    if branch:
        _check_template(branch, _where(rel, root, ["forge", "branch_template"]), "branch")
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


def _check_template(template: str, where: str, what: str = "path") -> None:
    problem = template_problem(template)
    if problem is not None:
        raise ConfigError(
            f"{where}: bad {what} template {shorten(template)!r} (placeholders are {{app}} and {{env}}): {problem}"
        )
