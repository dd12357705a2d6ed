"""`promoter images`: list every image reference under the given paths."""

from __future__ import annotations

from pathlib import Path

import click

from promoter.commands._options import emit_json
from promoter.model.errors import EXIT_OK, EXIT_USAGE


@click.command("images")
@click.argument("paths", nargs=-1)  # kept as typed: an empty PATH must be refused, not read as "."
@click.option(
    "--repo",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="The repository; PATHs are relative to it (default: the current folder).",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path),
    help="Config file (default: REPO/.promoter.yaml): its charts' values.yaml fill in env values files.",
)
@click.option(
    "--image",
    "image",
    help="Only references to this repository (Docker Hub names normalised); with a tag or digest, only those pinning it.",
)
@click.option("--output", "-o", type=click.Choice(["text", "json"]), default="text", show_default=True)
def command(paths: tuple[str, ...], repo: Path | None, config_file: Path | None, image: str | None, output: str) -> int:
    """List image references (file, line, YAML path, style, repository, tag, digest).

    Exit 0 when every YAML file was read (files skipped by rule, such as a FIFO, are named as
    warnings), 2 when one does not parse (each named on stderr; the references of the others are
    still listed) or on bad input.
    """
    from promoter.flows.images import list_images

    result = list_images(repo, list(paths), image, config_file)
    refs = result.references
    if output == "json":
        emit_json([r.to_dict() for r in refs])
    else:
        for r in refs:
            click.echo(f"{r.file}:{r.line}:{r.column}\t{r.style}\t{r.yaml_path}\t{r.current}")
        of = f" to {result.image}" if result.image is not None else ""
        click.echo(
            f"{len(refs)} reference(s){of} in {len(result.files)} of {len(result.scanned)} YAML file(s)", err=True
        )
    for skipped in result.skipped:
        click.echo(f"promoter: warning: skipped {skipped}", err=True)
    # Fail closed: a file that does not parse may pin images the list would silently leave out.
    for err in result.errors:
        click.echo(f"promoter: error: {err} (not read: its references are not listed)", err=True)
    return EXIT_USAGE if result.errors else EXIT_OK
