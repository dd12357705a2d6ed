"""Lock: one promoter writing a repository's working tree at a time, and where its temporary files go.

Two bumps of different images in one file, at once, would each read the file, change their
value and write it back: the later write drops the earlier change. A bump therefore holds an
exclusive lock on the repository from the moment it reads the files it plans from until it
has written them. The lock is `flock` on a file in the repository's Git folder (never committed,
released by the kernel when the process dies, even by `kill -9`); a second process waits a
bounded time, then fails saying who holds it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import socket
import stat
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from promoter.model.errors import ToolError

LOCK_NAME = "promoter.lock"
TEMP_FOLDER = "promoter-tmp"
DEFAULT_WAIT_SECONDS = 60.0


class LockBusy(ToolError):
    """Another process held the repository's lock longer than this one would wait (exit 1)."""


def git_dir(start: Path) -> Path | None:
    """The Git folder of the working tree holding `start` (a folder): `.git`, or where a `.git`
    file points (worktrees, submodules); None outside any repository."""
    here = start.absolute()
    for folder in (here, *here.parents):
        dot = folder / ".git"
        if dot.is_dir():
            return dot
        if dot.is_file():
            try:
                first = dot.read_text(encoding="utf-8", errors="replace").splitlines()[0]
            except (OSError, IndexError):
                return None
            if first.startswith("gitdir:"):
                target = Path(first[len("gitdir:") :].strip())
                target = target if target.is_absolute() else folder / target
                return target if target.is_dir() else None
            return None
    return None


def lock_file(repo: Path) -> Path:
    """Where the lock of `repo` lives: in its Git folder, else (a plain folder) in the temp folder, by path."""
    gd = git_dir(repo)
    if gd is not None:
        return gd / LOCK_NAME
    return _spare_lock_file(repo)


def _spare_lock_file(repo: Path) -> Path:
    key = hashlib.sha256(str(repo.resolve()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"promoter-{os.getuid()}-{key}.lock"


def _open_lock(path: Path) -> int:
    """The lock file, opened without following a symlink (a planted link must not make promoter
    truncate another file) and refused unless it is a regular file; read-only when another user
    made it (flock works on any descriptor)."""
    flags = os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, os.O_RDWR | flags, 0o644)
    except PermissionError:
        fd = os.open(path, os.O_RDONLY | flags, 0o644)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, "not a regular file", str(path))
    return fd


def _holder(fd: int) -> str:
    """Who holds the lock, as its holder wrote it (pid, host, command, since when)."""
    try:
        raw = os.pread(fd, 4096, 0)
        info = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except (OSError, ValueError):
        info = {}
    if not isinstance(info, dict) or "pid" not in info:
        return "another promoter process"
    return f"promoter {info.get('command', '')} (pid {info['pid']} on {info.get('host', '?')}, since {info.get('since', '?')})"


@contextlib.contextmanager
def repository_lock(repo: Path, *, what: str, wait: float = DEFAULT_WAIT_SECONDS) -> Iterator[Path]:
    """Hold `repo`'s exclusive lock for the block; wait up to `wait` seconds for another holder.

    `what` (e.g. "bump ghcr.io/acme/api:1.2") is recorded for whoever waits on this one."""
    path = lock_file(repo)
    try:
        fd = _open_lock(path)
    except OSError as exc:
        spare = _spare_lock_file(repo)
        if path == spare:
            raise ToolError(f"cannot create the lock file {path}: {exc.strerror or exc}") from None
        try:  # a read-only Git folder: every promoter on this machine agrees on the spare place too
            path, fd = spare, _open_lock(spare)
        except OSError:
            raise ToolError(f"cannot create the lock file {path}: {exc.strerror or exc}") from None
    try:
        deadline = time.monotonic() + max(wait, 0.0)
        pause = 0.02
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise ToolError(f"cannot lock {path}: {exc.strerror or exc}") from None
            if time.monotonic() >= deadline:
                raise LockBusy(
                    f"{repo} is locked by {_holder(fd)}; waited {wait:g} s: run again when it has finished "
                    f"(the lock is {path}; the kernel releases it when its holder exits)"
                )
            time.sleep(pause)
            pause = min(pause * 1.5, 0.25)
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": what,
            "since": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "argv": sys.argv[1:4],
        }
        with contextlib.suppress(OSError):  # who holds it is a courtesy for a waiter
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(info).encode(), 0)
        clean_stale_temporaries(path.parent / TEMP_FOLDER)
        yield path
    finally:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)  # closing releases the flock


# ---- temporary files -----------------------------------------------------------------------------
# A temporary file is named `.<target>.promoter-<pid>.<random>.tmp`: the pid tells a later run
# whether its writer is gone (then the file is stale and removed).
TEMP_MARK = ".promoter-"


def temp_folder(target: Path) -> Path:
    """Where the temporary copy of `target` is written before it is renamed over it: the Git folder
    (`git add -A` never sees it, even after `kill -9`) when it is on the same filesystem, else
    `target`'s own folder."""
    parent = target.parent
    gd = git_dir(parent)
    if gd is None:
        return parent
    folder = gd / TEMP_FOLDER
    try:
        folder.mkdir(exist_ok=True)
        if folder.stat().st_dev != parent.stat().st_dev:
            return parent
    except OSError:
        return parent
    return folder


def _host() -> str:
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def temp_prefix(target: Path) -> str:
    return f".{target.name}{TEMP_MARK}{os.getpid()}-{_host()}."


STALE_ELSEWHERE_SECONDS = 24 * 3600  # a file another host (container) wrote: its pid means nothing here
LEGACY_STALE_SECONDS = 3600


def clean_stale_temporaries(folder: Path, name: str | None = None) -> None:
    """Remove promoter's temporary files in `folder` (only those of `name`, when given) whose writer
    process is gone: what a kill at the wrong moment left."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    host = _host()
    legacy = re.compile(rf"\.{re.escape(name)}\.[a-z0-9_]{{8}}\.tmp") if name else None
    for entry in entries:
        if legacy is not None and legacy.fullmatch(entry.name):
            # Named by promoter before the pid was part of the name (`.values.yaml.k2j4_8ab.tmp`):
            # stale once old enough that no writer can still be working on it.
            with contextlib.suppress(OSError):
                if time.time() - entry.stat(follow_symlinks=False).st_mtime > LEGACY_STALE_SECONDS:
                    os.unlink(entry.path)
            continue
        writer = _writer(entry.name, name)
        if writer is None:
            continue
        pid, where = writer
        with contextlib.suppress(OSError):
            if not entry.is_file(follow_symlinks=False):
                continue
            if where == host:
                if pid == os.getpid() or _alive(pid):
                    continue
            elif time.time() - entry.stat(follow_symlinks=False).st_mtime < STALE_ELSEWHERE_SECONDS:
                continue
            os.unlink(entry.path)


def _writer(filename: str, name: str | None) -> tuple[int, str] | None:
    """(pid, host hash) of a temporary file of promoter's naming (for target `name`, when given)."""
    if not (filename.startswith(".") and filename.endswith(".tmp")) or TEMP_MARK not in filename:
        return None
    target, _, rest = filename[1:].rpartition(TEMP_MARK)
    if name is not None and target != name:
        return None
    pid, _, host = rest.split(".", 1)[0].partition("-")
    return (int(pid), host) if pid.isdigit() and host else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True
