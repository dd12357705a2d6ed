"""Severity of a policy rule in an environment, from `.promoter.yaml` `policies.severity`."""

from __future__ import annotations

from promoter.config.model import Config
from promoter.model.errors import ConfigError
from promoter.model.finding import Severity

OFF = "off"
ANY_ENV = "*"


def rule_severity(config: Config, rule: str, env: str | None, default: Severity) -> Severity | None:
    """The configured severity of `rule` in `env` (env entry, then "*", then default); None when off."""
    setting = (config.policies.get("severity") or {}).get(rule)
    if setting is None:
        return default
    if isinstance(setting, dict):
        value = setting.get(env) if env is not None and env in setting else setting.get(ANY_ENV)
        if value is None:
            return default
    else:
        value = setting
    return None if value == OFF else Severity(value)


def check_severity_config(config: Config) -> None:
    """Per-environment severities must name configured environments: a typo would silently not apply."""
    known = {e.name for e in config.environments}
    for rule, setting in (config.policies.get("severity") or {}).items():
        if not isinstance(setting, dict) or not known:
            continue
        for env in setting:
            if env != ANY_ENV and env not in known:
                raise ConfigError(
                    f"{config.file or '.promoter.yaml'}: policies.severity.{rule}: unknown environment {env!r} "
                    f"(known: {', '.join(sorted(known))}, or '*' for the rest)"
                )
