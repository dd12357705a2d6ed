"""Rollback: return an app in one environment to an earlier image; a bump the no-downgrade gate lets through."""

from __future__ import annotations

import re
from pathlib import Path

from promoter.config.model import Config
from promoter.flows import bump
from promoter.model.commandline import Invocation, workspace_options
from promoter.model.errors import UsageError
from promoter.model.image import DIGEST_ALGORITHMS, ImageRef, try_parse
from promoter.publish.description import HistoryEntry
from promoter.publish.flags import PrFlags

_DIGEST_ALGORITHM = re.compile(rf"^(?:{'|'.join(DIGEST_ALGORITHMS)}):")
_BARE_DIGEST = re.compile(rf"^(?:{'|'.join(DIGEST_ALGORITHMS)}):[0-9a-f]+$")
_HISTORY_MAX = 20  # the last images an environment ran, listed in a rollback pull request


def rollback(
    repo: Path,
    config: Config,
    app: str,
    env: str,
    image: str,
    *,
    tag: str | None = None,
    override_freeze: str | None,
    dry_run: bool,
    pr: PrFlags,
    wait: bool = False,
) -> bump.BumpResult:
    """Set `app` in `env` back to `image`; every gate but no-downgrade still applies (that one records it)."""
    repository = config.app(app).image
    config.env(env)
    try:
        ref = bump.resolve_image(_full(image, repository), tag)
    except UsageError as exc:
        if not exc.message.startswith("invalid image reference"):
            raise
        # Name what the user typed, not the reference it was completed to.
        why = exc.message.split(": ", 1)[-1]
        raise UsageError(f"--image {image!r} is not an image reference: {why}", hint=exc.hint) from None
    invocation = Invocation(
        "rollback",
        (
            ("--app", app),
            ("--env", env),
            ("--image", image),
            *((("--tag", tag),) if tag else ()),
            *workspace_options(repo, config.file),
        ),
    )
    return bump.run(
        repo,
        config,
        ref,
        app=app,
        env=env,
        paths=[],
        override_freeze=override_freeze,
        dry_run=dry_run,
        pr=pr,
        rollback=True,
        invocation=invocation,
        history=_history(repo, config, app, env, ref) if pr.enabled else None,
        wait=wait,
    )


def _history(repo: Path, config: Config, app: str, env: str, chosen: ImageRef) -> list[HistoryEntry]:
    """What `env` ran, newest first, the chosen image marked: the list the rollback pull request shows."""
    from promoter.history.git import GitError
    from promoter.history.timeline import image_history

    try:
        states = image_history(repo, config, app, env)
    except (GitError, UsageError):
        return []  # no history to show (a folder outside git): the rollback itself still goes ahead
    out = []
    for i, s in enumerate(reversed(states[-_HISTORY_MAX:])):
        runs = (s.digest == chosen.digest) if chosen.digest else (s.tag == chosen.tag)
        out.append(
            HistoryEntry(
                label=s.label(),
                image=str(s.image),
                commit=s.commit,
                since=s.time,
                chosen=runs,
                current=i == 0 and s.until is None,
            )
        )
    return out


def _full(given: str, repository: str) -> str:
    """`1.4.1@sha256:…`, `@sha256:…` or `sha256:…` name the app's own repository; a full reference stays as it is."""
    if given.startswith("@"):
        return repository + given
    if _BARE_DIGEST.match(given) or _DIGEST_ALGORITHM.match(given):
        # The digest without its `@`, as `docker inspect` prints it; a malformed one is judged as a
        # digest ("64 hex"), not as a tag named after the algorithm.
        return f"{repository}@{given}"
    ref = try_parse(given)
    if ref is not None and "/" in given:
        return given  # a full reference; bump says so if it is another app's image
    if ref is not None and (ref.tag or ref.digest) and ref.same_repository(repository):
        return given
    return f"{repository}:{given}"
