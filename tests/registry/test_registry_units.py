"""The registry package's rules that need no server: names, challenges, platforms, logins, manifests, config."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from promoter.model.errors import ConfigError
from promoter.model.image import ImageRef
from promoter.registry.auth import may_send_credentials, parse_challenge
from promoter.registry.client import Deadline, retry_after
from promoter.registry.credentials import Credentials, find_credentials
from promoter.registry.endpoint import endpoint_for, is_loopback
from promoter.registry.errors import CredentialsError
from promoter.registry.manifest import Manifest, Platform
from promoter.registry.settings import RegistrySettings, registry_settings
from tests.conftest import make_repo


# ---- names ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("image", "base_url", "repository", "registry"),
    [
        ("nginx:1.27", "https://registry-1.docker.io", "library/nginx", "docker.io"),
        ("docker.io/nginx@sha256:" + "a" * 64, "https://registry-1.docker.io", "library/nginx", "docker.io"),
        ("index.docker.io/bitnami/redis:7", "https://registry-1.docker.io", "bitnami/redis", "docker.io"),
        ("bitnami/redis:7", "https://registry-1.docker.io", "bitnami/redis", "docker.io"),
        ("registry-1.docker.io/library/alpine:3", "https://registry-1.docker.io", "library/alpine", "docker.io"),
        ("ghcr.io/acme/api:1", "https://ghcr.io", "acme/api", "ghcr.io"),
        (
            "registry.gitlab.com/acme/group/api:1",
            "https://registry.gitlab.com",
            "acme/group/api",
            "registry.gitlab.com",
        ),
        ("localhost:5000/api:1", "http://localhost:5000", "api", "localhost:5000"),
        ("127.0.0.1:5000/acme/api:1", "http://127.0.0.1:5000", "acme/api", "127.0.0.1:5000"),
        ("[::1]:5000/acme/api:1", "http://[::1]:5000", "acme/api", "[::1]:5000"),
    ],
)
def test_docker_hub_names_and_loopback_registries(image: str, base_url: str, repository: str, registry: str):
    ep = endpoint_for(ImageRef.parse(image))
    assert (ep.base_url, ep.repository, ep.registry) == (base_url, repository, registry)
    assert ep.url("manifests/x") == f"{base_url}/v2/{repository}/manifests/x"


def test_insecure_registries_are_plain_http_only_when_configured():
    ref = ImageRef.parse("registry.internal:5000/acme/api:1")
    assert endpoint_for(ref).base_url == "https://registry.internal:5000"
    settings = registry_settings({"registry.internal:5000": {"insecure": True}}, "registry.internal:5000")
    assert endpoint_for(ref, settings).base_url == "http://registry.internal:5000"
    assert not is_loopback("10.0.0.1:5000") and is_loopback("127.1.2.3") and is_loopback("localhost")


def test_registries_settings_fold_docker_hub_aliases():
    s = registry_settings({"index.docker.io": {"username": "me", "password_env": "HUB_TOKEN"}}, "docker.io")
    assert (s.registry, s.username, s.password_env) == ("docker.io", "me", "HUB_TOKEN")
    assert registry_settings(None, "ghcr.io") == RegistrySettings("ghcr.io")


# ---- challenges -----------------------------------------------------------------------------------------
def test_bearer_challenges_as_docker_hub_ghcr_and_harbor_send_them():
    hub = parse_challenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"'
    )
    assert hub is not None and hub.scheme == "bearer"
    assert hub.params == {
        "realm": "https://auth.docker.io/token",
        "service": "registry.docker.io",
        "scope": "repository:library/nginx:pull",
    }
    # Scopes may hold commas (several actions); values may be unquoted; keys are case-insensitive.
    harbor = parse_challenge(
        'Bearer realm="https://h.example/service/token", service=harbor-registry, Scope="repository:a/b:pull,push"'
    )
    assert (
        harbor is not None
        and harbor.params["scope"] == "repository:a/b:pull,push"
        and harbor.params["service"] == "harbor-registry"
    )
    basic = parse_challenge('Basic realm="Registry Realm"')
    assert basic is not None and basic.scheme == "basic" and basic.realm == "Registry Realm"
    assert parse_challenge("") is None and parse_challenge(None) is None


def test_logins_travel_only_over_tls_or_to_loopback():
    assert may_send_credentials("https://auth.docker.io/token")
    assert may_send_credentials("http://127.0.0.1:5000/token")
    assert not may_send_credentials("http://auth.example.com/token")


def test_retry_after_seconds_and_http_dates():
    assert retry_after({"Retry-After": "7"}) == 7.0
    assert retry_after({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, now=1445412470.0) == 10.0
    assert retry_after({}) is None and retry_after({"Retry-After": "soon"}) is None


def test_the_deadline_waits_only_what_fits():
    clock = [0.0]
    slept: list[float] = []
    d = Deadline(10, clock=lambda: clock[0], sleep=lambda s: slept.append(s))
    assert d.wait(2) and slept == [2]
    clock[0] = 8.0
    assert not d.wait(2) and slept == [2]  # 2 s + a request would pass the 10 s deadline
    assert d.timeout() == (2.0, 2.0)


# ---- platforms ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("have", "want", "ok"),
    [
        ("linux/amd64", "linux/amd64", True),
        ("linux/arm64/v8", "linux/arm64", True),
        ("linux/arm64", "linux/arm64/v8", True),
        ("linux/arm/v7", "linux/arm", True),
        ("linux/arm/v6", "linux/arm/v7", False),
        ("linux/amd64", "linux/arm64", False),
        ("windows/amd64", "linux/amd64", False),
    ],
)
def test_platform_matching(have: str, want: str, ok: bool):
    assert Platform.parse(have).satisfies(Platform.parse(want)) is ok


def test_a_malformed_platform_says_how_to_write_one():
    with pytest.raises(ValueError, match="os/arch"):
        Platform.parse("amd64")


# ---- manifests ------------------------------------------------------------------------------------------
def test_schema_1_and_unknown_media_types_are_refused():
    with pytest.raises(ValueError, match="schema 1"):
        Manifest.parse("sha256:x", None, json.dumps({"schemaVersion": 1, "fsLayers": []}).encode(), "m")
    with pytest.raises(ValueError, match="not an image manifest or index"):
        Manifest.parse("sha256:x", "application/vnd.cncf.helm.config.v1+json", b'{"schemaVersion": 2}', "m")
    with pytest.raises(ValueError, match="not JSON"):
        Manifest.parse("sha256:x", None, b"<html>", "m")


def test_an_index_lists_platforms_without_attestations():
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
        "manifests": [
            {"digest": "sha256:a", "platform": {"os": "linux", "architecture": "amd64"}},
            {"digest": "sha256:b", "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
            {
                "digest": "sha256:c",
                "platform": {"os": "unknown", "architecture": "unknown"},
                "annotations": {"vnd.docker.reference.type": "attestation-manifest"},
            },
        ],
    }
    m = Manifest.parse("sha256:i", None, json.dumps(index).encode(), "m")
    assert m.is_index and [str(d.platform) for d in m.images] == ["linux/amd64", "linux/arm64/v8"]


# ---- credentials ----------------------------------------------------------------------------------------
def _docker_config(tmp_path: Path, data: dict) -> dict[str, str]:
    folder = tmp_path / "docker"
    folder.mkdir(exist_ok=True)
    (folder / "config.json").write_text(json.dumps(data))
    return {"DOCKER_CONFIG": str(folder)}


def test_configured_login_wins_then_docker_config_then_ci_variables(tmp_path: Path):
    auth = base64.b64encode(b"dock:dock-pw").decode()
    env = {
        **_docker_config(tmp_path, {"auths": {"https://ghcr.io": {"auth": auth}}}),
        "GITHUB_TOKEN": "gh-token",
        "GITHUB_ACTOR": "octo",
        "MY_PW": "cfg-pw",
    }
    configured = RegistrySettings("ghcr.io", username="cfg", password_env="MY_PW")
    assert find_credentials("ghcr.io", configured, env).credentials == Credentials(
        "cfg", "cfg-pw", "registries.ghcr.io (MY_PW)"
    )
    from_docker = find_credentials("ghcr.io", RegistrySettings("ghcr.io"), env).credentials
    assert from_docker is not None and (from_docker.username, from_docker.password) == ("dock", "dock-pw")
    del env["DOCKER_CONFIG"]
    env["DOCKER_CONFIG"] = str(tmp_path / "none")
    from_ci = find_credentials("ghcr.io", RegistrySettings("ghcr.io"), env).credentials
    assert from_ci is not None and (from_ci.username, from_ci.password, from_ci.source) == (
        "octo",
        "gh-token",
        "GITHUB_TOKEN",
    )
    # GITHUB_TOKEN is for ghcr.io only.
    assert find_credentials("quay.io", RegistrySettings("quay.io"), env).credentials is None


def test_docker_hub_logins_are_found_under_the_v1_index_key(tmp_path: Path):
    env = _docker_config(
        tmp_path, {"auths": {"https://index.docker.io/v1/": {"username": "hubber", "password": "hub-pw"}}}
    )
    found = find_credentials("docker.io", RegistrySettings("docker.io"), env).credentials
    assert found is not None and found.username == "hubber"


def test_credentials_never_show_their_password(tmp_path: Path):
    c = Credentials("user", "s3cret-value", "somewhere")
    assert "s3cret-value" not in repr(c) and "s3cret-value" not in str(c)


def test_broken_docker_configs_are_errors_naming_the_file_not_the_secret(tmp_path: Path):
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "config.json").write_text("{not json")
    with pytest.raises(CredentialsError, match=r"\$DOCKER_CONFIG/config.json is not valid JSON"):
        find_credentials("ghcr.io", RegistrySettings("ghcr.io"), {"DOCKER_CONFIG": str(folder)})
    env = _docker_config(tmp_path, {"auths": {"ghcr.io": {"auth": "!!notbase64"}}})
    with pytest.raises(CredentialsError, match=r"auths\['ghcr.io'\].auth is not base64"):
        find_credentials("ghcr.io", RegistrySettings("ghcr.io"), env)


def test_credential_stores_and_identity_tokens_are_explained(tmp_path: Path):
    env = _docker_config(tmp_path, {"credsStore": "desktop", "auths": {"ghcr.io": {"identitytoken": "x"}}})
    lookup = find_credentials("ghcr.io", RegistrySettings("ghcr.io"), env)
    assert lookup.credentials is None
    assert any("docker-credential-desktop" in n for n in lookup.notes) and any(
        "identity token" in n for n in lookup.notes
    )


# ---- configuration --------------------------------------------------------------------------------------
CONFIG = """\
environments:
  - name: dev
  - name: prod
    gates:
      image_exists:
        platforms: [linux/amd64, PLATFORM]
        offline: OFFLINE
