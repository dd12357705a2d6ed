"""GitRepo: a thin wrapper that runs git with an argument list and answers in repo-relative paths."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from promoter.model.errors import ToolError, UsageError, shorten


class GitError(ToolError):
    """git failed; the message is git's own first line of complaint."""


@dataclass(frozen=True)
class FileDiff:
    """One path that differs between a base and the working tree (repo-relative POSIX paths).

    `status` is git's letter: A added, M modified, D deleted, R renamed (old_path set),
    C copied, T type change, U unmerged, ? untracked.
    """

    status: str
    path: str
    old_path: str | None = None

    @property
    def paths(self) -> tuple[str, ...]:
        return (self.path,) if self.old_path is None else (self.old_path, self.path)


def run_git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run `git ARGS` in `cwd`; a failure raises GitError carrying git's first stderr line."""
    # A fixed locale keeps git's messages parseable; no pager, no prompts: CI has no terminal.
    env = {**os.environ, "LC_ALL": "C", "GIT_PAGER": "cat", "GIT_TERMINAL_PROMPT": "0"}
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise GitError("git is not on PATH") from None
    except NotADirectoryError:
        raise GitError(f"{cwd} is not a directory") from None
    if check and proc.returncode != 0:
        raise GitError(f"git {args[0]} failed: {_first_line(proc.stderr) or f'exit {proc.returncode}'}")
    return proc


def _first_line(text: str) -> str:
    for line in text.splitlines():
        line = line.strip()
        if line:
            return line.removeprefix("fatal: ").removeprefix("error: ")
    return ""


def origin_url(path: Path) -> str | None:
    """The URL of the `origin` remote of the work tree holding `path`; None without one (or without git)."""
    try:
        proc = run_git(path, "remote", "get-url", "origin", check=False)
    except GitError:
        return None
    return proc.stdout.strip() or None if proc.returncode == 0 else None


