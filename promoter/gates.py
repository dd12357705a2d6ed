"""Gates: the built-in promotion gates (digest, order, soak, freeze, registries, downgrade), judged from Git history.

Each gate is one small function registered under its config key; the engine walks an
environment's `gates:` settings and knows none of them by name (Kargo's step registry).
Every failure is a Finding (rule `gate-<name>`, source `gate`) naming its evidence and the
way forward; every gate that ran is a Subject, so reports show what was checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from promoter.config import Config, Environment
from promoter.errors import ConfigError, ToolError, UsageError
from promoter.finding import CheckResult, Finding, Location, Severity, Status, Subject
from promoter.history import (
    ImageState,
    Timeline,
    current_image,
    env_scope,
    label,
    read_timeline,
)
from promoter.image import DOCKER_HUB, DOCKER_HUB_ALIASES, ImageRef

# ---- the registry ---------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one gate decided: findings (none: it passed) and a one-line note of what it saw."""

    findings: list[Finding] = field(default_factory=list)
    note: str = ""


Check = Callable[["GateContext", Any], Outcome]
Validate = Callable[[Any, "ConfigPlace"], None]
Setting = Callable[[Config, Environment], Any]


@dataclass(frozen=True)
class Gate:
    name: str
    check: Check
    validate: Validate | None
    setting: Setting


GATES: dict[str, Gate] = {}


def _env_setting(name: str) -> Setting:
    def setting(config: Config, env: Environment) -> Any:
        return env.gates.get(name)

    return setting


def register(
    name: str, *, validate: Validate | None = None, setting: Setting | None = None
) -> Callable[[Check], Check]:
    """Add a gate under its `.promoter.yaml` key (environments[].gates.<name>)."""

    def add(check: Check) -> Check:
        GATES[name] = Gate(name, check, validate, setting or _env_setting(name))
        return check

    return add


# ---- configuration checks -------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigPlace:
    """Where a gate setting is written, to name it in a ConfigError."""

    config: Config
    repo: Path | None
    env: Environment
    gate: str

    def error(self, problem: str, *sub: Any) -> ConfigError:
        path: list[Any] = ["environments", self.env.index, "gates", self.gate, *sub]
        from promoter.yamldoc import format_path

        where = self.config.file or ".promoter.yaml"
        line = self._line(path)
        if line:
            where += f":{line}"
        return ConfigError(f"{where}: {format_path(path)}: {problem}")

    def _line(self, path: list[Any]) -> int | None:
        if self.repo is None or self.config.file is None:
            return None
        from promoter.yamldoc import YamlDoc, line_of_path

        try:
            doc = YamlDoc.load(self.repo / self.config.file, self.config.file)
        except UsageError:
            return None
        return line_of_path(doc.docs[0], path) if doc.docs else None


def validate_gate_config(config: Config, repo: Path | None = None) -> None:
    """Refuse gate settings the schema lets through but that cannot mean anything: a zero soak,
    an unknown time zone, a freeze range ending before it starts, an unparseable date, 25:00,
    order or soak on the first environment. Raises ConfigError (exit 2) naming the key.

    Callers of `load_config` that evaluate gates should call this once after loading; pass the
    repository to get the offending line in the message.
    """
    for env in config.environments:
        for name, value in env.gates.items():
            place = ConfigPlace(config, repo, env, name)
            gate = GATES.get(name)
            if gate is None:
                raise place.error(f"unknown gate (known: {', '.join(sorted(GATES))})")
            if gate.validate is not None:
                gate.validate(value, place)


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


def _needs_previous(value: Any, place: ConfigPlace) -> None:
    if value and place.env.index == 0:
        raise place.error(
            f"{place.env.name} is the first environment: {place.gate} is judged in the previous environment "
            "and there is none (remove the key, or list the environment that feeds it first)"
        )


def _validate_soak(value: Any, place: ConfigPlace) -> None:
    try:
        parse_duration(value)
    except ValueError as exc:
        raise place.error(str(exc)) from None
    _needs_previous(True, place)


