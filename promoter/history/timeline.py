"""History: which image an app runs in an environment, read from Git (never a cluster), now and over time."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from promoter.config.model import Config
from promoter.history.git import GitError, GitRepo, run_git
from promoter.locate.chartvalues import parse_values, values_file
from promoter.locate.paths import safe_path
from promoter.locate.scan import (
    MAY_HOLD_IMAGE,
    ParsedFile,
    extract,
)
from promoter.locate.scope import Scope, env_scope
from promoter.model.errors import UsageError
from promoter.model.image import ImageRef
from promoter.model.reference import Reference
from promoter.yamlio.document import YamlDoc, read_checked


@dataclass(frozen=True)
class Pin:
    """One reference's value: where the app's image is pinned and to what."""

    file: str
    line: int
    tag: str | None
    digest: str | None

    def label(self) -> str:
        return label(self.tag, self.digest)

    def runs(self, image: ImageRef) -> bool:
        """Whether this pin is `image`: the same digest, or the same tag when `image` has no digest."""
        if image.digest:
            return self.digest == image.digest
        return image.tag is not None and self.tag == image.tag


@dataclass(frozen=True)
class ImageState:
    """The app's image in one environment at one point of the base branch's history.

    `tag`/`digest`/`file`/`line` are those of the first pin (by file, line) that has a tag or a
    digest; `pins` holds every
    reference of the app's image in the environment (several containers or files may pin it).
    `commit`/`time` are the change that put this state there (None for the working tree);
    `until`/`until_commit` the change that replaced or removed it (None: it is still there).
    """

    repository: str
    tag: str | None
    digest: str | None
    file: str
    line: int
    pins: tuple[Pin, ...]
    commit: str | None = None
    time: datetime | None = None
    until: datetime | None = None
    until_commit: str | None = None

    @property
    def image(self) -> ImageRef:
        return ImageRef.parse(self.repository).with_(tag=self.tag, digest=self.digest)

    def label(self) -> str:
        return label(self.tag, self.digest)

    def values(self) -> tuple[tuple[str, str | None, str | None], ...]:
        """What the state pins, ignoring line numbers (a reflowed file is the same state)."""
        return tuple((p.file, p.tag, p.digest) for p in self.pins)


def label(tag: str | None, digest: str | None) -> str:
    """`1.4.1@sha256:1b7e4f0c2d9a`: a short human name of a pinned value."""
    out = tag or ""
    if digest:
        algo, _, hexpart = digest.partition(":")
        out += f"@{algo}:{hexpart[:12]}"
    return out or "(untagged)"


# ---- reading Git ----------------------------------------------------------------------------


def _full(g: GitRepo, rel: str) -> str:
    """A repository-relative path as git's root sees it (the repo may be a subfolder of a work tree)."""
    if rel in ("", "."):
        return g.prefix or "."
    return f"{g.prefix}/{rel}" if g.prefix else rel


def _rel(g: GitRepo, full: str) -> str | None:
    if not g.prefix:
        return full
    return full[len(g.prefix) + 1 :] if full.startswith(g.prefix + "/") else None


def _pathspecs(g: GitRepo, scope: Scope) -> list[str]:
    # literal: a folder named `a*b` must not glob.
    return [f":(literal){_full(g, p)}" for p in scope.paths]


def read_blobs(g: GitRepo, specs: list[str]) -> dict[str, str | None]:
    """Texts of many `<commit>:<root-relative path>` objects with one `git cat-file --batch`."""
    if not specs:
        return {}
    unique = list(dict.fromkeys(specs))
    proc = subprocess.run(
        ["git", "cat-file", "--batch"],
        cwd=g.root,
        input="\n".join(unique).encode() + b"\n",
        capture_output=True,
        check=False,
        env={**os.environ, "LC_ALL": "C"},
    )
    if proc.returncode != 0:
        raise GitError(f"git cat-file failed: {proc.stderr.decode(errors='replace').strip() or proc.returncode}")
    out: dict[str, str | None] = {}
    data, pos = proc.stdout, 0
    for spec in unique:
        eol = data.index(b"\n", pos)
        header = data[pos:eol].decode(errors="replace").split(" ")
        pos = eol + 1
        if len(header) != 3 or header[1] != "blob":
            out[spec] = None
            if len(header) == 3:  # a tree or a submodule: skip its body
                pos += int(header[2]) + 1
            continue
        size = int(header[2])
        out[spec] = data[pos : pos + size].decode("utf-8", "replace")
        pos += size + 1
    return out


@dataclass(frozen=True)
class _Change:
    commit: str
    time: datetime
    files: tuple[tuple[str, str], ...]  # (status letter, repo-relative path)


