"""digest_required: an environment takes only images pinned by digest."""

from __future__ import annotations

from typing import Any

from promoter.gates.context import GateContext
from promoter.gates.registry import Outcome, register, validate_bool


@register("digest_required", validate=validate_bool)
def digest_required(ctx: GateContext, value: Any) -> Outcome:
    if ctx.image.digest and ctx.unpinned:
        # The image has a digest, but a place the bump writes can hold only the tag: writing it there would
        # deploy by tag in an environment that takes digests only. Blocked; nothing is written.
        places = "; ".join(ctx.unpinned)
        return Outcome(
            [
                ctx.finding(
                    "digest_required",
                    f"gate digest_required: {ctx.env.name} accepts only images pinned by digest, but {places} "
                    f"cannot hold the digest {ctx.image.short_digest} (no digest key): the bump would set the tag "
                    "alone there, so nothing is written",
                    "add a `digest:` key to that block if the chart reads one (promoter then pins it), or name an "
                    f"explicit target holding the full image in .promoter.yaml (apps.{ctx.app}.targets.{ctx.env.name}: "
                    "[{file: ..., key: ...}]); the gate is " + ctx.key("digest_required"),
                    {"tag": ctx.image.tag, "digest": ctx.image.digest, "unpinned": list(ctx.unpinned)},
                )
            ]
        )
    if ctx.image.digest:
        return Outcome(note=f"pinned by digest {ctx.image.short_digest}")
    # DIGEST stands for the digest the build pushed, which only the build (or the registry) knows.
    pinned = f"{ctx.image.name}:{ctx.image.tag or 'TAG'}@sha256:DIGEST"
    return Outcome(
        [
            ctx.finding(
                "digest_required",
                f"gate digest_required: {ctx.image} reaches {ctx.env.name} by tag {ctx.image.tag!r} only; a tag can be "
                f"moved to other bytes, and {ctx.env.name} accepts only an image pinned by digest",
                f"promote by digest, the one your build pushed (`docker buildx imagetools inspect {ctx.image}` shows it): "
                f"{ctx.retry_with(pinned)}; "
                f"the gate is {ctx.key('digest_required')} in {ctx.config.file}",
                {"tag": ctx.image.tag, "digest": None},
            )
        ]
    )
