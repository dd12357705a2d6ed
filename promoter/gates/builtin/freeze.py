"""freeze: no promotion inside a freeze window, unless overridden with a recorded reason."""

from __future__ import annotations

from typing import Any

from promoter.config.model import Config, Environment
from promoter.gates.context import GateContext, iso, when
from promoter.gates.registry import ConfigPlace, Outcome, register
from promoter.gates.windows import parse_windows
from promoter.model.finding import (
    Severity,
)


def _validate_freeze(value: Any, place: ConfigPlace) -> None:
    parse_windows(value, place)


def _freeze_setting(config: Config, env: Environment) -> Any:
    return env.gates.get("freeze") or None


@register("freeze", validate=_validate_freeze, setting=_freeze_setting)
def freeze(ctx: GateContext, value: Any) -> Outcome:
    windows = parse_windows(value, ConfigPlace(ctx.config, None, ctx.env, "freeze"))
    hits = [(w, end) for w in windows if (end := w.active(ctx.now)) is not None]
    if not hits:
        return Outcome(note=f"{when(ctx.now)} is outside {len(windows)} freeze window(s)")
    w, ends = max(hits, key=lambda h: h[1])
    reason = f" ({w.reason})" if w.reason else ""
    evidence = {
        "window": w.describe(),
        "window_index": w.index,
        "reason": w.reason,
        "now": iso(ctx.now),
        "local_time": ctx.now.astimezone(w.tz).isoformat(timespec="minutes"),
        "ends_at": iso(ends) if ends.year < 9999 else None,
    }
    # A dated window's description already names its end; a weekly one says when this occurrence ends.
    this_time = f", this time until {when(ends)}" if w.weekly else ""
    if ctx.override_freeze:
        evidence["override_reason"] = ctx.override_freeze
        return Outcome(
            [
                ctx.finding(
                    "freeze",
                    f"gate freeze overridden: {ctx.env.name} is frozen {w.describe()}{reason}{this_time}; the promotion goes "
                    f"ahead because: {ctx.override_freeze}",
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
                f"gate freeze: {ctx.env.name} is frozen {w.describe()}{reason}{this_time}; it is {evidence['local_time']} there",
                f"run {ctx.again()} again after {when(ends) if ends.year < 9999 else 'the window is lifted'}; or, if this "
                f"cannot wait, give the reason (recorded in the pull request for reviewers): "
                f"{ctx.again(('--override-freeze', 'REASON'))}",
                evidence,
            )
        ]
    )
