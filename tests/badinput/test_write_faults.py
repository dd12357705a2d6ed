"""Write faults the machine answers (read-only file system, permission, full disk) and leftovers of
killed writers: one line naming the file, exit 1, the repository as it was, no temporary file left."""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from tests.badinput.catalogue import BUMP_API, DEV_KUST
from tests.badinput.test_catalogue import snapshot, template  # noqa: F401 - the fixture
from tests.conftest import git, invoke


@pytest.fixture
def repo(template: Path, tmp_path: Path) -> Path:  # noqa: F811 - the fixture, used by name
    dst = tmp_path / "gitops"
    shutil.copytree(template, dst, symlinks=True)
    return dst


def _bump(repo: Path):  # noqa: ANN202
    return invoke(BUMP_API[0], "--repo", str(repo), *BUMP_API[1:])


def _no_temporaries(repo: Path) -> None:
    left = [p for p in repo.rglob("*.tmp")]
    assert left == [], left
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""


@pytest.mark.parametrize(
    ("err", "text"),
    [
        (errno.EROFS, "Read-only file system"),
        (errno.EACCES, "Permission denied"),
        (errno.EPERM, "Operation not permitted"),
    ],
)
def test_the_rename_refused_names_the_file(repo: Path, monkeypatch: pytest.MonkeyPatch, err: int, text: str) -> None:
    before = snapshot(repo)

    def refuse(src: str, dst: str) -> None:
        raise OSError(err, os.strerror(err), dst)

    monkeypatch.setattr(os, "replace", refuse)
    r = _bump(repo)
    assert r.exit_code == 1
    assert r.stderr.splitlines()[-1] == f"promoter: error: cannot write {DEV_KUST}: {text}"
    assert [line for line in r.stderr.splitlines() if line.startswith("promoter:")] == [r.stderr.splitlines()[-1]]
    assert snapshot(repo) == before
    _no_temporaries(repo)


def test_the_temporary_file_refused_names_the_file_and_the_folder(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot(repo)

    def refuse(*args: object, **kwargs: object) -> tuple[int, str]:
        raise PermissionError(errno.EPERM, "Operation not permitted", str(kwargs.get("dir")))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    r = _bump(repo)
    assert r.exit_code == 1
    line = r.stderr.splitlines()[-1]
    assert line.startswith(f"promoter: error: cannot write {DEV_KUST}: Operation not permitted (creating a temporary")
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr
    assert snapshot(repo) == before


def test_a_full_disk_while_writing_the_copy_leaves_the_file_and_no_copy(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(repo)
    real_fsync = os.fsync

    def full(fd: int) -> None:
        real_fsync(fd)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    r = _bump(repo)
    assert r.exit_code == 1
    assert r.stderr.splitlines()[-1] == f"promoter: error: cannot write {DEV_KUST}: No space left on device"
    assert snapshot(repo) == before
    _no_temporaries(repo)


def test_leftovers_of_killed_writers_are_removed_by_the_next_write(repo: Path) -> None:
    """Temporaries of promoter's naming whose writer is gone: the pid-named ones in .git, and the
    older `.name.XXXXXXXX.tmp` beside the file (what earlier versions left on a kill)."""
    folder = repo / DEV_KUST
    name = folder.name
    legacy = folder.parent / f".{name}.k2j4_8ab.tmp"
    legacy.write_text("half")
    old = time.time() - 7200
    os.utime(legacy, (old, old))
    young = folder.parent / f".{name}.zz9y_8ab.tmp"  # a writer of that older kind may still be at work
    young.write_text("half")
    from promoter.model.lock import TEMP_FOLDER, _host

    tmpdir = repo / ".git" / TEMP_FOLDER
    tmpdir.mkdir(exist_ok=True)
    dead = tmpdir / f".{name}.promoter-999999999-{_host()}.abcd.tmp"  # no such pid
    dead.write_text("half")
    alive = tmpdir / f".{name}.promoter-{os.getpid()}-{_host()}.efgh.tmp"  # this process: still writing
    alive.write_text("half")
    other = repo / "README.tmp"  # not promoter's naming: never touched
    other.write_text("mine")
    r = _bump(repo)
    assert r.exit_code == 0, r.stderr
    assert not legacy.exists() and not dead.exists()
    assert young.exists() and alive.exists() and other.exists()
