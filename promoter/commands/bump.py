"""`promoter bump`: set an app's image in one environment (or under paths), byte-exact, behind its gates."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from promoter.commands._options import emit_json, load, promotion_options, repo_options
from promoter.errors import EXIT_FINDINGS, UsageError
from promoter.finding import CheckResult
from promoter.prflags import PrFlags, add_pr_options

if TYPE_CHECKING:
    from promoter.bump import BumpResult
    from promoter.config import Config
    from promoter.image import ImageRef
    from promoter.publish import PromotionResult


@click.command("bump")
@click.option("--image", "image", required=True, help="The new image: repo:tag, repo@sha256:…, or repo:tag@sha256:….")
@click.option("--tag", help="Tag to pin beside a digest-only --image.")
@click.option("--app", help="App name from .promoter.yaml.")
@click.option("--env", help="Environment name from .promoter.yaml.")
@click.option(
    "--path",
    "paths",
    multiple=True,
    help="Folder or file to bump in, relative to --repo (repeatable; no config needed).",
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
    repo: Path,
    config_file: Path | None,
    override_freeze: str | None,
    dry_run: bool,
    output: str,
    pr: PrFlags,
) -> int:
    """Rewrite exactly the image values of APP in ENV (or under --path) to IMAGE.

    With --app/--env the environment's promotion gates are evaluated first; a blocking gate
    writes nothing and exits 3. With --pr the change is committed through the forge's API and
    one promotion pull/merge request is opened or updated; the local checkout is only read.
    """
    # The edit machinery (YAML parsers, styles) is imported when a bump runs, not for `--help`.
    from promoter.bump import resolve_image

    ref = resolve_image(image, tag)
    if pr.enabled and not (app and env):
        raise UsageError("--pr needs --app and --env (a promotion target), not --path")
    repo, config = load(repo, config_file)
    return run_bump(
        repo,
        config,
        ref,
        app=app,
        env=env,
        paths=list(paths),
        override_freeze=override_freeze,
        dry_run=dry_run,
        output=output,
        pr=pr,
    )


def run_bump(
    repo: Path,
    config: Config,
    ref: ImageRef,
    *,
    app: str | None,
    env: str | None,
    paths: list[str],
    override_freeze: str | None,
    dry_run: bool,
    output: str,
    pr: PrFlags,
    rollback: bool = False,
) -> int:
    """Bump (or roll back), publish when asked, print the result; the exit code. Shared by bump and rollback."""
    from promoter.bump import bump, plan_bump

    # With --pr the checkout is only read: the forge gets the commit, the working tree stays as it is.
    result = bump(
        repo,
        config,
        ref,
        app=app,
        env=env,
        paths=paths,
        dry_run=dry_run or pr.enabled,
        override_freeze=override_freeze,
        rollback=rollback,
    )
    published: PromotionResult | None = None
    if pr.enabled and not dry_run and not result.blocked:
        assert app and env
        from promoter.preview import preview
        from promoter.publish import publish_if_requested

        # The reviewer sees the rendered objects that change and how they check, not just the file diff.
        seen = preview(repo, config, result.changeset, env)
        checks = CheckResult()
        checks.extend(result.gates)
        checks.extend(seen.checks)
        published = publish_if_requested(
            pr,
            config=config,
            env=env,
            apps=[app],
            image=ref,
            changeset=result.changeset,
            replan=lambda read: plan_bump(repo, config, ref, app=app, env=env, read_file=read),
            repo=repo,
            checks=checks,
            rendered_diff=seen.diff or None,
        )
    if output == "json":
        data = result.to_dict()
        if pr.enabled:
            data["pull_request"] = published.to_dict() if published else None
        emit_json(data)
    else:
        print_text(result)
        if published is not None:
            click.echo(published.to_text())
    for w in result.changeset.warnings:
        click.echo(f"promoter: warning: {w}", err=True)
    return EXIT_FINDINGS if result.blocked else 0


def print_text(result: BumpResult) -> None:
    cs = result.changeset
    if cs.empty:
        click.echo(f"no change: {len(cs.references)} reference(s) already at {result.image}", err=True)
    else:
        click.echo(cs.diff(), nl=False)
        for c in cs.changes:
            if c.old is not None and c.new is not None:
                arrow = f"{c.old} -> {c.new}"
            else:
                arrow = f"+ {c.new}" if c.new is not None else f"- {c.old}"
            note = f" ({c.note})" if c.note else ""
            click.echo(f"{c.file}:{c.line}: {c.yaml_path} [{c.style}] {arrow}{note}", err=True)
    for f in result.gates.ranked():
        where = f" ({f.location})" if f.location else ""
        click.echo(f"promoter: {f.severity.value}: {f.rule}{where}: {f.message}", err=True)
        if f.help and f.blocking:
            click.echo(f"  how to proceed: {f.help}", err=True)
    if cs.empty:
        return
    files = len(cs.changed_files)
    if result.blocked:
        click.echo(
            f"blocked by {sum(1 for f in result.gates.findings if f.blocking)} gate(s): nothing written", err=True
        )
    else:
        verb = "would change" if result.dry_run else "changed"
        click.echo(f"{verb} {len(cs.changes)} value(s) in {files} file(s)", err=True)
