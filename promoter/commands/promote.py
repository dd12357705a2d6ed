"""`promoter promote`: carry the image an environment runs to the next one, the same tag and digest."""

from __future__ import annotations

from pathlib import Path

import click

from promoter.commands._options import load, promotion_options, repo_options
from promoter.commands._pr import add_pr_options
from promoter.commands._promotion import report
from promoter.publish.flags import PrFlags


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
    from promoter.flows.promote import promote

    repo, config = load(repo, config_file)
    result = promote(
        repo,
        config,
        app,
        from_env,
        to_env,
        ref=ref,
        override_freeze=override_freeze,
        dry_run=dry_run,
        pr=pr,
    )
    return report(result, output)
