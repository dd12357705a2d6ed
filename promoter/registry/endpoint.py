"""Endpoint: where an image's registry API answers and the repository path inside it (Docker Hub's rules)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from promoter.model.image import DOCKER_HUB, ImageRef
from promoter.registry.settings import RegistrySettings, normalize_registry

# docker.io is a name, not a host: the API is served by registry-1.docker.io.
DOCKER_HUB_API = "registry-1.docker.io"


@dataclass(frozen=True)
class Endpoint:
    registry: str  # as users name it (docker.io, ghcr.io, 127.0.0.1:5000): shown in messages
    base_url: str  # scheme://host[:port], the API root without /v2
    repository: str  # the path in the registry: library/nginx, acme/api

    def url(self, path: str) -> str:
        return f"{self.base_url}/v2/{self.repository}/{path}"

    @property
    def secure(self) -> bool:
        return self.base_url.startswith("https://")

    def __str__(self) -> str:
        return f"{self.registry}/{self.repository}"


def is_loopback(host: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1, with or without a port: Docker's registries that need no TLS."""
    name = host
    if name.startswith("["):
        name = name[1 : name.find("]")] if "]" in name else name
    elif name.count(":") == 1:
        name = name.split(":", 1)[0]
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def endpoint_for(image: ImageRef, settings: RegistrySettings | None = None) -> Endpoint:
    """The API endpoint for `image`: Docker Hub names (nginx, docker.io/x) go to registry-1.docker.io
    with `library/` for official images; loopback hosts and `insecure: true` use plain HTTP."""
    full = image.repository  # normalised: docker.io/library/nginx
    registry, _, path = full.partition("/")
    registry = normalize_registry(registry)
    if registry == DOCKER_HUB:
        return Endpoint(DOCKER_HUB, f"https://{DOCKER_HUB_API}", path)
    insecure = is_loopback(registry) or bool(settings and settings.insecure)
    return Endpoint(registry, f"{'http' if insecure else 'https'}://{registry}", path)
