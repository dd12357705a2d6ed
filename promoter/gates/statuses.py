"""Statuses: what a gate may ask a forge, the commit statuses and check runs on a commit, as a small protocol.

Gates sit below `publish/` and may not import the forge clients. `flows/` hands a gate an
object answering `StatusReader` (built on the forge of `publish/forge/`), or one that explains
why there is none; a gate never opens a forge itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

from promoter.model.errors import UsageError

CheckState = Literal["success", "pending", "failure"]


@dataclass(frozen=True)
class CommitCheck:
    """One word about a commit: a commit status (GitHub, GitLab) or a check run (GitHub), newest per name."""

    name: str  # the status context (GitHub), the status name (GitLab), the check run's name
    state: CheckState  # what it means for a gate
    kind: str  # "status" | "check run"
    raw: str  # the forge's own word: success, failed, queued, in_progress, neutral, …
    description: str | None = None
    url: str | None = None


class StatusReader(Protocol):
    """The commit statuses and check runs of one repository on the forge."""

    @property
    def kind(self) -> str:
        """github | gitlab (none: no forge)"""
        ...

    def commit_checks(self, sha: str) -> list[CommitCheck]:
        """The newest word of every status context and check run on commit `sha`.

        Raises a PromoterError (ForgeError, UsageError) when the forge cannot be read.
        """
        ...


@dataclass
class NoForge:
    """The reader a gate gets when no forge can be reached: every question answers why."""

    reason: str
    kind: str = "none"

    def commit_checks(self, sha: str) -> list[CommitCheck]:
        raise UsageError(self.reason)


@dataclass
class Waiting:
    """--wait: a gate that reads the forge may poll until its own timeout; clock and sleep are injectable.

    One run shares one deadline: promoting ten apps whose health is pending waits at most one
    timeout in all, not ten.
    """

    enabled: bool = False
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    deadline: float | None = None

    def until(self, seconds: float) -> float:
        """When a wait of `seconds` starting now must end: never later than the run's first wait."""
        end = self.clock() + seconds
        self.deadline = end if self.deadline is None else min(self.deadline, end)
        return self.deadline
