"""Pin cache: which image references a file's text holds, remembered by content under `.git/promoter/`.

Reading history is cheap; parsing YAML round-trip is not (about 2 ms of CPU a small file), and
`status` parses every environment's files. What a text pins depends only on the text, its path,
the app's image and explicit target keys, the chart defaults it layers over and the code that
reads it, so an entry is keyed by all of these and never goes stale: a new commit brings new
texts, hence new keys, and a new promoter (any change to the reading code) brings a new
fingerprint, which empties the cache.

The file sits in the repository's git folder, which a checkout never writes from repository
content, and is still read as untrusted: plain JSON (no code runs while loading it), refused
above `MAX_BYTES`, checked against its own SHA-256 and its shape, and ignored whole when any
check fails (then rewritten). It holds at most `MAX_ENTRIES` entries. Writes go to a temporary
file renamed over the old one, so a reader never sees half a file. `PROMOTER_CACHE_DIR=off`
(the switch of every promoter cache) turns it off.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from promoter.history.git import GitRepo, run_git

FORMAT = 1
FILE_NAME = "history-pins.json"
MAX_BYTES = 32 * 1024 * 1024
MAX_ENTRIES = 200_000
UNPARSED = "unparsed"  # the text did not parse: a historic version pins nothing, the working tree's is an error

Pins = tuple[tuple[int, str | None, str | None], ...]  # (line, tag, digest) per pin
Entry = Pins | str

_KEY = re.compile(r"[0-9a-f]{40}")
# The code a text's pins depend on: the loaders, the reference styles, targets, image references.
_READERS = ("promoter/yamlio", "promoter/locate", "promoter/model", "promoter/history/timeline.py")
_fingerprint: list[str | None] = []  # memo: empty until computed


def fingerprint() -> str | None:
    """A digest of the code that turns a text into pins (promoter's reading modules and ruamel's
    version); None when that code cannot be read, and then nothing is cached."""
    if not _fingerprint:
        import ruamel.yaml
        import yaml

        h = hashlib.sha256(f"{FORMAT}\0{ruamel.yaml.__version__}\0{yaml.__version__}\0".encode())
        package = Path(__file__).resolve().parents[2]
        try:
            for place in _READERS:
                where = package / place
                files = sorted(where.rglob("*.py")) if where.is_dir() else [where]
                for f in files:
                    h.update(f.relative_to(package).as_posix().encode() + b"\0")
                    h.update(f.read_bytes() + b"\0")
        except OSError:
            _fingerprint.append(None)
        else:
            _fingerprint.append(h.hexdigest())
    return _fingerprint[0]


def entry_key(rel: str, text: str, repository: str, keys: list[str], defaults_key: str) -> str:
    """The cache key of one file version read for one app: every input of its pins."""
    h = hashlib.sha256()
    for part in (rel, repository, "\0".join(keys), defaults_key):
        h.update(part.encode("utf-8", "surrogateescape") + b"\1")
    h.update(text.encode("utf-8", "surrogateescape"))
    return h.hexdigest()[:40]


def text_key(text: str | None) -> str:
    """A short digest of a text (a chart's values.yaml) for keys; "" for none."""
    return "" if text is None else hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:40]


