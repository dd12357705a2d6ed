"""`promote --next` after every kind of merge both forges make, and when there is no pull request to read."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from fakeforge import FakeForge
from forgeworld import REPO, git
from pipeline import D0, NOW, Pipeline, gitops, kustomization

NEW = "sha256:" + "ab" * 32
OTHER = "sha256:" + "cd" * 32
IMAGE = f"ghcr.io/acme/api:1.2.0@{NEW}"
DEV = "apps/api/dev/kustomization.yaml"
STAGE = "apps/api/stage/kustomization.yaml"


def world(fake: FakeForge, tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch) -> Pipeline:
    local = gitops(tmp_path / "local")
    fake.create_repo(REPO, source=local)
    git(local, "remote", "add", "origin", str(fake.repo(REPO).store.path))
    p = Pipeline(fake, kind, local, monkeypatch)
    p.at(NOW)
    return p


def bump_dev(p: Pipeline) -> None:
    r = p.promoter("bump", "--app", "api", "--env", "dev", "--image", IMAGE, "--pr", *p.forge_flags)
    assert r.exit_code == 0, r.stderr


def parents(p: Pipeline, sha: str) -> int:
    return len(git(p.local, "rev-list", "--parents", "-n", "1", sha).split()) - 1


@pytest.mark.parametrize(
    ("kind", "method", "parent_count"),
    [
        ("github", "merge", 2),
        ("github", "squash", 1),
        ("github", "rebase", 1),
        ("gitlab", "merge", 2),
        ("gitlab", "squash", 2),  # GitLab squashes, then merges the squashed commit
    ],
)
def test_next_finds_the_merged_request_whatever_the_merge(
    fake: FakeForge, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, method: str, parent_count: int
) -> None:
    p = world(fake, tmp_path, kind, monkeypatch)
    bump_dev(p)
    sha = p.merge(1, method)
    assert p.pull() == sha and parents(p, sha) == parent_count
    if method == "squash" and kind == "github":
        assert p.repo.pulls[1].merge_commit == sha and "(#1)" in git(p.local, "log", "-1", "--format=%s")
    p.at(NOW + timedelta(hours=2))  # stage's soak: 1h in dev
    r = p.promoter("promote", "--next", "--pr", *p.forge_flags, "-o", "json")
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["merged"]["found_by"] == "marker" and out["merged"]["pull_request"]["number"] == 1
    assert out["merged"]["promotions"] == [{"app": "api", "env": "dev", "image": IMAGE}]
    assert [s["env"] for s in out["promotions"]] == ["stage"] and out["pull_requests"][0]["operation"] == "created"
    pr = p.pull_request(2)
    assert pr.title == "promote api to stage: 1.2.0 (sha256:ababab…)" and pr.head == "promoter/stage/api"
    assert p.marker(2)["image"] == IMAGE
    assert p.show("promoter/stage/api", STAGE) == kustomization("api", "1.2.0", NEW)


def test_git_has_the_last_word_over_the_marker(
    fake: FakeForge, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = world(fake, tmp_path, "github", monkeypatch)
    bump_dev(p)
    # A reviewer fixes the promotion on its branch by hand: another build.
    fake.push_commit(REPO, "promoter/dev/api", {DEV: kustomization("api", "1.2.1", OTHER)}, "use the hotfix build")
    p.merge(1)
    p.pull()
    p.at(NOW + timedelta(hours=2))
    r = p.promoter("promote", "--next", "--pr", *p.forge_flags, "-o", "json")
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["merged"]["promotions"] == [{"app": "api", "env": "dev", "image": f"ghcr.io/acme/api:1.2.1@{OTHER}"}]
    assert any("the merge put 1.2.1@sha256:cdcdcdcdcdcd in dev" in n for n in out["notes"])
    assert p.show("promoter/stage/api", STAGE) == kustomization("api", "1.2.1", OTHER)


def test_without_forge_access_the_diff_says_what_moved(
    fake: FakeForge, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = world(fake, tmp_path, "gitlab", monkeypatch)
    bump_dev(p)
    p.merge(1)
    p.pull()
    p.at(NOW + timedelta(hours=2))
    r = p.promoter("promote", "--next", *p.forge_flags, token=False)
    assert r.exit_code == 0, r.stderr
    assert "read from its diff against the first parent" in r.stderr
    assert "no forge access (no forge token: set GITLAB_TOKEN" in r.stderr
    # No --pr: the next step is written to the checkout, like promote --app.
    assert (p.local / STAGE).read_text() == kustomization("api", "1.2.0", NEW)
    assert git(p.local, "status", "--porcelain").split() == ["M", STAGE]


def test_a_merge_without_a_promotion_is_one_line_exit_0(
    fake: FakeForge, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = world(fake, tmp_path, "github", monkeypatch)
    sha = fake.push_commit(REPO, "main", {"README.md": "# gitops\n"}, "docs")
    p.pull()
    r = p.promoter("promote", "--next", "--pr", *p.forge_flags)
    assert r.exit_code == 0 and r.stderr == ""
    assert r.stdout == f"commit {sha[:12]} promoted nothing: it changes no app's image in any environment\n"
    assert len(p.repo.pulls) == 0


def test_a_hand_written_request_is_read_from_its_diff(
    fake: FakeForge, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = world(fake, tmp_path, "github", monkeypatch)
    fake.push_commit(REPO, "bump-api", {DEV: kustomization("api", "1.2.0", NEW)}, "bump api by hand", start="main")
    p._api("POST", "/pulls", json={"title": "bump api", "head": "bump-api", "base": "main", "body": "by hand"})
    p.merge(1, "squash")
    p.pull()
    p.at(NOW + timedelta(hours=2))
    r = p.promoter("promote", "--next", "--pr", *p.forge_flags, "-o", "json")
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["merged"]["found_by"] == "diff" and out["merged"]["pull_request"]["number"] == 1
    assert "carries no promoter marker" in out["merged"]["notes"][0]
    assert p.pull_request(2).title == "promote api to stage: 1.2.0 (sha256:ababab…)"


def test_blocked_without_pr_reports_and_comments_nothing(
    fake: FakeForge, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = world(fake, tmp_path, "gitlab", monkeypatch)
    bump_dev(p)
    p.merge(1)
    p.pull()
    r = p.promoter("promote", "--next", *p.forge_flags, "-o", "json")  # right after the merge: no soak yet
    assert r.exit_code == 3
    out = json.loads(r.stdout)
    assert out["blocked"] is True and out["commented"] is False
    assert out["left_out"][0]["app"] == "api" and "gate soak" in out["left_out"][0]["why"][0]
    assert p.pull_request(1).comments == [] and git(p.local, "status", "--porcelain") == ""


def test_a_merged_rollback_is_not_carried_to_the_next_environment(
    fake: FakeForge, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = world(fake, tmp_path, "gitlab", monkeypatch)
    r = p.promoter("rollback", "--app", "cart", "--env", "dev", "--image", f"1.0.0@{D0}", "--pr", *p.forge_flags)
    assert r.exit_code == 0, r.stderr
    p.merge(1)
    p.pull()
    r = p.promoter("promote", "--next", "--pr", *p.forge_flags)
    assert r.exit_code == 0 and r.stderr == ""
    assert r.stdout.startswith("merge request !1 (") and r.stdout.count("\n") == 1
    assert "cart: rolled back in dev; a rollback is not carried further" in r.stdout
    assert len(p.repo.pulls) == 1


def test_a_shallow_checkout_is_refused_not_read_as_nothing(
    fake: FakeForge, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = world(fake, tmp_path, "github", monkeypatch)
    bump_dev(p)
    sha = p.merge(1)
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth=1", f"file://{p.repo.store.path}", str(shallow))
    p.local = shallow
    r = p.promoter("promote", "--next", "--pr", *p.forge_flags)
    assert r.exit_code == 2 and r.stdout == ""
    assert f"the checkout is shallow: commit {sha[:12]}'s parent is not in it" in r.stderr
    assert "fetch-depth: 0" in r.stderr and len(p.repo.pulls) == 1
