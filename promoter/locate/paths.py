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


def resolve_arg(repo: Path, raw: str | Path, *, base: Path | None = None, what: str = "path") -> str:
    """A PATH argument as a repository-relative POSIX path: the one rule every command uses.

    Relative paths are taken from `base` (the folder given as --repo; without it, the current
    folder), absolute ones as they are; `..` is fine while the normalised path stays inside the
    repository, and a symlink must resolve inside it too. An empty or blank path is refused:
    it would silently mean the whole repository."""
    text = str(raw)
    if not text.strip():
        raise UsageError(f"{what} is empty; name a folder or file inside the repository (. for all of it)")
    root = Path(os.path.abspath(repo))
    full = Path(os.path.normpath(os.path.join(os.path.abspath(base if base is not None else repo), text)))
    if full != root and root not in full.parents:
        # The repository may be reached through a symlink (/tmp vs /private/tmp): compare real paths too.
        real_root, real = resolved(root), resolved(full, repo, what=f"{what} {shorten(text)!r}")
        if real != real_root and real_root not in real.parents:
            raise UsageError(f"{what} {shorten(text)!r} leaves the repository ({repo})")
        full, root = real, real_root
    rel = full.relative_to(root).as_posix() or "."
    safe_path(repo, rel, what=what)  # a symlink inside must not lead out
    return rel


def rel_to(repo: Path, path: Path) -> str:
    """`path` relative to `repo`, POSIX style. A path written under `repo` needs no disk access."""
    top, inner = str(repo).rstrip(os.sep), str(path)
    if inner.startswith(top + os.sep) and os.sep + ".." not in inner[len(top) :] and not os.path.islink(inner):
        return inner[len(top) + 1 :].replace(os.sep, "/")
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
