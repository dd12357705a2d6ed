"""Settings: the `render:` section of .promoter.yaml: which kustomize and helm run, which files are not
manifests, and which cases that leave something unchecked an environment accepts as warnings."""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from typing import Any

from promoter.config.model import Config
from promoter.model.errors import ConfigError
from promoter.model.finding import Severity

# The cases that leave a target or file unchecked. Each is an error unless `render.severity`
# lowers it for an environment (remote bases in dev, say); never dropped.
LOWERABLE = (
    "remote-not-fetched",
    "render-tool-missing",
    "outside-repository",
    "symlink-loop",
    "special-file",
    "duplicate-key",
    "values-not-found",
)
TOOL_CHOICES = ("packaged", "path")
# A binary's path is a machine setting: it comes from the CI job's environment, never from the
# repository, where a pull request's author could make `check` run any program with the job's secrets.
TOOL_ENV = {"kustomize": "PROMOTER_KUSTOMIZE", "helm": "PROMOTER_HELM"}


@dataclass
class RenderSettings:
    kustomize: str = "packaged"
    helm: str = "packaged"
    severity: dict[str, dict[str, Severity]] = field(default_factory=dict)  # rule -> env or "*" -> severity
    exclude: list[str] = field(default_factory=list)

    @classmethod
    def from_config(cls, config: Config | None) -> RenderSettings:
        raw: dict[str, Any] = dict((config.raw if config is not None else {}).get("render") or {})
        where = f"{(config.file if config is not None else None) or '.promoter.yaml'}: render"
        tools = {}
        for tool, variable in TOOL_ENV.items():
            value = str(raw.get(tool, "packaged"))
            if value not in TOOL_CHOICES:
                raise ConfigError(
                    f"{where}.{tool}: {value!r}: the repository may choose `packaged` or `path`; a binary's path is "
                    f"not taken from the repository (a pull request could run any program in CI): set {variable} "
                    "in the CI job instead"
                )
            tools[tool] = os.environ.get(variable, "").strip() or value
        out = cls(
            kustomize=tools["kustomize"],
            helm=tools["helm"],
            exclude=[str(p).strip("/") for p in raw.get("exclude") or []],
        )
        for rule, value in (raw.get("severity") or {}).items():
            per_env = value if isinstance(value, dict) else {"*": value}
            levels: dict[str, Severity] = {}
            for env, level in per_env.items():
                if level not in ("error", "warning", "info"):
                    raise ConfigError(
                        f"{where}.severity.{rule}: {level!r}: a case that leaves something unchecked is reported; "
                        "choose error, warning or info"
                    )
                levels[str(env)] = Severity(level)
            out.severity[str(rule)] = levels
        return out

    def severity_of(self, rule: str, env: str | None, default: Severity = Severity.ERROR) -> Severity:
        """The severity of a fail-closed case in `env`: configured for the env, else for '*', else `default`."""
        levels = self.severity.get(rule)
        if not levels:
            return default
        if env is not None and env in levels:
            return levels[env]
        return levels.get("*", default)

    def excluded(self, path: str) -> bool:
        return any(fnmatch.fnmatchcase(path, p) for p in self.exclude)
