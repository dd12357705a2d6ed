"""History: which image an app runs in an environment, read from Git (never a cluster), now and over time."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from promoter.config.model import Config
from promoter.history.git import GitRepo
from promoter.history.index import Change, LogIndex, full_path, read_objects
from promoter.history.pincache import UNPARSED, PinCache, entry_key, text_key
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


def read_blobs(g: GitRepo, specs: list[str]) -> dict[str, str | None]:
    """Texts of many `<commit>:<root-relative path>` objects with one `git cat-file --batch` (None: no blob there)."""
    return {
        name: None if data is None else data.decode("utf-8", "replace") for name, data in read_objects(g, specs).items()
    }


def _parse_defaults(rel: str, text: str | None, *, strict: bool) -> Any:
    """A chart's values.yaml as data. Like the files themselves (pins_in), a historic one that does
    not parse gives nothing; the working tree's must parse."""
    if text is None:
        return None
    try:
        return parse_values(text, rel)
    except UsageError:
        if strict:
            raise
        return None


def _defaults_on_disk(repo: Path, scope: Scope) -> tuple[Any, str | None]:
    """The chart's values.yaml in the working tree (data and text), which env values files layer over."""
    if not scope.chart:
        return None, None
    rel = values_file(scope.chart)
    path = safe_path(repo, rel)
    text = read_checked(path, rel).decode("utf-8", "replace") if path.is_file() else None
    return _parse_defaults(rel, text, strict=True), text


def pins_in(scope: Scope, rel: str, text: str, defaults: Any = None, *, strict: bool = False) -> list[Pin]:
    """The app's pins in one file's text. A historic file that does not parse pins nothing
    (unless `strict`: the working tree's files must parse)."""
    keys = [k for f, k in scope.targets if f == rel]
    if not keys and not MAY_HOLD_IMAGE.search(text):
        return []
    try:
        # libyaml's marks (as the working tree is read by locate): a version in a fraction of a millisecond;
        # what libyaml refuses still goes to the round-trip reader, whose verdict stands.
        doc = YamlDoc.read(text, rel)
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


def read_pins(
    scope: Scope,
    rel: str,
    text: str,
    defaults: Any = None,
    *,
    strict: bool = False,
    cache: PinCache | None = None,
    defaults_key: str = "",
) -> list[Pin]:
    """`pins_in`, remembered in `cache` by content (see pincache): a text parsed once is never parsed again."""
    keys = [k for f, k in scope.targets if f == rel]
    if cache is None or (not keys and not MAY_HOLD_IMAGE.search(text)):
        return pins_in(scope, rel, text, defaults, strict=strict)
    key = entry_key(rel, text, str(scope.repository), keys, defaults_key)
    hit = cache.get(key)
    if isinstance(hit, tuple):
        return [Pin(rel, line, tag, digest) for line, tag, digest in hit]
    if hit is None or strict:  # an unparsed text is parsed again where it must raise its error
        try:
            pins = pins_in(scope, rel, text, defaults, strict=True)
        except UsageError:
            cache.put(key, UNPARSED)
            if strict:
                raise
            return []
        cache.put(key, tuple((p.line, p.tag, p.digest) for p in pins))
        return pins
    return []


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
    changes: list[Change]
    versions: list[dict[str, str | None]]  # per change: file -> its text after it (None: removed)
    defaults: Any = None
    defaults_key: str = ""  # text_key of the chart values.yaml `defaults` was read from
    cache: PinCache | None = None
    _memo: dict[tuple[str, str], list[Pin]] = field(default_factory=dict)
    _current: list[ImageState | None] = field(default_factory=list)  # memo: empty until computed

    def pins(self, rel: str, text: str | None) -> list[Pin]:
        if text is None:
            return []
        key = (rel, text)
        if key not in self._memo:
            self._memo[key] = read_pins(
                self.scope, rel, text, self.defaults, cache=self.cache, defaults_key=self.defaults_key
            )
        return self._memo[key]

    def _state(self, texts: dict[str, str | None], change: Change | None) -> ImageState | None:
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


