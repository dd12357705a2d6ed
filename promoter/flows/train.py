"""Train: promote many apps at once (`promote --all`, or what one merge carried), each behind its own gates.

Every app is judged first; then the ones that passed are written, or published as one release
train pull request per environment or one pull request per app (the environment's
`pull_request.group`). An app a gate blocks is left out and listed, in the result and in the
train's description, never dropped without a word.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promoter.config.model import Config
from promoter.edit.plan import plan_bump
from promoter.flows import bump
from promoter.gates.statuses import StatusReader, Waiting
from promoter.history.timeline import label
from promoter.model.commandline import Invocation, workspace_options
from promoter.model.errors import EXIT_FINDINGS, EXIT_OK, EXIT_TOOL, PromoterError, UsageError
from promoter.model.finding import CheckResult
from promoter.model.image import ImageRef
from promoter.publish.flags import PrFlags

if TYPE_CHECKING:
    from promoter.publish.description import LeftOut
    from promoter.publish.publisher import PromotionResult
    from promoter.publish.pullrequest import Provenance


@dataclass
class Candidate:
    """One app to carry into one environment: the exact image, and where it comes from."""

    app: str
    env: str  # the target
    image: ImageRef
    source_env: str | None = None
    provenance: Provenance | None = None  # the build's, when known (a merged promotion's marker)
    problem: str | None = None  # known before judging: it cannot be promoted (left out, listed)
    invocation: Invocation | None = None  # the command that asked, which the gates' hints repeat


@dataclass
class Step:
    """What became of one candidate: judged (and written or published), left out, or failed."""

    candidate: Candidate
    result: bump.BumpResult | None = None
    error: str | None = None  # could not be judged (bad input), or publishing it failed
    failed: bool = False  # publishing failed (exit 1), as opposed to a bad input (left out)

    @property
    def blocked(self) -> bool:
        return self.error is not None or (self.result is not None and self.result.blocked)

    @property
    def unchanged(self) -> bool:
        return self.error is None and self.result is not None and self.result.changeset.empty

    def reasons(self) -> tuple[list[str], list[str]]:
        """The blocking findings' messages and ways forward (or the error)."""
        if self.error is not None:
            return [self.error], []
        assert self.result is not None
        blocking = [f for f in self.result.gates.ranked() if f.blocking]
        return [f.message for f in blocking], [f.help for f in blocking if f.help]

    def left_out(self) -> LeftOut:
        from promoter.publish.description import LeftOut

        why, how = self.reasons()
        return LeftOut(self.candidate.app, str(self.candidate.image), tuple(why), tuple(how))

    def to_dict(self) -> dict[str, Any]:
        c = self.candidate
        out: dict[str, Any] = {
            "app": c.app,
            "from": c.source_env,
            "env": c.env,
            "image": str(c.image),
            "blocked": self.blocked,
            "unchanged": self.unchanged,
            "error": self.error,
        }
        if self.result is not None:
            out.update(self.result.to_dict())
            out["image"] = str(c.image)
        return out


@dataclass
class TrainResult:
    steps: list[Step] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # apps with nothing to promote, one line each
    notes: list[str] = field(default_factory=list)
    dry_run: bool = False
    publish_requested: bool = False

    @property
    def blocked(self) -> list[Step]:
        return [s for s in self.steps if s.blocked]

    @property
    def exit_code(self) -> int:
        if any(s.failed for s in self.steps):
            return EXIT_TOOL
        return EXIT_FINDINGS if self.blocked else EXIT_OK

    @property
    def pulls(self) -> list[PromotionResult]:
        return [s.result.published for s in self.steps if s.result is not None and s.result.published is not None]

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "blocked": bool(self.blocked),
            "promotions": [s.to_dict() for s in self.steps],
            "left_out": [
                {"app": s.candidate.app, "env": s.candidate.env, "image": str(s.candidate.image), "why": s.reasons()[0]}
                for s in self.blocked
            ],
            "skipped": list(self.skipped),
            "notes": list(self.notes),
            **({"pull_requests": [p.to_dict() for p in self.pulls]} if self.publish_requested else {}),
        }


def group_of(config: Config, env: str) -> str:
    """`app` (one pull request per app) or `environment` (one release train): the env's
    `pull_request.group`, else what `forge.mode` says."""
    value = config.env(env).pull_request.get("group")
    if value in ("app", "environment"):
        return str(value)
    return "environment" if config.forge.get("mode") == "train" else "app"


