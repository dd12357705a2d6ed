"""Parallel runs for one target, both forges: every run ends created, updated, none or superseded (exit 0),
and the forge ends with one PR whose branch holds the image its marker names.

A race needs real interleaving: each run here has its own client and HTTP connection (threads in
one process; `test_ten_cli_processes_converge` uses ten real `promoter bump --pr` processes), and
pauses before starting over really sleep (briefly), as they do in CI.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from fakeforge import FakeForge
from forgeworld import DEPLOY, REPO, TOKEN, World, git, image, make_repo, registry_gate_off

from promoter.publish.publisher import PromotionResult, publish_promotion
from promoter.publish.pullrequest import parse_marker

DEV = "apps/checkout-api/dev/deployment.yaml"
BRANCH = "promoter/dev/checkout-api"
OLD = "ghcr.io/acme/checkout-api:1.4.1"
ROOT = Path(__file__).resolve().parents[2]
RUNS = 10


def digest(i: int) -> str:
    return "sha256:" + f"{i:02d}" * 32


def run_parallel(world: World, images: list, rounds_seen: list[list[object]]) -> list[object]:
    results: list[object] = [None] * len(images)
    start = threading.Barrier(len(images))

    def run(i: int) -> None:
        # Real, short pauses between attempts: the jitter is what lets collided runs spread out.
        settings = world.settings(sleep=time.sleep, backoff=0.05, max_retries=3)
        start.wait()
        try:
            results[i] = publish_promotion(world.request(images[i], settings=settings))
        except Exception as exc:  # every failure is a finding of this test, whatever its type
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(images))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a run hung"
    rounds_seen.append(results)
    return results


def converged(world: World, results: list[object]) -> str:
    """One open PR, described at its branch's head, whose branch holds the image its marker names."""
    failures = [r for r in results if not isinstance(r, PromotionResult)]
    assert not failures, failures
    ops = [r.operation for r in results if isinstance(r, PromotionResult)]
    assert set(ops) <= {"created", "updated", "none", "superseded"}, ops
    assert {"created", "updated"} & set(ops), ops
    prs = [p for p in world.fake.repo(REPO).pulls.values() if p.state == "open"]
    assert len(prs) == 1, "never a duplicate"
    marker = parse_marker(prs[0].body)
    assert marker is not None
    head = world.store.branch_sha(BRANCH)
    assert marker["head"] == head, "the marker names the branch's head"
    assert world.show(BRANCH, DEV) == DEPLOY.replace(OLD, marker["image"])
    # Every run's report is true of the end state, or says it was superseded by it.
    for r in results:
        assert isinstance(r, PromotionResult)
        if r.operation == "superseded":
            assert r.number == prs[0].number and "parallel run" in (r.reason or "")
    return str(marker["image"])


@pytest.mark.parametrize("rounds", [3])
def test_ten_parallel_runs_with_different_images_converge(world: World, rounds: int) -> None:
    seen: list[list[object]] = []
    for r in range(rounds):
        images = [image(f"2.{r}.{i}", digest(10 * r + i)) for i in range(RUNS)]
        results = run_parallel(world, images, seen)
        winner = converged(world, results)
        # The run whose image won reported the branch's head as its own write.
        head = world.store.branch_sha(BRANCH)
        won = [
            str(img)
            for img, res in zip(images, results, strict=True)
            if isinstance(res, PromotionResult) and res.operation in ("created", "updated") and res.head_sha == head
        ]
        assert won == [winner], (won, winner)


def test_ten_parallel_runs_of_one_image_converge_without_superseding(world: World) -> None:
    seen: list[list[object]] = []
    img = image("3.0.0", digest(99))
    results = run_parallel(world, [img] * RUNS, seen)
    assert converged(world, results) == str(img)
    assert "superseded" not in {r.operation for r in results if isinstance(r, PromotionResult)}


