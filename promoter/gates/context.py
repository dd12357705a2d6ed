"""Context: one promotion being judged (app, environment, image, base branch, clock) and how gates phrase findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from promoter.config.model import Config, Environment
from promoter.gates.statuses import NoForge, StatusReader, Waiting
from promoter.history.timeline import (
    ImageState,
    Timeline,
    app_scopes,
    read_timelines,
)
from promoter.locate.scope import Scope
from promoter.model.commandline import Invocation, Option, bump_invocation, command, workspace_options
from promoter.model.errors import ToolError, UsageError
from promoter.model.finding import (
    Finding,
    Location,
    Severity,
)
from promoter.model.image import ImageRef


@dataclass
class GateContext:
    """One promotion being judged: app, target environment, the new image, the base branch, the clock."""

    repo: Path
    config: Config
    app: str
    env: Environment
    image: ImageRef
    base_ref: str
    now: datetime
    override_freeze: str | None = None
    rollback: bool = False
    timelines: dict[tuple[str, str, str], Timeline] = field(default_factory=dict)
    # The command the user ran (bump, promote, rollback), repeated by hints; None: the bump that
    # makes this promotion (what `check` judges a pull request as).
    invocation: Invocation | None = None
    # Places the planned edit cannot pin the digest at (a Helm block without a digest key), for digest_required.
    unpinned: list[str] = field(default_factory=list)
    # The forge, for gates that read commit statuses (healthy); flows/ fills it in. Without it a
    # gate that needs it fails closed, saying so.
    statuses: StatusReader = field(
        default_factory=lambda: NoForge("no forge access was given to the gates (this command reads no forge)")
    )
    waiting: Waiting = field(default_factory=Waiting)

    def timeline(self, env: str) -> Timeline:
        """The app's files in `env` along the base branch. The first question reads every environment
        of the app in one pass (a gate asks about the previous one, the location about this one)."""
        key = (self.app, env, self.base_ref)
        if key not in self.timelines:
            read_app_timelines(self.repo, self.config, [self.app], self.base_ref, self.timelines, first=env)
        return self.timelines[key]

    def stints(self, env: str) -> list[ImageState]:
        """When `env` ran the promoted image on the base branch, oldest first."""
        return self.timeline(env).stints(self.image)

    def current(self, env: str) -> ImageState | None:
        return self.timeline(env).current()

    @property
    def previous(self) -> Environment | None:
        return self.config.previous_env(self.env.name)

    # ---- hints: whole command lines that work when pasted -------------------------------------
    def _workspace(self) -> list[Option]:
        return workspace_options(self.repo, self.config.file)

    def again(self, *extra: Option) -> str:
        """The command that asked for this promotion, with `extra` options added."""
        inv = self.invocation or bump_invocation(
            self.app, self.env.name, str(self.image), repo=self.repo, config_file=self.config.file
        )
        return inv.line(*extra)

    def bump_command(self, env: str, image: str) -> str:
        """`promoter bump` of this app into `env` with `image`."""
        return command(["bump"], [("--app", self.app), ("--env", env), ("--image", image), *self._workspace()])

    def rollback_command(self, image: str) -> str:
        """`promoter rollback` of this app in the target environment to `image`."""
        return command(
            ["rollback"], [("--app", self.app), ("--env", self.env.name), ("--image", image), *self._workspace()]
        )

    def promote_command(self, from_env: str) -> str:
        """`promoter promote` of this app from `from_env` into the target environment."""
        return command(
            ["promote"], [("--app", self.app), ("--from", from_env), ("--to", self.env.name), *self._workspace()]
        )

    def retry_with(self, image: str) -> str:
        """The same promotion with another image: a rollback stays a rollback, anything else is a bump."""
        if self.rollback:
            return self.rollback_command(image)
        return self.bump_command(self.env.name, image)

    def key(self, gate: str) -> str:
        return f"environments[{self.env.index}].gates.{gate}"

    def subject_id(self, gate: str) -> str:
        return f"gate/{gate}/{self.app}/{self.env.name}"

    def location(self) -> Location | None:
        """Where the target env pins the image on the base branch, for annotations; None when unknown.

        Only a pointer: gates that need no history (digest, registries, freeze) still run
        where Git cannot answer (a folder outside any work tree).
        """
        try:
            cur = self.current(self.env.name)
        except (UsageError, ToolError):
            return None
        return Location(cur.file, cur.line) if cur else None

    def finding(
        self,
        gate: str,
        message: str,
        help: str,
        evidence: dict[str, Any],
        *,
        rule: str | None = None,
        severity: Severity = Severity.ERROR,
    ) -> Finding:
        return Finding(
            rule=rule or f"gate-{gate.replace('_', '-')}",
            severity=severity,
            message=message,
            location=self.location(),
            source="gate",
            subject=self.subject_id(gate),
            target=self.env.name,
            help=help,
            evidence={"gate": gate, "app": self.app, "env": self.env.name, "image": str(self.image), **evidence},
        )


def read_app_timelines(
    repo: Path,
    config: Config,
    apps: list[str],
    base_ref: str,
    into: dict[tuple[str, str, str], Timeline],
    *,
    first: str | None = None,
) -> None:
    """Fill `into` with the apps' timelines in every environment they are deployed to, read in one pass.

    `first` is an environment the caller needs: its scope's error (no path for it there) is raised.
    """
    wanted: dict[tuple[str, str, str], Scope] = {}
    for app in apps:
        for scope in app_scopes(config, app, first):
            assert scope.env is not None
            if (app, scope.env, base_ref) not in into:
                wanted[(app, scope.env, base_ref)] = scope
    if wanted:
        read = read_timelines(repo, wanted.values(), base_ref)
        into.update({key: read[scope] for key, scope in wanted.items()})


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z") if moment else None


def short_sha(sha: str | None) -> str:
    return sha[:12] if sha else "(working tree)"


def when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "?"
