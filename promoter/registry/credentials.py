"""Credentials: the login for a registry, from `.promoter.yaml`, the Docker config or the CI's own variables.

Looked up in this order, the first that names the registry wins:
1. `registries.<host>.password_env` (and `username_env` / `username`) in `.promoter.yaml`;
2. `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`: `auths.<host>` with `auth`
   (base64 `user:password`) or `username`/`password`. Credential helpers (`credHelpers`,
   `credsStore`) are programs promoter does not run: they are named in a note instead;
3. the CI's variables: `GITHUB_TOKEN` for ghcr.io (user `GITHUB_ACTOR`), and
   `CI_REGISTRY_USER`/`CI_REGISTRY_PASSWORD` for the host in `CI_REGISTRY` (GitLab);
4. none: anonymous, which public images on every registry allow.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from promoter.model.image import DOCKER_HUB
from promoter.registry.errors import CredentialsError
from promoter.registry.settings import RegistrySettings, normalize_registry

MAX_CONFIG_BYTES = 1 << 20


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str = field(repr=False)
    source: str  # where they came from, for messages: never the values

    def __str__(self) -> str:
        return f"{self.username} (from {self.source})"


@dataclass
class Lookup:
    """The credentials found (or None: anonymous), where promoter looked, and notes for the user."""

    credentials: Credentials | None
    looked: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def secrets(self) -> list[str]:
        return [self.credentials.password] if self.credentials else []


def _docker_host(key: str) -> str:
    """Docker's ConvertToHostname: `https://index.docker.io/v1/` → `index.docker.io`."""
    for prefix in ("http://", "https://"):
        if key.startswith(prefix):
            key = key[len(prefix) :]
    return normalize_registry(key.split("/", 1)[0])


def docker_config_path(environ: Mapping[str, str], home: Path | None = None) -> Path:
    if environ.get("DOCKER_CONFIG"):
        return Path(environ["DOCKER_CONFIG"]) / "config.json"
    return (home or Path(os.path.expanduser("~"))) / ".docker" / "config.json"


def _from_docker_config(registry: str, path: Path, shown: str, lookup: Lookup) -> Credentials | None:
    lookup.looked.append(shown)
    try:
        if not path.is_file():
            return None
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise CredentialsError(
                registry, f"{shown} is larger than {MAX_CONFIG_BYTES // 1024} KiB: not a Docker config"
            )
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CredentialsError(registry, f"cannot read {shown}: {exc.strerror or exc}") from None
    except (ValueError, UnicodeDecodeError):
        raise CredentialsError(
            registry, f"{shown} is not valid JSON: fix or remove it (docker login rewrites it)"
        ) from None
    if not isinstance(data, dict):
        raise CredentialsError(registry, f"{shown} is not a JSON object")
    auths = data["auths"] if isinstance(data.get("auths"), dict) else {}
    for key, entry in auths.items():
        if _docker_host(str(key)) != registry or not isinstance(entry, dict):
            continue
        where = f"{shown} auths[{key!r}]"
        username, password = entry.get("username"), entry.get("password")
        if isinstance(entry.get("auth"), str) and entry["auth"]:
            try:
                decoded = base64.b64decode(entry["auth"], validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise CredentialsError(registry, f"{where}.auth is not base64 of user:password") from None
            username, sep, password = decoded.partition(":")
            if not sep:
                raise CredentialsError(registry, f"{where}.auth decodes to no user:password pair")
        if isinstance(username, str) and isinstance(password, str) and username and password:
            return Credentials(username, password, where)
        if entry.get("identitytoken"):
            lookup.notes.append(f"{where} holds an identity token (OAuth refresh token), which promoter does not use")
    helpers = data["credHelpers"] if isinstance(data.get("credHelpers"), dict) else {}
    for key, helper in helpers.items():
        if _docker_host(str(key)) == registry:
            lookup.notes.append(
                f"{shown} names the credential helper docker-credential-{helper} for {key}; promoter does not run "
                "credential helpers: give the login through registries.<host>.password_env or an auths entry"
            )
    if isinstance(data.get("credsStore"), str) and data["credsStore"]:
        lookup.notes.append(
            f"{shown} keeps logins in the credential store docker-credential-{data['credsStore']}, which promoter "
            "does not run: give the login through registries.<host>.password_env or an auths entry"
        )
    return None


def find_credentials(
    registry: str,
    settings: RegistrySettings,
    environ: Mapping[str, str],
    home: Path | None = None,
) -> Lookup:
    """The login for `registry` (as users name it: docker.io, ghcr.io, host:port). See the module doc."""
    registry = normalize_registry(registry)
    lookup = Lookup(None)
    if settings.configured_login:
        assert settings.password_env is not None
        key = f"registries.{registry}"
        lookup.looked.append(f"{key}.password_env ({settings.password_env})")
        password = environ.get(settings.password_env)
        if not password:
            raise CredentialsError(
                registry,
                f"{key}.password_env names {settings.password_env}, which is not set (or empty) in this environment",
            )
        username = settings.username
        if settings.username_env:
            username = environ.get(settings.username_env)
            if not username:
                raise CredentialsError(
                    registry,
                    f"{key}.username_env names {settings.username_env}, which is not set (or empty) in this environment",
                )
        lookup.credentials = Credentials(username or "promoter", password, f"{key} ({settings.password_env})")
        return lookup
    path = docker_config_path(environ, home)
    shown = "$DOCKER_CONFIG/config.json" if environ.get("DOCKER_CONFIG") else "~/.docker/config.json"
    found = _from_docker_config(registry, path, shown, lookup)
    if found is not None:
        lookup.credentials = found
        return lookup
    if registry == "ghcr.io":
        lookup.looked.append("GITHUB_TOKEN")
        if environ.get("GITHUB_TOKEN"):
            # GHCR takes any user name with a token; GitHub's own docs log in as the actor.
            user = environ.get("GITHUB_ACTOR") or "x-access-token"
            lookup.credentials = Credentials(user, environ["GITHUB_TOKEN"], "GITHUB_TOKEN")
            return lookup
    ci_registry = environ.get("CI_REGISTRY")
    if ci_registry:
        lookup.looked.append(f"CI_REGISTRY_USER/CI_REGISTRY_PASSWORD (for CI_REGISTRY={ci_registry})")
        if (
            normalize_registry(ci_registry) == registry
            and environ.get("CI_REGISTRY_USER")
            and environ.get("CI_REGISTRY_PASSWORD")
        ):
            lookup.credentials = Credentials(
                environ["CI_REGISTRY_USER"], environ["CI_REGISTRY_PASSWORD"], "CI_REGISTRY_USER/CI_REGISTRY_PASSWORD"
            )
            return lookup
    if registry == DOCKER_HUB:
        lookup.notes.append("Docker Hub allows fewer anonymous pulls than logged-in ones")
    return lookup