def _validate_registries(value: Any, place: ConfigPlace) -> None:
    if not isinstance(value, list):
        raise place.error("expected a list of registries, e.g. [ghcr.io, registry.example.com/team]")
    for i, entry in enumerate(value):
        if not isinstance(entry, str) or not entry.strip("/"):
            raise place.error("empty registry entry", i)
        if "://" in entry:
            raise place.error(
                f"{entry!r}: write the registry host without a scheme (e.g. {entry.split('://', 1)[1]!r})", i
            )
        if any(c.isspace() for c in entry):
            raise place.error(f"{entry!r} contains whitespace", i)


# ---- freeze windows -------------------------------------------------------------------------

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


def _validate_freeze(value: Any, place: ConfigPlace) -> None:
    parse_windows(value, place)


def _validate_bool(value: Any, place: ConfigPlace) -> None:
    if not isinstance(value, bool):
        raise place.error(f"expected true or false, got {value!r}")


def _validate_order(value: Any, place: ConfigPlace) -> None:
    _validate_bool(value, place)
    _needs_previous(value, place)


# ---- the context a gate sees ----------------------------------------------------------------


@dataclass
class GateContext:
    """One promotion being judged: app, target environment, the new image, the base branch, the clock."""

    repo: Path
    config: Config
    app: str
    env: Environment
    image: ImageRef
    base_ref: str
    now: datetime
    override_freeze: str | None = None
    rollback: bool = False
    timelines: dict[tuple[str, str, str], Timeline] = field(default_factory=dict)

    def timeline(self, env: str) -> Timeline:
        """The app's files in `env` along the base branch (read from Git once per env)."""
        key = (self.app, env, self.base_ref)
        if key not in self.timelines:
            self.timelines[key] = read_timeline(self.repo, self.config, self.app, env, self.base_ref)
        return self.timelines[key]

    def stints(self, env: str) -> list[ImageState]:
        """When `env` ran the promoted image on the base branch, oldest first."""
        return self.timeline(env).stints(self.image)

    def current(self, env: str) -> ImageState | None:
        return self.timeline(env).current()

    @property
    def previous(self) -> Environment | None:
        return self.config.previous_env(self.env.name)

    def key(self, gate: str) -> str:
        return f"environments[{self.env.index}].gates.{gate}"

    def subject_id(self, gate: str) -> str:
        return f"gate/{gate}/{self.app}/{self.env.name}"

    def location(self) -> Location | None:
        """Where the target env pins the image on the base branch, for annotations; None when unknown.

        Only a pointer: gates that need no history (digest, registries, freeze) still run
        where Git cannot answer (a folder outside any work tree).
        """
        try:
            cur = self.current(self.env.name)
        except (UsageError, ToolError):
            return None
        return Location(cur.file, cur.line) if cur else None

    def finding(
        self,
        gate: str,
        message: str,
        help: str,
        evidence: dict[str, Any],
        *,
        rule: str | None = None,
        severity: Severity = Severity.ERROR,
    ) -> Finding:
        return Finding(
            rule=rule or f"gate-{gate.replace('_', '-')}",
            severity=severity,
            message=message,
            location=self.location(),
            source="gate",
            subject=self.subject_id(gate),
            target=self.env.name,
            help=help,
            evidence={"gate": gate, "app": self.app, "env": self.env.name, "image": str(self.image), **evidence},
        )


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z") if moment else None


def _short(sha: str | None) -> str:
    return sha[:12] if sha else "(working tree)"


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "?"


# ---- the gates ------------------------------------------------------------------------------


@register("digest_required", validate=_validate_bool)
def digest_required(ctx: GateContext, value: Any) -> Outcome:
    if ctx.image.digest:
        return Outcome(note=f"pinned by digest {ctx.image.short_digest}")
    return Outcome(
        [
            ctx.finding(
                "digest_required",
                f"gate digest_required: {ctx.image} reaches {ctx.env.name} by tag {ctx.image.tag!r} only; a tag can be "
                f"moved to other bytes, and {ctx.env.name} accepts only an image pinned by digest",
                f"promote by digest: --image {ctx.image.name}:{ctx.image.tag or 'TAG'}@sha256:... (the digest your build pushed; "
                f"`docker buildx imagetools inspect {ctx.image}` shows it); the gate is {ctx.key('digest_required')}",
                {"tag": ctx.image.tag, "digest": None},
            )
        ]
    )


