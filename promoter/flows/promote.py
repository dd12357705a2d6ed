"""Promote: carry the exact image (tag and digest) one environment runs, read from Git, to the next one."""

from __future__ import annotations

from pathlib import Path

from promoter.config.model import Config
from promoter.flows import bump
from promoter.history.git import GitRepo
from promoter.history.timeline import current_image
from promoter.model.commandline import Invocation, command, workspace_options
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
    source = config.env(from_env)
    workspace = workspace_options(repo, config.file)
    if to_env is None:
        nxt = config.next_env(from_env)
        if nxt is None:
            before = config.previous_env(from_env)
            how = (
                f"; to promote into {from_env}: {command(['promote'], [('--app', app), ('--from', before.name), *workspace])}"
                if before is not None
                else ""
            )
            raise UsageError(f"{from_env} is the last environment: there is nothing after it to promote to{how}")
        to_env = nxt.name
    target = config.env(to_env)
    # The ref is the user's: a bad one is named by its own flag, before any history is read.
    GitRepo.open(repo).resolve(ref, what="--ref")
    state = current_image(repo, config, app, from_env, ref)
    if target.index <= source.index:
        how = ""
        if state is not None and (state.tag or state.digest):
            rollback = command(
                ["rollback"], [("--app", app), ("--env", to_env), ("--image", str(state.image)), *workspace]
            )
            how = f"; to set {to_env} to what {from_env} runs, roll it back: {rollback}"
        raise UsageError(f"--to {to_env} comes before or is {from_env} in the promotion order{how}")
    if state is None or not (state.tag or state.digest):
        raise UsageError(f"{app} pins no image in {from_env} at {ref}: nothing to promote")
    options = [("--app", app), ("--from", from_env), ("--to", to_env)]
    if ref != "HEAD":
        options.append(("--ref", ref))
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
        invocation=Invocation("promote", (*options, *workspace)),
        wait=wait,
    )


def target_env(config: Config, from_env: str, to_env: str | None, hint: list[tuple[str, str | None]]) -> str:
    """`to_env`, or the environment after `from_env`; a usage error when it is not later in the order.

    `hint` is the rest of the command the user ran (promote --all), repeated in the way forward."""
    source = config.env(from_env)
    if to_env is None:
        nxt = config.next_env(from_env)
        if nxt is None:
            before = config.previous_env(from_env)
            how = (
                f"; to promote into {from_env}: {command(['promote'], [('--all', None), ('--from', before.name), *hint])}"
                if before is not None
                else ""
            )
            raise UsageError(f"{from_env} is the last environment: there is nothing after it to promote to{how}")
        return nxt.name
    if config.env(to_env).index <= source.index:
        raise UsageError(
            f"--to {to_env} comes before or is {from_env} in the promotion order: a release train only moves "
            "forward (promoter rollback sets one app back)"
        )
    return to_env
