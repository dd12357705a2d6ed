"""`promoter rollback`: return an app in one environment to an earlier image, behind the same gates."""

from __future__ import annotations

from pathlib import Path

import click

from promoter.commands._options import load, promotion_options, repo_options
from promoter.commands._pr import add_pr_options
from promoter.commands._promotion import report
from promoter.publish.flags import PrFlags


@click.command("rollback")
@click.option("--app", required=True, help="App name from .promoter.yaml.")
@click.option("--env", required=True, help="Environment name from .promoter.yaml.")
@click.option(
    "--to",
    "to",
    required=True,
    metavar="IMAGE",
    help="The image to return to: repo:tag@sha256:…, or tag@sha256:… / @sha256:… of the app's repository "
    "(a promotion pull request prints the exact command).",
)
@repo_options
@promotion_options("Roll back")
@add_pr_options
def command(
    app: str,
    env: str,
    to: str,
    repo: Path,
    config_file: Path | None,
    override_freeze: str | None,
    dry_run: bool,
    wait: bool,
    output: str,
    pr: PrFlags,
) -> int:
    """Set APP in ENV back to an earlier image (byte-exact, like bump).

    The no-downgrade gate lets a rollback through and records it; every other gate of ENV
    (digest pinning, promotion order, soak, freeze, registries) still applies. Exit 3 when one
    blocks, with nothing written.
    """
    from promoter.flows.rollback import rollback

    repo, config = load(repo, config_file)
    result = rollback(repo, config, app, env, to, override_freeze=override_freeze, dry_run=dry_run, pr=pr, wait=wait)
    return report(result, output)
