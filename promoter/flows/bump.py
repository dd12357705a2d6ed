"""Bump: set an app's (or a path's) image byte-exact behind the environment's gates, and publish it when asked.

Orchestration only: locate/edit plan the change, gates judge it, preview renders it, publish
commits it through the forge. `promote` and `rollback` are bumps with their image chosen for them.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promoter.config.model import Config
from promoter.edit.plan import plan_bump
from promoter.gates.statuses import StatusReader, Waiting
from promoter.model.changeset import ChangeSet
from promoter.model.commandline import Invocation
from promoter.model.errors import UsageError
from promoter.model.finding import CheckResult
from promoter.model.image import ImageRef
from promoter.publish.flags import PrFlags

if TYPE_CHECKING:
    from promoter.publish.description import BranchReview, HistoryEntry, LeftOut
    from promoter.publish.publisher import PromotionResult
    from promoter.publish.pullrequest import Provenance


@dataclass
class BumpResult:
    """What `bump` did: the edits, the gates it passed (or not), and whether files were written."""

    image: ImageRef
    changeset: ChangeSet
    gates: CheckResult
    written: bool
    dry_run: bool
    published: PromotionResult | None = None
    publish_requested: bool = False

    @property
    def blocked(self) -> bool:
        return self.gates.failed

    def to_dict(self) -> dict[str, Any]:
        return {
            "image": str(self.image),
            "dry_run": self.dry_run,
            "written": self.written,
            "blocked": self.blocked,
            **self.changeset.to_dict(),
            "gates": self.gates.to_dict(),
            "diff": self.changeset.diff(),
            **(
                {"pull_request": self.published.to_dict() if self.published else None} if self.publish_requested else {}
            ),
        }


def bump(
    repo: Path,
    config: Config,
    image: ImageRef,
    *,
    app: str | None = None,
    env: str | None = None,
    paths: list[str] | None = None,
    dry_run: bool = False,
    override_freeze: str | None = None,
    now: datetime | None = None,
    rollback: bool = False,
    invocation: Invocation | None = None,
    all_matches: bool = False,
    statuses: StatusReader | None = None,
    waiting: Waiting | None = None,
) -> BumpResult:
    """Plan the edit, judge it against the environment's gates, and write it unless blocked or dry.

    `rollback` marks a deliberate return to an earlier image: the no-downgrade gate lets it through
    (recorded), every other gate still applies. `invocation` is the command the user ran, for hints.
    `statuses` is the forge the healthy gate reads, `waiting` lets it poll (--wait).
    """
    # A bump that writes holds the working tree's lock from reading the files to writing them: two
    # bumps at once (different images, one file) would otherwise each drop the other's change.
    with write_lock(repo, config, f"bump {image}", dry_run):
        cs = plan_bump(repo, config, image, app=app, env=env, paths=paths, all_matches=all_matches)
        gates = CheckResult()
        if app and env and not cs.empty:
            from promoter.edit.rules import DigestNotPinned
            from promoter.gates.engine import evaluate_gates

            # Places the edit can set the tag but not the digest: digest_required refuses them.
            unpinned = [w.where for w in cs.warnings if isinstance(w, DigestNotPinned)]
            gates = evaluate_gates(
                repo,
                config,
                app,
                env,
                image,
                now=now,
                override_freeze=override_freeze,
                rollback=rollback,
                invocation=invocation,
                unpinned=unpinned,
                statuses=statuses,
                waiting=waiting,
            )
        written = False
        if not dry_run and not gates.failed and not cs.empty:
            cs.write(repo)
            written = True
    return BumpResult(image=image, changeset=cs, gates=gates, written=written, dry_run=dry_run)


def write_lock(repo: Path, config: Config, what: str, dry_run: bool) -> AbstractContextManager[Any]:
    """The repository's lock (model/lock.py) for a bump that writes; nothing for one that only reads."""
    if dry_run:
        return nullcontext()
    from promoter.model.lock import DEFAULT_WAIT_SECONDS, repository_lock

    wait = float((config.raw.get("limits") or {}).get("lock_wait_seconds", DEFAULT_WAIT_SECONDS))
    return repository_lock(repo, what=what, wait=wait)


