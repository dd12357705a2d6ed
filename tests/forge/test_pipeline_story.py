"""The whole promotion pipeline on the bundled example repository, on both fake forges, the way a team runs it.

build → `bump --pr` into dev → merge → `promote --next` opens stage → CI statuses → merge (another
merge kind) → prod is blocked by soak and by health → time passes and Argo CD reports stage
healthy (while `--wait` polls) → prod opens → merge → `rollback` prod → merge. After every step
the pull request's title, description, marker and branch, and `promoter status`, are checked.
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from fakeforge import FakeForge
from forgeworld import REPO, git, make_repo, registry_gate_off
from pipeline import Pipeline
from prbody import check_markdown, section

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
API = "ghcr.io/acme/checkout-api"
NEW = "sha256:" + "5a" * 32
NEW_IMAGE = f"{API}:1.5.0@{NEW}"
OLD = "sha256:1b7e4f0c2d9a8b6e5f4d3c2b1a09f8e7d6c5b4a3928170605f4e3d2c1b0a9f8e"  # stage and prod run 1.4.1
OVERLAY = "apps/checkout-api/overlays/{env}/kustomization.yaml"
# Monday 2026-03-02: the repository as it is; the story runs Tuesday and Wednesday (no freeze).
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
T1 = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
ARGO_STAGE = "argocd/checkout-api-stage"  # what the example's prod healthy gate names for checkout-api
E2E = "e2e/stage"  # a check run (GitHub) or status (GitLab) the story adds to the gate
BUILT_FROM = "9f" * 20  # the app repository's commit the image was built from


def example_files() -> dict[str, str]:
    files = {p.relative_to(EXAMPLES).as_posix(): p.read_text() for p in EXAMPLES.rglob("*") if p.is_file()}
    config = yaml.safe_load(registry_gate_off(files[".promoter.yaml"]))
    prod = config["environments"][2]
    # The example's own gate (Argo CD's status), plus an end-to-end suite CI reports as a check run.
    assert prod["gates"]["healthy"]["contexts"] == ["argocd/{app}-{previous_env}"]
    prod["gates"]["healthy"]["contexts"].append("e2e/{previous_env}")
    prod["gates"]["healthy"]["interval"] = "1s"
    files[".promoter.yaml"] = yaml.safe_dump(config, sort_keys=False)
    return files


@pytest.fixture(params=["github", "gitlab"])
def pipeline(request: pytest.FixtureRequest, fake: FakeForge, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("GIT_AUTHOR_DATE", T0.isoformat())
    monkeypatch.setenv("GIT_COMMITTER_DATE", T0.isoformat())
    local = make_repo(tmp_path / "local", example_files())
    monkeypatch.delenv("GIT_AUTHOR_DATE")
    monkeypatch.delenv("GIT_COMMITTER_DATE")
    fake.create_repo(REPO, source=local)
    git(local, "remote", "add", "origin", str(fake.repo(REPO).store.path))
    # Merging needs CI green on the head (branch protection's required status checks).
    fake.repo(REPO).required_contexts = ["ci/test"]
    p = Pipeline(fake, request.param, local, monkeypatch)
    p.at(T0)
    return p


def words(p: Pipeline) -> tuple[str, str]:
    return ("pull request", "#") if p.kind == "github" else ("merge request", "!")


def assert_pull(p: Pipeline, number: int, *, title: str, env: str, image: str, branch: str) -> str:
    pr = p.pull_request(number)
    shown = pr.title.removeprefix("Draft: ")
    assert shown == title and not pr.draft, (pr.title, pr.draft)
    assert pr.head == branch and pr.state == "open"
    marker = p.marker(number)
    assert marker["env"] == env and marker["image"] == image and marker["head"] == p.head(number)
    assert check_markdown(pr.body) == []
    assert "Not ready to merge" not in pr.body
    assert p.fake.status_of(REPO, p.head(number), "promoter/check") == "success"
    return pr.body


def test_a_digest_travels_dev_stage_prod_and_back(pipeline: Pipeline) -> None:
    p = pipeline
    word, sign = words(p)
    assert p.status()[("checkout-api", "stage")]["digest"] == OLD
    # Argo CD reported stage healthy when it deployed 1.4.1 (the repository's first commit).
    first = p.pull()
    p.set_status(first, ARGO_STAGE)
    p.check_run(first, E2E)

    # ---- build: bump dev with --pr -------------------------------------------------------------
    p.at(T1)
    build = ("--source-repo", "acme/checkout-api", "--source-commit", BUILT_FROM, "--actor", "dev-alice")
    r = p.promoter(
        "bump", "--app", "checkout-api", "--env", "dev", "--image", NEW_IMAGE, "--pr", *build, *p.forge_flags
    )
    assert r.exit_code == 0, r.stderr
    body = assert_pull(
        p,
        1,
        title="promote checkout-api to dev: 1.5.0 (sha256:5a5a5a…)",
        env="dev",
        image=NEW_IMAGE,
        branch="promoter/dev/checkout-api",
    )
    assert NEW in p.show("promoter/dev/checkout-api", OVERLAY.format(env="dev"))
    assert "checkout-dev" in section(body, "Rendered objects")
    assert p.status()[("checkout-api", "dev")]["tag"] == "1.4.2"  # not merged yet: main is unchanged

    # ---- merge dev (a merge commit on both forges) ----------------------------------------------
    p.set_status(p.head(1), "ci/test")
    p.at(T1 + timedelta(minutes=10))
    dev_merge = p.merge(1, "merge")
    assert p.pull() == dev_merge
    rows = p.status()
    assert (rows[("checkout-api", "dev")]["tag"], rows[("checkout-api", "dev")]["digest"]) == ("1.5.0", NEW)
    assert rows[("checkout-api", "dev")]["commit"] == dev_merge
    assert rows[("checkout-api", "dev")]["since"].startswith("2026-03-03T09:10")
    assert rows[("checkout-api", "stage")]["pending_from"] == "dev"

    # ---- the merge pipeline: promote --next opens stage ----------------------------------------
    p.at(T1 + timedelta(hours=2))
    r = p.promoter("promote", "--next", "--pr", *p.forge_flags)
    assert r.exit_code == 0, r.stderr
    assert f"merged: {word} {sign}1" in r.stderr and "read from its promoter marker" in r.stderr
    body = assert_pull(
        p,
        2,
        title="promote checkout-api to stage: 1.5.0 (sha256:5a5a5a…)",
        env="stage",
        image=NEW_IMAGE,
        branch="promoter/stage/checkout-api",
    )
    # Where the image was built travels with it: read from the dev request's marker.
    provenance = section(body, "Provenance")
    assert "[acme/checkout-api]" in provenance and f"[`{BUILT_FROM[:12]}`]" in provenance and "dev-alice" in provenance
    assert p.marker(2)["apps"][0]["provenance"]["commit"] == BUILT_FROM
    stage_text = p.show("promoter/stage/checkout-api", OVERLAY.format(env="stage"))
    assert NEW in stage_text and 'newTag: "1.5.0" # set by promoter' in stage_text  # byte-exact, comment kept
    gates = section(body, "Gates").replace("\\_", "_")
    assert "promotion_order" in gates and "soak" in gates and "❌" not in gates
    # A second run of the same step changes nothing: the open request already promotes it.
    again = p.promoter("promote", "--next", "--pr", *p.forge_flags, "-o", "json")
    assert again.exit_code == 0 and json.loads(again.stdout)["pull_requests"][0]["operation"] == "none"
    assert len(p.repo.pulls) == 2

    # ---- CI marks the stage request green; merge it squashed -----------------------------------
    p.set_status(p.head(2), "ci/test")
    stage_time = T1 + timedelta(hours=2, minutes=5)
    p.at(stage_time)
    stage_merge = p.merge(2, "squash")
    assert p.pull() == stage_merge
    rows = p.status()
    assert rows[("checkout-api", "stage")]["digest"] == NEW and rows[("checkout-api", "stage")]["commit"] == stage_merge
    assert rows[("checkout-api", "prod")]["pending_from"] == "stage"

    # ---- an hour later: prod is blocked by soak (24h) and by health (no status yet) -----------
    p.at(stage_time + timedelta(hours=1))
    r = p.promoter("promote", "--next", "--pr", *p.forge_flags)
    assert r.exit_code == 3, r.stdout + r.stderr
    assert "gate-soak" in r.stderr and "gate-healthy" in r.stderr and "left out" in r.stderr
    assert f"no status or check run named {ARGO_STAGE}, {E2E}" in r.stderr
    assert len(p.repo.pulls) == 2 and "promoter/prod/checkout-api" not in p.repo.store.branches()
    comment = p.pull_request(2).comments[-1]["body"]
    assert "could not take the next step" in comment and "gate soak" in comment and "gate healthy" in comment
    assert f"promoter promote --next --merged-sha {stage_merge} --pr" in comment
    assert p.status()[("checkout-api", "prod")]["digest"] == OLD

    # ---- a day later, Argo CD reports stage healthy while promoter waits for it -----------------
    p.at(stage_time + timedelta(hours=25))
    p.check_run(stage_merge, E2E)
    # Argo's status arrives while promoter polls: the first read finds none, the next one finds it.
    reads: list[str] = []

    def argo_reports_healthy(_: FakeForge) -> None:
        reads.append("read")
        if len(reads) == 2:
            p.set_status(stage_merge, ARGO_STAGE, "success", "Healthy")

    p.fake.on_request(argo_reports_healthy, pattern=r"/commits/[0-9a-f]{40}/status(es)?$", times=10)
    r = p.promoter("promote", "--next", "--merged-sha", stage_merge, "--wait", "--pr", *p.forge_flags)
    assert r.exit_code == 0, r.stdout + r.stderr
    assert len(reads) == 2  # one poll without it, one sleep (interval 1s), one with it
    body = assert_pull(
        p,
        3,
        title="promote checkout-api to prod: 1.5.0 (sha256:5a5a5a…)",
        env="prod",
        image=NEW_IMAGE,
        branch="promoter/prod/checkout-api",
    )
    pr3 = p.pull_request(3)
    assert pr3.labels == ["promotion", "prod"] and (pr3.reviewers or p.kind == "gitlab")
    gates = section(body, "Gates").replace("\\_", "_")
    assert "healthy" in gates and "soak" in gates and "❌" not in gates
    assert NEW in p.show("promoter/prod/checkout-api", OVERLAY.format(env="prod"))
    assert p.marker(3)["apps"][0]["provenance"]["actor"] == "dev-alice"

    # ---- merge prod (GitHub: rebase; GitLab: a merge commit) ------------------------------------
    p.set_status(p.head(3), "ci/test")
    p.at(stage_time + timedelta(hours=26))
    prod_merge = p.merge(3, "rebase" if p.kind == "github" else "merge")
    assert p.pull() == prod_merge
    rows = p.status()
    assert all(rows[("checkout-api", e)]["digest"] == NEW for e in ("dev", "stage", "prod"))
    assert all(rows[("checkout-api", e)]["pending_from"] is None for e in ("stage", "prod"))
    # The last environment: --next says so, in one line, exit 0.
    r = p.promoter("promote", "--next", "--pr", *p.forge_flags)
    assert r.exit_code == 0, r.stderr
    assert r.stdout.strip().endswith("checkout-api reached prod, the last environment: nothing comes after it")
    assert r.stdout.count("\n") == 1 and r.stderr == ""

    # ---- something is wrong in prod: roll back to what ran before -------------------------------
    r = p.promoter(
        "rollback", "--app", "checkout-api", "--env", "prod", "--image", f"1.4.1@{OLD}", "--pr", *p.forge_flags
    )
    assert r.exit_code == 0, r.stderr
    body = assert_pull(
        p,
        4,
        title="roll back checkout-api in prod to 1.4.1 (sha256:1b7e4f…)",
        env="prod",
        image=f"{API}:1.4.1@{OLD}",
        branch="promoter/prod/checkout-api",
    )
    assert p.marker(4)["apps"][0]["rollback"] is True and "rollback" in p.pull_request(4).labels
    assert "⬅️ rolling back to this" in section(body, "History of `prod` this rollback chose from")
    assert OLD in p.show("promoter/prod/checkout-api", OVERLAY.format(env="prod"))
    p.set_status(p.head(4), "ci/test")
    p.merge(4, "merge")
    p.pull()
    rows = p.status()
    assert rows[("checkout-api", "prod")]["digest"] == OLD and rows[("checkout-api", "prod")]["tag"] == "1.4.1"
    assert rows[("checkout-api", "prod")]["pending_from"] == "stage"
    # A merged rollback is not carried further by --next.
    r = p.promoter("promote", "--next", *p.forge_flags)
    assert r.exit_code == 0 and "rolled back in prod; a rollback is not carried further" in r.stdout
    assert subprocess.run(["git", "status", "--porcelain"], cwd=p.local, capture_output=True, text=True).stdout == ""
