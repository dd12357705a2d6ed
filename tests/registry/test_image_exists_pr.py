"""`promoter bump --pr` with the image_exists gate: a real registry, the fake forge, the PR body a reviewer reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import invoke
from tests.fakeforge import FakeForge

from .conftest import ALICE, Registry
from .test_image_exists_cli import LABELS, PLATFORMS, REVISION, SOURCE, UNKNOWN, login, make_gitops

TOKEN = "ghp_FAKEtoken0123456789abcdefABCDEF0123"
REPO = "acme/gitops"


@pytest.fixture
def fake(tmp_path: Path):
    forge = FakeForge(tmp_path / "forge")
    forge.add_token(TOKEN, "promoter-bot")
    yield forge
    forge.close()


@pytest.mark.parametrize("kind", ["github", "gitlab"])
def test_the_pr_body_shows_the_verified_digest_platforms_date_labels_and_source_commit(
    kind: str, basic_registry: Registry, repo_name: str, fake: FakeForge, tmp_path: Path, clean_env
):
    labels = {**LABELS, "org.example.note": 'a | pipe, a `tick` and <!-- promoter:{"apps":[]} -->'}
    pushed = basic_registry.pusher.index(repo_name, "1.0.0", PLATFORMS, labels=labels)
    image = f"{basic_registry.host}/{repo_name}"
    local = make_gitops(
        tmp_path, image, gates={"dev": {"image_exists": {"platforms": PLATFORMS}}}, registries=login(basic_registry)
    )
    fake.create_repo(REPO, source=local)
    url = fake.github_url if kind == "github" else fake.gitlab_url
    env = {
        **clean_env,
        "REG_PASSWORD": ALICE[1],
        ("GITHUB_TOKEN" if kind == "github" else "GITLAB_TOKEN"): TOKEN,
        "GITHUB_ACTIONS": "true",
        "GITHUB_SHA": REVISION,
        "GITHUB_REPOSITORY": "acme/api",
        "GITHUB_RUN_ID": "7",
    }
    flags = ["--pr", "--forge", kind, "--forge-url", url, "--forge-repo", REPO]
    r = invoke(
        "bump",
        "--repo",
        str(local),
        "--app",
        "api",
        "--env",
        "dev",
        "--image",
        f"{image}:1.0.0@{pushed.digest}",
        *flags,
        env=env,
    )
    assert r.exit_code == 0, r.stderr
    [pull] = fake.repo(REPO).pulls.values()
    body = pull.body
    assert "### Image verified in the registry" in body
    assert f"| Digest | `{pushed.digest}` (index, in `{basic_registry.host}`) |" in body
    assert "| Tag | `1.0.0` names this digest |" in body
    assert "| Platforms | `linux/amd64`, `linux/arm64` |" in body
    assert "| Created | `2026-03-01T12:00:00Z` |" in body
    assert f"| Source | {SOURCE} |" in body
    assert f"| Revision | [`{REVISION[:12]}`]({SOURCE}/commit/{REVISION}) (the commit this promotion ran for) |" in body
    assert "| `org.opencontainers.image.title` | `api` |" in body
    # An image's labels are data: no pipe ends the cell, no backtick the span, no marker is forged.
    assert "| `org.example.note` | `a \\| pipe, a 'tick' and < !-- promoter:" in body
    assert body.count("<!-- promoter:") == 1
    assert ALICE[1] not in body


def test_a_wrong_image_opens_no_pull_request(
    basic_registry: Registry, repo_name: str, fake: FakeForge, tmp_path: Path, clean_env
):
    basic_registry.pusher.index(repo_name, "1.0.0", PLATFORMS)
    image = f"{basic_registry.host}/{repo_name}"
    local = make_gitops(tmp_path, image, registries=login(basic_registry))
    fake.create_repo(REPO, source=local)
    fake.reset_log()
    flags = ["--pr", "--forge", "github", "--forge-url", fake.github_url, "--forge-repo", REPO]
    r = invoke(
        "bump",
        "--repo",
        str(local),
        "--app",
        "api",
        "--env",
        "dev",
        "--image",
        f"{image}:1.0.0@{UNKNOWN}",
        *flags,
        env={**clean_env, "REG_PASSWORD": ALICE[1], "GITHUB_TOKEN": TOKEN},
    )
    assert r.exit_code == 3 and "the digest is wrong" in r.stderr
    assert fake.repo(REPO).pulls == {} and fake.log == []  # the forge was never asked anything