def resolve_image(image: str, tag: str | None) -> ImageRef:
    ref = ImageRef.parse(image)
    if tag is not None:
        from promoter.model.image import check_tag

        check_tag(tag)
        if ref.tag and ref.tag != tag:
            raise UsageError(f"--tag {tag} contradicts the tag in --image {image}")
        ref = ref.with_(tag=tag)
    if not ref.tag and not ref.digest:
        raise UsageError(
            f"--image {image} has neither tag nor digest: nothing to pin (give repo:tag, repo@digest or --tag)"
        )
    return ref


def run(
    repo: Path,
    config: Config,
    image: ImageRef,
    *,
    app: str | None,
    env: str | None,
    paths: list[str],
    override_freeze: str | None,
    dry_run: bool,
    pr: PrFlags,
    rollback: bool = False,
    invocation: Invocation | None = None,
    all_matches: bool = False,
    history: list[HistoryEntry] | None = None,
    wait: bool = False,
    statuses: StatusReader | None = None,
) -> BumpResult:
    """Bump (or roll back) and, with `pr.enabled`, publish the change as one promotion pull request.

    With --pr the checkout is only read: the forge gets the commit, the working tree stays as it is.
    `history` (a rollback) is what the environment ran, listed in the pull request. The gates read
    commit statuses through `statuses`, else through the forge the flags and config name.
    """
    if pr.enabled and not (app and env):
        raise UsageError("--pr needs --app and --env (a promotion target), not --path")
    from promoter.flows.forgeaccess import ForgeAccess

    with ForgeAccess(config, pr, checkout=repo) as access:
        reader = statuses or access
        result = bump(
            repo,
            config,
            image,
            app=app,
            env=env,
            paths=paths,
            dry_run=dry_run or pr.enabled,
            override_freeze=override_freeze,
            rollback=rollback,
            invocation=invocation,
            all_matches=all_matches,
            statuses=reader,
            waiting=Waiting(enabled=wait),
        )
        result.publish_requested = pr.enabled
        if pr.enabled and not dry_run and not result.blocked:
            assert app and env
            result.published = publish(
                repo,
                config,
                result,
                app=app,
                env=env,
                pr=pr,
                override_freeze=override_freeze,
                rollback=rollback,
                history=history,
                all_matches=all_matches,
                statuses=reader,
            )
    return result


def publish(
    repo: Path,
    config: Config,
    result: BumpResult,
    *,
    app: str,
    env: str,
    pr: PrFlags,
    override_freeze: str | None,
    rollback: bool = False,
    history: list[HistoryEntry] | None = None,
    all_matches: bool = False,
    judged: dict[str, CheckResult] | None = None,
    left_out: list[LeftOut] | None = None,
    provenance: Provenance | None = None,
    statuses: StatusReader | None = None,
) -> PromotionResult | None:
    """Publish a bump whose gates passed as (or onto) its promotion pull request.

    `judged` holds gate results already computed for other apps a train branch may carry;
    `left_out` the train's apps its gates kept out, listed in the description.
    """
    # Imported only when publishing: the forge clients and the preview's renderers cost start-up time.
    from promoter.flows.review import review_branch
    from promoter.publish.masking import MaskRules
    from promoter.publish.publisher import BranchFile, publish_if_requested
    from promoter.publish.pullrequest import PromotedApp

    image = result.image
    rules = MaskRules.from_config(config.forge.get("mask_keys"))
    gates = {**(judged or {}), app: result.gates}

    def describe(files: list[BranchFile], apps: list[PromotedApp]) -> BranchReview:
        # The reviewer sees what the branch holds after the write, rendered and checked,
        # for every app on it: not just this run's plan.
        return review_branch(
            repo,
            config,
            env,
            files,
            apps,
            gates=gates,
            override_freeze=override_freeze,
            rules=rules,
            statuses=statuses,
        )

    return publish_if_requested(
        pr,
        config=config,
        env=env,
        apps=[app],
        image=image,
        changeset=result.changeset,
        replan=lambda read: plan_bump(repo, config, image, app=app, env=env, read_file=read, all_matches=all_matches),
        repo=repo,
        describe=describe,
        rollback=rollback,
        history=history,
        left_out=left_out,
        provenance=provenance,
    )