def _compared_by(image: ImageRef) -> str:
    return "digest" if image.digest else "tag"


@register("promotion_order", validate=_validate_order)
def promotion_order(ctx: GateContext, value: Any) -> Outcome:
    prev = ctx.previous
    assert prev is not None  # validate_gate_config refuses order on the first environment
    states = ctx.stints(prev.name)
    if states:
        s = states[-1]
        if s.until is None:
            return Outcome(note=f"{prev.name} runs it since commit {_short(s.commit)} ({_when(s.time)})")
        return Outcome(
            note=f"{prev.name} ran it from commit {_short(s.commit)} ({_when(s.time)}) to {_short(s.until_commit)}"
        )
    cur = ctx.current(prev.name)
    how = (
        f"promote it to {prev.name} first (promoter bump/promote --app {ctx.app} --env {prev.name}), merge that into "
        f"{ctx.base_ref}, then promote to {ctx.env.name}; the gate is {ctx.key('promotion_order')}"
    )
    if ctx.image.digest and cur is not None and not any(p.digest for p in cur.pins):
        # Nothing to compare a digest with: say so, or the user hunts for a digest that was never written.
        how += f". {prev.name} pins tags only, so no digest can match: pin {prev.name} by digest too"
    return Outcome(
        [
            ctx.finding(
                "promotion_order",
                f"gate promotion_order: {label(ctx.image.tag, ctx.image.digest)} has never run in {prev.name} on {ctx.base_ref} "
                f"(compared by {_compared_by(ctx.image)}; {prev.name} runs {cur.label() if cur else 'no image of ' + ctx.app}), "
                f"and {ctx.env.name} takes only what {prev.name} runs or ran",
                how,
                {
                    "previous_env": prev.name,
                    "base_ref": ctx.base_ref,
                    "compared_by": _compared_by(ctx.image),
                    "previous_env_runs": cur.label() if cur else None,
                    "previous_env_commit": cur.commit if cur else None,
                    "value": str(ctx.image),
                },
            )
        ]
    )


@register("soak", validate=_validate_soak)
def soak(ctx: GateContext, value: Any) -> Outcome:
    need = parse_duration(value)
    prev = ctx.previous
    assert prev is not None
    stints = ctx.stints(prev.name)
    if not stints:
        return Outcome(
            [
                ctx.finding(
                    "soak",
                    f"gate soak: {label(ctx.image.tag, ctx.image.digest)} has not run in {prev.name} on {ctx.base_ref} at all; "
                    f"{ctx.env.name} needs it to soak there for {value}",
                    f"promote it to {prev.name} first and wait {value} after that change is merged; the gate is {ctx.key('soak')}",
                    {"previous_env": prev.name, "required": value, "elapsed": "0s", "commit": None, "time": None},
                )
            ]
        )

    def elapsed(s: ImageState) -> timedelta:
        assert s.time is not None
        return max(timedelta(0), (s.until or ctx.now) - s.time)

    # The longest stay counts: a digest that soaked a day in stage and was then replaced has soaked.
    best = max(stints, key=elapsed)
    took = elapsed(best)
    evidence = {
        "previous_env": prev.name,
        "commit": best.commit,
        "time": _iso(best.time),
        "left_at": _iso(best.until),
        "left_commit": best.until_commit,
        "required": value,
        "elapsed": format_duration(took),
    }
    if took >= need:
        return Outcome(
            note=f"{format_duration(took)} in {prev.name} since commit {_short(best.commit)} ({_when(best.time)}) >= {value}"
        )
    remaining = need - took
    evidence["remaining"] = format_duration(remaining)
    since = f"since commit {_short(best.commit)} ({_when(best.time)})"
    if best.until is None:
        assert best.time is not None
        ready = best.time + need
        evidence["ready_at"] = _iso(ready)
        msg = (
            f"gate soak: {label(ctx.image.tag, ctx.image.digest)} has run in {prev.name} for {format_duration(took)} {since}; "
            f"{ctx.env.name} requires {value}: {format_duration(remaining)} to go"
        )
        how = f"wait until {_when(ready)} and promote again, or lower {ctx.key('soak')} in {ctx.config.file}"
    else:
        msg = (
            f"gate soak: {label(ctx.image.tag, ctx.image.digest)} ran in {prev.name} for only {format_duration(took)} {since} "
            f"until commit {_short(best.until_commit)} ({_when(best.until)}) replaced it; {ctx.env.name} requires {value}"
        )
        how = f"promote it to {prev.name} again and let it soak {value}, or promote the image {prev.name} runs now"
    return Outcome([ctx.finding("soak", msg, how, evidence)])


