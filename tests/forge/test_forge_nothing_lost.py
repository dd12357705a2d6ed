"""Nothing lost: promoter never resets a branch over a commit it did not make (issue 11 item 1).

A reviewer works on the promotion branch with real git: a clone of the fake forge's repository,
their own identity, a force-push back to it. Whatever they did to promoter's commit (amend, amend
with --reset-author, an interactive rebase that folds their fix into it) keeps promoter's message
and trailer; the next run must still see the commit as theirs and keep their change.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from forgeworld import DIGEST_B, DIGEST_C, REPO, World, image

from promoter.model.errors import ForgeError
from promoter.publish.publisher import publish_promotion

DEV = "apps/checkout-api/dev/deployment.yaml"
BRANCH = "promoter/dev/checkout-api"
REVIEWER = ("Rita Reviewer", "rita@example.com")
NOTE = "# reviewed: rollout needs the new config map first\n"


def reviewer_git(work: Path, *args: str) -> str:
    """git as the reviewer runs it: their name and email from the configuration, none from the environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_AUTHOR_", "GIT_COMMITTER_"))}
    env |= {"GIT_EDITOR": "true", "GIT_SEQUENCE_EDITOR": "true"}  # accept the todo and messages as they are
    config = ["-c", f"user.name={REVIEWER[0]}", "-c", f"user.email={REVIEWER[1]}", "-c", "commit.gpgsign=false"]
    out = subprocess.run(["git", *config, *args], cwd=work, env=env, check=True, capture_output=True, text=True)
    return out.stdout


def checkout(world: World, tmp_path: Path) -> Path:
    work = tmp_path / "reviewer"
    reviewer_git(tmp_path, "clone", "-q", "--branch", BRANCH, str(world.store.path), str(work))
    return work


def add_note(work: Path) -> None:
    readme = work / "README.md"
    readme.write_text(readme.read_text() + NOTE)


def identities(world: World, ref: str) -> tuple[str, str]:
    return tuple(world.store.git("log", "-1", "--format=%an <%ae>%n%cn <%ce>", ref).splitlines())  # type: ignore[return-value]


def opened(world: World) -> str:
    first = publish_promotion(world.request())
    assert first.operation == "created" and first.number == 1
    return first.head_sha


def promote_again_keeps_the_note(world: World, rewritten: str) -> None:
    second = publish_promotion(world.request(image("1.4.3", DIGEST_B)))
    assert second.operation == "updated" and second.number == 1
    # The reviewer's change is still on the branch, under promoter's new commit; the image is the new one.
    assert world.store.read_file(BRANCH, "README.md").decode().endswith(NOTE)  # type: ignore[union-attr]
    assert world.store.is_ancestor(rewritten, second.head_sha)
    assert "1.4.3" in world.show(BRANCH, DEV)
    body = world.fake.repo(REPO).pulls[1].body
    assert "Others committed to this branch" in body and rewritten[:12] in body


def test_an_amended_promoter_commit_is_the_reviewers(world: World, tmp_path: Path) -> None:
    ours = opened(world)
    work = checkout(world, tmp_path)
    add_note(work)
    reviewer_git(work, "commit", "-q", "-a", "--amend", "--no-edit")
    reviewer_git(work, "push", "-q", "--force", "origin", BRANCH)
    rewritten = world.store.branch_sha(BRANCH)
    assert rewritten and rewritten != ours
    # git kept promoter's author and message; the committer is the reviewer.
    author, committer = identities(world, BRANCH)
    assert "Promoted-by: promoter" in world.store.commit_info(rewritten).message
    assert author.startswith("promoter-bot ") and committer == "Rita Reviewer <rita@example.com>"
    promote_again_keeps_the_note(world, rewritten)


