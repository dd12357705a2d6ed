"""Fixtures: real registries (Basic auth and token auth), images pushed to them, GitOps repositories that name them."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from realregistry import ISSUER, SERVICE, Pusher, RateLimitProxy, RegistryServer, SigningKey, TokenServer, htpasswd  # noqa: E402

ALICE = ("alice", "alice-Secret-pw-0d9f")  # the Basic-auth registry's user
BOB = ("bob", "bob-Secret-pw-77ce")  # the token service's user
PUBLIC_REPO = "acme/public"  # the token registry lets anyone pull this one


@dataclass
class Registry:
    server: RegistryServer
    pusher: Pusher
    user: tuple[str, str]
    tokens: TokenServer | None = None

    @property
    def host(self) -> str:
        return self.server.host


@pytest.fixture(scope="session")
def basic_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    root = tmp_path_factory.mktemp("basic-registry")
    auth = {"htpasswd": {"realm": "promoter-test", "path": str(htpasswd(root / "htpasswd", dict([ALICE])))}}
    server = RegistryServer(root, auth=auth).start()
    try:
        yield Registry(server, Pusher(server.url, basic=ALICE), ALICE)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def token_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    root = tmp_path_factory.mktemp("token-registry")
    signer = SigningKey.make()
    (root / "signer.pem").write_bytes(signer.cert_pem)
    tokens = TokenServer(signer, dict([BOB]), public={PUBLIC_REPO}).start()
    auth = {
        "token": {
            "realm": tokens.realm,
            "service": SERVICE,
            "issuer": ISSUER,
            "rootcertbundle": str(root / "signer.pem"),
        }
    }
    server = RegistryServer(root, auth=auth)
    try:
        server.start()
        yield Registry(server, Pusher(server.url, tokens=tokens, user=BOB[0]), BOB, tokens)
    finally:
        server.stop()
        tokens.stop()


@pytest.fixture(params=["basic", "token"])
def registry(request: pytest.FixtureRequest) -> Registry:
    """Each registry kind in turn: htpasswd Basic auth, and Docker's token flow."""
    return request.getfixturevalue(f"{request.param}_registry")


@pytest.fixture
def repo_name(request: pytest.FixtureRequest) -> str:
    """A repository of its own for each test, in the shared registries."""
    return "acme/t" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:10]


@pytest.fixture
def rate_limited(basic_registry: Registry) -> Iterator[RateLimitProxy]:
    """A 429-answering proxy in front of the Basic-auth registry (a stand-in for Docker Hub's limits)."""
    proxy = RateLimitProxy(basic_registry.server.url).start()
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture
def clean_env(tmp_path: Path) -> dict[str, Any]:
    """Variables for a CLI run that sees no login from this machine: an empty DOCKER_CONFIG, no CI variables."""
    empty = tmp_path / "docker-config"
    empty.mkdir()
    return {
        "DOCKER_CONFIG": str(empty),
        "GITHUB_TOKEN": None,
        "CI_REGISTRY": None,
        "CI_REGISTRY_USER": None,
        "CI_REGISTRY_PASSWORD": None,
        "REG_PASSWORD": None,
    }


def kustomization(image: str, tag: str, digest: str | None) -> str:
    out = f'images:\n  - name: {image}\n    newTag: "{tag}"\n'
    return out + (f"    digest: {digest}\n" if digest else "")


def gitops_config(
    image: str,
    *,
    gates: dict[str, Any] | None = None,
    registries: dict[str, Any] | None = None,
    envs: tuple[str, ...] = ("dev", "prod"),
) -> str:
    data: dict[str, Any] = {
        "environments": [{"name": e, **({"gates": gates[e]} if gates and e in gates else {})} for e in envs],
        "apps": {"api": {"image": image, "path": "apps/{app}/{env}"}},
    }
    if registries:
        data["registries"] = registries
    return yaml.safe_dump(data, sort_keys=False)
