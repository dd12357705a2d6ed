"""`promoter rollback`: return an app in one environment to an earlier image, behind the same gates."""

from __future__ import annotations

from pathlib import Path

import click

from promoter.commands._options import load, promotion_options, repo_options
from promoter.commands.bump import run_bump
from promoter.prflags import PrFlags, add_pr_options


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
    output: str,
    pr: PrFlags,
) -> int:
    """Set APP in ENV back to an earlier image (byte-exact, like bump).

    The no-downgrade gate lets a rollback through and records it; every other gate of ENV
    (digest pinning, promotion order, soak, freeze, registries) still applies. Exit 3 when one
    blocks, with nothing written.
    """
    from promoter.bump import resolve_image

    repo, config = load(repo, config_file)
    image = config.app(app).image
    config.env(env)
    ref = resolve_image(_full(to, image), None)
    return run_bump(
        repo,
        config,
        ref,
        app=app,
        env=env,
        paths=[],
        override_freeze=override_freeze,
        dry_run=dry_run,
        output=output,
        pr=pr,
        rollback=True,
    )


def _full(to: str, image: str) -> str:
    """`1.4.1@sha256:…` or `@sha256:…` name the app's own repository; a full reference stays as it is."""
    from promoter.image import try_parse

    if to.startswith("@"):
        return image + to
    ref = try_parse(to)
    if ref is not None and "/" in to:
        return to  # a full reference; bump says so if it is another app's image
    if ref is not None and (ref.tag or ref.digest) and ref.same_repository(image):
        return to
    return f"{image}:{to}"