def _log(g: GitRepo, scope: Scope, ref: str) -> list[_Change]:
    """Commits on `ref`'s first-parent line that touch the scope, oldest first.

    First parent, with merges diffed against it: on a base branch a pull request lands as a
    merge (or squash) commit, and its commit time is when the change reached the branch, which
    is what soak measures; the branch's own older commit times are not.
    """
    commit = g.resolve(ref, what="--ref")
    out = run_git(
        g.root,
        "log",
        "--first-parent",
        "--diff-merges=first-parent",
        "--no-renames",
        "--format=%x01%H %ct",
        "--name-status",
        "-z",
        commit,
        "--",
        *_pathspecs(g, scope),
    ).stdout
    changes: list[_Change] = []
    for chunk in out.split("\x01")[1:]:
        header, _, rest = chunk.partition("\0")
        sha, ct = header.split(" ")
        fields = rest.lstrip("\n").split("\0")
        files: list[tuple[str, str]] = []
        for i in range(0, len(fields) - 1, 2):
            rel = _rel(g, fields[i + 1])
            if rel is not None:
                files.append((fields[i][:1], rel))
        changes.append(_Change(sha, datetime.fromtimestamp(int(ct), tz=UTC), tuple(files)))
    changes.reverse()
    return changes


def _defaults_text(repo: Path, g: GitRepo | None, scope: Scope, ref: str | None) -> Any:
    """The chart's values.yaml at `ref` (or on disk), which env values files layer over.

    Like the files themselves (pins_in), a historic one that does not parse gives nothing; the
    working tree's must parse."""
    if not scope.chart:
        return None
    rel = values_file(scope.chart)
    if ref is None or g is None:
        path = safe_path(repo, rel)
        text = read_checked(path, rel).decode("utf-8", "replace") if path.is_file() else None
    else:
        spec = f"{g.resolve(ref, what='--ref')}:{_full(g, rel)}"
        text = read_blobs(g, [spec])[spec]
    if text is None:
        return None
    try:
        return parse_values(text, rel)
    except UsageError:
        if ref is None:
            raise
        return None


def pins_in(scope: Scope, rel: str, text: str, defaults: Any = None, *, strict: bool = False) -> list[Pin]:
    """The app's pins in one file's text. A historic file that does not parse pins nothing
    (unless `strict`: the working tree's files must parse)."""
    keys = [k for f, k in scope.targets if f == rel]
    if not keys and not MAY_HOLD_IMAGE.search(text):
        return []
    try:
        doc = YamlDoc.from_text(text, rel)
        refs = extract(doc, defaults)
        if keys:
            from promoter.locate.targets import target_reference

            found: list[Reference] = [
                target_reference(ParsedFile(doc=doc, references=refs), k, scope.repository) for k in keys
            ]
        else:
            found = [r for r in refs if r.matches(scope.repository)]
    except UsageError:
        if strict:
            raise
        return []
    return [Pin(rel, r.line, r.tag, r.digest) for r in found]


def _state(scope: Scope, pins: list[Pin], commit: str | None, time: datetime | None) -> ImageState | None:
    if not pins:
        return None
    pins = sorted(pins, key=lambda p: (p.file, p.line))
    # A bare `image: repo` (a base container a kustomize `images:` entry sets) pins nothing itself.
    first = next((p for p in pins if p.tag or p.digest), pins[0])
    return ImageState(
        repository=scope.repository.repository,
        tag=first.tag,
        digest=first.digest,
        file=first.file,
        line=first.line,
        pins=tuple(pins),
        commit=commit,
        time=time,
    )


