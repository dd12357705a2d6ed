"""Files: repository files read only when they are what they claim, inside the repository and regular.

A checked-out repository is untrusted input. A symlink may point outside it (`/etc`, another
checkout, a runner's secrets) or at itself; a FIFO, socket or device named `app.yaml` blocks
or streams forever when opened. None of these is ever opened: each is a `FileProblem` naming
the file, what it is and how to proceed, which callers turn into an error finding.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from promoter.model.errors import UsageError

# Larger YAML than this is not a manifest anyone reviews; refusing it bounds memory and time.
MAX_BYTES = 32 * 1024 * 1024


@dataclass
class FileProblem(Exception):
    """Why a repository path is not read: `rule` (outside-repository, symlink-loop, special-file,
    too-large, unreadable), the repo-relative `path` and a message that says how to proceed."""

    rule: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def _inside(real: str, root: str) -> bool:
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def check_path(root: Path, rel: str, *, directory: bool = False) -> Path:
    """The real path of `root/rel` when it is a regular file (or, with `directory`, a folder) inside
    `root`, following symlinks that stay inside; raises FileProblem otherwise (FileNotFoundError
    when nothing is there). Only `stat` is called: nothing is opened."""
    top = os.path.realpath(root)
    path = os.path.join(top, rel)
    try:
        real = Path(path).resolve(strict=True)
    except FileNotFoundError:
        if os.path.islink(path) or _dangling_parent(top, rel):
            raise FileProblem(
                "unreadable", rel, "is a symlink to nothing (a dangling link): fix or remove the link"
            ) from None
        raise
    except RuntimeError:  # Python 3.11 reports a symlink loop this way
        raise FileProblem("symlink-loop", rel, _LOOP) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise FileProblem("symlink-loop", rel, _LOOP) from None
        raise FileProblem("unreadable", rel, f"cannot be read: {exc.strerror or exc}") from None
    if not _inside(str(real), top):
        raise FileProblem(
            "outside-repository",
            rel,
            "is a symlink to a path outside the repository; promoter reads nothing outside the repository "
            "(nor does a GitOps controller's clone): replace the link by the content, or a path inside the repository",
        )
    st = real.stat()
    if directory:
        if not stat.S_ISDIR(st.st_mode):
            raise FileProblem("special-file", rel, f"is {_what(st.st_mode)}, not a folder")
        return real
    if not stat.S_ISREG(st.st_mode):
        raise FileProblem(
            "special-file",
            rel,
            f"is {_what(st.st_mode)}, not a regular file; it is never opened (it could block or stream forever): "
            "remove it from the repository, or rename it so that it does not end in .yaml/.yml",
        )
    if st.st_size > MAX_BYTES:
        raise FileProblem(
            "too-large",
            rel,
            f"is {st.st_size // (1024 * 1024)} MiB, more than the {MAX_BYTES // (1024 * 1024)} MiB promoter reads "
            "as one manifest: split it",
        )
    return real


_LOOP = "is a symlink that loops (it points back at itself through its targets): fix or remove the link"


def _dangling_parent(top: str, rel: str) -> bool:
    """A path under a dangling or looping link reports FileNotFoundError too: say it is a link."""
    parts = rel.split("/")
    return any(os.path.islink(os.path.join(top, *parts[:i])) for i in range(1, len(parts)))


def _what(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def read_capped(fh: BinaryIO, size: int, cap: int) -> bytes:
    """At most `cap` + 1 bytes of an open file that `fstat` said holds `size`: read as one piece of that
    size (asking for `cap` + 1 at once makes Python allocate, and the kernel map, 32 MiB for every small
    file: a third of reading 4,800 of them), then on to the cap should it have grown since."""
    data = fh.read(min(size, cap) + 1)
    if len(data) > size and len(data) <= cap:
        data += fh.read(cap + 1 - len(data))
    return data


def read_bytes(root: Path, rel: str) -> bytes:
    """The bytes of a regular file inside the repository; FileProblem (or FileNotFoundError) otherwise."""
    real = check_path(root, rel)
    with open(real, "rb") as fh:
        return read_capped(fh, os.fstat(fh.fileno()).st_size, MAX_BYTES)


def read_walked(real: str) -> bytes | None:
    """The bytes of a file a walk of the repository found regular, by the real path the walk built
    (its folders resolved inside the repository); None when it is no longer a regular file of at most
    MAX_BYTES, so the caller reads it the checked way (read_bytes) and reports what it is. The last
    step is not followed should a link have been swapped in."""
    try:
        return read_regular(real, real, limit=MAX_BYTES, follow_links=False)
    except (FileRefused, OSError):
        return None


# ---- reading any path (the configuration, a file named on the command line, a scanned file) ----
class FileRefused(UsageError):
    """A FileProblem as the error a command exits with (2): one line naming the file; `rule` says which
    case (special-file, symlink-loop, too-large, unreadable), so a caller may skip rather than stop."""

    def __init__(self, problem: FileProblem) -> None:
        super().__init__(str(problem))
        self.rule, self.path = problem.rule, problem.path


def read_regular(path: Path | str, shown: str, *, limit: int | None = None, follow_links: bool = True) -> bytes:
    """The bytes of `path` when it is a regular file of at most `limit` bytes (default: the configured
    `limits.file_size_mib`). A FIFO, socket or device is never opened (it could block or stream
    forever), not even when swapped in between the check and the open; without `follow_links`, a
    symlink as the last step is refused too. Raises FileRefused naming `shown`, or FileNotFoundError
    when nothing is there."""
    from promoter.yamlio.limits import current

    cap = current().file_bytes if limit is None else limit
    try:
        st = os.stat(path) if follow_links else os.lstat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise FileRefused(
                FileProblem("unreadable", shown, "is a symlink to nothing (a dangling link): fix or remove the link")
            ) from None
        raise
    except OSError as exc:
        raise FileRefused(_os_problem(exc, shown)) from None
    _check_regular(st, shown, cap)
    try:
        # O_NONBLOCK: should a FIFO have been swapped in since the stat, open() returns instead of waiting.
        flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(path, flags if follow_links else flags | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise FileRefused(_os_problem(exc, shown)) from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fd)
        _check_regular(st, shown, cap)
        try:
            data = read_capped(fh, st.st_size, cap)
        except OSError as exc:
            raise FileRefused(_os_problem(exc, shown)) from None
    if len(data) > cap:  # it grew since the stat
        raise FileRefused(_too_large(len(data), shown, cap))
    return data


def _check_regular(st: os.stat_result, shown: str, cap: int) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise FileRefused(
            FileProblem(
                "special-file",
                shown,
                f"is {_what(st.st_mode)}, not a regular file; it is never opened (it could block or stream forever)",
            )
        )
    if st.st_size > cap:
        raise FileRefused(_too_large(st.st_size, shown, cap))


def _too_large(size: int, shown: str, cap: int) -> FileProblem:
    mib = 1024 * 1024
    return FileProblem(
        "too-large",
        shown,
        f"is {size / mib:.1f} MiB, more than the {cap / mib:g} MiB promoter reads from one file "
        "(limits.file_size_mib in .promoter.yaml)",
    )


def _os_problem(exc: OSError, shown: str) -> FileProblem:
    if exc.errno == errno.ELOOP:
        return FileProblem("symlink-loop", shown, _LOOP)
    return FileProblem("unreadable", shown, f"cannot be read: {exc.strerror or exc}")