def _freeze_setting(config: Config, env: Environment) -> Any:
    return env.gates.get("freeze") or None


@register("freeze", validate=_validate_freeze, setting=_freeze_setting)
def freeze(ctx: GateContext, value: Any) -> Outcome:
    windows = parse_windows(value, ConfigPlace(ctx.config, None, ctx.env, "freeze"))
    hits = [(w, end) for w in windows if (end := w.active(ctx.now)) is not None]
    if not hits:
        return Outcome(note=f"{_when(ctx.now)} is outside {len(windows)} freeze window(s)")
    w, ends = max(hits, key=lambda h: h[1])
    reason = f" ({w.reason})" if w.reason else ""
    evidence = {
        "window": w.describe(),
        "window_index": w.index,
        "reason": w.reason,
        "now": _iso(ctx.now),
        "local_time": ctx.now.astimezone(w.tz).isoformat(timespec="minutes"),
        "ends_at": _iso(ends) if ends.year < 9999 else None,
    }
    until = f"until {_when(ends)}" if ends.year < 9999 else "until the window is removed"
    if ctx.override_freeze:
        evidence["override_reason"] = ctx.override_freeze
        return Outcome(
            [
                ctx.finding(
                    "freeze",
                    f"gate freeze overridden: {ctx.env.name} is frozen {w.describe()}{reason} {until}; the promotion goes ahead "
                    f"because: {ctx.override_freeze}",
                    "an override is recorded in the pull request; reviewers should confirm it",
                    evidence,
                    rule="gate-freeze-override",
                    severity=Severity.INFO,
                )
            ],
            note=f"frozen, overridden: {ctx.override_freeze}",
        )
    return Outcome(
        [
            ctx.finding(
                "freeze",
                f"gate freeze: {ctx.env.name} is frozen {w.describe()}{reason}; it is {evidence['local_time']} there, frozen {until}",
                f"promote after {_when(ends) if ends.year < 9999 else 'the window is lifted'}, or, if this cannot wait, pass "
                "--override-freeze REASON (recorded in the pull request for reviewers)",
                evidence,
            )
        ]
    )


def _registries_setting(config: Config, env: Environment) -> Any:
    return env.gates.get("allowed_registries") or config.policies.get("allowed_registries") or None


def _norm_registry(entry: str) -> str:
    entry = entry.strip().rstrip("/")
    host, sep, rest = entry.partition("/")
    if host in DOCKER_HUB_ALIASES:
        host = DOCKER_HUB
    return host + sep + rest


@register("allowed_registries", validate=_validate_registries, setting=_registries_setting)
def allowed_registries(ctx: GateContext, value: Any) -> Outcome:
    # Same rule as the Rego pack's registry-allowlist: a host, or a repository prefix on a `/` boundary.
    repository = ctx.image.repository
    registry = repository.split("/", 1)[0]
    allowed = [_norm_registry(e) for e in value]
    for entry in allowed:
        if registry == entry or repository.startswith(entry + "/"):
            return Outcome(note=f"{repository} is under {entry}")
    where = ctx.key("allowed_registries") if "allowed_registries" in ctx.env.gates else "policies.allowed_registries"
    return Outcome(
        [
            ctx.finding(
                "allowed_registries",
                f"gate allowed_registries: {repository} comes from {registry}, which {ctx.env.name} does not allow "
                f"(allowed: {', '.join(value)})",
                f"push the image to an allowed registry and promote that reference, or add {registry} to {where} in {ctx.config.file}",
                {"registry": registry, "allowed": list(value), "value": repository},
            )
        ]
    )


