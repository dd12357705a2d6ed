"""Durations: `30m`, `24h`, `1h30m` as the config writes them."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION_RE = re.compile(r"([0-9]+)([smhdw])")


_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """`30m`, `24h`, `2d`, `1h30m` → timedelta; ValueError says what is wrong."""
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a duration (write e.g. 30m, 24h, 1h30m)")
    if text.strip().startswith("-"):
        raise ValueError(f"{text!r} is negative: a soak is a time to wait, e.g. 30m, 24h, 1h30m")
    pos, seconds, units = 0, 0, set()
    for m in _DURATION_RE.finditer(text):
        if m.start() != pos:
            break
        if m.group(2) in units:
            raise ValueError(f"{text!r} repeats the unit {m.group(2)!r}")
        units.add(m.group(2))
        seconds += int(m.group(1)) * _UNIT_SECONDS[m.group(2)]
        pos = m.end()
    if pos != len(text) or not text:
        raise ValueError(f"{text!r} is not a duration (write e.g. 30m, 24h, 2d, 1h30m)")
    if seconds <= 0:
        raise ValueError(f"{text!r} is zero: give a positive soak (e.g. 30m, 24h) or remove the key")
    return timedelta(seconds=seconds)


def format_duration(d: timedelta) -> str:
    """`1d2h5m`: a duration as the config writes it (to the minute; seconds only under a minute)."""
    total = max(0, int(d.total_seconds()))
    if total < 60:
        return f"{total}s"
    out = ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        n, total = divmod(total, size)
        if n:
            out += f"{n}{unit}"
    return out or "0m"
