"""Registry: gates register themselves under their `.promoter.yaml` key; the engine knows none of them by name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promoter.config.model import Config, Environment
from promoter.gates.context import GateContext
from promoter.model.errors import ConfigError, UsageError
from promoter.model.finding import (
    Finding,
)


@dataclass
class Outcome:
    """What one gate decided: findings (none: it passed) and a one-line note of what it saw."""

    findings: list[Finding] = field(default_factory=list)
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)  # what the gate established, for reports and the PR body


Check = Callable[["GateContext", Any], Outcome]


Validate = Callable[[Any, "ConfigPlace"], None]


Setting = Callable[[Config, Environment], Any]


@dataclass(frozen=True)
class Gate:
    name: str
    check: Check
    validate: Validate | None
    setting: Setting
    # The value a promotion (bump, promote, rollback) uses when the environment does not set the
    # key; None: off unless configured. `check` judges only what environments configure.
    default: Any = None


GATES: dict[str, Gate] = {}


def _env_setting(name: str) -> Setting:
    def setting(config: Config, env: Environment) -> Any:
        return env.gates.get(name)

    return setting


def register(
    name: str, *, validate: Validate | None = None, setting: Setting | None = None, default: Any = None
) -> Callable[[Check], Check]:
    """Add a gate under its `.promoter.yaml` key (environments[].gates.<name>)."""

    def add(check: Check) -> Check:
        GATES[name] = Gate(name, check, validate, setting or _env_setting(name), default)
        return check

    return add


@dataclass(frozen=True)
class ConfigPlace:
    """Where a gate setting is written, to name it in a ConfigError."""

    config: Config
    repo: Path | None
    env: Environment
    gate: str

    def error(self, problem: str, *sub: Any) -> ConfigError:
        path: list[Any] = ["environments", self.env.index, "gates", self.gate, *sub]
        from promoter.yamlio.document import format_path

        where = self.config.file or ".promoter.yaml"
        line = self._line(path)
        if line:
            where += f":{line}"
        return ConfigError(f"{where}: {format_path(path)}: {problem}")

    def _line(self, path: list[Any]) -> int | None:
        if self.repo is None or self.config.file is None:
            return None
        from promoter.yamlio.document import YamlDoc, line_of_path

        try:
            doc = YamlDoc.load(self.repo / self.config.file, self.config.file)
        except UsageError:
            return None
        return line_of_path(doc.docs[0], path) if doc.docs else None


def needs_previous(value: Any, place: ConfigPlace) -> None:
    if value and place.env.index == 0:
        raise place.error(
            f"{place.env.name} is the first environment: {place.gate} is judged in the previous environment "
            "and there is none (remove the key, or list the environment that feeds it first)"
        )


def validate_bool(value: Any, place: ConfigPlace) -> None:
    if not isinstance(value, bool):
        raise place.error(f"expected true or false, got {value!r}")
