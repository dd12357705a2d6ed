"""The image_exists gate: the promoted tag and digest are in the registry, name the same bytes, for the platforms asked.

On by default in every promotion (bump, promote, rollback) unless an environment sets
`gates.image_exists: false`; in `check` only where configured. Everything it
cannot establish blocks: a wrong digest or tag, a missing platform, a refused login, a registry
that cannot be reached (unless the environment says `offline: allow`, which records a warning).
The registry conversation lives in promoter.registry; this file only turns its answer into findings.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from promoter.gates.context import GateContext
from promoter.gates.registry import ConfigPlace, Outcome, register
from promoter.model.finding import Severity
from promoter.registry.manifest import Platform

NAME = "image_exists"
DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True)
class Options:
    platforms: list[Platform] = field(default_factory=list)
    offline: str = "block"  # block | allow
    timeout_seconds: float = DEFAULT_TIMEOUT


def _options(value: Any) -> Options:
    if not isinstance(value, dict):
        return Options()
    return Options(
        platforms=[Platform.parse(p) for p in value.get("platforms") or []],
        offline=value.get("offline", "block"),
        timeout_seconds=float(value.get("timeout_seconds", DEFAULT_TIMEOUT)),
    )


def _validate(value: Any, place: ConfigPlace) -> None:
    if isinstance(value, bool):
        return
    if not isinstance(value, dict):
        raise place.error("expected true, false, or a mapping (platforms, offline, timeout_seconds)")
    platforms = value.get("platforms", [])
    if not isinstance(platforms, list):
        raise place.error("expected a list of platforms, e.g. [linux/amd64, linux/arm64]", "platforms")
    for i, p in enumerate(platforms):
        try:
            Platform.parse(p if isinstance(p, str) else repr(p))
        except ValueError as exc:
            raise place.error(str(exc), "platforms", i) from None
    if value.get("offline", "block") not in ("block", "allow"):
        raise place.error(
            f"{value.get('offline')!r}: write allow (an unreachable registry is a warning) or block", "offline"
        )
    timeout = value.get("timeout_seconds", DEFAULT_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 1 <= timeout <= 600:
        raise place.error(f"{timeout!r}: give a number of seconds from 1 to 600", "timeout_seconds")


# On in every promotion unless an environment turns it off: promoting an image nobody checked is
# the mistake this gate exists for. `check` runs it only where configured: it runs in the GitOps
# repository's CI, which often has no pull access to the app's registry, on changes a promotion
# already verified.
@register(NAME, validate=_validate, default=True)
def image_exists(ctx: GateContext, value: Any) -> Outcome:
    from promoter.registry.client import Deadline, RegistryClient
    from promoter.registry.credentials import find_credentials
    from promoter.registry.endpoint import endpoint_for
    from promoter.registry.errors import OFFLINE_KINDS, RegistryError
    from promoter.registry.settings import registry_settings
    from promoter.registry.verification import verify_image

    options = _options(value)
    settings = registry_settings(ctx.config.raw.get("registries"), ctx.image.repository.split("/", 1)[0])
    endpoint = endpoint_for(ctx.image, settings)
    base = {"registry": endpoint.registry, "repository": endpoint.repository}
    try:
        lookup = find_credentials(endpoint.registry, settings, os.environ)
        client = RegistryClient(endpoint, lookup, Deadline(options.timeout_seconds))
        try:
            verified = verify_image(client, ctx.image, options.platforms)
        finally:
            client.close()
    except RegistryError as exc:
        evidence = {**base, "wrong": exc.kind, "error": exc.message}
        if exc.kind in OFFLINE_KINDS and options.offline == "allow":
            return Outcome(
                [
                    ctx.finding(
                        NAME,
                        f"gate image_exists: not verified, {exc.message}; {ctx.env.name} allows promoting without the registry "
                        f"({ctx.key(NAME)}.offline: allow)",
                        "reviewers should check the image exists before merging; remove offline: allow to make this block",
                        evidence,
                        rule="gate-image-exists-offline",
                        severity=Severity.WARNING,
                    )
                ],
                note=f"registry {endpoint.registry} not reached (offline: allow)",
            )
        how = exc.hint or (
            f"run again when the registry answers, or set {ctx.key(NAME)}.offline: allow to promote without it"
            if exc.kind in OFFLINE_KINDS
            else ""
        )
        return Outcome([ctx.finding(NAME, f"gate image_exists: {exc.message}", how, evidence)])
    problem = verified.problem
    if problem is not None:
        # Each image to promote instead, as the command that promotes it.
        how = problem.help + (
            ": " + "; or ".join(ctx.retry_with(i) for i in problem.instead) if problem.instead else ""
        )
        return Outcome(
            [
                ctx.finding(
                    NAME,
                    f"gate image_exists: {problem.message}",
                    how,
                    {**base, "wrong": problem.wrong, **problem.evidence},
                )
            ]
        )
    facts = verified.facts
    assert facts is not None
    shown = ", ".join(facts.platforms) or "no platform"
    via = (
        f" (tag {facts.tag} names index {facts.tag_digest[:19]})"
        if facts.tag_digest
        else (f" = tag {facts.tag}" if facts.tag else "")
    )
    return Outcome(
        note=f"{facts.digest[:19]}{via} in {endpoint.registry}, {shown}",
        details={"verified_image": facts.to_dict()},
    )