@dataclass
class Timeline:
    """An env's files along one ref's first-parent history: every version's text, parsed only when asked.

    Reading Git is cheap (one `git log`, one `git cat-file --batch`); parsing YAML round-trip is
    not (milliseconds a file), so each question parses only what it needs: `history()` every
    distinct version, `current()` the last versions and a step or two back, `stints(image)` only
    versions whose text contains the image's digest (or tag).
    """

    scope: Scope
    changes: list[_Change]
    versions: list[dict[str, str | None]]  # per change: file -> its text after it (None: removed)
    defaults: Any = None
    _memo: dict[tuple[str, str], list[Pin]] = field(default_factory=dict)
    _current: list[ImageState | None] = field(default_factory=list)  # memo: empty until computed

    def pins(self, rel: str, text: str | None) -> list[Pin]:
        if text is None:
            return []
        key = (rel, text)
        if key not in self._memo:
            self._memo[key] = pins_in(self.scope, rel, text, self.defaults)
        return self._memo[key]

    def _state(self, texts: dict[str, str | None], change: _Change | None) -> ImageState | None:
        pins = [p for rel, text in texts.items() for p in self.pins(rel, text)]
        return _state(self.scope, pins, change.commit if change else None, change.time if change else None)

    def history(self) -> list[ImageState]:
        """Every distinct state, oldest first, each with the commit that put it there and the one that ended it."""
        texts: dict[str, str | None] = {}
        states: list[ImageState] = []
        last: ImageState | None = None
        for change, version in zip(self.changes, self.versions, strict=True):
            texts.update(version)
            state = self._state(texts, change)
            if last is not None and state is not None and state.values() == last.values():
                continue
            if last is not None:
                states[-1] = replace(last, until=change.time, until_commit=change.commit)
            if state is not None:
                states.append(state)
            last = state
        return states

    def current(self) -> ImageState | None:
        """The state at the ref, with the commit that put it there (found walking back from the newest change)."""
        if self._current:
            return self._current[0]
        texts: dict[str, str | None] = {}
        before: list[dict[str, str | None]] = []
        for version in self.versions:
            before.append({rel: texts.get(rel) for rel in version})
            texts.update(version)
        final = self._state(texts, None)
        start = 0
        if final is not None:
            for i in range(len(self.changes) - 1, 0, -1):
                texts.update(before[i])
                earlier = self._state(texts, None)
                if earlier is None or earlier.values() != final.values():
                    start = i
                    break
            final = replace(final, commit=self.changes[start].commit, time=self.changes[start].time)
        self._current.append(final)
        return final

    def stints(self, image: ImageRef) -> list[ImageState]:
        """Each stretch of history during which the env ran `image` (see Pin.runs), oldest first.

        A version whose text does not contain the digest (or the tag) cannot pin it and is not parsed.
        """
        needle = image.digest or image.tag
        if not needle:
            return []
        matched: dict[str, list[Pin]] = {}
        out: list[ImageState] = []
        running = False
        for change, version in zip(self.changes, self.versions, strict=True):
            for rel, text in version.items():
                found = [p for p in self.pins(rel, text) if p.runs(image)] if text and needle in text else []
                if found:
                    matched[rel] = found
                else:
                    matched.pop(rel, None)
            if matched and not running:
                state = _state(self.scope, [p for ps in matched.values() for p in ps], change.commit, change.time)
                assert state is not None
                out.append(state)
            elif not matched and running:
                out[-1] = replace(out[-1], until=change.time, until_commit=change.commit)
            running = bool(matched)
        return out


def read_timeline(repo: Path, config: Config, app: str, env: str, ref: str = "HEAD") -> Timeline:
    """The app's env files along `ref`'s history: one `git log`, one `git cat-file --batch`."""
    scope = env_scope(config, app, env)
    g = GitRepo.open(repo)
    changes = _log(g, scope, ref)
    if not changes:
        return Timeline(scope, [], [])
    known: set[str] = set()
    for c in changes:
        known.update(rel for _, rel in c.files)
    wanted = [
        f"{c.commit}:{_full(g, rel)}"
        for c in changes
        for status, rel in c.files
        if status != "D" and scope.contains(rel, known)
    ]
    blobs = read_blobs(g, wanted)
    versions = [
        {
            rel: None if status == "D" else blobs.get(f"{c.commit}:{_full(g, rel)}")
            for status, rel in c.files
            if scope.contains(rel, known)
        }
        for c in changes
    ]
    return Timeline(scope, changes, versions, _defaults_text(repo, g, scope, ref))


def image_history(repo: Path, config: Config, app: str, env: str, ref: str = "HEAD") -> list[ImageState]:
    """Every distinct image the app ran in `env` on `ref`'s history, oldest first.

    Each state carries the commit (and its commit time) that put it there and, when it was
    replaced or removed, the commit that did.
    """
    return read_timeline(repo, config, app, env, ref).history()


def image_stints(
    repo: Path, config: Config, app: str, env: str, image: ImageRef, ref: str = "HEAD"
) -> list[ImageState]:
    """When `env` ran `image` on `ref`'s history: each stretch from the commit that put it there to the one that removed it."""
    return read_timeline(repo, config, app, env, ref).stints(image)


def current_image(repo: Path, config: Config, app: str, env: str, ref: str | None = "HEAD") -> ImageState | None:
    """What the app runs in `env` on `ref` (with the commit that put it there), or in the working
    tree when `ref` is None; None when the env pins no image of the app."""
    if ref is not None:
        return read_timeline(repo, config, app, env, ref).current()
    scope = env_scope(config, app, env)
    files = scope.files(repo)
    defaults = _defaults_text(repo, None, scope, None)
    pins: list[Pin] = []
    for rel in files:
        try:
            text = read_checked(repo / rel, rel).decode("utf-8")  # a regular file, within the size limit
        except UnicodeDecodeError as exc:
            raise UsageError(f"{rel}: not UTF-8 text (byte {exc.start})") from None
        pins.extend(pins_in(scope, rel, text, defaults, strict=True))
    return _state(scope, pins, None, None)
