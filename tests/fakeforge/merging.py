"""Merging a pull/merge request the ways the real services do, so the commit on the base branch relates to it as there.

GitHub: `merge` (a merge commit whose second parent is the head), `squash` (one new commit on
the base, the PR's change in it) and `rebase` (each PR commit replayed on the base; the base
moves to the last copy). `merge_commit_sha` is, in each case, the commit the base moved to.

GitLab: a merge commit (`Merge branch 'x' into 'main'`, naming the MR as `group/project!N`),
and with `squash` first a squashed commit on the source's merge base, then the merge commit of
that: `merge_commit_sha` is the merge, `squash_commit_sha` the squashed commit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from .gitstore import IDENTITY
from .server import HttpError, PullRequest, Repo

# The forge's own commits (merges, squashes, a rebase's copies) carry the forge as committer.
FORGE = (IDENTITY["GIT_COMMITTER_NAME"], IDENTITY["GIT_COMMITTER_EMAIL"])

if TYPE_CHECKING:
    from .server import FakeForge

GITHUB_METHODS = ("merge", "squash", "rebase")
GITLAB_METHODS = ("merge", "squash")


def merge(forge: FakeForge, repo: Repo, pr: PullRequest, method: str = "merge", *, gitlab: bool = False) -> str:
    """Merge `pr` into its base by `method`; returns the commit the base branch now points at."""
    store = repo.store
    head = store.branch_sha(pr.head) or pr.head_sha
    base = store.branch_sha(pr.base)
    if base is None or head is None:
        raise HttpError(405, "Pull Request is not mergeable")
    if method not in (GITLAB_METHODS if gitlab else GITHUB_METHODS):
        raise HttpError(422 if not gitlab else 400, f"merge_method {method!r} is not supported")
    own = store.commits_between(base, head)  # the PR's commits, oldest first
    mb = store.merge_base(base, head) or base
    landed: list[str]
    squash: str | None = None
    if gitlab:
        source = head
        if method == "squash":
            tree = store.commit_info(head).tree
            squash = store.commit_tree(tree, [mb], pr.title, (pr.author, f"{pr.author}@users.noreply.fake"), FORGE)
            source = squash
        tree = store.merge_tree(base, source)
        if tree is None:
            raise HttpError(406, "Branch cannot be merged")
        message = (
            f"Merge branch '{pr.head}' into '{pr.base}'\n\n{pr.title}\n\nSee merge request {repo.full_name}!{pr.number}"
        )
        sha = store.commit_tree(tree, [base, source], message)
        landed = [sha] + ([squash] if squash else [])
    elif method == "merge":
        tree = store.merge_tree(base, head)
        if tree is None:
            raise HttpError(405, "Pull Request is not mergeable")
        sha = store.commit_tree(
            tree, [base, head], f"Merge pull request #{pr.number} from {repo.owner}/{pr.head}\n\n{pr.title}"
        )
        landed = [sha]
    elif method == "squash":
        tree = store.merge_tree(base, head)
        if tree is None:
            raise HttpError(405, "Pull Request is not mergeable")
        body = "\n".join(f"* {store.commit_info(c).message.splitlines()[0]}" for c in own)
        sha = store.commit_tree(
            tree, [base], f"{pr.title} (#{pr.number})\n\n{body}", (pr.author, f"{pr.author}@users.noreply.fake"), FORGE
        )
        landed = [sha]
    else:  # rebase: replay each commit; GitHub refuses what does not apply cleanly
        current, landed = base, []
        for c in own:
            info = store.commit_info(c)
            tree = store.pick_tree(current, c)
            if tree is None:
                raise HttpError(405, "This branch can't be rebased")
            current = store.commit_tree(tree, [current], info.message, (info.author_name, info.author_email), FORGE)
            landed.append(current)
        if not landed:
            raise HttpError(422, "No commits to rebase")
        sha = current
    store.update_ref(pr.base, sha, base)
    pr.state, pr.merge_commit, pr.head_sha = "merged", sha, head
    pr.squash_commit, pr.merge_method = squash, method
    pr.source_commits, pr.landed = own, landed
    pr.merged_at = (store.clock() or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if pr.remove_source_branch and store.branch_sha(pr.head) == head:
        store.delete_ref(pr.head)
    return sha


def related(repo: Repo, sha: str, *, gitlab: bool = False) -> list[PullRequest]:
    """The pull/merge requests a commit belongs to, as each forge answers `commits/{sha}/pulls|merge_requests`.

    GitHub: the merged PR that introduced the commit (its merge, squash or rebased commit, or
    one of its own commits). GitLab: the merge requests whose own commits (or squashed commit)
    hold it; a merge commit GitLab wrote belongs to none, so a caller must look further.
    """
    out = []
    for pr in sorted(repo.pulls.values(), key=lambda p: -p.number):
        own = set(pr.source_commits or [])
        if pr.state == "open":
            head = repo.store.branch_sha(pr.head) or pr.head_sha
            base = repo.store.branch_sha(pr.base)
            own = set(repo.store.commits_between(base, head)) if base and head else set()
        theirs = {pr.squash_commit} if gitlab else set(pr.landed or [])
        if sha in own or sha in theirs:
            out.append(pr)
    return out
