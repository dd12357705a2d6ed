"""Images: every image reference under some paths of a repository, as `promoter images` lists them."""

from __future__ import annotations

from pathlib import Path

from promoter.config.loader import find_config
from promoter.flows.workspace import open_config
from promoter.locate.chartvalues import env_values_defaults
from promoter.locate.scan import ScanResult, scan
from promoter.locate.scope import path_scope
from promoter.locate.styles.base import Siblings
from promoter.model.errors import UsageError
from promoter.model.image import ImageRef


def list_images(repo: Path | None, paths: list[Path] | list[str], image: str | None) -> ScanResult:
    """References under `paths`, optionally only those of `image`'s repository.

    PATHs follow the one rule of `locate.scope.path_scope`: relative to --repo (without it, to the
    current folder). Without --repo, the repository is the current folder, or, for paths outside
    it, the git work tree (else the folder) holding them."""
    if repo is not None and not repo.is_dir():
        raise UsageError(f"--repo {repo} is not a folder")
    root = repo.resolve() if repo is not None else _default_root([Path(p) for p in paths])
    base = repo.resolve() if repo is not None else Path.cwd()
    given: list[str] = [str(p) for p in paths] or [str(base)]
    scope = path_scope(root, given, base=base, what="PATH")
    roots = [root / r if r != "." else root for r in scope.roots]
    want = ImageRef.parse(image) if image else None
    # With a .promoter.yaml, env values files that leave the registry to their chart are read over it.
    config = open_config(root) if find_config(root) is not None else None
    defaults = env_values_defaults(root, config) if config is not None else None
    siblings = Siblings.from_config(config.raw if config is not None else None)
    return scan(root, roots, image=want, keep_going=True, defaults=defaults, siblings=siblings)


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
