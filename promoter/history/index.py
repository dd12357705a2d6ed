"""Index: a ref's first-parent history read from Git in one pass, then cut into any number of scopes.

One `git log` names every file each commit changed (with the blob it left), one
`git cat-file --batch` reads the blobs; which commits and files belong to an app's environment
is decided here, by the same rules git's pathspecs and `Scope.contains` apply. Asking for 1,800
(app, environment) pairs costs what asking for one did: the per-pair `git log` was the cost.
"""

from __future__ import annotations

import os
import subprocess
from bisect import bisect_left
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from promoter.history.git import GitError, GitRepo
from promoter.locate.scope import Scope

# Past this many pathspecs one log of the whole folder is cheaper than git matching each one
# (and a command line of 1,800 paths is long); the split by path happens here either way.
MAX_PATHSPECS = 64
# git's empty blob id stands for "no blob": a deleted file, in `--raw` output.
_NULL_OID = "0" * 40


@dataclass(frozen=True)
class Change:
    """One commit on the first-parent line that touched a scope: when it reached the branch and what it touched."""

    commit: str
    time: datetime
    files: tuple[tuple[str, str], ...]  # (status letter, repository-relative path)


@dataclass(frozen=True)
class _Entry:
    status: str
    path: str  # repository-relative
    blob: str | None  # None: the path is gone after the commit (deleted)


@dataclass(frozen=True)
class _Commit:
    sha: str
    time: datetime
    entries: tuple[_Entry, ...]


def full_path(g: GitRepo, rel: str) -> str:
    """A repository-relative path as git's root sees it (the repository may be a subfolder of a work tree)."""
    if rel in ("", "."):
        return g.prefix or "."
    return f"{g.prefix}/{rel}" if g.prefix else rel


def _rel(g: GitRepo, full: str) -> str | None:
    if not g.prefix:
        return full
    return full[len(g.prefix) + 1 :] if full.startswith(g.prefix + "/") else None


def _git_log(g: GitRepo, commit: str, pathspecs: list[str]) -> bytes:
    """`git log` of `commit`'s first-parent line, every changed path with its new blob, NUL-separated.

    First parent, with merges diffed against it: on a base branch a pull request lands as a
    merge (or squash) commit, and its commit time is when the change reached the branch, which
    is what soak measures; the branch's own older commit times are not. `--root` and the `--no-*`
    options pin what a user's git configuration (log.showRoot, log.showSignature, color.ui,
    diff.external) could otherwise change in the output.
    """
    args = [
        "log",
        "--root",
        "--first-parent",
        "--diff-merges=first-parent",
        "--no-renames",
        "--no-color",
        "--no-show-signature",
        "--no-ext-diff",
        "--no-textconv",
        "--raw",
        "--no-abbrev",
        "-z",
        "--format=%x01%H %ct",
        commit,
        "--",
        *pathspecs,
    ]
    env = {**os.environ, "LC_ALL": "C", "GIT_PAGER": "cat", "GIT_TERMINAL_PROMPT": "0"}
    try:
        proc = subprocess.run(["git", *args], cwd=g.root, env=env, capture_output=True, check=False)
    except FileNotFoundError:
        raise GitError("git is not on PATH") from None
    if proc.returncode != 0:
        first = next((ln.strip() for ln in proc.stderr.decode(errors="replace").splitlines() if ln.strip()), "")
        raise GitError(f"git log failed: {first.removeprefix('fatal: ') or f'exit {proc.returncode}'}")
    return proc.stdout


def _under_any(places: set[str]) -> Callable[[str], bool] | None:
    """Whether a repository-relative path is one of `places` or below one (None: everything is)."""
    if "." in places:
        return None

    def keep(rel: str) -> bool:
        if rel in places:
            return True
        cut = rel.find("/")
        while cut != -1:
            if rel[:cut] in places:
                return True
            cut = rel.find("/", cut + 1)
        return False

    return keep


def _parse_log(g: GitRepo, out: bytes, keep: Callable[[str], bool] | None = None) -> list[_Commit]:
    """Commits of `_git_log`'s output, newest first, with the changed paths `keep` accepts.

    Read token by token: a path always follows its `:mode mode old new status` token, so a file
    name holding the header mark or a colon is taken as a name, never as structure.
    """
    commits: list[_Commit] = []
    tokens = out.split(b"\0")
    sha: str | None = None
    time: datetime | None = None
    entries: list[_Entry] = []
    i = 0
    while i < len(tokens):
        token = tokens[i].lstrip(b"\n")
        i += 1
        if token.startswith(b"\x01"):
            if sha is not None and time is not None:
                commits.append(_Commit(sha, time, tuple(entries)))
            head, _, stamp = token[1:].decode("ascii", "replace").partition(" ")
            sha, time, entries = head, datetime.fromtimestamp(int(stamp), tz=UTC), []
        elif token.startswith(b":") and i < len(tokens):
            meta = token.decode("ascii", "replace").split(" ")
            path = tokens[i].decode("utf-8", "surrogateescape")
            i += 1
            if len(meta) < 5:
                raise GitError(f"git log: unexpected line {token[:80]!r}")
            rel = _rel(g, path)
            if rel is not None and (keep is None or keep(rel)):
                status, blob = meta[4][:1], meta[3]
                entries.append(_Entry(status, rel, None if status == "D" or blob == _NULL_OID else blob))
        elif token:
            raise GitError(f"git log: unexpected output {token[:80]!r}")
    if sha is not None and time is not None:
        commits.append(_Commit(sha, time, tuple(entries)))
    return commits


