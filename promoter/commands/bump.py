"""`promoter bump`: set an app's image in one environment (or under paths), byte-exact, behind its gates."""

from __future__ import annotations

from pathlib import Path

import click

from promoter.commands._options import load, promotion_options, repo_options
from promoter.commands._pr import add_pr_options
from promoter.commands._promotion import report
from promoter.publish.flags import PrFlags


@click.command("bump")
@click.option("--image", "image", required=True, help="The new image: repo:tag, repo@sha256:…, or repo:tag@sha256:….")
@click.option("--tag", help="Tag to pin beside a digest-only --image.")
@click.option("--app", help="App name from .promoter.yaml.")
@click.option("--env", help="Environment name from .promoter.yaml.")
@click.option(
    "--path",
    "paths",
    multiple=True,
    help="Folder or file to bump in: relative to --repo, or absolute inside it (repeatable; no config needed).",
)
@click.option(
    "--all-matches",
    is_flag=True,
    help="Set every reference to the image in scope even when they pin different values now (see README).",
)
@repo_options
@promotion_options("Promote")
@add_pr_options
def command(
    image: str,
    tag: str | None,
    app: str | None,
    env: str | None,
    paths: tuple[str, ...],
    all_matches: bool,
    repo: Path,
    config_file: Path | None,
    override_freeze: str | None,
    dry_run: bool,
    wait: bool,
    output: str,
    pr: PrFlags,
) -> int:
    """Rewrite exactly the image values of APP in ENV (or under --path) to IMAGE.

    With --app/--env the environment's promotion gates are evaluated first; a blocking gate
    writes nothing and exits 3. With --pr the change is committed through the forge's API and
    one promotion pull/merge request is opened or updated; the local checkout is only read.
    """
    # The edit machinery (YAML parsers, styles) is imported when a bump runs, not for `--help`.
    from promoter.flows import bump
    from promoter.model.errors import UsageError

    ref = bump.resolve_image(image, tag)
    if pr.enabled and not (app and env):
        raise UsageError("--pr needs --app and --env (a promotion target), not --path")
    repo, config = load(repo, config_file)
    result = bump.run(
        repo,
        config,
        ref,
        app=app,
        env=env,
        paths=list(paths),
        override_freeze=override_freeze,
        dry_run=dry_run,
        pr=pr,
        wait=wait,
        all_matches=all_matches,
    )
    return report(result, output)
