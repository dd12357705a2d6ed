"""Which pull/merge request a commit on the base branch merged, through the real clients, for each merge kind."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from fakeforge import FakeForge
from forgeworld import FILES, REPO, TOKEN, World, git, make_repo

from promoter.publish.forge import open_forge
from promoter.publish.redact import Redactor

DEPLOY_PATH = "apps/checkout-api/dev/deployment.yaml"


def open_pr(world: World, branch: str, commits: int = 1) -> int:
    for i in range(commits):
        text = FILES[DEPLOY_PATH].replace("1.4.1", f"1.5.{i}")
        world.fake.push_commit(REPO, branch, {DEPLOY_PATH: text}, f"step {i}", start="main")
    if world.kind == "github":
        r = requests.post(
            f"{world.fake.github_url}/repos/{REPO}/pulls",
            json={"title": "promote", "head": branch, "base": "main", "body": '<!-- promoter:{"apps":[]} -->'},
            headers={"Authorization": f"token {TOKEN}"},
            timeout=10,
        )
        return int(r.json()["number"])
    r = requests.post(
        f"{world.fake.gitlab_url}/api/v4/projects/{REPO.replace('/', '%2F')}/merge_requests",
        json={"source_branch": branch, "target_branch": "main", "title": "promote", "description": "mr"},
        headers={"PRIVATE-TOKEN": TOKEN},
        timeout=10,
    )
    return int(r.json()["iid"])


@pytest.mark.parametrize("method", ["merge", "squash", "rebase"])
def test_the_merged_request_is_found_by_the_commit_the_base_moved_to(world: World, method: str) -> None:
    if world.kind == "gitlab" and method == "rebase":
        method = "merge"  # GitLab: merge commits (with or without squash) are what it writes here
    n = open_pr(world, "promoter/dev/checkout-api", commits=2)
    sha = world.fake.merge_pull(REPO, n, method, gitlab=world.kind == "gitlab")
    pr = world.fake.repo(REPO).pulls[n]
    forge = open_forge(world.settings(), Redactor(TOKEN))
    try:
        found = forge.merged_pull(sha, "main")
        assert found is not None and found.number == n and found.merged and found.merge_sha == sha
        assert found.body == pr.body
        # Not merged into another branch; not a commit no request merged.
        assert forge.merged_pull(sha, "release") is None
        direct = world.fake.push_commit(REPO, "main", {"README.md": "# direct\n"}, "direct push")
        assert forge.merged_pull(direct, "main") is None
    finally:
        forge.close()
    if world.kind == "github" and method == "rebase":
        # Both commits were replayed on main; the base moved to the second copy.
        assert git(world.store.path, "log", "--format=%s", "-3", sha).splitlines() == ["step 1", "step 0", "initial"]


def test_gitlab_looks_further_when_the_commit_belongs_to_no_request(fake: FakeForge, tmp_path: Path) -> None:
    """GitLab's commits/:sha/merge_requests answers with the requests that introduced a commit, not with
    the one whose merge commit it is: the recently merged requests of the branch are read next."""
    local = make_repo(tmp_path / "local", FILES)
    fake.create_repo(REPO, source=local)
    world = World(fake, local, "gitlab")
    n = open_pr(world, "feature")
    sha = world.fake.merge_pull(REPO, n, "squash", gitlab=True)
    world.fake.reset_log()
    forge = open_forge(world.settings(), Redactor(TOKEN))
    try:
        assert forge.merged_pull(sha, "main").number == n  # type: ignore[union-attr]
        asked = [f"{r.method} {r.path.split('gitops', 1)[1]}" for r in world.fake.log]
        assert asked == [f"GET /repository/commits/{sha}/merge_requests", "GET /merge_requests"]
        squash = world.fake.repo(REPO).pulls[n].squash_commit
        assert squash is not None and forge.merged_pull(squash, "main").number == n  # type: ignore[union-attr]
    finally:
        forge.close()
