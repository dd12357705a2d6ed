"""Promotions: which (app, environment) images a diff moves, read from Git at the merge base and the working tree."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from promoter.config.model import Config
from promoter.history.git import GitRepo
from promoter.history.timeline import ImageState, app_scopes, read_timelines, working_state
from promoter.locate.scope import Scope, env_scope
from promoter.model.errors import UsageError
from promoter.model.image import ImageRef


@dataclass(frozen=True)
class Promotion:
    """One image a change brings into one app's environment."""

    app: str
    env: str
    image: ImageRef


@dataclass
class DiffPromotions:
    promotions: list[Promotion] = field(default_factory=list)
    unreadable: list[tuple[str, str, str]] = field(default_factory=list)  # (app, env, why)


def promotions_in_diff(
    repo: Path,
    config: Config,
    base_ref: str,
    *,
    changed: list[str] | None = None,
    merge_base: str | None = None,
    envs: list[str] | None = None,
) -> DiffPromotions:
    """Every (app, env) whose pinned image differs between the merge base with `base_ref` and the
    working tree, with each new (tag, digest) it pins. `envs` limits the environments looked at.

    A caller that has already read the diff passes `changed` (repo-relative paths) and `merge_base`.
    """
    if changed is None or merge_base is None:
        g = GitRepo.open(repo)
        merge_base = g.merge_base(base_ref)
        changed = [p for d in g.changed_files(base_ref, merge_base=merge_base) for p in d.paths]
    return _moved(repo, config, changed, merge_base, None, envs)


def promotions_between(repo: Path, config: Config, before: str, after: str) -> DiffPromotions:
    """Every (app, env) whose pinned image differs between commits `before` and `after` (a merge
    and its first parent: what the merge brought to the base branch), with each new image."""
    g = GitRepo.open(repo)
    before, after = g.resolve(before), g.resolve(after)
    changed = [p for d in g.changed_between(before, after) for p in d.paths]
    return _moved(repo, config, changed, before, after, None)


def _moved(
    repo: Path, config: Config, changed: list[str], before: str, after: str | None, envs: list[str] | None
) -> DiffPromotions:
    """The (app, env) images that differ between commit `before` and `after` (None: the working tree)."""
    out = DiffPromotions()
    touched: list[tuple[str, str, Scope]] = []
    for app in sorted(config.apps):
        for environment in config.environments:
            if envs is not None and environment.name not in envs:
                continue
            try:
                scope = env_scope(config, app, environment.name)
            except UsageError:
                continue  # the app is not deployed to this env (no path configured for it)
            if any(scope.contains(p) for p in changed):
                touched.append((app, environment.name, scope))
    # One read of history per commit, of every environment of the apps the diff touches (the gates
    # then ask about the others, on the same commit when the pull request forked from the tip).
    scopes = [s for app in dict.fromkeys(a for a, _, _ in touched) for s in app_scopes(config, app, None)]
    later = read_timelines(repo, scopes, after) if touched and after is not None else {}
    moved: list[tuple[str, str, Scope, ImageState]] = []
    for app, env, scope in touched:
        try:
            now = working_state(repo, scope) if after is None else later[scope].current()
        except UsageError as exc:
            out.unreadable.append((app, env, str(exc)))
            continue
        if now is None:
            continue  # the app left this env: nothing is promoted
        moved.append((app, env, scope, now))
    timelines = read_timelines(repo, scopes, before) if moved else {}
    for app, env, scope, now in moved:
        then = timelines[scope].current()
        old = {(p.tag, p.digest) for p in then.pins} if then else set()
        new = list(
            dict.fromkeys((p.tag, p.digest) for p in now.pins if (p.tag or p.digest) and (p.tag, p.digest) not in old)
        )
        for tag, digest in new:
            out.promotions.append(Promotion(app, env, scope.repository.with_(tag=tag, digest=digest)))
    return out
