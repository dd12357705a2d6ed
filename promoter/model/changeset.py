"""ChangeSet: the edits a bump produced: per value (for reports) and per file (for writing and committing)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promoter.model.errors import PromoterError, ToolError
from promoter.model.textdiff import unified_diff


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
        return unified_diff(self.old_text, self.new_text, f"a/{self.path}", f"b/{self.path}")


@dataclass
class ChangeSet:
    """What a bump changes. Files hold full new texts (BOM and line endings included)."""

    changes: list[Change] = field(default_factory=list)
    files: dict[str, FileChange] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
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
        """Write every changed file, each replaced atomically (a temporary copy renamed over it).

        Nothing is half-written: every file must still hold the text it was planned from (another
        writer may have changed it: then nothing is written), each is compared again right before
        its rename, and should one still fail, the files already replaced are put back. Hold the
        repository's lock (model/lock.py) across planning and writing so no other promoter races it.
        """
        files = self.changed_files
        for fc in files:
            _expect(repo, fc)
        done: list[FileChange] = []
        try:
            for fc in files:
                atomic_write(repo / fc.path, fc.new_text, shown=fc.path, expect=fc.old_text)
                done.append(fc)
        except BaseException:
            for fc in reversed(done):  # put back what was replaced: all or nothing
                with contextlib.suppress(OSError, PromoterError):
                    atomic_write(repo / fc.path, fc.old_text, shown=fc.path)
            raise

    def to_dict(self) -> dict[str, Any]:
        return {
            "changed": not self.empty,
            "changes": [c.to_dict() for c in self.changes],
            "files": [fc.path for fc in self.changed_files],
            "warnings": self.warnings,
            "references": self.references,
        }


class WriteError(ToolError):
    """A file could not be written (permissions, a read-only or full disk): one line naming it, exit 1."""

    def __init__(self, shown: str, reason: str) -> None:
        super().__init__(f"cannot write {shown}: {reason}")
        self.reason = reason


class ChangedMeanwhile(ToolError):
    """A file changed between promoter reading it and replacing it (another writer): nothing written, exit 1."""


def _expect(repo: Path, fc: FileChange) -> None:
    if _current(repo / fc.path, fc.path) != fc.old_text.encode("utf-8"):
        raise ChangedMeanwhile(
            f"{fc.path} changed since promoter read it (another process wrote it); nothing was written: run again"
        )


def _current(path: Path, shown: str) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise WriteError(shown, f"cannot read it again before replacing it: {exc.strerror or exc}") from None


def atomic_write(path: Path, text: str, *, shown: str | None = None, expect: str | None = None) -> None:
    """Replace `path` by `text` atomically: a temporary copy, flushed to disk, renamed over it.

    The copy keeps the file's mode and owner (uid/gid, as far as this process may set them). It is
    written in the repository's Git folder when on the same filesystem (model/lock.py), so a kill
    at the wrong moment leaves nothing `git add -A` would commit; elsewhere it is named
    `.<name>.promoter-<pid>-<host>.<random>.tmp` and removed by the next write once its writer is gone.
    With `expect`, the file must still hold that text right before the rename (ChangedMeanwhile).
    A failure is one WriteError naming the file (`shown`, else the path)."""
    from promoter.model.lock import clean_stale_temporaries, temp_folder, temp_prefix

    shown = shown or str(path)
    data = text.encode("utf-8")
    try:
        st: os.stat_result | None = path.stat()
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise WriteError(shown, str(exc.strerror or exc)) from None
    folder = temp_folder(path)
    for where in dict.fromkeys((folder, path.parent)):  # what killed writes left, here or beside the file
        clean_stale_temporaries(where, path.name)
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=temp_prefix(path), suffix=".tmp")
    except OSError as exc:
        raise WriteError(shown, f"{exc.strerror or exc} (creating a temporary file in {folder})") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, st.st_mode & 0o7777 if st is not None else 0o644)
        if st is not None:
            _keep_owner(tmp, st)
        if expect is not None and _current(path, shown) != expect.encode("utf-8"):
            raise ChangedMeanwhile(
                f"{shown} changed while promoter was replacing it (another process wrote it); "
                "it was not written: run again"
            )
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise WriteError(shown, str(exc.strerror or exc)) from None
        raise


def _keep_owner(tmp: str, st: os.stat_result) -> None:
    """The replaced file's owner and group on the copy; a process that may not set them keeps what it can."""
    if (st.st_uid, st.st_gid) == (os.geteuid(), os.getegid()):
        return
    for uid, gid in ((st.st_uid, st.st_gid), (-1, st.st_gid)):
        try:
            os.chown(tmp, uid, gid)
            return
        except PermissionError:
            continue
