"""ChangeSet: the edits a bump produced: per value (for reports) and per file (for writing and committing)."""

from __future__ import annotations

import contextlib
import difflib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Change:
    """One value that changed (or would): where, what it was, what it becomes."""

    file: str  # repo-relative POSIX path
    line: int  # 1-based
    yaml_path: str
    style: str
    old: str | None
    new: str | None
    note: str | None = None  # e.g. "digest key added", "newTag removed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "yaml_path": self.yaml_path,
            "style": self.style,
            "old": self.old,
            "new": self.new,
            "note": self.note,
        }


@dataclass
class FileChange:
    path: str  # repo-relative POSIX path
    old_text: str
    new_text: str

    def diff(self) -> str:
        return "".join(
            difflib.unified_diff(
                self.old_text.splitlines(keepends=True),
                self.new_text.splitlines(keepends=True),
                fromfile=f"a/{self.path}",
                tofile=f"b/{self.path}",
            )
        )


@dataclass
class ChangeSet:
    """What a bump changes. Files hold full new texts (BOM and line endings included)."""

    changes: list[Change] = field(default_factory=list)
    files: dict[str, FileChange] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    not_pinned: list[str] = field(default_factory=list)  # places the new digest could not be written
    references: list[dict[str, Any]] = field(default_factory=list)  # what matched, before the edit

    @property
    def changed_files(self) -> list[FileChange]:
        """The files whose text changes, by path (a file in scope may be left as it was)."""
        return sorted((fc for fc in self.files.values() if fc.old_text != fc.new_text), key=lambda f: f.path)

    @property
    def empty(self) -> bool:
        return not self.changed_files

    def diff(self) -> str:
        return "".join(fc.diff() for fc in self.changed_files)

    def write(self, repo: Path) -> None:
        """Write every changed file atomically (temp file in the same folder, then rename)."""
        for fc in self.changed_files:
            atomic_write(repo / fc.path, fc.new_text)

    def to_dict(self) -> dict[str, Any]:
        return {
            "changed": not self.empty,
            "changes": [c.to_dict() for c in self.changes],
            "files": [fc.path for fc in self.changed_files],
            "warnings": self.warnings,
            "references": self.references,
        }


def atomic_write(path: Path, text: str) -> None:
    data = text.encode("utf-8")
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
