"""`promoter promote`: carry the image an environment runs to the next one, the same tag and digest."""

from __future__ import annotations

from pathlib import Path

import click

from promoter.commands._options import load, promotion_options, repo_options
from promoter.commands.bump import run_bump
from promoter.errors import UsageError
from promoter.prflags import PrFlags, add_pr_options


@click.command("promote")
@click.option("--app", required=True, help="App name from .promoter.yaml.")
@click.option("--from", "from_env", required=True, metavar="ENV", help="Environment whose image is promoted.")
@click.option("--to", "to_env", metavar="ENV", help="Target environment (default: the one after --from).")
@click.option(
    "--ref", default="HEAD", show_default=True, help="Git ref the source environment is read at (the base branch)."
)
@repo_options
@promotion_options("Promote")
@add_pr_options
def command(
    app: str,
    from_env: str,
    to_env: str | None,
    ref: str,
    repo: Path,
    config_file: Path | None,
    override_freeze: str | None,
    dry_run: bool,
    output: str,
    pr: PrFlags,
) -> int:
    """Set APP in the next environment to exactly the image it runs in --from (read from Git at --ref).

    The target environment's gates apply (promotion order, soak, freeze, …): exit 3 when one blocks.
    """
    from promoter.history import current_image

    repo, config = load(repo, config_file)
    config.app(app)
    source = config.env(from_env)
    if to_env is None:
        nxt = config.next_env(from_env)
        if nxt is None:
            raise UsageError(
                f"{from_env} is the last environment: there is nothing after it to promote to (give --to ENV)"
            )
        to_env = nxt.name
    elif config.env(to_env).index <= source.index:
        raise UsageError(f"--to {to_env} comes before or is {from_env} in the promotion order; use rollback to go back")
    state = current_image(repo, config, app, from_env, ref)
    if state is None or not (state.tag or state.digest):
        raise UsageError(f"{app} pins no image in {from_env} at {ref}: nothing to promote")
    return run_bump(
        repo,
        config,
        state.image,
        app=app,
        env=to_env,
        paths=[],
        override_freeze=override_freeze,
        dry_run=dry_run,
        output=output,
        pr=pr,
    )