@dataclass(frozen=True)
class GitRepo:
    """A folder inside a git work tree. Every path this returns is relative to `path`, not to git's root."""

    path: Path

    @classmethod
    def open(cls, path: Path) -> GitRepo:
        if not path.is_dir():
            raise UsageError(f"{path}: not a directory")
        repo = cls(path.resolve())
        proc = run_git(repo.path, "rev-parse", "--show-toplevel", check=False)
        if proc.returncode != 0:
            if "dubious ownership" in proc.stderr:
                # A checkout owned by another user (a container running as root on a mounted folder):
                # git refuses it since 2.35.2; "not a repository" would send the user looking elsewhere.
                raise UsageError(
                    f"{path}: git refuses this repository: it is owned by another user than the one running "
                    f"promoter (git's safe.directory check)",
                    hint=f"if you trust it: `git config --global --add safe.directory {repo.path}`, "
                    "or run as the folder's owner",
                )
            raise UsageError(f"{path}: not inside a git repository")
        return repo

    @cached_property
    def root(self) -> Path:
        return Path(run_git(self.path, "rev-parse", "--show-toplevel").stdout.strip()).resolve()

    @cached_property
    def prefix(self) -> str:
        """`path` relative to the work tree's root (`""` at the root), POSIX style."""
        rel = self.path.relative_to(self.root).as_posix()
        return "" if rel == "." else rel

    def resolve(self, ref: str, *, what: str = "--base") -> str:
        """The commit a ref names; an unknown ref is a usage error (the user typed it, as option `what`)."""
        proc = run_git(
            self.path, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}", check=False
        )
        if proc.returncode != 0 or not proc.stdout.strip():
            if ref == "HEAD":
                raise UsageError(f"{self.root} has no commit yet: commit the repository's files first")
            raise UsageError(
                f"{what} {shorten(ref)}: no such commit, branch or tag in {self.root}",
                hint="a shallow CI checkout may need `git fetch origin <branch>` first",
            )
        return proc.stdout.strip()

    def merge_base(self, ref: str) -> str:
        """Where HEAD forked from `ref`, as a pull request sees it; `ref` itself when they share no history."""
        commit = self.resolve(ref)
        head = run_git(self.path, "rev-parse", "--verify", "--quiet", "HEAD", check=False)
        if head.returncode != 0:  # no commit yet on this branch
            return commit
        proc = run_git(self.path, "merge-base", commit, "HEAD", check=False)
        return proc.stdout.strip() if proc.returncode == 0 and proc.stdout.strip() else commit

    def changed_files(self, ref: str, *, merge_base: str | None = None) -> list[FileDiff]:
        """What differs between the merge base with `ref` and the working tree, untracked files included.

        Like a pull request's diff, plus what is not committed yet: `git diff <merge-base>`
        compares that commit with the working tree, so committed, staged and unstaged changes
        all count; renames are detected so both the old and the new path are known.
        A caller that already has the merge base passes it (three git runs fewer).
        """
        base = merge_base or self.merge_base(ref)
        out = run_git(
            self.path, "diff", "--name-status", "-z", "-M", "--no-ext-diff", "--relative", base, "--", "."
        ).stdout
        diffs = _parse_name_status(out)
        untracked = run_git(self.path, "ls-files", "--others", "--exclude-standard", "-z", "--", ".").stdout
        diffs.extend(FileDiff("?", p) for p in untracked.split("\0") if p)
        return diffs

    def changed_between(self, before: str, after: str) -> list[FileDiff]:
        """What differs between two commits (repo-relative paths, renames found as in changed_files)."""
        out = run_git(
            self.path, "diff", "--name-status", "-z", "-M", "--no-ext-diff", "--relative", before, after, "--", "."
        ).stdout
        return _parse_name_status(out)

    def show(self, ref: str, path: str) -> str | None:
        """The text of repo-relative `path` at `ref`; None when it does not exist there."""
        spec = f"{ref}:{self.prefix + '/' if self.prefix else ''}{path}"
        proc = run_git(self.path, "show", spec, check=False)
        return proc.stdout if proc.returncode == 0 else None

    def export(self, ref: str, dest: Path, keep: Callable[[str], bool] | None = None) -> int:
        """Write the files of this folder at `ref` for which `keep(path)` holds (all without `keep`) into
        `dest`: the base a check compares with. One `ls-tree` and one `cat-file --batch`, so a check
        that needs a handful of files at the base does not pay for the whole repository. A symlink is
        recreated when it stays inside `dest`; submodules are left out. Returns the files written."""
        commit = self.resolve(ref)
        spec = f"{commit}:{self.prefix}" if self.prefix else commit
        env = {**os.environ, "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0"}
        listing = subprocess.run(
            ["git", "ls-tree", "-r", "-z", "--full-tree", spec], cwd=self.root, env=env, capture_output=True
        )
        if listing.returncode != 0:
            raise GitError(f"git ls-tree failed: {_first_line(listing.stderr.decode('utf-8', 'replace'))}")
        entries: list[tuple[str, str, str]] = []  # (mode, object, path)
        for record in listing.stdout.split(b"\0"):
            if not record:
                continue
            meta, _, raw_path = record.partition(b"\t")
            mode, kind, obj = meta.decode().split(" ")
            path = raw_path.decode("utf-8", "surrogateescape")
            if kind == "blob" and (keep is None or keep(path)):
                entries.append((mode, obj, path))
        if not entries:
            return 0
        proc = subprocess.run(
            ["git", "cat-file", "--batch"],
            cwd=self.root,
            env=env,
            input="".join(f"{obj}\n" for _, obj, _ in entries).encode(),
            capture_output=True,
        )
        if proc.returncode != 0:
            raise GitError(f"git cat-file failed: {_first_line(proc.stderr.decode('utf-8', 'replace'))}")
        out, pos = proc.stdout, 0
        root = dest.resolve()
        for mode, _, path in entries:
            header_end = out.index(b"\n", pos)
            size = int(out[pos:header_end].split(b" ")[2])
            body = out[header_end + 1 : header_end + 1 + size]
            pos = header_end + 1 + size + 1  # the blob, then its newline
            target = root / path
            if not target.resolve().is_relative_to(root):
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if mode == "120000":
                link = body.decode("utf-8", "surrogateescape")
                if (target.parent / link).resolve().is_relative_to(root):
                    target.symlink_to(link)
                continue
            target.write_bytes(body)
            if mode == "100755":
                target.chmod(0o755)
        return len(entries)

    def first_parent_after(self, start: str, end: str, limit: int) -> list[str]:
        """Commits on `end`'s first-parent line after `start`, oldest first, at most `limit` of them.

        The base branch's own sequence of changes: merges of pull requests (and direct pushes),
        not the commits of the branches they merged.
        """
        out = run_git(self.path, "rev-list", "--first-parent", "--reverse", f"{start}..{end}", "--").stdout
        return out.split()[:limit]

    def log(self, *args: str) -> str:
        """`git log ARGS` run in the repository folder, its output as text."""
        return run_git(self.path, "log", *args).stdout


def _parse_name_status(out: str) -> list[FileDiff]:
    parts = out.split("\0")
    diffs: list[FileDiff] = []
    i = 0
    while i < len(parts) and parts[i]:
        status = parts[i]
        letter = status[0]
        if letter in "RC":
            diffs.append(FileDiff(letter, parts[i + 2], old_path=parts[i + 1]))
            i += 3
        else:
            diffs.append(FileDiff(letter, parts[i + 1]))
            i += 2
    return diffs