apps:
  api:
    image: ghcr.io/acme/api
REGISTRIES"""


@pytest.mark.parametrize(
    ("platform", "offline", "registries", "message"),
    [
        ("linux", "allow", "", ".promoter.yaml:6: environments[1].gates.image_exists"),
        ("linux/arm64", "maybe", "", ".promoter.yaml:7: environments[1].gates.image_exists"),
        (
            "linux/arm64",
            "allow",
            "registries:\n  https://ghcr.io: {password_env: X}\n",
            ".promoter.yaml:12: registries",
        ),
        ("linux/arm64", "allow", "registries:\n  ghcr.io: {password: hunter2}\n", "unknown key 'password'"),
        (
            "linux/arm64",
            "allow",
            "registries:\n  ghcr.io: {username: me}\n",
            "'password_env' is a dependency of 'username'",
        ),
    ],
)
def test_bad_gate_and_registry_config_is_refused_with_file_and_line(
    tmp_path: Path, platform: str, offline: str, registries: str, message: str
):
    from promoter.config.loader import load_config

    repo = make_repo(
        tmp_path / "r",
        {
            ".promoter.yaml": CONFIG.replace("PLATFORM", platform)
            .replace("OFFLINE", offline)
            .replace("REGISTRIES", registries)
        },
    )
    with pytest.raises(ConfigError) as exc:
        load_config(repo)
    assert message in exc.value.message


def test_the_gate_config_validator_names_the_bad_entry(tmp_path: Path):
    from promoter.config.loader import load_config
    from promoter.gates.engine import validate_gate_config

    repo = make_repo(
        tmp_path / "r",
        {
            ".promoter.yaml": CONFIG.replace("PLATFORM", "linux/arm64")
            .replace("OFFLINE", "allow")
            .replace("REGISTRIES", "")
        },
    )
    config = load_config(repo)
    config.env("prod").gates["image_exists"] = {"platforms": ["linux/amd64", "Linux"], "timeout_seconds": 5}
    with pytest.raises(
        ConfigError, match=r"environments\[1\]\.gates\.image_exists\.platforms\[1\]: 'Linux' is not a platform"
    ):
        validate_gate_config(config, repo)
    config.env("prod").gates["image_exists"] = {"timeout_seconds": 0}
    with pytest.raises(ConfigError, match="timeout_seconds: 0: give a number of seconds from 1 to 600"):
        validate_gate_config(config, repo)


# ---- the test registry itself -----------------------------------------------------------------------------
def test_a_missing_registry_binary_fails_under_ci_and_skips_elsewhere(monkeypatch: pytest.MonkeyPatch):
    import realregistry

    monkeypatch.setattr(realregistry, "BINARY", "docker-registry-that-is-not-installed")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="docker-registry-that-is-not-installed not found"):
        realregistry.registry_binary()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        realregistry.registry_binary()
