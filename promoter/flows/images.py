"""Images: every image reference under some paths of a repository, as `promoter images` lists them."""

from __future__ import annotations

from pathlib import Path

from promoter.config.loader import find_config
from promoter.flows.workspace import open_config
from promoter.locate.chartvalues import env_values_defaults
from promoter.locate.paths import rel_to, safe_path
from promoter.locate.scan import ScanResult, scan
from promoter.model.errors import UsageError
from promoter.model.image import ImageRef


def list_images(repo: Path | None, paths: list[Path], image: str | None) -> ScanResult:
    """References under `paths` (as a shell gives them: relative to the current folder), optionally
    only those of `image`'s repository. Without `repo`, the repository is found from the paths."""
    if repo is not None and not repo.is_dir():
        raise UsageError(f"--repo {repo} is not a folder")
    root = repo.resolve() if repo is not None else _default_root(paths)
    roots = []
    for p in paths or [Path(".")]:
        full = p if p.is_absolute() else (Path.cwd() / p)
        if not full.exists():
            raise UsageError(f"path {str(p)!r} does not exist")
        roots.append(safe_path(root, rel_to(root, full) if full.resolve().is_relative_to(root) else str(p)))
    want = ImageRef.parse(image) if image else None
    # With a .promoter.yaml, env values files that leave the registry to their chart are read over it.
    defaults = env_values_defaults(root, open_config(root)) if find_config(root) is not None else None
    return scan(root, roots, image=want, keep_going=True, defaults=defaults)


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
