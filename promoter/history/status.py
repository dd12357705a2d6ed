"""Status: what image each app runs in each environment, read from Git (never from a cluster)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from promoter.config.model import Config
from promoter.history.git import GitRepo
from promoter.history.pincache import PinCache
from promoter.history.timeline import ImageState, read_timelines, working_state
from promoter.locate.scope import Scope, env_scope
from promoter.model.commandline import command, workspace_options
from promoter.model.errors import PromoterError, UsageError


@dataclass
class EnvStatus:
    app: str
    env: str
    tag: str | None = None
    digest: str | None = None
    file: str | None = None
    line: int | None = None
    commit: str | None = None
    since: datetime | None = None
    behind: str | None = None  # the previous environment runs something else: a promotion is pending
    error: str | None = None
    absent: bool = False  # the app has no place in this environment (no path, no target)

    def to_dict(self) -> dict[str, Any]:
        return {
            "app": self.app,
            "env": self.env,
            "tag": self.tag,
            "digest": self.digest,
            "file": self.file,
            "line": self.line,
            "commit": self.commit,
            "since": self.since.isoformat() if self.since else None,
            "pending_from": self.behind,
            "error": self.error,
            "configured": not self.absent,
        }


def status(
    repo: Path,
    config: Config,
    *,
    apps: list[str] | None = None,
    envs: list[str] | None = None,
    ref: str | None = "HEAD",
) -> list[EnvStatus]:
    """One row per (app, environment): the pinned tag and digest, and the commit that put them there.

    `ref=None` reads the working tree (no commit information). A row whose environment differs from
    the previous environment's image names that environment in `behind`.

    History is read in one pass for every row (one `git log`, one `git cat-file`), and what each
    file version pins is kept in the repository's pin cache, so a second run parses only what
    changed since.
    """
    if config.file is None:
        raise UsageError(
            f"status needs a .promoter.yaml in {repo}: {command(['init'], workspace_options(repo))} proposes one"
        )
    names = apps or sorted(config.apps)
    for a in names:
        config.app(a)
    for e in envs or []:
        config.env(e)
    if ref is not None:
        # Fatal for every row alike: say so once, as an error, not as a note in each row.
        try:
            git = GitRepo.open(repo)
        except UsageError as exc:
            reads = command(["status", "--ref", "-"], workspace_options(repo, config.file))
            raise UsageError(
                f"{exc.message}: status reads history from Git; {reads} reads the working tree", hint=exc.hint
            ) from None
        git.resolve(ref, what="--ref")
    states = _states(repo, config, names, ref)
    rows: list[EnvStatus] = []
    for app in names:
        previous: EnvStatus | None = None
        for env in config.environments:
            row = EnvStatus(app=app, env=env.name)
            spec = config.apps[app]
            if env.name not in spec.targets and spec.location(env.name, config.default_path) is None:
                # Not every app runs in every environment: nothing to read, nothing wrong.
                row.absent = True
                if not envs or env.name in envs:
                    rows.append(row)
                continue
            state = states[(app, env.name)]
            if isinstance(state, PromoterError):
                row.error = state.message
                state = None
            if state is not None:
                row.tag, row.digest, row.file, row.line = state.tag, state.digest, state.file, state.line
                row.commit, row.since = state.commit, state.time
            if (
                previous is not None
                and (previous.tag, previous.digest) != (row.tag, row.digest)
                and (previous.tag or previous.digest)
            ):
                row.behind = previous.env
            previous = row
            if not envs or env.name in envs:
                rows.append(row)
    return rows


def _states(
    repo: Path, config: Config, apps: list[str], ref: str | None
) -> dict[tuple[str, str], ImageState | PromoterError | None]:
    """Each (app, env)'s current state, or the error that kept it from being read (its row shows it)."""
    out: dict[tuple[str, str], ImageState | PromoterError | None] = {}
    scopes: dict[tuple[str, str], Scope] = {}
    for app in apps:
        for env in config.environments:
            try:
                scopes[(app, env.name)] = env_scope(config, app, env.name)
            except PromoterError as exc:
                out[(app, env.name)] = exc
    cache = _cache(repo)
    try:
        if ref is None:
            for key, scope in scopes.items():
                try:
                    out[key] = working_state(repo, scope, cache=cache)
                except PromoterError as exc:
                    out[key] = exc
        else:
            try:
                timelines = read_timelines(repo, scopes.values(), ref, cache=cache)
            except PromoterError as exc:  # no repository, no such ref: every row says so
                out.update(dict.fromkeys(scopes, exc))
            else:
                for key, scope in scopes.items():
                    try:
                        out[key] = timelines[scope].current()
                    except PromoterError as exc:
                        out[key] = exc
    finally:
        if cache is not None:
            cache.save()
    return out


def _cache(repo: Path) -> PinCache | None:
    try:
        return PinCache.open(GitRepo.open(repo))
    except PromoterError:
        return None  # not a git work tree (the working tree can still be read)
