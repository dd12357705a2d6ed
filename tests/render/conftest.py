"""Fixtures for the render, graph and check tests: file trees and real git repositories in temp folders."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

# tests/ is not a package and `import conftest` is ambiguous between folders: load the root one by path.
_spec = importlib.util.spec_from_file_location("promoter_root_conftest", Path(__file__).resolve().parents[1] / "conftest.py")
assert _spec and _spec.loader
root_conftest = sys.modules.setdefault(_spec.name, importlib.util.module_from_spec(_spec))
if not hasattr(root_conftest, "make_repo"):
    _spec.loader.exec_module(root_conftest)

EXAMPLES: Path = root_conftest.EXAMPLES


@pytest.fixture
def tree(tmp_path: Path) -> Callable[..., Path]:
    """Write files (path -> text) under a fresh folder and return it (no git)."""

    def write(files: dict[str, str], name: str = "tree") -> Path:
        root = tmp_path / name
        root.mkdir(parents=True, exist_ok=True)
        for rel, text in files.items():
            f = root / rel
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(text)
        return root

    return write


@pytest.fixture
def new_repo(tmp_path: Path) -> Callable[..., Path]:
    """A real git repository with the given files committed on main."""

    def make(files: dict[str, str], name: str = "repo") -> Path:
        return root_conftest.make_repo(tmp_path / name, files)

    return make


@pytest.fixture
def git_cmd() -> Callable[..., str]:
    """Run git in a repository (author and committer set), returning stdout."""
    return root_conftest.git


@pytest.fixture
def example_repo(tmp_path: Path) -> Path:
    """examples/ copied into a fresh git repository, committed on main."""
    files = {p.relative_to(EXAMPLES).as_posix(): p.read_text() for p in EXAMPLES.rglob("*") if p.is_file()}
    return root_conftest.make_repo(tmp_path / "gitops", files)
