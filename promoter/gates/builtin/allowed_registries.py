"""allowed_registries: the image must come from an allowed registry (or repository prefix)."""

from __future__ import annotations

from typing import Any

from promoter.config.model import Config, Environment
from promoter.gates.context import GateContext
from promoter.gates.registry import ConfigPlace, Outcome, register
from promoter.model.image import DOCKER_HUB, DOCKER_HUB_ALIASES


def _validate_registries(value: Any, place: ConfigPlace) -> None:
    if not isinstance(value, list):
        raise place.error("expected a list of registries, e.g. [ghcr.io, registry.example.com/team]")
    for i, entry in enumerate(value):
        if not isinstance(entry, str) or not entry.strip("/"):
            raise place.error("empty registry entry", i)
        if "://" in entry:
            raise place.error(
                f"{entry!r}: write the registry host without a scheme (e.g. {entry.split('://', 1)[1]!r})", i
            )
        if any(c.isspace() for c in entry):
            raise place.error(f"{entry!r} contains whitespace", i)


def _registries_setting(config: Config, env: Environment) -> Any:
    return env.gates.get("allowed_registries") or config.policies.get("allowed_registries") or None


def _norm_registry(entry: str) -> str:
    entry = entry.strip().rstrip("/")
    host, sep, rest = entry.partition("/")
    if host in DOCKER_HUB_ALIASES:
        host = DOCKER_HUB
    return host + sep + rest


@register("allowed_registries", validate=_validate_registries, setting=_registries_setting)
def allowed_registries(ctx: GateContext, value: Any) -> Outcome:
    # Same rule as the Rego pack's registry-allowlist: a host, or a repository prefix on a `/` boundary.
    repository = ctx.image.repository
    registry = repository.split("/", 1)[0]
    allowed = [_norm_registry(e) for e in value]
    for entry in allowed:
        if registry == entry or repository.startswith(entry + "/"):
            return Outcome(note=f"{repository} is under {entry}")
    where = ctx.key("allowed_registries") if "allowed_registries" in ctx.env.gates else "policies.allowed_registries"
    return Outcome(
        [
            ctx.finding(
                "allowed_registries",
                f"gate allowed_registries: {repository} comes from {registry}, which {ctx.env.name} does not allow "
                f"(allowed: {', '.join(value)})",
                f"push the image to an allowed registry, name it in apps.{ctx.app}.image and promote that reference, "
                f"or add {registry} to {where} in {ctx.config.file}",
                {"registry": registry, "allowed": list(value), "value": repository},
            )
        ]
    )
