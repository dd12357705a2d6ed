"""`promoter images`: list every image reference under the given paths."""

from __future__ import annotations

from pathlib import Path

import click

from promoter.commands._options import emit_json
from promoter.errors import UsageError


@click.command("images")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--repo",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Repository root paths are relative to (default: the current folder).",
)
@click.option("--image", "image", help="Only references to this repository (Docker Hub names normalised).")
@click.option("--output", "-o", type=click.Choice(["text", "json"]), default="text", show_default=True)
def command(paths: tuple[Path, ...], repo: Path | None, image: str | None, output: str) -> int:
    """List image references (file, line, YAML path, style, repository, tag, digest)."""
    from promoter.image import ImageRef
    from promoter.locate import rel_to, safe_path, scan

    if repo is not None and not repo.is_dir():
        raise UsageError(f"--repo {repo} is not a folder")
    root = repo.resolve() if repo is not None else _default_root(list(paths))
    roots = []
    for p in paths or (Path("."),):
        # Paths are given as a shell would: relative to the current folder, inside the repository.
        full = p if p.is_absolute() else (Path.cwd() / p)
        if not full.exists():
            raise UsageError(f"path {str(p)!r} does not exist")
        roots.append(safe_path(root, rel_to(root, full) if full.resolve().is_relative_to(root) else str(p)))
    want = ImageRef.parse(image) if image else None
    # With a .promoter.yaml, env values files that leave the registry to their chart are read over it.
    from promoter.config import find_config

    defaults = None
    if find_config(root) is not None:
        from promoter.bump import env_values_defaults
        from promoter.config import load_config

        defaults = env_values_defaults(root, load_config(root))
    result = scan(root, roots, image=want, keep_going=True, defaults=defaults)
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


def _default_root(paths: list[Path]) -> Path:
    """Without --repo: the current folder when every path is inside it; otherwise the git work
    tree holding the first path, or that folder itself (`promoter images ../shared/corpus`)."""
    cwd = Path.cwd().resolve()
    full = [(p if p.is_absolute() else cwd / p).resolve() for p in paths]
    if all(f == cwd or f.is_relative_to(cwd) for f in full):
        return cwd
    first = full[0] if full[0].is_dir() else full[0].parent
    for d in (first, *first.parents):
        if (d / ".git").exists() and all(f.is_relative_to(d) for f in full):
            return d
    return first
