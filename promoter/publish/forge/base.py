"""The Forge protocol: the few operations publishing a promotion needs from GitHub or GitLab."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from promoter.model.errors import ForgeError

WriteMode = Literal["create", "reset", "append"]


@dataclass
class PullInfo:
    """An open pull request (GitHub) or merge request (GitLab, `number` is the iid)."""

    number: int
    url: str
    title: str
    body: str
    branch: str
    head_sha: str
    node_id: str | None = None
    draft: bool = False


@dataclass
class BranchInfo:
    sha: str
    message: str
    author: str


@dataclass
class PullOptions:
    """Per-environment pull request settings (`environments[].pull_request` in .promoter.yaml)."""

    labels: list[str] = field(default_factory=list)
    reviewers: list[str] = field(default_factory=list)
    team_reviewers: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    draft: bool = False
    auto_merge: bool = False


class StaleHeadError(ForgeError):
    """The branch moved between reading it and writing it: re-read and try again."""


class BranchExistsError(ForgeError):
    """The promotion branch exists though no open pull request uses it."""


class PullExistsError(ForgeError):
    """Another open pull request already uses the promotion branch."""


class Forge(Protocol):
    kind: str  # "github" | "gitlab"
    repository: str
    body_limit: int  # characters a PR/MR description may hold

    def base_head(self, branch: str) -> str:
        """The commit the base branch points at; ForgeError naming the fix when it or the repo is missing."""
        ...

    def branch_info(self, branch: str) -> BranchInfo | None: ...

    def read_file(self, ref: str, path: str) -> str | None:
        """A file's text at a commit, None when absent."""
        ...

    def find_pull(self, branch: str, base: str) -> PullInfo | None: ...

    def write_branch(
        self,
        branch: str,
        parent: str,
        files: dict[str, str],
        message: str,
        *,
        mode: WriteMode,
        expected_head: str | None = None,
    ) -> str:
        """One commit holding `files` on `branch`; returns its sha.

        create: a new branch, commit on `parent` (BranchExistsError when it exists);
        reset: our branch moved to a commit on `parent` (it held only our commits);
        append: a commit on top of `expected_head` (StaleHeadError when the branch moved).
        """
        ...

    def create_pull(self, branch: str, base: str, title: str, body: str, options: PullOptions) -> PullInfo:
        """PullExistsError when another open PR/MR already uses the branch."""
        ...

    def update_pull(self, pull: PullInfo, title: str, body: str) -> PullInfo: ...

    def decorate(self, pull: PullInfo, options: PullOptions) -> list[str]:
        """Labels, reviewers, assignees, auto-merge after creation; returns notes for the report."""
        ...

    def close(self) -> None: ...
