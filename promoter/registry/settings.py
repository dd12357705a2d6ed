"""RegistrySettings: one registry's entry of the `.promoter.yaml` `registries:` section."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from promoter.model.image import DOCKER_HUB, DOCKER_HUB_ALIASES


def normalize_registry(host: str) -> str:
    """The name a registry is keyed by: lower case, Docker Hub's aliases folded into docker.io."""
    host = host.strip().rstrip("/").lower()
    return DOCKER_HUB if host in DOCKER_HUB_ALIASES else host


@dataclass(frozen=True)
class RegistrySettings:
    """How to reach one registry. Only names of environment variables are configured, never secrets."""

    registry: str
    username: str | None = None
    username_env: str | None = None
    password_env: str | None = None
    insecure: bool = False  # plain HTTP (loopback registries are plain HTTP without saying so)

    @property
    def configured_login(self) -> bool:
        return self.password_env is not None


def registry_settings(section: Any, registry: str) -> RegistrySettings:
    """The settings for `registry` from the (schema-validated) `registries:` mapping, defaults if absent."""
    name = normalize_registry(registry)
    entry: dict[str, Any] = {}
    if isinstance(section, dict):
        for key, value in section.items():
            if normalize_registry(str(key)) == name and isinstance(value, dict):
                entry = value
    return RegistrySettings(
        registry=name,
        username=entry.get("username"),
        username_env=entry.get("username_env"),
        password_env=entry.get("password_env"),
        insecure=bool(entry.get("insecure", False)),
    )