_SEMVER = re.compile(
    r"^[vV]?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
    r"(?:-((?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    # Build metadata: `+` in semver, `_` in image tags (which cannot hold `+`).
    r"(?:[+_][0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?$"
)


def semver_key(tag: str | None) -> tuple[Any, ...] | None:
    """A sort key with semver 2.0 precedence (a leading v ignored, build metadata after `+` or `_`
    ignored); None if not semver."""
    m = _SEMVER.match(tag or "")
    if not m:
        return None
    core = tuple(int(m.group(i)) for i in (1, 2, 3))
    pre = m.group(4)
    if pre is None:
        return core + ((1,),)  # a release sorts after all its pre-releases
    ids = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return core + ((0,) + ids,)


@register("no_downgrade", validate=_validate_bool)
def no_downgrade(ctx: GateContext, value: Any) -> Outcome:
    cur = ctx.current(ctx.env.name)
    new_key = semver_key(ctx.image.tag)
    if cur is None:
        return Outcome(note=f"{ctx.env.name} runs no image of {ctx.app} on {ctx.base_ref}: nothing to compare")
    if new_key is None:
        return Outcome(note=f"tag {ctx.image.tag!r} is not a semantic version: not compared")
    olds = [(k, p) for p in cur.pins if (k := semver_key(p.tag)) is not None]
    if not olds:
        return Outcome(note=f"{ctx.env.name} runs {cur.label()}, not a semantic version: not compared")
    old_key, old = max(olds, key=lambda kp: kp[0])
    if new_key >= old_key:
        return Outcome(note=f"{old.tag} -> {ctx.image.tag} is not a downgrade")
    evidence = {
        "current_tag": old.tag,
        "new_tag": ctx.image.tag,
        "commit": cur.commit,
        "time": _iso(cur.time),
        "file": old.file,
        "line": old.line,
        "value": ctx.image.tag,
    }
    if ctx.rollback:
        return Outcome(
            [
                ctx.finding(
                    "no_downgrade",
                    f"gate no_downgrade: rollback of {ctx.env.name} from {old.tag} (commit {_short(cur.commit)}, {_when(cur.time)}) "
                    f"to {ctx.image.tag}, allowed because this is a rollback",
                    "a rollback is recorded in the pull request; reviewers should confirm it",
                    evidence,
                    rule="gate-no-downgrade-rollback",
                    severity=Severity.INFO,
                )
            ],
            note=f"rollback {old.tag} -> {ctx.image.tag}",
        )
    return Outcome(
        [
            ctx.finding(
                "no_downgrade",
                f"gate no_downgrade: {ctx.env.name} runs {old.tag} (since commit {_short(cur.commit)}, {_when(cur.time)}) and "
                f"{ctx.image.tag} is an older version",
                f"if going back is intended, promote it as a rollback (--rollback); otherwise promote {old.tag} or newer; "
                f"the gate is {ctx.key('no_downgrade')}",
                evidence,
            )
        ]
    )


# ---- the engine -----------------------------------------------------------------------------


def _active(config: Config, env: Environment) -> list[tuple[Gate, Any]]:
    out = []
    for gate in GATES.values():
        value = gate.setting(config, env)
        if value is None or value is False:
            continue
        out.append((gate, value))
    return out


