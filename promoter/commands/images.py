"""`promoter images`: list every image reference under the given paths."""

from __future__ import annotations

from pathlib import Path

import click

from promoter.commands._options import emit_json


@click.command("images")
@click.argument("paths", nargs=-1)  # kept as typed: an empty PATH must be refused, not read as "."
@click.option(
    "--repo",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="The repository; PATHs are relative to it (default: the current folder).",
)
@click.option("--image", "image", help="Only references to this repository (Docker Hub names normalised).")
@click.option("--output", "-o", type=click.Choice(["text", "json"]), default="text", show_default=True)
def command(paths: tuple[str, ...], repo: Path | None, image: str | None, output: str) -> int:
    """List image references (file, line, YAML path, style, repository, tag, digest)."""
    from promoter.flows.images import list_images

    result = list_images(repo, list(paths), image)
    refs = result.references
    if output == "json":
        emit_json([r.to_dict() for r in refs])
    else:
        for r in refs:
            click.echo(f"{r.file}:{r.line}:{r.column}\t{r.style}\t{r.yaml_path}\t{r.current}")
        click.echo(f"{len(refs)} reference(s) in {len(result.files)} of {len(result.scanned)} YAML file(s)", err=True)
    for err in result.errors:
        click.echo(f"promoter: warning: skipped {err}", err=True)
    return 0
