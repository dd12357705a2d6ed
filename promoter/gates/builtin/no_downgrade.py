"""no_downgrade: a semantic-version tag never goes backwards, except as a recorded rollback."""

from __future__ import annotations

import re
from typing import Any

from promoter.gates.context import GateContext, iso, short_sha, when
from promoter.gates.registry import Outcome, register, validate_bool
from promoter.model.finding import (
    Severity,
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


@register("no_downgrade", validate=validate_bool)
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
        "time": iso(cur.time),
        "file": old.file,
        "line": old.line,
        "value": ctx.image.tag,
    }
    if ctx.rollback:
        return Outcome(
            [
                ctx.finding(
                    "no_downgrade",
                    f"gate no_downgrade: rollback of {ctx.env.name} from {old.tag} (commit {short_sha(cur.commit)}, {when(cur.time)}) "
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
                f"gate no_downgrade: {ctx.env.name} runs {old.tag} (since commit {short_sha(cur.commit)}, {when(cur.time)}) and "
                f"{ctx.image.tag} is an older version",
                f"if going back is intended, roll back (recorded in the pull request): {ctx.rollback_command(str(ctx.image))}; "
                f"otherwise promote a version newer than {old.tag}; the gate is {ctx.key('no_downgrade')} in {ctx.config.file}",
                evidence,
            )
        ]
    )