def read_objects(g: GitRepo, names: Iterable[str]) -> dict[str, bytes | None]:
    """Blobs by name (a blob id, or `<commit>:<root-relative path>`) with one `git cat-file --batch`.

    A name that is missing or not a blob (a tree, a submodule's commit) maps to None.
    """
    unique = [n for n in dict.fromkeys(names) if n and "\n" not in n]
    if not unique:
        return {}
    proc = subprocess.run(
        ["git", "cat-file", "--batch"],
        cwd=g.root,
        input="\n".join(unique).encode("utf-8", "surrogateescape") + b"\n",
        capture_output=True,
        check=False,
        env={**os.environ, "LC_ALL": "C"},
    )
    if proc.returncode != 0:
        raise GitError(f"git cat-file failed: {proc.stderr.decode(errors='replace').strip() or proc.returncode}")
    out: dict[str, bytes | None] = {}
    data, pos = proc.stdout, 0
    for name in unique:
        eol = data.index(b"\n", pos)
        header = data[pos:eol].decode(errors="replace").split(" ")
        pos = eol + 1
        if len(header) != 3 or header[1] != "blob":
            out[name] = None
            if len(header) == 3:  # a tree or a commit: skip its body
                pos += int(header[2]) + 1
            continue
        size = int(header[2])
        out[name] = data[pos : pos + size]
        pos += size + 1
    return out


@dataclass
class LogIndex:
    """Every commit on a ref's first-parent line, oldest first, and for each path the commits that changed it."""

    g: GitRepo
    commit: str
    commits: list[_Commit]
    by_path: dict[str, list[tuple[int, int]]]  # repository-relative path -> (commit, entry) indexes, ascending
    paths: list[str]  # sorted, for prefix search

    @classmethod
    def read(cls, g: GitRepo, commit: str, scopes: Iterable[Scope] | None = None) -> LogIndex:
        """The history of `commit` (resolved), limited to the scopes' places when they are few.

        `scopes=None` or many scopes read everything under the repository's folder: which
        commit touched which scope is then decided by `select`, as git's pathspecs would.
        """
        places = {p for s in scopes for p in s.paths} if scopes is not None else {"."}
        asked = ["."] if "." in places or len(places) > MAX_PATHSPECS else sorted(places)
        # literal: a folder named `a*b` must not glob.
        specs = [f":(literal){full_path(g, p)}" for p in asked]
        # Only the scopes' paths are kept: the rest of a large folder's history costs no memory.
        commits = _parse_log(g, _git_log(g, commit, specs), _under_any(places))
        commits.reverse()
        by_path: dict[str, list[tuple[int, int]]] = {}
        for n, c in enumerate(commits):
            for k, e in enumerate(c.entries):
                by_path.setdefault(e.path, []).append((n, k))
        return cls(g, commit, commits, by_path, sorted(by_path))

    def _under(self, place: str) -> list[str]:
        """Paths git's pathspec `:(literal)place` matches: the path itself and everything below it."""
        if place == ".":
            return self.paths
        out = [place] if place in self.by_path else []
        start = bisect_left(self.paths, place + "/")
        for path in self.paths[start:]:
            if not path.startswith(place + "/"):
                break
            out.append(path)
        return out

    def select(self, scope: Scope) -> tuple[list[Change], list[dict[str, str | None]]]:
        """The commits that touched the scope's places (oldest first) and, per commit, the blob each
        file of the scope holds after it (None: removed).

        Exactly what `git log --first-parent -- <the scope's paths>` lists: a commit is there when
        its diff against its first parent names a path under one of the places.
        """
        matched: set[str] = set()
        for place in scope.paths:
            matched.update(self._under(place))
        inside = {path: scope.contains(path, matched) for path in matched}
        touched: dict[int, list[_Entry]] = {}
        for n, k in sorted(hit for path in matched for hit in self.by_path[path]):
            touched.setdefault(n, []).append(self.commits[n].entries[k])
        changes: list[Change] = []
        versions: list[dict[str, str | None]] = []
        for n, entries in touched.items():
            c = self.commits[n]
            changes.append(Change(c.sha, c.time, tuple((e.status, e.path) for e in entries)))
            versions.append({e.path: e.blob for e in entries if inside[e.path]})
        return changes, versions