def promote_many(
    repo: Path,
    config: Config,
    candidates: list[Candidate],
    *,
    pr: PrFlags,
    override_freeze: str | None,
    dry_run: bool,
    wait: bool = False,
    statuses: StatusReader | None = None,
) -> TrainResult:
    """Judge every candidate, then write or publish the ones whose gates passed."""
    from promoter.flows.forgeaccess import ForgeAccess

    out = TrainResult(dry_run=dry_run, publish_requested=pr.enabled)
    with ForgeAccess(config, pr, checkout=repo) as access:
        reader = statuses or access
        waiting = Waiting(enabled=wait)
        for c in candidates:
            step = Step(c, error=c.problem)
            if c.problem is not None:
                out.steps.append(step)
                continue
            try:
                step.result = bump.bump(
                    repo,
                    config,
                    c.image,
                    app=c.app,
                    env=c.env,
                    dry_run=True,
                    override_freeze=override_freeze,
                    statuses=reader,
                    waiting=waiting,
                    invocation=c.invocation,
                )
                step.result.publish_requested = pr.enabled
                step.result.dry_run = dry_run
            except UsageError as exc:
                step.error = str(exc)
            out.steps.append(step)
        if dry_run:
            return out
        ready = [s for s in out.steps if not s.blocked and not s.unchanged]
        if not pr.enabled:
            # One hold of the repository's lock for the whole train, as a bump holds it for one app.
            with bump.write_lock(repo, config, f"promote {len(ready)} app(s)", False):
                for s in ready:
                    _write(repo, config, s)
            return out
        for env in dict.fromkeys(s.candidate.env for s in ready):
            _publish_env(
                repo, config, env, [s for s in out.steps if s.candidate.env == env], pr, override_freeze, reader
            )
    return out


def _write(repo: Path, config: Config, step: Step) -> None:
    """Write one app's change to the checkout, planned again on the files as earlier apps left them."""
    assert step.result is not None
    c = step.candidate
    cs = plan_bump(repo, config, c.image, app=c.app, env=c.env)
    cs.write(repo)
    step.result.changeset, step.result.written = cs, True


def _publish_env(
    repo: Path,
    config: Config,
    env: str,
    steps: list[Step],
    pr: PrFlags,
    override_freeze: str | None,
    statuses: StatusReader,
) -> None:
    train = group_of(config, env) == "environment"
    judged: dict[str, CheckResult] = {s.candidate.app: s.result.gates for s in steps if s.result is not None}
    left_out = [s.left_out() for s in steps if s.blocked] if train else []
    for s in steps:
        if s.blocked or s.unchanged:
            continue
        assert s.result is not None
        c = s.candidate
        try:
            s.result.published = bump.publish(
                repo,
                config,
                s.result,
                app=c.app,
                env=env,
                pr=pr,
                override_freeze=override_freeze,
                judged=judged,
                left_out=left_out,
                provenance=c.provenance,
                statuses=statuses,
            )
        except PromoterError as exc:
            # One app's pull request failing must not hide what became of the others.
            s.error, s.failed = f"publishing failed: {exc}", True


# ---- promote --all ---------------------------------------------------------------------------
def promote_all(
    repo: Path,
    config: Config,
    from_env: str,
    to_env: str | None,
    *,
    ref: str,
    override_freeze: str | None,
    dry_run: bool,
    pr: PrFlags,
    wait: bool = False,
) -> TrainResult:
    """Every app whose image in `to_env` (default: the environment after `from_env`) differs from
    what `from_env` runs at `ref`, carried over behind `to_env`'s gates."""
    from promoter.flows.promote import target_env
    from promoter.history.status import status

    workspace = workspace_options(repo, config.file)
    to_env = target_env(config, from_env, to_env, workspace)
    asked = [("--all", None), ("--from", from_env), ("--to", to_env), *([("--ref", ref)] if ref != "HEAD" else [])]
    invocation = Invocation("promote", (*asked, *workspace))
    rows = status(repo, config, envs=[from_env, to_env], ref=ref)
    by_app: dict[str, dict[str, Any]] = {}
    for r in rows:
        by_app.setdefault(r.app, {})[r.env] = r
    candidates: list[Candidate] = []
    skipped: list[str] = []
    for app in sorted(by_app):
        src, dst = by_app[app][from_env], by_app[app][to_env]
        image = ImageRef.parse(config.app(app).image)
        if src.error:
            candidates.append(
                Candidate(
                    app, to_env, image, from_env, problem=f"cannot read {from_env}: {src.error}", invocation=invocation
                )
            )
            continue
        if not (src.tag or src.digest):
            skipped.append(f"{app}: pins no image in {from_env}")
            continue
        if (src.tag, src.digest) == (dst.tag, dst.digest):
            skipped.append(f"{app}: {to_env} already runs {label(src.tag, src.digest)}")
            continue
        candidates.append(
            Candidate(app, to_env, image.with_(tag=src.tag, digest=src.digest), from_env, invocation=invocation)
        )
    result = promote_many(repo, config, candidates, pr=pr, override_freeze=override_freeze, dry_run=dry_run, wait=wait)
    result.skipped = skipped
    return result
