"""promotion_order: the digest must run, or have run, in the previous environment."""

from __future__ import annotations

from typing import Any

from promoter.gates.context import GateContext, short_sha, when
from promoter.gates.registry import (
    ConfigPlace,
    Outcome,
    needs_previous,
    register,
    validate_bool,
)
from promoter.history.timeline import (
    label,
)
from promoter.model.image import ImageRef


def _validate_order(value: Any, place: ConfigPlace) -> None:
    validate_bool(value, place)
    needs_previous(value, place)


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
            return Outcome(note=f"{prev.name} runs it since commit {short_sha(s.commit)} ({when(s.time)})")
        return Outcome(
            note=f"{prev.name} ran it from commit {short_sha(s.commit)} ({when(s.time)}) to {short_sha(s.until_commit)}"
        )
    cur = ctx.current(prev.name)
    how = (
        f"promote it to {prev.name} first: {ctx.bump_command(prev.name, str(ctx.image))}; merge that into "
        f"{ctx.base_ref}, then run {ctx.again()} again; the gate is {ctx.key('promotion_order')} in {ctx.config.file}"
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
