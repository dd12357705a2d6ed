"""Engine: evaluate an environment's gates for one promotion, or for every promotion a diff makes.

The engine walks an environment's `gates:` settings and knows no gate by name (Kargo's step
registry): each gate is one file in `builtin/` registered under its config key. Every failure is
a Finding (rule `gate-<name>`, source `gate`) naming its evidence and the way forward; every gate
that ran is a Subject, so reports show what was checked.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import promoter.gates.builtin  # noqa: F401  (registers the built-in gates)
from promoter.config.model import Config, Environment
from promoter.gates.context import GateContext, read_app_timelines
from promoter.gates.registry import GATES, ConfigPlace, Gate
from promoter.gates.statuses import StatusReader, Waiting
from promoter.history.promotions import promotions_in_diff
from promoter.history.timeline import Timeline
from promoter.model.commandline import Invocation
from promoter.model.errors import ToolError, UsageError
from promoter.model.finding import CheckResult, Severity, Status, Subject
from promoter.model.image import ImageRef


def utcnow() -> datetime:
    """The clock promotions are judged by (soak, freeze) when the caller gives none: one place,
    so an end-to-end test can fix the time the whole command sees."""
    return datetime.now(UTC)


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


def _active(config: Config, env: Environment, *, defaults: bool = True) -> list[tuple[Gate, Any]]:
    out = []
    for gate in GATES.values():
        value = gate.setting(config, env)
        if value is None and defaults:
            value = gate.default
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
    defaults: bool = True,
    invocation: Invocation | None = None,
    unpinned: list[str] | None = None,
    statuses: StatusReader | None = None,
    waiting: Waiting | None = None,
) -> CheckResult:
    """Judge promoting `image` of `app` into `env` against that env's gates, reading history on `base_ref`.

    `unpinned` lists the places where the planned edit could set the tag but not the digest.

    `now` (aware; naive is taken as UTC) is the clock for soak and freeze; `override_freeze` is a
    reason that lets a frozen promotion through (recorded as an info finding); `rollback` lets a
    semantic-version downgrade through. `timelines` shares history read from Git between calls.
    `defaults=False` runs only the gates the environment configures (what `check` judges).
    `invocation` is the command the user ran, which hints repeat (default: the bump that promotes `image`).
    `statuses` reads commit statuses from the forge (the healthy gate); `waiting` lets such a gate
    poll until its timeout (--wait).
    """
    validate_gate_config(config, repo)
    environment = config.env(env)
    a = config.app(app)
    if not image.same_repository(a.image):
        raise UsageError(f"image {image.name} is not app {app}'s image ({a.image}, from {config.file})")
    if now is None:
        now = utcnow()
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
        invocation=invocation,
        unpinned=list(unpinned or []),
    )
    if statuses is not None:
        ctx.statuses = statuses
    if waiting is not None:
        ctx.waiting = waiting
    result = CheckResult()
    for gate, value in _active(config, environment, defaults=defaults):
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
                details=outcome.details,
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
    statuses: StatusReader | None = None,
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
    found = promotions_in_diff(
        repo,
        config,
        base_ref,
        changed=changed,
        merge_base=merge_base,
        envs=[e.name for e in config.environments if _active(config, e, defaults=False)],
    )
    for app, env, message in found.unreadable:
        # A file that does not parse is reported by validation; the gates cannot judge it.
        result.subjects.append(
            Subject(
                id=f"gate/*/{app}/{env}",
                kind="gate",
                target=env,
                status=Status.ERROR,
                reason=f"cannot read {app} in {env}: {message}",
            )
        )
    timelines: dict[tuple[str, str, str], Timeline] = {}
    if found.promotions:
        # Every app a promotion moves, in every environment: one read of the base branch's history.
        # Should it fail, each gate that needs history meets the error itself, as it would without it.
        with contextlib.suppress(UsageError, ToolError):
            read_app_timelines(repo, config, sorted({p.app for p in found.promotions}), base_ref, timelines)
    for p in found.promotions:
        result.extend(
            evaluate_gates(
                repo,
                config,
                p.app,
                p.env,
                p.image,
                base_ref=base_ref,
                now=now,
                override_freeze=override_freeze,
                rollback=rollback,
                timelines=timelines,
                defaults=False,
                statuses=statuses,
            )
        )
        if f"{p.app}/{p.env}" not in result.targets:
            result.targets.append(f"{p.app}/{p.env}")
    return result