class PinCache:
    """Pins by `entry_key`, loaded from and saved to one file (or kept in memory only when `path` is None)."""

    def __init__(self, path: Path | None, entries: dict[str, Entry] | None = None) -> None:
        self.path = path
        self.entries: dict[str, Entry] = entries or {}
        self.used: set[str] = set()
        self.added = 0
        self.hits = 0
        self.ignored: str | None = None  # why the file on disk was not used, for tests and --debug

    @classmethod
    def open(cls, g: GitRepo) -> PinCache:
        """The repository's cache (empty when missing, unreadable, damaged or turned off)."""
        if os.environ.get("PROMOTER_CACHE_DIR") == "off" or fingerprint() is None:
            return cls(None)
        proc = run_git(g.path, "rev-parse", "--git-common-dir", check=False)
        if proc.returncode != 0 or not proc.stdout.strip():
            return cls(None)
        folder = (g.path / proc.stdout.strip()).resolve() / "promoter"
        return cls.load(folder / FILE_NAME)

    @classmethod
    def load(cls, path: Path) -> PinCache:
        cache = cls(path)
        try:
            if path.is_symlink() or path.parent.is_symlink():
                cache.ignored = "a symlink"
                return cache
            if not path.is_file():
                cache.ignored = "missing"
                return cache
            if path.stat().st_size > MAX_BYTES:
                cache.ignored = "too big"
                return cache
            with open(path, "rb") as f:
                raw = f.read(MAX_BYTES + 1)
        except OSError as exc:
            cache.ignored = f"unreadable: {exc.strerror}"
            return cache
        try:
            cache.entries = _decode(raw)
        except ValueError as exc:
            cache.ignored = str(exc)
        return cache

    def get(self, key: str) -> Entry | None:
        found = self.entries.get(key)
        if found is not None:
            self.used.add(key)
            self.hits += 1
        return found

    def put(self, key: str, entry: Entry) -> None:
        self.entries[key] = entry
        self.used.add(key)
        self.added += 1

    def save(self) -> bool:
        """Write the cache when something was added; best effort (a read-only git folder only costs time)."""
        code = fingerprint()
        if self.path is None or not self.added or code is None:
            return False
        keep = self.entries
        if len(keep) > MAX_ENTRIES:
            # What this run used first: the entries the next run most likely asks for.
            order = [k for k in keep if k in self.used] + [k for k in keep if k not in self.used]
            keep = {k: keep[k] for k in order[:MAX_ENTRIES]}
        body = json.dumps(keep, separators=(",", ":")).encode()
        header = json.dumps(
            {"format": FORMAT, "fingerprint": code, "sha256": hashlib.sha256(body).hexdigest()}
        ).encode()
        folder = self.path.parent
        try:
            if folder.is_symlink() or self.path.is_symlink():
                return False
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".history-pins-", dir=folder)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(header + b"\n" + body)
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError:
            return False
        self.added = 0
        return True


def _decode(raw: bytes) -> dict[str, Entry]:
    """The entries of a cache file; ValueError naming the first thing wrong with it."""
    head, sep, body = raw.partition(b"\n")
    if not sep or len(raw) > MAX_BYTES:
        raise ValueError("no header")
    try:
        header = json.loads(head)
    except ValueError:
        raise ValueError("header is not JSON") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError("another format")
    if header.get("fingerprint") is None or header.get("fingerprint") != fingerprint():
        raise ValueError("written by other code")
    if header.get("sha256") != hashlib.sha256(body).hexdigest():
        raise ValueError("checksum does not match")
    try:
        data = json.loads(body)
    except ValueError:
        raise ValueError("body is not JSON") from None
    if not isinstance(data, dict) or len(data) > MAX_ENTRIES:
        raise ValueError("body is not a bounded mapping")
    out: dict[str, Entry] = {}
    for key, value in data.items():
        entry = _entry(value)
        if not (isinstance(key, str) and _KEY.fullmatch(key)) or entry is None:
            raise ValueError(f"bad entry {str(key)[:40]!r}")
        out[key] = entry
    return out


def _entry(value: Any) -> Entry | None:
    if value == UNPARSED:
        return UNPARSED
    if not isinstance(value, list):
        return None
    pins = []
    for item in value:
        if not (isinstance(item, list) and len(item) == 3):
            return None
        line, tag, digest = item
        if not (isinstance(line, int) and not isinstance(line, bool) and line >= 0):
            return None
        if not all(v is None or isinstance(v, str) for v in (tag, digest)):
            return None
        pins.append((line, tag, digest))
    return tuple(pins)
