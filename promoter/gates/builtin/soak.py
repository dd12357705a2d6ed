"""soak: the image must have run in the previous environment for a configured time."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from promoter.gates.context import GateContext, iso, short_sha, when
from promoter.gates.durations import format_duration, parse_duration
from promoter.gates.registry import ConfigPlace, Outcome, needs_previous, register
from promoter.history.timeline import (
    ImageState,
    label,
)


def _validate_soak(value: Any, place: ConfigPlace) -> None:
    try:
        parse_duration(value)
    except ValueError as exc:
        raise place.error(str(exc)) from None
    needs_previous(True, place)


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
                    f"promote it to {prev.name} first: {ctx.bump_command(prev.name, str(ctx.image))}; once that is merged, "
                    f"wait {value} and run {ctx.again()} again; the gate is {ctx.key('soak')} in {ctx.config.file}",
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
        "time": iso(best.time),
        "left_at": iso(best.until),
        "left_commit": best.until_commit,
        "required": value,
        "elapsed": format_duration(took),
    }
    if took >= need:
        return Outcome(
            note=f"{format_duration(took)} in {prev.name} since commit {short_sha(best.commit)} ({when(best.time)}) >= {value}"
        )
    remaining = need - took
    evidence["remaining"] = format_duration(remaining)
    since = f"since commit {short_sha(best.commit)} ({when(best.time)})"
    if best.until is None:
        assert best.time is not None
        ready = best.time + need
        evidence["ready_at"] = iso(ready)
        msg = (
            f"gate soak: {label(ctx.image.tag, ctx.image.digest)} has run in {prev.name} for {format_duration(took)} {since}; "
            f"{ctx.env.name} requires {value}: {format_duration(remaining)} to go"
        )
        how = f"wait until {when(ready)} and run {ctx.again()} again, or lower {ctx.key('soak')} in {ctx.config.file}"
    else:
        msg = (
            f"gate soak: {label(ctx.image.tag, ctx.image.digest)} ran in {prev.name} for only {format_duration(took)} {since} "
            f"until commit {short_sha(best.until_commit)} ({when(best.until)}) replaced it; {ctx.env.name} requires {value}"
        )
        how = (
            f"promote it to {prev.name} again and let it soak {value}: {ctx.bump_command(prev.name, str(ctx.image))}; "
            f"or promote the image {prev.name} runs now: {ctx.promote_command(prev.name)}"
        )
    return Outcome([ctx.finding("soak", msg, how, evidence)])
