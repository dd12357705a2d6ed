"""`promote --all`: a release train of three apps, one blocked by its gate, on both fake forges and without one."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from fakeforge import FakeForge
from forgeworld import REPO, git, invoke
from pipeline import D0, DIGESTS, NOW, T1_WEB, Pipeline, gitops, kustomization
from prbody import check_markdown, section


def world(fake: FakeForge, tmp_path: Path, kind: str, group: str, monkeypatch: pytest.MonkeyPatch) -> Pipeline:
    local = gitops(tmp_path / "local", group)
    fake.create_repo(REPO, source=local)
    git(local, "remote", "add", "origin", str(fake.repo(REPO).store.path))
    p = Pipeline(fake, kind, local, monkeypatch)
    p.at(NOW)
    return p


@pytest.mark.parametrize("kind", ["github", "gitlab"])
def test_a_train_of_three_carries_two_and_lists_the_blocked_one(
    fake: FakeForge, tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = world(fake, tmp_path, kind, "environment", monkeypatch)
    r = p.promoter("promote", "--all", "--from", "dev", "--pr", *p.forge_flags, "-o", "json")
    assert r.exit_code == 3, r.stderr  # something was left out
    out = json.loads(r.stdout)
    assert [s["app"] for s in out["promotions"]] == ["api", "cart", "web"]
    assert [s["app"] for s in out["left_out"]] == ["web"] and "gate soak" in out["left_out"][0]["why"][0]
    pulls = out["pull_requests"]
    assert [pr["operation"] for pr in pulls] == ["created", "updated"]  # one train, two apps on it
    assert {pr["number"] for pr in pulls} == {1} and pulls[0]["branch"] == "promoter/stage"
    # One pull request for the environment, carrying api and cart, listing web and why.
    assert len(p.repo.pulls) == 1
    pr = p.pull_request(1)
    assert pr.title.removeprefix("Draft: ") == "promote 2 apps to stage: api 1.1.0, cart 2.1.0"
    assert pr.labels == ["release-train"] and not pr.draft
    assert check_markdown(pr.body) == []
    left = section(pr.body, "Left out of this train (1)")
    assert "| web |" in left and "3.1.0@sha256:e3e3e3e3e3e3" in left
    assert "has run in dev for 20m" in left and "wait until 2026-03-03 10:50 UTC" in left
    # The way forward is a command for a reviewer at the repository's root: no CI runner's checkout path.
    assert "promoter " in left and "--repo" not in left and str(tmp_path) not in left, left
    marker = p.marker(1)
    assert marker["env"] == "stage" and sorted(a["app"] for a in marker["apps"]) == ["api", "cart"]
    for app in ("api", "cart"):
        assert DIGESTS[app] in p.show("promoter/stage", f"apps/{app}/stage/kustomization.yaml")
    assert D0 in p.show("promoter/stage", "apps/web/stage/kustomization.yaml")
    assert p.fake.status_of(REPO, p.head(1), "promoter/check") == "success"

    # Later web has soaked too: the next run adds it to the same train, and nothing is left out.
    p.at(T1_WEB + timedelta(hours=1))
    r = p.promoter("promote", "--all", "--from", "dev", "--pr", *p.forge_flags, "-o", "json")
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["left_out"] == [] and [pr["operation"] for pr in out["pull_requests"]] == ["none", "none", "updated"]
    pr = p.pull_request(1)
    assert pr.title.removeprefix("Draft: ") == "promote 3 apps to stage: api 1.1.0, cart 2.1.0, web 3.1.0"
    assert "Left out of this train" not in pr.body
    assert DIGESTS["web"] in p.show("promoter/stage", "apps/web/stage/kustomization.yaml")

    # Merged: status shows the train arrived, and what remains pending.
    p.set_status(p.head(1), "ci/test")
    p.merge(1)
    p.pull()
    rows = p.status()
    for app in DIGESTS:
        assert rows[(app, "stage")]["digest"] == DIGESTS[app] and rows[(app, "stage")]["pending_from"] is None
        assert rows[(app, "prod")]["pending_from"] == "stage"


def test_one_pull_request_per_app_when_the_environment_says_so(
    fake: FakeForge, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = world(fake, tmp_path, "github", "app", monkeypatch)
    r = p.promoter("promote", "--all", "--from", "dev", "--pr", *p.forge_flags)
    assert r.exit_code == 3
    assert "web: dev -> stage 3.1.0@sha256:e3e3e3e3e3e3: blocked, left out" in r.stderr
    assert "gate-soak" in r.stderr and "2 app(s) promoted; left out 1: web" in r.stderr
    titles = sorted(pr.title for pr in p.repo.pulls.values())
    assert titles == ["promote api to stage: 1.1.0 (sha256:a1a1a1…)", "promote cart to stage: 2.1.0 (sha256:c2c2c2…)"]
    assert {pr.head for pr in p.repo.pulls.values()} == {"promoter/stage/api", "promoter/stage/cart"}
    assert all("Left out" not in pr.body for pr in p.repo.pulls.values())


def test_without_a_forge_the_train_is_written_to_the_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = gitops(tmp_path / "gitops", "environment")
    monkeypatch.setattr("promoter.gates.engine.utcnow", lambda: NOW)
    dry = invoke("promote", "--all", "--from", "dev", "--repo", str(repo), "--dry-run")
    assert dry.exit_code == 3 and git(repo, "status", "--porcelain") == ""
    assert dry.stdout.count("+++ b/apps/") == 2
    r = invoke("promote", "--all", "--from", "dev", "--repo", str(repo))
    assert r.exit_code == 3, r.stderr
    changed = sorted(line.split()[-1] for line in git(repo, "status", "--porcelain").splitlines())
    assert changed == ["apps/api/stage/kustomization.yaml", "apps/cart/stage/kustomization.yaml"]
    assert (repo / "apps/api/stage/kustomization.yaml").read_text() == kustomization("api", "1.1.0", DIGESTS["api"])
    # Nothing lags any more except web; prod lags stage only after a merge.
    git(repo, "commit", "-qam", "train")
    again = invoke("promote", "--all", "--from", "dev", "--repo", str(repo), "-o", "json")
    out = json.loads(again.stdout)
    assert [s["app"] for s in out["promotions"]] == ["web"] and out["blocked"] is True
    assert sorted(out["skipped"]) == [
        "api: stage already runs 1.1.0@sha256:a1a1a1a1a1a1",
        "cart: stage already runs 2.1.0@sha256:c2c2c2c2c2c2",
    ]
    none = invoke("promote", "--all", "--from", "stage", "--to", "prod", "--repo", str(repo), "-o", "json")
    assert none.exit_code == 0 and json.loads(none.stdout)["promotions"][0]["app"] == "api"


@pytest.mark.parametrize(
    ("args", "want"),
    [
        (["--all"], "--all needs --from ENV"),
        (["--all", "--app", "api", "--from", "dev"], "give --app APP or --all, not both"),
        ([], "give --app APP, --all (every app that lags) or --next (after a merge)"),
        (["--next", "--from", "dev"], "--next reads the apps and environments from the merge: it takes no --from"),
        (["--app", "api", "--from", "dev", "--merged-sha", "abc"], "--merged-sha goes with --next"),
        (["--all", "--from", "prod"], "prod is the last environment"),
        (["--next", "--merged-sha", "nope"], "--merged-sha nope: no such commit"),
    ],
)
def test_promote_forms_refuse_what_they_do_not_take(tmp_path: Path, args: list[str], want: str) -> None:
    repo = gitops(tmp_path / "gitops", "environment")
    r = invoke("promote", "--repo", str(repo), *args)
    assert r.exit_code == 2 and want in r.stderr and r.stderr.count("\n") == 1, r.stderr
