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
    out = DiffPromotions()
    if changed is None or merge_base is None:
        g = GitRepo.open(repo)
        merge_base = g.merge_base(base_ref)
        changed = [p for d in g.changed_files(base_ref, merge_base=merge_base) for p in d.paths]
    moved: list[tuple[str, str, Scope, ImageState]] = []
    for app in sorted(config.apps):
        for environment in config.environments:
            if envs is not None and environment.name not in envs:
                continue
            try:
                scope = env_scope(config, app, environment.name)
            except UsageError:
                continue  # the app is not deployed to this env (no path configured for it)
            if not any(scope.contains(p) for p in changed):
                continue
            try:
                after = working_state(repo, scope)
            except UsageError as exc:
                out.unreadable.append((app, environment.name, str(exc)))
                continue
            if after is None:
                continue  # the app left this env: nothing is promoted
            moved.append((app, environment.name, scope, after))
    # What the merge base pinned, for every environment the diff moves: one read of history, of every
    # environment of those apps (the gates then ask about the others, on the same commit when the
    # pull request forked from the base branch's tip).
    scopes = [s for app in dict.fromkeys(a for a, _, _, _ in moved) for s in app_scopes(config, app, None)]
    timelines = read_timelines(repo, scopes, merge_base) if moved else {}
    for app, env, scope, after in moved:
        before = timelines[scope].current()
        old = {(p.tag, p.digest) for p in before.pins} if before else set()
        new = list(
            dict.fromkeys((p.tag, p.digest) for p in after.pins if (p.tag or p.digest) and (p.tag, p.digest) not in old)
        )
        for tag, digest in new:
            out.promotions.append(Promotion(app, env, scope.repository.with_(tag=tag, digest=digest)))
    return out
