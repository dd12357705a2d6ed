"""Verdicts remembered by (policy set digest, data, input): a re-run on unchanged objects costs nothing.

Kept in memory for the process and, unless PROMOTER_CACHE_DIR is "off", in a SQLite file under
PROMOTER_CACHE_DIR (default: $XDG_CACHE_HOME/promoter, else ~/.cache/promoter). Only deterministic
verdicts are kept: sets calling clocks or randomness are never cached, nor verdicts holding an
error (a limit reached depends on the machine, and an error must be seen again).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from promoter.policy.policyset import Verdict

_MEMORY: dict[str, Verdict] = {}  # verdicts are not changed by their readers
_MAX_MEMORY = 200_000


def cache_dir() -> Path | None:
    value = os.environ.get("PROMOTER_CACHE_DIR")
    if value == "off":
        return None
    if value:
        return Path(value)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "promoter"


def key(set_digest: str, data_text: str, input_text: str, file: str | None) -> str:
    h = hashlib.sha256()
    for part in (set_digest, data_text, file or "", input_text):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


class VerdictCache:
    def __init__(self) -> None:
        self._db: sqlite3.Connection | None = None
        folder = cache_dir()
        if folder is None:
            return
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(folder / "policy-verdicts.sqlite", timeout=5)
            self._db.execute("CREATE TABLE IF NOT EXISTS verdicts (key TEXT PRIMARY KEY, verdict TEXT NOT NULL)")
        except (OSError, sqlite3.Error):
            self._db = None  # an unusable cache folder only costs time

    def get_many(self, keys: list[str]) -> dict[str, Verdict]:
        found = {k: _MEMORY[k] for k in keys if k in _MEMORY}
        rest = [k for k in keys if k not in found]
        if rest and self._db is not None:
            try:
                for start in range(0, len(rest), 500):
                    part = rest[start : start + 500]
                    rows = self._db.execute(
                        f"SELECT key, verdict FROM verdicts WHERE key IN ({','.join('?' * len(part))})", part
                    )
                    for k, text in rows.fetchall():
                        found[k] = _MEMORY[k] = Verdict.from_json(json.loads(text))
            except (sqlite3.Error, ValueError, TypeError):
                pass  # a damaged cache only costs time
        return found

    def put_many(self, entries: Iterable[tuple[str, Verdict]]) -> None:
        kept = [(k, v) for k, v in entries if not v.errors]
        if len(_MEMORY) + len(kept) > _MAX_MEMORY:
            _MEMORY.clear()
        _MEMORY.update(kept)
        if kept and self._db is not None:
            try:
                rows = [(k, json.dumps(v.to_json(), separators=(",", ":"))) for k, v in kept]
                with self._db:
                    self._db.executemany("INSERT OR REPLACE INTO verdicts (key, verdict) VALUES (?, ?)", rows)
            except sqlite3.Error:
                pass

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
