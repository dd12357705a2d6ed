"""The image_exists gate through `promoter bump` / `promote`, against a real registry (distribution 2.8).

Every wrong image blocks with exit 3 before anything is written, with one line saying what is
wrong; the right image is written and its verified facts are in the JSON output.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import git, invoke, make_repo

from .conftest import ALICE, BOB, PUBLIC_REPO, Registry, gitops_config, kustomization

PLATFORMS = ["linux/amd64", "linux/arm64"]
SOURCE = "https://github.com/acme/api"
REVISION = "0123456789abcdef0123456789abcdef01234567"
LABELS = {
    "org.opencontainers.image.source": SOURCE,
    "org.opencontainers.image.revision": REVISION,
    "org.opencontainers.image.title": "api",
}
OLD = "sha256:" + "0" * 64
UNKNOWN = "sha256:" + "e" * 64


def tree_hash(repo: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(repo.rglob("*")):
        if ".git" in p.relative_to(repo).parts or not p.is_file():
            continue
        h.update(str(p.relative_to(repo)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def login(reg: Registry) -> dict[str, Any]:
    """The `registries:` entry naming the password's variable (REG_PASSWORD), never the password."""
    return {reg.host: {"username": reg.user[0], "password_env": "REG_PASSWORD"}}


def make_gitops(
    tmp_path: Path,
    image: str,
    *,
    gates: dict[str, Any] | None = None,
    registries: dict[str, Any] | None = None,
    pins: dict[str, tuple[str, str | None]] | None = None,
) -> Path:
    pins = pins or {}
    files = {".promoter.yaml": gitops_config(image, gates=gates, registries=registries)}
    for env in ("dev", "prod"):
        tag, digest = pins.get(env, ("0.9.0", OLD))
        files[f"apps/api/{env}/kustomization.yaml"] = kustomization(image, tag, digest)
    return make_repo(tmp_path / "gitops", files)


def bump(repo: Path, image: str, env: dict[str, Any], *extra: str, target: str = "dev"):
    return invoke("bump", "--repo", str(repo), "--app", "api", "--env", target, "--image", image, *extra, env=env)


def blocked(repo: Path, image: str, env: dict[str, Any], want: str) -> dict[str, Any]:
    """Bump must exit 3, write nothing, and say `want` on the gate's one finding line; returns its JSON finding."""
    before, status = tree_hash(repo), git(repo, "status", "--porcelain")
    text = bump(repo, image, env)
    assert text.exit_code == 3, (text.exit_code, text.stderr)
    assert tree_hash(repo) == before and git(repo, "status", "--porcelain") == status
    lines = [line for line in text.stderr.splitlines() if line.startswith("promoter: error: gate-image-exists")]
    assert len(lines) == 1 and want in lines[0], text.stderr
    assert "blocked by 1 gate(s): nothing written" in text.stderr and "Traceback" not in text.stderr
    out = bump(repo, image, env, "-o", "json")
    assert out.exit_code == 3
    data = json.loads(out.stdout)
    assert data["written"] is False and data["blocked"] is True
    [finding] = [f for f in data["gates"]["findings"] if f["rule"] == "gate-image-exists"]
    return finding


# ---- the right image --------------------------------------------------------------------------------
def test_the_right_digest_and_tag_pass_with_platforms_date_and_labels(
    registry: Registry, repo_name: str, tmp_path: Path, clean_env
):
    pushed = registry.pusher.index(repo_name, "1.0.0", PLATFORMS, labels=LABELS)
    image = f"{registry.host}/{repo_name}"
    repo = make_gitops(
        tmp_path, image, gates={"dev": {"image_exists": {"platforms": PLATFORMS}}}, registries=login(registry)
    )
    r = bump(repo, f"{image}:1.0.0@{pushed.digest}", {**clean_env, "REG_PASSWORD": registry.user[1]}, "-o", "json")
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["written"] is True and pushed.digest in (repo / "apps/api/dev/kustomization.yaml").read_text()
    [subject] = [s for s in data["gates"]["subjects"] if s["id"] == "gate/image_exists/api/dev"]
    assert subject["status"] == "passed" and "linux/amd64, linux/arm64" in subject["reason"]
    facts = subject["details"]["verified_image"]
    assert facts["digest"] == pushed.digest and facts["platforms"] == PLATFORMS
    assert facts["media_type"] == "application/vnd.oci.image.index.v1+json" and facts["tag"] == "1.0.0"
    assert facts["created"] == "2026-03-01T12:00:00Z"
    assert (
        facts["source"] == SOURCE
        and facts["revision"] == REVISION
        and facts["labels"]["org.opencontainers.image.title"] == "api"
    )
    assert registry.user[1] not in r.stdout + r.stderr


