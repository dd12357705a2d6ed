"""The Forge protocol: the few operations publishing a promotion needs from GitHub or GitLab."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol
from urllib.parse import quote

from promoter.gates.statuses import CommitCheck
from promoter.model.errors import ForgeError

WriteMode = Literal["create", "reset", "append"]
StatusState = Literal["success", "failure", "pending"]
STATUS_CONTEXT = "promoter/check"  # the commit status branch protection can require


@dataclass(frozen=True)
class TextLimit:
    """How long a description may be, counted in the unit the forge counts, and the margin kept below it."""

    maximum: int
    unit: Literal["characters", "bytes"]
    margin: int = 0

    @property
    def cap(self) -> int:
        return self.maximum - self.margin

    def size(self, text: str) -> int:
        return len(text.encode("utf-8")) if self.unit == "bytes" else len(text)

    def describe(self) -> str:
        return f"{self.maximum:,}-{'byte' if self.unit == 'bytes' else 'character'}"


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
    merged: bool = False
    merge_sha: str | None = None  # the commit the merge put on the base branch (merge, squash or rebase tip)


@dataclass
class BranchInfo:
    sha: str
    message: str
    author: str


@dataclass
class BranchCommit:
    """One commit a branch holds above its base, with both identities git records on it.

    Author and committer differ once a person rewrites a commit (amend, rebase): git keeps the
    author and records the person as committer, which is how promoter tells its own commits apart.
    """

    sha: str
    author: str
    message: str
    author_email: str = ""
    committer: str = ""
    committer_email: str = ""
    verified: bool = False  # signed, and the forge verified the signature


@dataclass
class ChangedFile:
    """One file a branch changes against its merge base, as the forge's compare answer lists it."""

    path: str
    status: str  # added | modified | removed | renamed
    previous_path: str | None = None
    patch: str | None = None  # the unified diff hunks, when the forge includes them
    blob_sha: str | None = None  # git blob id at the head (GitHub), to verify a text rebuilt from the patch


@dataclass
class BranchCompare:
    """What a branch holds above its base: the merge base, the commits (oldest first) and the files."""

    merge_base: str | None
    commits: list[BranchCommit] = field(default_factory=list)
    files: list[ChangedFile] = field(default_factory=list)
    truncated: bool = False  # the forge listed fewer files or commits than there are


@dataclass(frozen=True)
class WebLinks:
    """Addresses a reviewer opens in a browser: the repository, a commit, a compare view, a file line."""

    root: str  # https://github.com/acme/gitops, https://gitlab.com/acme/gitops
    kind: str  # github | gitlab

    @property
    def _dash(self) -> str:
        return "/-" if self.kind == "gitlab" else ""

    def commit(self, sha: str) -> str:
        return f"{self.root}{self._dash}/commit/{sha}"

    def compare(self, base: str, head: str) -> str:
        return f"{self.root}{self._dash}/compare/{base}...{head}"

    def file(self, sha: str, path: str, line: int | None = None) -> str:
        anchor = f"#L{line}" if line else ""
        return f"{self.root}{self._dash}/blob/{sha}/{quote(path)}{anchor}"


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
    body_limit: TextLimit  # what a PR/MR description may hold
    links: WebLinks | None  # None when the repository's web address cannot be known without asking

    def base_head(self, branch: str) -> str:
        """The commit the base branch points at; ForgeError naming the fix when it or the repo is missing."""
        ...

    def branch_info(self, branch: str) -> BranchInfo | None: ...

    def read_file(self, ref: str, path: str) -> str | None:
        """A file's text at a commit, None when absent."""
        ...

    def find_pull(self, branch: str, base: str) -> PullInfo | None: ...

    def merged_pull(self, sha: str, base: str) -> PullInfo | None:
        """The pull/merge request whose merge into `base` made commit `sha` (a merge commit, the
        squashed commit or the tip of a rebase), or None when no merged one did."""
        ...

    def commit_checks(self, sha: str) -> list[CommitCheck]:
        """The newest commit status of every context (and, on GitHub, every check run) on `sha`."""
        ...

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

    def update_pull(self, pull: PullInfo, title: str, body: str, *, draft: bool | None = None) -> PullInfo:
        """New title and description; `draft` True/False turns the PR/MR into a draft or ready (None: as it is)."""
        ...

    def compare(self, base: str, head: str) -> BranchCompare:
        """The commits and files `head` holds above its merge base with `base`."""
        ...

    def set_status(self, sha: str, state: StatusState, description: str, target_url: str | None = None) -> None:
        """The `promoter/check` commit status on `sha`."""
        ...

    def approvers(self, pull: PullInfo) -> list[str]:
        """Who approved the PR/MR as it stands (user names)."""
        ...

    def comment(self, pull: PullInfo, body: str) -> None: ...

    def take_notes(self) -> list[str]:
        """What the forge had to settle for since the last call (a draft it cannot make), for the report."""
        ...

    def decorate(self, pull: PullInfo, options: PullOptions) -> list[str]:
        """Labels, reviewers, assignees, auto-merge after creation; returns notes for the report."""
        ...

    def close(self) -> None: ...
