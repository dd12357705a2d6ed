"""Bases: the files a Kustomize overlay is built from, its shared bases included.

A bump edits one environment's folder; an image pinned only in a base that several overlays
share cannot be bumped for one environment. `promoter init` and the bump's "no reference"
error follow an overlay's `resources`, `bases`, `components` and patches to find where such an
image is pinned, so they can say so and name the fix (an `images:` entry in the overlay).
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

from promoter.locate.paths import rel_to

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|git::|git@|github\.com/|gitlab\.com/|bitbucket\.org/)", re.IGNORECASE)
# A repository's kustomizations are small; these bounds keep a hostile one (a cycle, a fan-out) cheap.
MAX_KUSTOMIZATIONS = 500
MAX_FILE_BYTES = 1 << 20


def kustomization_file(repo: Path, folder: str) -> str | None:
    """The repository-relative kustomization file of `folder`, or None when it has none."""
    for name in KUSTOMIZATION_NAMES:
        rel = f"{folder}/{name}" if folder not in ("", ".") else name
        if (repo / rel).is_file():
            return rel
    return None


def overlay_files(repo: Path, folder: str) -> list[str]:
    """Every local file the kustomization in `folder` is built from, in order: its own kustomization
    first, then what it pulls in (bases recursively, manifests, patches). Remote bases and references
    that leave the repository are left out; a file that does not parse contributes only itself."""
    seen_dirs: set[str] = set()
    out: list[str] = []
    root = repo.resolve()

    def add(rel: str) -> None:
        if rel not in out:
            out.append(rel)

    def visit(d: str) -> None:
        if d in seen_dirs or len(seen_dirs) >= MAX_KUSTOMIZATIONS:
            return
        seen_dirs.add(d)
        kfile = kustomization_file(repo, d)
        if kfile is None:
            return
        add(kfile)
        data = _load(repo / kfile)
        if not isinstance(data, dict):
            return
        for key in ("resources", "bases", "components"):
            for entry in _strings(data.get(key)):
                p = _join(d, entry)
                if p is None:
                    continue
                full = (repo / p).resolve()
                if not (full == root or root in full.parents):
                    continue  # a symlink out of the repository
                if full.is_dir():
                    visit(rel_to(repo, full))
                elif full.is_file():
                    add(p)
        patches = list(_strings(data.get("patchesStrategicMerge")))
        for key in ("patches", "patchesJson6902"):
            for item in data.get(key) or []:
                if isinstance(item, dict) and isinstance(item.get("path"), str):
                    patches.append(item["path"])
        for entry in patches:
            p = _join(d, entry)
            if p is not None and (repo / p).is_file():
                add(p)

    visit(folder)
    return out


def _load(file: Path) -> Any:
    from promoter.yamlio.files import read_regular
    from promoter.yamlio.loader import load

    try:
        return load(read_regular(file, file.name, limit=MAX_FILE_BYTES))
    except Exception:  # noqa: BLE001 - a kustomization that does not read or parse is reported where it is edited or rendered
        return None


def _strings(value: Any) -> list[str]:
    return (
        [v.strip() for v in value if isinstance(v, str) and v.strip() and "\n" not in v]
        if isinstance(value, list)
        else []
    )


def _join(folder: str, ref: str) -> str | None:
    """`ref` (relative to `folder`) as a repository-relative path; None when remote or outside."""
    if _REMOTE.match(ref) or "?ref=" in ref:
        return None
    joined = posixpath.normpath(posixpath.join(folder, ref) if folder not in ("", ".") else ref)
    if joined == ".." or joined.startswith("../") or posixpath.isabs(joined):
        return None
    return joined
