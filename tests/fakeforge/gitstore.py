"""GitStore: a real bare git repository the fake forge keeps its commits in, driven by plumbing."""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

IDENTITY = {
    "GIT_AUTHOR_NAME": "promoter-bot",
    "GIT_AUTHOR_EMAIL": "bot@example.com",
    "GIT_COMMITTER_NAME": "Fake Forge",
    "GIT_COMMITTER_EMAIL": "noreply@fakeforge.test",
}


class GitStoreError(Exception):
    pass


@dataclass
class CommitInfo:
    sha: str
    tree: str
    parents: list[str]
    message: str
    author_name: str
    author_email: str
    committer_name: str = ""
    committer_email: str = ""


class GitStore:
    """A bare repository; every write goes through a temporary index so refs are the only shared state."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.RLock()
        self._commits: dict[str, CommitInfo] = {}
        # The forge's clock: commits it writes (merges above all, which soak measures from) carry
        # this time when set, so a test decides how long ago a promotion landed.
        self.clock: Callable[[], datetime | None] = lambda: None
        if not (path / "HEAD").exists():
            path.mkdir(parents=True, exist_ok=True)
            self.git("init", "-q", "--bare", "-b", "main")

    def git(self, *args: str, input: bytes | None = None, env: dict[str, str] | None = None) -> str:
        full_env = {**os.environ, **IDENTITY, **(env or {})}
        proc = subprocess.run(
            ["git", *args],
            cwd=self.path,
            env=full_env,
            input=input,
            capture_output=True,
            check=False,
        )
        if proc.returncode != 0:
            raise GitStoreError(proc.stderr.decode(errors="replace").strip() or f"git {args[0]} failed")
        return proc.stdout.decode()

    # ---- reading -----------------------------------------------------------------------------
    def rev_parse(self, ref: str) -> str | None:
        if ref.startswith("refs/heads/"):
            return self.branch_sha(ref.removeprefix("refs/heads/"))
        try:
            return self.git("rev-parse", "--verify", "-q", f"{ref}^{{commit}}").strip() or None
        except GitStoreError:
            return None

    def branch_sha(self, branch: str) -> str | None:
        # Read the ref file itself: every API answer needs branch heads, and a git process
        # per lookup made the fake slower than the code under test. Refs are written with
        # update-ref (loose files); a packed ref is the fallback.
        loose = self.path / "refs" / "heads" / branch
        if loose.is_file():
            return loose.read_text().strip() or None
        packed = self.path / "packed-refs"
        if packed.is_file():
            for line in packed.read_text().splitlines():
                sha, _, name = line.partition(" ")
                if name == f"refs/heads/{branch}":
                    return sha
        return None

    def branches(self) -> list[str]:
        out = self.git("for-each-ref", "--format=%(refname:short)", "refs/heads/")
        return [line for line in out.splitlines() if line]

    def read_file(self, ref: str, path: str) -> bytes | None:
        proc = subprocess.run(
            ["git", "cat-file", "blob", f"{ref}:{path}"],
            cwd=self.path,
            capture_output=True,
            check=False,
        )
        return proc.stdout if proc.returncode == 0 else None

    def blob_sha(self, ref: str, path: str) -> str | None:
        try:
            return self.git("rev-parse", "--verify", "-q", f"{ref}:{path}").strip() or None
        except GitStoreError:
            return None

    def commit_info(self, sha: str) -> CommitInfo:
        cached = self._commits.get(sha)
        if cached is None:
            raw = self.git("show", "-s", "--format=%H%n%T%n%P%n%an%n%ae%n%cn%n%ce%n%B", sha)
            sha_, tree, parents, name, email, cname, cemail, message = raw.split("\n", 7)
            cached = CommitInfo(sha_, tree, parents.split(), message.rstrip("\n"), name, email, cname, cemail)
            self._commits[sha] = self._commits[sha_] = cached  # commits never change
        return cached

    def last_commit_for_path(self, ref: str, path: str) -> str | None:
        out = self.git("log", "-1", "--format=%H", ref, "--", path).strip()
        return out or None

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        proc = subprocess.run(
            ["git", "merge-base", "--is-ancestor", ancestor, descendant],
            cwd=self.path,
            capture_output=True,
            check=False,
        )
        return proc.returncode == 0

    def new_commits(self, sha: str) -> list[str]:
        """Commits reachable from sha and from no branch yet."""
        return [c for c in self.git("rev-list", sha, "--not", "--branches").split() if c]

    def merge_base(self, a: str, b: str) -> str | None:
        try:
            return self.git("merge-base", a, b).strip() or None
        except GitStoreError:
            return None

    def commits_between(self, base: str, head: str) -> list[str]:
        """Commits reachable from head and not from base, oldest first."""
        return [c for c in self.git("rev-list", "--reverse", "--topo-order", head, f"^{base}").split() if c]

    def diff_entries(self, base: str, head: str) -> list[tuple[str, str, str | None]]:
        """(status letter, path, previous path) of what head changes against base, renames found as git finds them."""
        out = []
        for line in self.git("diff", "--name-status", "-M", base, head).splitlines():
            parts = line.split("\t")
            if parts[0].startswith("R"):
                out.append(("R", parts[2], parts[1]))
            elif len(parts) >= 2:
                out.append((parts[0][0], parts[1], None))
        return out

    def file_patch(self, base: str, head: str, path: str, previous: str | None = None) -> str:
        """The hunks of one file's diff (from the first `@@`), as both forges' compare answers carry them."""
        paths = [previous, path] if previous else [path]
        raw = self.git("diff", "-M", "--no-color", base, head, "--", *paths)
        at = raw.find("\n@@")
        return raw[at + 1 :] if at >= 0 else ""

    def changed_paths(self, base: str, head: str) -> list[str]:
        mb = self.git("merge-base", base, head).strip()
        return [p for p in self.git("diff", "--name-only", mb, head).splitlines() if p]

    # ---- writing -----------------------------------------------------------------------------
    def commit_files(
        self,
        parent: str | None,
        files: dict[str, bytes | None],
        message: str,
        *,
        author: tuple[str, str] | None = None,
        committer: tuple[str, str] | None = None,
    ) -> str:
        """A new commit on `parent` with `files` written (None deletes); refs are not touched."""
        tree = self.write_tree(parent, files)
        return self.commit_tree(tree, [parent] if parent else [], message, author, committer)

    def update_ref(self, branch: str, sha: str, old: str | None = None) -> None:
        # The old value makes git itself refuse a ref that moved under us.
        args = ["update-ref", f"refs/heads/{branch}", sha]
        if old is not None:
            args.append(old)
        self.git(*args)

    def delete_ref(self, branch: str) -> None:
        self.git("update-ref", "-d", f"refs/heads/{branch}")

    def merge(self, base: str, head: str, message: str) -> str | None:
        """A merge commit of head into base, or None when they conflict."""
        tree = self.merge_tree(base, head)
        if tree is None:
            return None
        return self.commit_tree(tree, [base, head], message)

    def merge_tree(self, base: str, head: str) -> str | None:
        """The tree of merging head into base (three-way, from their merge base), or None when they conflict."""
        proc = subprocess.run(
            ["git", "merge-tree", "--write-tree", base, head],
            cwd=self.path,
            capture_output=True,
            check=False,
        )
        if proc.returncode != 0:
            return None
        return proc.stdout.decode().splitlines()[0].strip()

    def pick_tree(self, onto: str, commit: str) -> str | None:
        """The tree of applying `commit`'s own change (against its first parent) onto `onto`, as a
        rebase replays it; None when it does not apply cleanly.

        Not `merge_tree(onto, commit)`: that merges from the common ancestor, so a second commit
        editing the line the first one edited conflicts with the copy of the first (and only when
        the copy got another commit id than the original: same second, same id; a flaky test)."""
        parents = self.commit_info(commit).parents
        if not parents:
            return None
        with tempfile.TemporaryDirectory() as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            try:
                # A three-way merge of whole trees in a scratch index; a path changed on both sides
                # differently stays unmerged and write-tree refuses: "can't be rebased".
                self.git("read-tree", "-i", "-m", "--aggressive", parents[0], onto, commit, env=env)
                return self.git("write-tree", env=env).strip()
            except GitStoreError:
                return None

    def seed(self, source: Path, branch: str = "main") -> str:
        """Push a local repository's branch here so both share commit ids."""
        self.git("fetch", "-q", str(source), f"+refs/heads/{branch}:refs/heads/{branch}")
        sha = self.branch_sha(branch)
        assert sha
        return sha

    def write_tree(self, base_tree: str | None, entries: Mapping[str, bytes | str | None]) -> str:
        """A tree: `base_tree` (a tree or a commit) with entries set (bytes: content, str: a blob sha, None: removed)."""
        with tempfile.TemporaryDirectory() as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            if base_tree:
                self.git("read-tree", base_tree, env=env)
            # One git run hashes every new blob and one more sets every entry: a commit of many
            # files costs three processes, not two a file.
            contents = [(p, v) for p, v in entries.items() if isinstance(v, bytes)]
            files = []
            for i, (_, data) in enumerate(contents):
                f = Path(tmp) / f"blob{i}"
                f.write_bytes(data)
                files.append(str(f))
            shas = self.git("hash-object", "-w", "--", *files).split() if files else []
            blobs = {p: sha for (p, _), sha in zip(contents, shas, strict=True)}
            lines = []
            for path, value in entries.items():
                if value is None:
                    lines.append(f"0 {'0' * 40}\t{path}")  # mode 0 removes the entry
                else:
                    lines.append(f"100644 {blobs[path] if isinstance(value, bytes) else value}\t{path}")
            if lines:
                self.git("update-index", "--add", "--index-info", input=("\n".join(lines) + "\n").encode(), env=env)
            return self.git("write-tree", env=env).strip()

    def commit_tree(
        self,
        tree: str,
        parents: list[str],
        message: str,
        author: tuple[str, str] | None = None,
        committer: tuple[str, str] | None = None,
    ) -> str:
        """A commit object. The committer is the author unless named, as when an account commits through
        an API or a person commits with git; the forge's own commits (merges) name no author and carry
        the forge's identity as both."""
        env = {"GIT_AUTHOR_NAME": author[0], "GIT_AUTHOR_EMAIL": author[1]} if author else {}
        who = committer or author
        if who:
            env |= {"GIT_COMMITTER_NAME": who[0], "GIT_COMMITTER_EMAIL": who[1]}
        now = self.clock()
        if now is not None:
            env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = now.isoformat()
        args = ["commit-tree", tree]
        for p in parents:
            args += ["-p", p]
        return self.git(*args, "-m", message, env=env).strip()

    def object_type(self, sha: str) -> str | None:
        try:
            return self.git("cat-file", "-t", sha).strip()
        except GitStoreError:
            return None