def test_an_amend_with_reset_author_is_the_reviewers(world: World, tmp_path: Path) -> None:
    opened(world)
    work = checkout(world, tmp_path)
    add_note(work)
    reviewer_git(work, "commit", "-q", "-a", "--amend", "--no-edit", "--reset-author")
    reviewer_git(work, "push", "-q", "--force", "origin", BRANCH)
    rewritten = world.store.branch_sha(BRANCH)
    assert rewritten
    # One identity as author and committer, promoter's message: only who wrote it tells it apart.
    author, committer = identities(world, BRANCH)
    assert author == committer == "Rita Reviewer <rita@example.com>"
    assert "Promoted-by: promoter" in world.store.commit_info(rewritten).message
    promote_again_keeps_the_note(world, rewritten)


def test_a_reviewers_rebase_folding_a_fix_into_promoters_commit_is_kept(world: World, tmp_path: Path) -> None:
    ours = opened(world)
    world.fake.push_commit(REPO, "main", {"docs/owners.md": "payments\n"}, "name the owners")
    work = checkout(world, tmp_path)
    add_note(work)
    subject = world.store.commit_info(ours).message.splitlines()[0]
    reviewer_git(work, "commit", "-q", "-a", "-m", f"fixup! {subject}")
    reviewer_git(work, "fetch", "-q", "origin", "main")
    reviewer_git(work, "rebase", "-q", "-i", "--autosquash", "origin/main")
    reviewer_git(work, "push", "-q", "--force", "origin", BRANCH)
    rewritten = world.store.branch_sha(BRANCH)
    assert rewritten
    # One commit on the new main, promoter's author and message, the fix folded in, the reviewer committed it.
    assert world.store.commits_between("main", BRANCH) == [rewritten]
    author, committer = identities(world, BRANCH)
    assert author.startswith("promoter-bot ") and committer == "Rita Reviewer <rita@example.com>"
    promote_again_keeps_the_note(world, rewritten)


def test_a_branch_left_by_a_closed_pr_with_a_reviewers_commit_in_the_middle_is_not_reset(
    world: World, tmp_path: Path
) -> None:
    opened(world)
    work = checkout(world, tmp_path)
    add_note(work)
    reviewer_git(work, "commit", "-q", "-a", "-m", "note the rollout order")
    reviewer_git(work, "push", "-q", "origin", BRANCH)
    theirs = world.store.branch_sha(BRANCH)
    assert theirs
    # promoter appends on top: the head is promoter's again, the reviewer's commit below it.
    second = publish_promotion(world.request(image("1.4.3", DIGEST_B)))
    assert second.operation == "updated" and world.store.commit_info(second.head_sha).parents == [theirs]
    world.fake.repo(REPO).pulls[1].state = "closed"  # closed unmerged; the branch stays

    with pytest.raises(ForgeError) as err:
        publish_promotion(world.request(image("1.4.4", DIGEST_C)))
    message = str(err.value)
    assert f"branch {BRANCH}" in message and f"commit {theirs[:12]} by Rita Reviewer" in message, message
    assert "promoter did not make" in message and "delete that branch" in message
    # Left exactly as it was: no reset, no new pull request.
    assert world.store.branch_sha(BRANCH) == second.head_sha
    assert world.store.read_file(BRANCH, "README.md").decode().endswith(NOTE)  # type: ignore[union-attr]
    assert [p.state for p in world.fake.repo(REPO).pulls.values()] == ["closed"]


def test_a_branch_left_by_a_closed_pr_with_only_promoters_commits_is_adopted(world: World) -> None:
    """The other side of the rule: promoter's own leftovers (appended twice, never touched) are reset."""
    opened(world)
    publish_promotion(world.request(image("1.4.3", DIGEST_B)))
    world.fake.repo(REPO).pulls[1].state = "closed"
    third = publish_promotion(world.request(image("1.4.4", DIGEST_C)))
    assert third.operation == "created" and any("adopted" in n for n in third.notes)
    assert world.store.commits_between("main", BRANCH) == [third.head_sha]
    assert "1.4.4" in world.show(BRANCH, DEV)