def evaluate_gates(
    repo: Path,
    config: Config,
    app: str,
    env: str,
    image: ImageRef,
    *,
    base_ref: str = "HEAD",
    now: datetime | None = None,
    override_freeze: str | None = None,
    rollback: bool = False,
    timelines: dict[tuple[str, str, str], Timeline] | None = None,
) -> CheckResult:
    """Judge promoting `image` of `app` into `env` against that env's gates, reading history on `base_ref`.

    `now` (aware; naive is taken as UTC) is the clock for soak and freeze; `override_freeze` is a
    reason that lets a frozen promotion through (recorded as an info finding); `rollback` lets a
    semantic-version downgrade through. `timelines` shares history read from Git between calls.
    """
    validate_gate_config(config, repo)
    environment = config.env(env)
    a = config.app(app)
    if not image.same_repository(a.image):
        raise UsageError(f"image {image.name} is not app {app}'s image ({a.image}, from {config.file})")
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    if override_freeze is not None and not override_freeze.strip():
        raise UsageError("--override-freeze needs a reason (it is recorded in the pull request)")
    ctx = GateContext(
        repo=repo,
        config=config,
        app=app,
        env=environment,
        image=image,
        base_ref=base_ref,
        now=now,
        override_freeze=override_freeze,
        rollback=rollback,
        timelines=timelines if timelines is not None else {},
    )
    result = CheckResult()
    for gate, value in _active(config, environment):
        outcome = gate.check(ctx, value)
        failed = any(f.severity is Severity.ERROR for f in outcome.findings)
        result.findings.extend(outcome.findings)
        result.subjects.append(
            Subject(
                id=ctx.subject_id(gate.name),
                kind="gate",
                target=env,
                location=ctx.location(),
                status=Status.FAILED if failed else Status.PASSED,
                reason=outcome.note or None,
            )
        )
    result.stats["gates"] = len(result.subjects)
    result.stats["gates_failed"] = sum(1 for s in result.subjects if s.status is Status.FAILED)
    return result


def gates_for_diff(
    repo: Path,
    config: Config,
    base_ref: str,
    *,
    now: datetime | None = None,
    override_freeze: str | None = None,
    rollback: bool = False,
    changed: list[str] | None = None,
    merge_base: str | None = None,
) -> CheckResult:
    """For `promoter check`: every (app, env) whose image differs between `base_ref` and the
    working tree is judged by that env's gates, so a hand-written PR that skips stage is caught.

    The diff is taken from the merge base (what the pull request changes); history is read on
    `base_ref` itself (what the base branch runs now). A caller that has already read the diff
    passes `changed` (repo-relative paths) and `merge_base`, and git is not asked again.
    """
    result = CheckResult()
    if config.file is None:
        return result
    validate_gate_config(config, repo)
    if changed is None or merge_base is None:
        from promoter.gitrepo import GitRepo

        g = GitRepo.open(repo)
        merge_base = g.merge_base(base_ref)
        changed = [p for d in g.changed_files(base_ref, merge_base=merge_base) for p in d.paths]
    timelines: dict[tuple[str, str, str], Timeline] = {}
    for app in sorted(config.apps):
        for environment in config.environments:
            if not _active(config, environment):
                continue
            try:
                scope = env_scope(config, app, environment.name)
            except UsageError:
                continue  # the app is not deployed to this env (no path configured for it)
            if not any(scope.contains(p) for p in changed):
                continue
            try:
                after = current_image(repo, config, app, environment.name, None)
            except UsageError as exc:
                # A file that does not parse is reported by validation; the gates cannot judge it.
                result.subjects.append(
                    Subject(
                        id=f"gate/*/{app}/{environment.name}",
                        kind="gate",
                        target=environment.name,
                        status=Status.ERROR,
                        reason=f"cannot read {app} in {environment.name}: {exc}",
                    )
                )
                continue
            if after is None:
                continue  # the app left this env: nothing is promoted
            before = current_image(repo, config, app, environment.name, merge_base)
            old = {(p.tag, p.digest) for p in before.pins} if before else set()
            new = list(
                dict.fromkeys(
                    (p.tag, p.digest) for p in after.pins if (p.tag or p.digest) and (p.tag, p.digest) not in old
                )
            )
            for tag, digest in new:
                image = scope.image.with_(tag=tag, digest=digest)
                result.extend(
                    evaluate_gates(
                        repo,
                        config,
                        app,
                        environment.name,
                        image,
                        base_ref=base_ref,
                        now=now,
                        override_freeze=override_freeze,
                        rollback=rollback,
                        timelines=timelines,
                    )
                )
                if f"{app}/{environment.name}" not in result.targets:
                    result.targets.append(f"{app}/{environment.name}")
    return result
