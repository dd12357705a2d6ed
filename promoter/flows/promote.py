"""Promote: carry the exact image (tag and digest) one environment runs, read from Git, to the next one."""

from __future__ import annotations

from pathlib import Path

from promoter.config.model import Config
from promoter.flows import bump
from promoter.history.timeline import current_image
from promoter.model.errors import UsageError
from promoter.publish.flags import PrFlags


def promote(
    repo: Path,
    config: Config,
    app: str,
    from_env: str,
    to_env: str | None,
    *,
    ref: str,
    override_freeze: str | None,
    dry_run: bool,
    pr: PrFlags,
    wait: bool = False,
) -> bump.BumpResult:
    """Set `app` in `to_env` (default: the environment after `from_env`) to what `from_env` runs at `ref`,
    behind the target environment's gates."""
    config.app(app)
    to_env = target_env(config, from_env, to_env)
    state = current_image(repo, config, app, from_env, ref)
    if state is None or not (state.tag or state.digest):
        raise UsageError(f"{app} pins no image in {from_env} at {ref}: nothing to promote")
    return bump.run(
        repo,
        config,
        state.image,
        app=app,
        env=to_env,
        paths=[],
        override_freeze=override_freeze,
        dry_run=dry_run,
        pr=pr,
        wait=wait,
    )


def target_env(config: Config, from_env: str, to_env: str | None) -> str:
    """`to_env`, or the environment after `from_env`; a usage error when it is not later in the order."""
    source = config.env(from_env)
    if to_env is None:
        nxt = config.next_env(from_env)
        if nxt is None:
            raise UsageError(
                f"{from_env} is the last environment: there is nothing after it to promote to (give --to ENV)"
            )
        return nxt.name
    if config.env(to_env).index <= source.index:
        raise UsageError(f"--to {to_env} comes before or is {from_env} in the promotion order; use rollback to go back")
    return to_env