@pytest.mark.parametrize("kind", ["github", "gitlab"])
def test_ten_cli_processes_converge(kind: str, fake: FakeForge, tmp_path: Path) -> None:
    """Ten real `promoter bump --pr` processes for one (app, env), each from its own clone: all exit 0."""
    examples = ROOT / "examples"
    files = {p.relative_to(examples).as_posix(): p.read_text() for p in examples.rglob("*") if p.is_file()}
    files[".promoter.yaml"] = registry_gate_off(files[".promoter.yaml"])
    local = make_repo(tmp_path / "local", files)
    fake.create_repo(REPO, source=local)
    url = fake.github_url if kind == "github" else fake.gitlab_url
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "GH_TOKEN", "GITLAB_TOKEN")}
    env["GITHUB_TOKEN" if kind == "github" else "GITLAB_TOKEN"] = TOKEN
    procs = []
    for i in range(RUNS):
        clone = tmp_path / f"clone{i}"
        git(tmp_path, "clone", "-q", str(local), str(clone))
        args = [
            sys.executable,
            "-m",
            "promoter",
            "bump",
            "--repo",
            str(clone),
            "--app",
            "checkout-api",
            "--env",
            "dev",
            "--image",
            f"ghcr.io/acme/checkout-api:1.6.{i}@{digest(i)}",
            "--pr",
            "--forge",
            kind,
            "--forge-url",
            url,
            "--forge-repo",
            REPO,
            "-o",
            "json",
        ]
        procs.append(subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outcomes = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        assert "Traceback" not in err
        import json

        outcomes.append(json.loads(out)["pull_request"]["operation"])
    assert set(outcomes) <= {"created", "updated", "none", "superseded"}, outcomes
    prs = [p for p in fake.repo(REPO).pulls.values() if p.state == "open"]
    assert len(prs) == 1
    marker = parse_marker(prs[0].body)
    assert marker is not None
    branch = "promoter/dev/checkout-api"
    head = fake.repo(REPO).store.branch_sha(branch)
    assert marker["head"] == head
    overlay = "apps/checkout-api/overlays/dev/kustomization.yaml"
    text = git(fake.repo(REPO).store.path, "show", f"{head}:{overlay}")
    assert str(marker["image"]).split("@")[1] in text


# ---- the races, one at a time ----------------------------------------------------------------------
DESCRIBE = {"github": r"PATCH .*/pulls/1$", "gitlab": r"PUT .*/merge_requests/1$"}


@pytest.mark.parametrize("world", ["github"], indirect=True)
def test_no_commits_between_after_a_parallel_reset_starts_over(world: World) -> None:
    """A parallel run moved the branch back onto the base just before our PR was opened: GitHub answers
    422 "No commits between"; the run starts over instead of failing."""

    def reset_by_another_run(fake: FakeForge) -> None:
        store = fake.repo(REPO).store
        store.update_ref(BRANCH, store.branch_sha("main") or "")

    world.fake.on_request(reset_by_another_run, pattern=r"POST .*/pulls$")
    res = publish_promotion(world.request())
    assert res.operation == "created" and res.attempts == 2
    assert [r.status for r in world.fake.requests(r"POST .*/pulls$")] == [422, 201]
    converged(world, [res])


@pytest.mark.parametrize("world", ["github"], indirect=True)
def test_a_branch_deleted_between_creating_and_committing_starts_over(world: World) -> None:
    world.fake.on_request(lambda fake: fake.repo(REPO).store.delete_ref(BRANCH), pattern=r"POST /api/graphql$")
    res = publish_promotion(world.request())
    assert res.operation == "created" and res.attempts == 2
    converged(world, [res])


@pytest.mark.parametrize("world", ["github"], indirect=True)
def test_moving_a_deleted_branch_is_a_moved_branch(world: World) -> None:
    from promoter.publish.forge import open_forge
    from promoter.publish.forge.base import StaleHeadError

    forge = open_forge(world.settings())
    base = forge.base_head("main")
    with pytest.raises(StaleHeadError, match="deleted while promoter was writing it"):
        forge.write_branch("promoter/gone", base, {"README.md": "x\n"}, "m", mode="reset")
    forge.close()


def test_a_run_whose_app_was_promoted_meanwhile_ends_superseded(world: World) -> None:
    """B writes, C writes, B describes, C describes: B finds the PR consistently described with C's
    newer write of its app, and leaves it: superseded, exit 0, nothing overwritten."""
    first = publish_promotion(world.request(image("1.0.0", digest(1))))
    b_img, c_img = image("1.0.2", digest(2)), image("1.0.3", digest(3))
    c_written, b_described, c_done = threading.Event(), threading.Event(), threading.Event()
    c_result: list[object] = []

    def run_c() -> None:
        try:
            c_result.append(publish_promotion(world.request(c_img, settings=world.settings(sleep=time.sleep))))
        finally:
            c_done.set()

    def c_waits_to_describe(fake: FakeForge) -> None:
        c_written.set()
        b_described.wait(30)

    def b_looks_again(fake: FakeForge) -> None:
        b_described.set()  # B's description is in: let C describe, and wait until it has
        c_done.wait(30)

    def before_b_describes(fake: FakeForge) -> None:
        fake.on_request(c_waits_to_describe, pattern=DESCRIBE[world.kind])
        threading.Thread(target=run_c).start()
        c_written.wait(30)  # C has written the branch over B's write
        fake.on_request(b_looks_again, pattern=r"GET .*/branches/main$")

    world.fake.on_request(before_b_describes, pattern=DESCRIBE[world.kind])
    b = publish_promotion(world.request(b_img))
    c = c_result[0]
    assert isinstance(c, PromotionResult) and c.operation == "updated"
    assert b.operation == "superseded" and b.number == first.number
    assert str(c_img) in (b.reason or "") and "run again" in (b.reason or "")
    assert b.to_text().startswith("operation: superseded: a parallel run promoted checkout-api ")
    assert converged(world, [first, b, c]) == str(c_img)


# ---- a PR adopted after "already exists": described only at the head its branch holds ---------------
CREATE = {"github": r"POST .*/pulls$", "gitlab": r"POST .*/merge_requests$"}
FIND = {"github": r"GET .*/pulls$", "gitlab": r"GET .*/merge_requests$"}


def described_at_its_head(world: World, res: PromotionResult) -> None:
    """What a run reports is true of the forge: the open PR's marker and the run's head are the branch's head."""
    (pr,) = [p for p in world.fake.repo(REPO).pulls.values() if p.state == "open"]
    marker = parse_marker(pr.body)
    assert marker is not None
    head = world.store.branch_sha(BRANCH)
    assert res.operation in ("created", "updated"), res.operation
    assert (res.head_sha, marker["head"]) == (head, head), "success reported, the PR describes a head it does not hold"


def test_an_adopted_pr_whose_branch_moved_while_described_starts_over(world: World) -> None:
    """Our create answers "already exists" (a parallel run's PR, listed too late for our look): promoter
    adopts it and describes it; a commit pushed meanwhile must not be reported as described. Before: the
    adopted PR's update skipped the head check the update path makes, and `updated` was returned."""
    b = publish_promotion(world.request(image("1.0.0", digest(1))))
    pr = world.fake.repo(REPO).pulls[b.number]
    pr.state = "closed"  # not listed when A looks; open again by the time A creates
    world.fake.reset_log()
    world.fake.on_request(lambda fake: setattr(pr, "state", "open"), pattern=CREATE[world.kind])
    pushed: list[str] = []
    world.fake.on_request(
        lambda fake: pushed.append(fake.push_commit(REPO, BRANCH, {"README.md": "c\n"}, "C's commit")),
        pattern=DESCRIBE[world.kind],
    )
    a = publish_promotion(world.request(image("1.0.1", digest(2))))
    assert pushed and [r.status for r in world.fake.requests(CREATE[world.kind])][0] in (409, 422)
    described_at_its_head(world, a)
    assert a.attempts >= 2, "the moved branch was not noticed"


def test_a_lost_create_answer_is_not_adopted_when_the_branch_moved(world: World) -> None:
    """Our create went through, its answer was lost, and a commit landed on the branch before we found the PR:
    its marker names our head, the branch does not. Before: adopted as "created" at our head, the
    branch's head ignored."""
    world.fake.drop_next(CREATE[world.kind], after=True)
    pushed: list[str] = []

    def arm(fake: FakeForge) -> None:
        fake.on_request(
            lambda f: pushed.append(f.push_commit(REPO, BRANCH, {"README.md": "c\n"}, "C's commit")),
            pattern=FIND[world.kind],
        )

    world.fake.on_request(arm, pattern=CREATE[world.kind])
    a = publish_promotion(world.request(image("1.0.1", digest(2))))
    assert pushed, "the commit was not pushed between create and find"
    described_at_its_head(world, a)