# Timelines already read in this process, by (work tree, folder, commit, scope): a commit's history
# never changes, so `promote` (the source environment, then the gates) and the gates of several
# promotions read Git once. Bounded: a long-lived process keeps only the newest.
_READ: OrderedDict[tuple[Path, str, str, Scope], Timeline] = OrderedDict()
_READ_MAX = 256


def forget() -> None:
    """Drop the timelines this process has read (benchmarks time a fresh read)."""
    _READ.clear()


def read_timelines(
    repo: Path, scopes: Iterable[Scope], ref: str = "HEAD", *, cache: PinCache | None = None
) -> dict[Scope, Timeline]:
    """Each scope's files along `ref`'s first-parent history, read in one pass: one `git log` for
    all of them (of the whole folder when they are many) and one `git cat-file --batch`.

    With a `cache` (see pincache), parsed pins are looked up and added there, and timelines are
    not kept for the process (status reads every scope once).
    """
    g = GitRepo.open(repo)
    commit = g.resolve(ref, what="--ref")
    wanted = list(dict.fromkeys(scopes))
    out: dict[Scope, Timeline] = {}
    missing: list[Scope] = []
    for scope in wanted:
        known = _READ.get((g.root, g.prefix, commit, scope)) if cache is None else None
        if known is None:
            missing.append(scope)
        else:
            _READ.move_to_end((g.root, g.prefix, commit, scope))
            out[scope] = known
    if not missing:
        return out
    index = LogIndex.read(g, commit, missing)
    selected = {scope: index.select(scope) for scope in missing}
    names = {blob for _, versions in selected.values() for v in versions for blob in v.values() if blob}
    charts = {values_file(s.chart): f"{commit}:{full_path(g, values_file(s.chart))}" for s in missing if s.chart}
    blobs = read_objects(g, [*names, *charts.values()])
    texts = {name: data.decode("utf-8", "replace") for name, data in blobs.items() if data is not None}
    defaults = {rel: _parse_defaults(rel, texts.get(spec), strict=False) for rel, spec in charts.items()}
    for scope in missing:
        changes, versions = selected[scope]
        chart = values_file(scope.chart) if scope.chart else None
        timeline = Timeline(
            scope,
            changes,
            [{rel: None if blob is None else texts.get(blob) for rel, blob in v.items()} for v in versions],
            defaults.get(chart) if chart else None,
            text_key(texts.get(charts[chart])) if chart else "",
            cache,
        )
        out[scope] = timeline
        if cache is None:
            _READ[(g.root, g.prefix, commit, scope)] = timeline
            while len(_READ) > _READ_MAX:
                _READ.popitem(last=False)
    return out


def app_scopes(config: Config, app: str, first: str | None) -> list[Scope]:
    """The scope of `app` in environment `first` (its error raised), then in every other environment
    it is deployed to: what one read of an app's history covers."""
    scopes = [env_scope(config, app, first)] if first is not None else []
    for env in config.environments:
        if env.name != first:
            try:
                scopes.append(env_scope(config, app, env.name))
            except UsageError:
                continue  # not deployed there
    return scopes


def read_timeline(repo: Path, config: Config, app: str, env: str, ref: str = "HEAD") -> Timeline:
    """The app's env files along `ref`'s history. One `git log` and one `git cat-file --batch` read
    every environment of the app at once, so asking for the next one reads nothing more."""
    scopes = app_scopes(config, app, env)
    return read_timelines(repo, scopes, ref)[scopes[0]]


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
    return working_state(repo, env_scope(config, app, env))


def working_state(repo: Path, scope: Scope, *, cache: PinCache | None = None) -> ImageState | None:
    """What `scope` pins in the working tree; its files must read and parse."""
    files = scope.files(repo)
    defaults, defaults_text = _defaults_on_disk(repo, scope)
    pins: list[Pin] = []
    for rel in files:
        try:
            text = read_checked(repo / rel, rel).decode("utf-8")  # a regular file, within the size limit
        except UnicodeDecodeError as exc:
            raise UsageError(f"{rel}: not UTF-8 text (byte {exc.start})") from None
        pins.extend(
            read_pins(scope, rel, text, defaults, strict=True, cache=cache, defaults_key=text_key(defaults_text))
        )
    return _state(scope, pins, None, None)
