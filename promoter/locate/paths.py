"""Paths: repository-relative paths resolved safely inside the repository."""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

from promoter.model.errors import UsageError, shorten


def safe_path(repo: Path, rel: str | Path, *, what: str = "path") -> Path:
    """Resolve `rel` inside `repo`; refuse absolute paths, `..` and symlinks that escape."""
    raw = check_relative(rel, what=what, repo=repo)
    root = repo.resolve()
    full = resolved(repo / raw, repo, what=f"{what} {shorten(raw)!r}")
    if full != root and root not in full.parents:
        raise UsageError(f"{what} {shorten(raw)!r} resolves outside the repository (a symlink to {full})")
    return full


def rel_to(repo: Path, path: Path) -> str:
    return resolved(path, repo).relative_to(repo.resolve()).as_posix()


def resolved(path: Path, repo: Path | None = None, *, what: str | None = None) -> Path:
    """`path.resolve()`, a symlink loop being one UsageError naming the path (Python 3.11 raises
    RuntimeError, later versions OSError ELOOP, or nothing)."""
    try:
        return path.resolve()
    except (RuntimeError, OSError) as exc:
        if isinstance(exc, OSError) and exc.errno != errno.ELOOP:
            raise
        shown = what
        if shown is None:
            shown = str(path)
            if repo is not None:
                with contextlib.suppress(ValueError):
                    shown = path.absolute().relative_to(repo.absolute()).as_posix()
        raise UsageError(
            f"{shown}: is a symlink that loops (it points back at itself through its targets): fix or remove the link"
        ) from None


def check_relative(rel: str | Path, *, what: str = "path", repo: Path | None = None) -> str:
    """`rel` as a string, refused when absolute or when it climbs out with `..` (no disk access)."""
    raw = str(rel)
    if os.path.isabs(raw):
        where = f" ({repo})" if repo is not None else ""
        raise UsageError(f"{what} {shorten(raw)!r} is absolute; give it relative to the repository{where}")
    if ".." in Path(raw).parts:
        raise UsageError(f"{what} {shorten(raw)!r} leaves the repository (contains '..')")
    return raw