def test_a_tag_naming_the_index_that_holds_a_platform_digest_passes(
    basic_registry: Registry, repo_name: str, tmp_path: Path, clean_env
):
    pushed = basic_registry.pusher.index(repo_name, "1.1.0", PLATFORMS)
    image = f"{basic_registry.host}/{repo_name}"
    repo = make_gitops(tmp_path, image, registries=login(basic_registry))
    amd64 = pushed.platforms["linux/amd64"]
    r = bump(repo, f"{image}:1.1.0@{amd64}", {**clean_env, "REG_PASSWORD": ALICE[1]}, "-o", "json")
    assert r.exit_code == 0, r.stderr
    facts = json.loads(r.stdout)["gates"]["subjects"][0]["details"]["verified_image"]
    assert facts["digest"] == amd64 and facts["tag_digest"] == pushed.digest and facts["platforms"] == ["linux/amd64"]


def test_a_tag_alone_is_checked_and_its_digest_reported(
    basic_registry: Registry, repo_name: str, tmp_path: Path, clean_env
):
    pushed = basic_registry.pusher.index(repo_name, "1.2.0", PLATFORMS)
    image = f"{basic_registry.host}/{repo_name}"
    repo = make_gitops(tmp_path, image, registries=login(basic_registry))
    r = bump(repo, f"{image}:1.2.0", {**clean_env, "REG_PASSWORD": ALICE[1]}, "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["gates"]["subjects"][0]["details"]["verified_image"]["digest"] == pushed.digest
    blocked(repo, f"{image}:9.9.9", {**clean_env, "REG_PASSWORD": ALICE[1]}, "tag 9.9.9 does not exist in")


# ---- wrong images ------------------------------------------------------------------------------------
def test_an_unknown_digest_blocks_and_says_the_digest_is_wrong(
    registry: Registry, repo_name: str, tmp_path: Path, clean_env
):
    pushed = registry.pusher.index(repo_name, "2.0.0", PLATFORMS)
    image = f"{registry.host}/{repo_name}"
    repo = make_gitops(tmp_path, image, registries=login(registry))
    env = {**clean_env, "REG_PASSWORD": registry.user[1]}
    f = blocked(repo, f"{image}:2.0.0@{UNKNOWN}", env, "the digest is wrong")
    assert f["evidence"]["wrong"] == "digest" and f["evidence"]["tag_digest"] == pushed.digest
    assert pushed.digest in f["help"]  # the way forward names the digest the tag holds
    f = blocked(repo, f"{image}@{UNKNOWN}", env, f"digest sha256:eeeeeeeeeeee is not in {registry.host}/{repo_name}")
    f = blocked(repo, f"{image}:7.7.7@{UNKNOWN}", env, "neither tag 7.7.7 nor digest")
    assert f["evidence"]["wrong"] == "both"
    f = blocked(repo, f"{image}:7.7.7@{pushed.digest}", env, "tag 7.7.7 does not exist")
    assert f["evidence"]["wrong"] == "tag"


def test_a_tag_that_moved_blocks_and_says_the_tag_is_wrong(
    basic_registry: Registry, repo_name: str, tmp_path: Path, clean_env
):
    first = basic_registry.pusher.index(repo_name, "3.0.0", PLATFORMS, salt="first build")
    second = basic_registry.pusher.index(repo_name, "3.0.0", PLATFORMS, salt="second build")  # re-pushed: the tag moved
    assert first.digest != second.digest
    image = f"{basic_registry.host}/{repo_name}"
    repo = make_gitops(tmp_path, image, registries=login(basic_registry))
    f = blocked(
        repo,
        f"{image}:3.0.0@{first.digest}",
        {**clean_env, "REG_PASSWORD": ALICE[1]},
        f"tag 3.0.0 in {basic_registry.host}/{repo_name} names {second.digest[:19]}, not {first.digest[:19]}",
    )
    assert f["evidence"]["wrong"] == "tag" and f["evidence"]["digest_found"] is True
    assert f"{image}@{first.digest}" in f["help"]
    # Each image it suggests comes as the command that promotes it, ready to paste.
    assert f"--image {image}@{first.digest} --repo {repo}`" in f["help"] and "`promoter bump --app " in f["help"]


def test_an_index_without_a_required_platform_blocks(registry: Registry, repo_name: str, tmp_path: Path, clean_env):
    registry.pusher.index(repo_name, "4.0.0", ["linux/amd64"])
    pushed = registry.pusher.index(repo_name, "4.0.1", ["linux/amd64", "linux/arm/v7"])
    image = f"{registry.host}/{repo_name}"
    repo = make_gitops(
        tmp_path, image, gates={"dev": {"image_exists": {"platforms": PLATFORMS}}}, registries=login(registry)
    )
    env = {**clean_env, "REG_PASSWORD": registry.user[1]}
    f = blocked(repo, f"{image}:4.0.1@{pushed.digest}", env, "missing required platform(s) linux/arm64")
    assert f["evidence"]["platforms"] == ["linux/amd64", "linux/arm/v7"]  # the attestation entry is not a platform
    assert f["evidence"]["missing_platforms"] == ["linux/arm64"] and f["evidence"]["wrong"] == "platforms"
    # A single platform's digest cannot hold two platforms either.
    blocked(repo, f"{image}@{pushed.platforms['linux/amd64']}", env, "is a single-platform image for linux/amd64")


def test_promote_re_checks_the_digest_it_carries(basic_registry: Registry, repo_name: str, tmp_path: Path, clean_env):
    pushed = basic_registry.pusher.index(repo_name, "5.0.0", PLATFORMS)
    image = f"{basic_registry.host}/{repo_name}"
    repo = make_gitops(tmp_path, image, registries=login(basic_registry), pins={"dev": ("5.0.0", pushed.digest)})
    env = {**clean_env, "REG_PASSWORD": ALICE[1]}
    ok = invoke("promote", "--repo", str(repo), "--app", "api", "--from", "dev", "--dry-run", env=env)
    assert ok.exit_code == 0, ok.stderr
    # Since dev got it, the tag was pushed again and a cleanup policy deleted the untagged index.
    again = basic_registry.pusher.index(repo_name, "5.0.0", PLATFORMS, salt="rebuilt")
    basic_registry.pusher.delete(repo_name, pushed.digest)
    before = tree_hash(repo)
    r = invoke("promote", "--repo", str(repo), "--app", "api", "--from", "dev", env=env)
    assert r.exit_code == 3, r.stderr
    assert tree_hash(repo) == before
    assert (
        f"digest {pushed.digest[:19]} is not in {basic_registry.host}/{repo_name}; tag 5.0.0 names {again.digest[:19]}: "
        "the digest is wrong"
    ) in r.stderr


# ---- logins -------------------------------------------------------------------------------------------
def test_wrong_credentials_block_without_showing_them(registry: Registry, repo_name: str, tmp_path: Path, clean_env):
    pushed = registry.pusher.index(repo_name, "6.0.0", PLATFORMS)
    image = f"{registry.host}/{repo_name}"
    repo = make_gitops(tmp_path, image, registries=login(registry))
    wrong = "Wrong-Pa55word-4f1c9e"
    f = blocked(
        repo,
        f"{image}:6.0.0@{pushed.digest}",
        {**clean_env, "REG_PASSWORD": wrong},
        f"{registry.host} refused the login of user {registry.user[0]} (from registries.{registry.host} (REG_PASSWORD))",
    )
    assert f["evidence"]["wrong"] == "unauthorized"
    for out in (
        bump(repo, f"{image}:6.0.0@{pushed.digest}", {**clean_env, "REG_PASSWORD": wrong}, "-o", "json"),
        bump(repo, f"{image}:6.0.0@{pushed.digest}", {**clean_env, "REG_PASSWORD": wrong}),
    ):
        assert wrong not in out.stdout + out.stderr


def test_a_configured_variable_that_is_not_set_blocks_naming_it(
    basic_registry: Registry, repo_name: str, tmp_path: Path, clean_env
):
    image = f"{basic_registry.host}/{repo_name}"
    repo = make_gitops(tmp_path, image, registries=login(basic_registry))
    f = blocked(repo, f"{image}:1@{UNKNOWN}", clean_env, "password_env names REG_PASSWORD, which is not set")
    assert f["evidence"]["wrong"] == "credentials"


def test_no_login_anywhere_blocks_saying_where_promoter_looked(
    basic_registry: Registry, repo_name: str, tmp_path: Path, clean_env
):
    pushed = basic_registry.pusher.index(repo_name, "7.0.0", PLATFORMS)
    image = f"{basic_registry.host}/{repo_name}"
    repo = make_gitops(tmp_path, image)
    blocked(repo, f"{image}:7.0.0@{pushed.digest}", clean_env, "needs a login to read")


def test_docker_config_auths_are_used(registry: Registry, repo_name: str, tmp_path: Path, clean_env):
    import base64

    pushed = registry.pusher.index(repo_name, "8.0.0", PLATFORMS)
    image = f"{registry.host}/{repo_name}"
    repo = make_gitops(tmp_path, image)  # no registries: entry
    docker = Path(clean_env["DOCKER_CONFIG"])
    auth = base64.b64encode(f"{registry.user[0]}:{registry.user[1]}".encode()).decode()
    (docker / "config.json").write_text(json.dumps({"auths": {f"http://{registry.host}": {"auth": auth}}}))
    r = bump(repo, f"{image}:8.0.0@{pushed.digest}", clean_env)
    assert r.exit_code == 0, r.stderr
    assert registry.user[1] not in r.stdout + r.stderr and auth not in r.stdout + r.stderr


def test_credential_helpers_are_named_not_run(basic_registry: Registry, repo_name: str, tmp_path: Path, clean_env):
    pushed = basic_registry.pusher.index(repo_name, "8.1.0", PLATFORMS)
    image = f"{basic_registry.host}/{repo_name}"
    repo = make_gitops(tmp_path, image)
    (Path(clean_env["DOCKER_CONFIG"]) / "config.json").write_text(
        json.dumps({"credHelpers": {basic_registry.host: "secretservice"}})
    )
    r = bump(repo, f"{image}:8.1.0@{pushed.digest}", clean_env)
    assert r.exit_code == 3
    assert "docker-credential-secretservice" in r.stderr and "promoter does not run credential helpers" in r.stderr


def test_gitlab_ci_variables_log_in_to_ci_registry(basic_registry: Registry, repo_name: str, tmp_path: Path, clean_env):
    pushed = basic_registry.pusher.index(repo_name, "9.0.0", PLATFORMS)
    image = f"{basic_registry.host}/{repo_name}"
    repo = make_gitops(tmp_path, image)
    env = {
        **clean_env,
        "CI_REGISTRY": basic_registry.host,
        "CI_REGISTRY_USER": ALICE[0],
        "CI_REGISTRY_PASSWORD": ALICE[1],
    }
    r = bump(repo, f"{image}:9.0.0@{pushed.digest}", env, "--dry-run")
    assert r.exit_code == 0, r.stderr
    # The variables are for CI_REGISTRY only: another registry host does not get them.
    other = {**env, "CI_REGISTRY": "registry.gitlab.example"}
    r = bump(repo, f"{image}:9.0.0@{pushed.digest}", other, "--dry-run")
    assert (
        r.exit_code == 3
        and "CI_REGISTRY_USER/CI_REGISTRY_PASSWORD (for CI_REGISTRY=registry.gitlab.example)" in r.stderr
    )


def test_anonymous_pull_of_a_public_repository_through_the_token_flow(
    token_registry: Registry, tmp_path: Path, clean_env
):
    pushed = token_registry.pusher.index(PUBLIC_REPO, "10.0.0", PLATFORMS)
    image = f"{token_registry.host}/{PUBLIC_REPO}"
    repo = make_gitops(tmp_path, image)
    before = len(token_registry.tokens.requests)
    r = bump(repo, f"{image}:10.0.0@{pushed.digest}", clean_env)
    assert r.exit_code == 0, r.stderr
    asked = token_registry.tokens.requests[before:]
    assert asked and all(a["authorization"] is None for a in asked)  # no login was sent
    assert asked[0]["query"]["scope"] == [f"repository:{PUBLIC_REPO}:pull"]
    assert asked[0]["query"]["service"] == ["promoter-test-registry"]


# ---- the registry cannot answer -----------------------------------------------------------------------
def test_a_registry_that_is_down_blocks_naming_it_unless_offline_is_allowed(tmp_path: Path, clean_env):
    from realregistry import free_port

    host = f"127.0.0.1:{free_port()}"  # nothing listens there
    image = f"{host}/acme/api"
    repo = make_gitops(tmp_path, image)
    f = blocked(
        repo,
        f"{image}:1.0.0@{UNKNOWN}",
        clean_env,
        f"cannot reach registry {host} at http://{host}: connection refused",
    )
    assert f["evidence"]["wrong"] == "unreachable" and "offline: allow" in f["help"]
    allowed = make_gitops(tmp_path / "allowed", image, gates={"dev": {"image_exists": {"offline": "allow"}}})
    r = bump(allowed, f"{image}:1.0.0@{UNKNOWN}", clean_env)
    assert r.exit_code == 0, r.stderr
    assert "promoter: warning: gate-image-exists-offline" in r.stderr and f"cannot reach registry {host}" in r.stderr
    assert UNKNOWN in (allowed / "apps/api/dev/kustomization.yaml").read_text()


def test_a_429_is_waited_out_within_the_deadline(
    basic_registry: Registry, rate_limited, repo_name: str, tmp_path: Path, clean_env
):
    pushed = basic_registry.pusher.index(repo_name, "11.0.0", PLATFORMS)
    image = f"{rate_limited.host}/{repo_name}"  # through the 429 proxy
    repo = make_gitops(
        tmp_path, image, registries={rate_limited.host: {"username": ALICE[0], "password_env": "REG_PASSWORD"}}
    )
    rate_limited.limited, rate_limited.retry_after = 1, "1"
    r = bump(repo, f"{image}:11.0.0@{pushed.digest}", {**clean_env, "REG_PASSWORD": ALICE[1]}, "--dry-run")
    assert r.exit_code == 0, r.stderr
    assert (
        rate_limited.seen[0][2] == 429 and rate_limited.seen[1][:2] == rate_limited.seen[0][:2]
    )  # the same request, again
    # A wait longer than the gate's deadline is not waited: one 429, then a blocking finding
    # (twice: `blocked` runs the text and the JSON output).
    rate_limited.seen.clear()
    rate_limited.limited, rate_limited.retry_after = 2, "3600"
    f = blocked(
        repo,
        f"{image}:11.0.0@{pushed.digest}",
        {**clean_env, "REG_PASSWORD": ALICE[1]},
        f"registry {rate_limited.host} rate-limited manifest {pushed.digest} (HTTP 429, asked to wait 3600s)",
    )
    assert f["evidence"]["wrong"] == "rate-limited" and "timeout_seconds" in f["help"]
    assert [s[2] for s in rate_limited.seen] == [429, 429]


def test_check_runs_the_gate_only_where_configured(basic_registry: Registry, repo_name: str, tmp_path: Path, clean_env):
    image = f"{basic_registry.host}/{repo_name}"
    repo = make_gitops(tmp_path, image, registries=login(basic_registry))
    git(repo, "checkout", "-q", "-b", "pr")
    (repo / "apps/api/dev/kustomization.yaml").write_text(kustomization(image, "1.0.0", UNKNOWN))
    git(repo, "commit", "-qam", "hand-written")
    env = {**clean_env, "REG_PASSWORD": ALICE[1]}
    default = invoke("check", "--repo", str(repo), "--base", "main", "-o", "json", env=env)
    assert not any(s["id"].startswith("gate/image_exists") for s in json.loads(default.stdout)["subjects"])
    cfg = repo / ".promoter.yaml"
    cfg.write_text(gitops_config(image, gates={"dev": {"image_exists": True}}, registries=login(basic_registry)))
    git(repo, "commit", "-qam", "verify hand-written changes too")
    configured = invoke("check", "--repo", str(repo), "--base", "main", "-o", "json", env=env)
    assert configured.exit_code == 3, (configured.stdout[-3000:], configured.stderr)
    found = json.loads(configured.stdout)["findings"]
    assert any(f["rule"] == "gate-image-exists" and f["evidence"]["wrong"] == "both" for f in found), [
        (f["rule"], f["message"]) for f in found
    ]


@pytest.mark.parametrize("user", [BOB[0]])
def test_the_token_service_gets_the_login_and_the_registry_only_the_token(
    token_registry: Registry, repo_name: str, tmp_path: Path, clean_env, user: str
):
    pushed = token_registry.pusher.index(repo_name, "12.0.0", PLATFORMS)
    image = f"{token_registry.host}/{repo_name}"
    repo = make_gitops(tmp_path, image, registries=login(token_registry))
    before = len(token_registry.tokens.requests)
    r = bump(repo, f"{image}:12.0.0@{pushed.digest}", {**clean_env, "REG_PASSWORD": BOB[1]})
    assert r.exit_code == 0, r.stderr
    [asked] = token_registry.tokens.requests[before:]  # one token for the whole check
    assert asked["authorization"].startswith("Basic ") and asked["query"]["scope"] == [f"repository:{repo_name}:pull"]
