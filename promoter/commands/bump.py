"""`promoter bump`: set an app's image in one environment (or under paths), byte-exact."""

from __future__ import annotations

from pathlib import Path

import click

from promoter.bump import plan_bump, resolve_image
from promoter.commands._options import emit_json, load, repo_options


@click.command("bump")
@click.option("--image", "image", required=True, help="The new image: repo:tag, repo@sha256:…, or repo:tag@sha256:….")
@click.option("--tag", help="Tag to pin beside a digest-only --image.")
@click.option("--app", help="App name from .promoter.yaml.")
@click.option("--env", help="Environment name from .promoter.yaml.")
@click.option("--path", "paths", multiple=True, help="Folder or file to bump in, relative to --repo (repeatable; no config needed).")
@repo_options
@click.option("--dry-run", is_flag=True, help="Print the diff; write nothing.")
@click.option("--output", "-o", type=click.Choice(["text", "json"]), default="text", show_default=True)
def command(
    image: str,
    tag: str | None,
    app: str | None,
    env: str | None,
    paths: tuple[str, ...],
    repo: Path,
    config_file: Path | None,
    dry_run: bool,
    output: str,
) -> int:
    """Rewrite exactly the image values of APP in ENV (or under --path) to IMAGE."""
    ref = resolve_image(image, tag)
    repo, config = load(repo, config_file)
    cs = plan_bump(repo, config, ref, app=app, env=env, paths=list(paths))
    if not dry_run:
        cs.write(repo)
    changed = not cs.empty
    if output == "json":
        emit_json({"image": str(ref), "dry_run": dry_run, "written": changed and not dry_run, **cs.to_dict(), "diff": cs.diff()})
    else:
        if changed:
            click.echo(cs.diff(), nl=False)
            for c in cs.changes:
                arrow = f"{c.old} -> {c.new}" if c.old is not None and c.new is not None else (f"+ {c.new}" if c.new is not None else f"- {c.old}")
                note = f" ({c.note})" if c.note else ""
                click.echo(f"{c.file}:{c.line}: {c.yaml_path} [{c.style}] {arrow}{note}", err=True)
            verb = "would change" if dry_run else "changed"
            click.echo(f"{verb} {len(cs.changes)} value(s) in {sum(1 for f in cs.files.values() if f.old_text != f.new_text)} file(s)", err=True)
        else:
            click.echo(f"no change: {len(cs.references)} reference(s) already at {ref}", err=True)
    for w in cs.warnings:
        click.echo(f"promoter: warning: {w}", err=True)
    return 0
