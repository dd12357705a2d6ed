"""Windows: freeze entries (date ranges and weekly windows in a time zone) parsed and checked."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from promoter.gates.registry import ConfigPlace

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Window:
    """One freeze entry: a date range (`start_at`/`end_at`, either may be open) or a weekly window."""

    tz: ZoneInfo
    reason: str | None
    index: int
    start_at: datetime | None = None
    end_at: datetime | None = None  # exclusive
    days: tuple[int, ...] = ()
    start: int = 0  # minute of the day
    end: int = 24 * 60 - 1  # minute of the day, inclusive
    weekly: bool = False

    def describe(self) -> str:
        tzname = str(self.tz.key)
        if not self.weekly:
            a = self.start_at.isoformat(timespec="minutes") if self.start_at else "the beginning"
            b = self.end_at.isoformat(timespec="minutes") if self.end_at else "further notice"
            return f"from {a} until {b}"
        days = ",".join(_DAYS[d] for d in self.days) if len(self.days) < 7 else "every day"
        return f"{days} {_hhmm(self.start)}-{_hhmm(self.end)} {tzname}"

    def active(self, now: datetime) -> datetime | None:
        """When `now` is inside the window, the moment the window ends; else None."""
        if not self.weekly:
            if (self.start_at is None or now >= self.start_at) and (self.end_at is None or now < self.end_at):
                return self.end_at or datetime.max.replace(tzinfo=UTC)
            return None
        local = now.astimezone(self.tz)
        minute = local.hour * 60 + local.minute
        today = local.weekday()
        yesterday = (today - 1) % 7
        if self.start <= self.end:
            if today in self.days and self.start <= minute <= self.end:
                return self._end(local.date())
            return None
        # Overnight (22:00-06:00): opens on a listed day, closes the next morning.
        if today in self.days and minute >= self.start:
            return self._end(local.date() + timedelta(days=1))
        if yesterday in self.days and minute <= self.end:
            return self._end(local.date())
        return None

    def _end(self, day: date) -> datetime:
        # `end` is inclusive to the minute: 23:59 covers 23:59:59, so the window ends one minute later.
        naive = datetime.combine(day, time()) + timedelta(minutes=self.end + 1)
        return naive.replace(tzinfo=self.tz)


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _parse_clock(text: Any, place: ConfigPlace, i: int, key: str) -> int:
    m = re.fullmatch(r"([0-9]{2}):([0-9]{2})", str(text))
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise place.error(f"{text!r} is not a time of day HH:MM (00:00-23:59)", i, key)
    return int(m.group(1)) * 60 + int(m.group(2))


def _parse_moment(text: Any, tz: ZoneInfo, *, end: bool, place: ConfigPlace, i: int, key: str) -> datetime:
    raw = str(text)
    try:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", raw):
            day = date.fromisoformat(raw)
            # A date means the whole day: `to: 2026-12-24` freezes through the end of the 24th.
            return datetime.combine(day + timedelta(days=1) if end else day, time(), tzinfo=tz)
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise place.error(
            f"{raw!r} is not an ISO date (2026-12-20) or date-time (2026-12-20T18:00, +01:00 optional)", i, key
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)


def parse_windows(value: Any, place: ConfigPlace) -> list[Window]:
    """The freeze entries of one environment, checked; ConfigError names the offending key."""
    if not isinstance(value, list):
        raise place.error("expected a list of windows")
    out: list[Window] = []
    for i, entry in enumerate(value):
        if not isinstance(entry, dict):
            raise place.error("expected a mapping with from/to or days/start/end", i)
        tzname = entry.get("timezone", "UTC")
        try:
            tz = ZoneInfo(str(tzname))
        except (ZoneInfoNotFoundError, ValueError):
            raise place.error(
                f"unknown time zone {tzname!r} (an IANA name like Europe/Berlin or UTC)", i, "timezone"
            ) from None
        reason = entry.get("reason")
        ranged = [k for k in ("from", "to") if k in entry]
        weekly = [k for k in ("days", "start", "end") if k in entry]
        if ranged and weekly:
            raise place.error(
                f"mixes a date range ({'/'.join(ranged)}) with a weekly window ({'/'.join(weekly)}): write two entries",
                i,
            )
        if not ranged and not weekly:
            raise place.error("a window needs from/to (dates) or days/start/end (weekly)", i)
        if ranged:
            a = _parse_moment(entry["from"], tz, end=False, place=place, i=i, key="from") if "from" in entry else None
            b = _parse_moment(entry["to"], tz, end=True, place=place, i=i, key="to") if "to" in entry else None
            if a is not None and b is not None and a >= b:
                raise place.error(f"from {entry['from']!r} is not before to {entry['to']!r}", i, "to")
            out.append(Window(tz, reason, i, start_at=a, end_at=b))
            continue
        days = entry.get("days", list(_DAYS))
        if not isinstance(days, list) or not days or any(d not in _DAYS for d in days):
            raise place.error(f"days must be a non-empty list of {', '.join(_DAYS)}", i, "days")
        start = _parse_clock(entry.get("start", "00:00"), place, i, "start")
        end = _parse_clock(entry.get("end", "23:59"), place, i, "end")
        if start == end:
            raise place.error(
                f"start and end are both {_hhmm(start)}: the window would last one minute (did you mean 00:00-23:59?)",
                i,
                "end",
            )
        out.append(
            Window(tz, reason, i, days=tuple(sorted({_DAYS.index(d) for d in days})), start=start, end=end, weekly=True)
        )
    return out
