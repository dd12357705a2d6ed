"""`promoter rollback`: return an app in one environment to an earlier image, behind the same gates."""

from __future__ import annotations

from pathlib import Path

import click

from promoter.commands._options import deprecated_alias, load, promotion_options, repo_options
from promoter.commands._pr import add_pr_options
from promoter.commands._promotion import report
from promoter.publish.flags import PrFlags


@click.command("rollback")
@click.option("--app", required=True, help="App name from .promoter.yaml.")
@click.option("--env", required=True, help="Environment name from .promoter.yaml.")
@click.option(
    "--image",
    "image",
    metavar="IMAGE",
    help="The image to return to: repo:tag@sha256:…, or tag@sha256:… / @sha256:… of the app's repository "
    "(a promotion pull request prints the exact command).",
)
@click.option("--tag", help="Tag to pin beside a digest-only --image.")
@deprecated_alias("--to", "image", metavar="IMAGE", new="--image", why="--to names an environment in promote")
@repo_options
@promotion_options("Roll back")
@add_pr_options
def command(
    app: str,
    env: str,
    image: str | None,
    tag: str | None,
    repo: Path,
    config_file: Path | None,
    override_freeze: str | None,
    dry_run: bool,
    wait: bool,
    output: str,
    pr: PrFlags,
) -> int:
    """Set APP in ENV back to an earlier IMAGE (byte-exact, like bump).

    The no-downgrade gate lets a rollback through and records it; every other gate of ENV
    (digest pinning, promotion order, soak, freeze, registries) still applies. Exit 3 when one
    blocks, with nothing written.
    """
    from promoter.flows.rollback import rollback
    from promoter.model.errors import UsageError

    if image is None:
        raise UsageError("say which image to return to: --image IMAGE (repo:tag@sha256:…, tag, or @sha256:…)")
    repo, config = load(repo, config_file)
    result = rollback(
        repo,
        config,
        app,
        env,
        image,
        tag=tag,
        override_freeze=override_freeze,
        dry_run=dry_run,
        pr=pr,
        wait=wait,
    )
    return report(result, output)
