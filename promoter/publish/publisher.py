"""publish_promotion: commit a promotion through the forge API and open, update or leave its one pull request.

The local checkout is only read. Every attempt starts from the base branch head on the forge:
when it differs from the commit the local plan was made on, the files are re-read at that head
and the edit is planned again on them, so a change someone else pushed meanwhile is kept, never
overwritten. The promotion branch is written with a conditional write (GitHub
`expectedHeadOid`, GitLab `last_commit_id`); when it moved, the attempt starts over (bounded).

Nothing on the branch is lost: promoter moves its branch back onto the base only when every
commit above the base is its own. A commit anyone else made, anywhere on the branch, makes the
pull request append-only: promoter adds its commit on top, or, when its edit no longer applies,
leaves the branch alone, says so in a comment and fails (exit 1).

The description is made from the branch as it is after the write (its files against the merge
base, rendered and checked by the caller's `describe`), for every app the branch carries.
"""

from __future__ import annotations

import os
import random
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from promoter.history.git import origin_url
from promoter.model.changeset import ChangeSet
from promoter.model.errors import ForgeError, PromoterError, UsageError
from promoter.model.finding import CheckResult
from promoter.model.image import ImageRef
from promoter.model.textdiff import unified_diff
from promoter.publish.description import (
    WORDS,
    BranchReview,
    Description,
    FileStat,
    HistoryEntry,
    LeftOut,
    compose,
)
from promoter.publish.flags import PrFlags
from promoter.publish.forge.base import (
    BranchCommit,
    BranchCompare,
    BranchExistsError,
    Forge,
    PullExistsError,
    PullInfo,
    PullOptions,
    StaleHeadError,
    WriteMode,
)
from promoter.publish.forge.settings import ForgeSettings, grouped, resolve_settings
from promoter.publish.hunks import apply_hunks, blob_sha
from promoter.publish.masking import Masker, MaskRules
from promoter.publish.pullrequest import (
    MARKER_PREFIX,
    ROLLBACK_LABEL,
    PromotedApp,
    Provenance,
    commit_message,
    commit_writer,
    has_trailer,
    is_promoter_commit,
    marker_apps,
    parse_marker,
    pull_title,
)
from promoter.publish.redact import Redactor

ReadFile = Callable[[str], "str | None"]
_SETTLE_LOOKS = 3  # looks at a branch another run wrote but has not described yet, before writing over it
_PAUSE_MAX = 4.0  # seconds: the longest pause before starting over


@dataclass
class BranchFile:
    """One file the branch changes against its merge base: its text on each side (None: absent)."""

    path: str
    status: str  # added | modified | removed | renamed
    old_text: str | None
    new_text: str | None
    previous_path: str | None = None
    binary: bool = False  # not UTF-8 text: named in the description, never diffed or rendered


Describe = Callable[[list[BranchFile], list[PromotedApp]], BranchReview]


@dataclass
class PromotionRequest:
    settings: ForgeSettings
    env: str
    image: ImageRef
    apps: list[str]
    changeset: ChangeSet  # planned on the local checkout
    replan: Callable[[ReadFile], ChangeSet]  # the same edit planned on texts read through `read_file`
    base_branch: str | None = None  # default: settings.base_branch
    local_commit: str | None = None  # the commit `changeset` was planned on; found with git from `repo` when None
    repo: Path | None = None
    # What the branch renders to and how it checks, computed from the branch's files; without it,
    # `checks` (made by the caller on its own plan) are shown as given, with nothing rendered.
    describe: Describe | None = None
    checks: CheckResult | None = None
    provenance: Provenance = field(default_factory=Provenance)
    options: PullOptions = field(default_factory=PullOptions)
    previous: dict[str, str] = field(default_factory=dict)  # app -> reference it replaces (else read from the plan)
    rollback: bool = False
    history: list[HistoryEntry] = field(default_factory=list)  # what a rollback chose from
    rerun: list[str] = field(default_factory=list)  # forge flags a pasted rollback command needs
    mask: MaskRules = field(default_factory=MaskRules)
    left_out: list[LeftOut] = field(default_factory=list)  # a train's apps its gates kept out, listed in the body
    max_attempts: int = 6
    forge: Forge | None = None  # an open forge (tests); else opened from settings


@dataclass
class PromotionResult:
    operation: str  # created | updated | none
    url: str | None
    number: int | None
    branch: str
    head_sha: str | None
    base_branch: str
    forge: str
    repository: str
    reason: str | None = None
    notes: list[str] = field(default_factory=list)
    attempts: int = 1
    draft: bool = False
    status: str | None = None  # the promoter/check state set on the head

    def to_dict(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "url": self.url,
            "number": self.number,
            "branch": self.branch,
            "head_sha": self.head_sha,
            "base_branch": self.base_branch,
            "forge": self.forge,
            "repository": self.repository,
            "reason": self.reason,
            "notes": self.notes,
            "attempts": self.attempts,
            "draft": self.draft,
            "status": self.status,
        }

    def to_text(self) -> str:
        word, sign = WORDS.get(self.forge, WORDS["github"])
        kind = f"{word} {sign}"
        if self.operation in ("none", "superseded"):
            where = f" ({kind}{self.number}: {self.url})" if self.url else ""
            return f"operation: {self.operation}: {self.reason}{where}"
        head = (self.head_sha or "")[:12]
        out = f"operation: {self.operation} {kind}{self.number}: {self.url} (branch {self.branch}, head {head})"
        if self.draft:
            out += f"\n  draft: findings block the merge; status promoter/check = {self.status}"
        return out + "".join(f"\n  note: {n}" for n in self.notes)


def publish_promotion(request: PromotionRequest) -> PromotionResult:
    redact = Redactor(request.settings.token)
    with redact.installed():
        forge = request.forge
        if forge is None:
            from promoter.publish.forge import open_forge

            forge = open_forge(request.settings, redact)
        try:
            return _Publisher(request, forge, redact).run()
        except PromoterError as exc:
            # Messages quote forge text (a PR's URL, a commit's author): whatever a forge echoes, the
            # token is never printed. The clients redact their own wording; this covers the rest.
            exc.message, exc.hint = redact(exc.message), (None if exc.hint is None else redact(exc.hint))
            exc.args = (exc.message,)
            raise
        finally:
            if request.forge is None:
                forge.close()


@dataclass
class _Written:
    """The branch after promoter's write, as the description tells it."""

    head: str
    files: list[BranchFile]
    merge_base: str | None
    others: list[BranchCommit]
    truncated: bool = False

    @property
    def pure(self) -> bool:
        return not self.others


class _Publisher:
    def __init__(self, req: PromotionRequest, forge: Forge, redact: Redactor) -> None:
        self.req = req
        self.forge = forge
        self.redact = redact
        self.base = req.base_branch or req.settings.base_branch
        self.branch = req.settings.branch(req.env, req.apps)
        self.train = req.settings.mode == "train"
        self.notes: list[str] = []
        self.word = WORDS.get(forge.kind, WORDS["github"])[0]
        self.written: set[str] = set()  # heads this run wrote
        self._random = random.Random()

    def result(
        self,
        operation: str,
        pull: PullInfo | None,
        head: str | None,
        attempt: int,
        reason: str | None = None,
        *,
        draft: bool = False,
        status: str | None = None,
    ) -> PromotionResult:
        return PromotionResult(
            operation=operation,
            url=pull.url if pull else None,
            number=pull.number if pull else None,
            branch=self.branch,
            head_sha=head,
            base_branch=self.base,
            forge=self.forge.kind,
            repository=self.forge.repository,
            reason=reason,
            notes=list(self.notes),
            attempts=attempt,
            draft=draft,
            status=status,
        )

    def reader(self, ref: str) -> ReadFile:
        cache: dict[str, str | None] = {}

        def read(path: str) -> str | None:
            if path not in cache:
                cache[path] = self.forge.read_file(ref, path)
            return cache[path]

        return read

    def run(self) -> PromotionResult:
        req, forge = self.req, self.forge
        local = req.local_commit or _local_commit(req.repo, list(req.changeset.files))
        first: str | None = None  # the open PR's head at the first look
        settles = 0
        attempt = 0
        while attempt < req.max_attempts:
            attempt += 1
            if attempt > 1:
                self.pause(attempt + settles)
            base_sha = forge.base_head(self.base)
            plan = req.changeset if base_sha == local else req.replan(self.reader(base_sha))
            pull = forge.find_pull(self.branch, self.base)
            marker = parse_marker(pull.body) if pull else None
            if pull and marker is None:
                raise ForgeError(
                    f"open {self.word} {pull.url} uses branch {self.branch} but was not opened by promoter "
                    "(no promoter marker in its description): close it or change forge.branch_template"
                )
            in_pull = marker_apps(marker)
            wanted = self.targets(plan, in_pull)
            ours_at_head = pull is not None and marker is not None and marker.get("head") == pull.head_sha
            if pull and ours_at_head and all(any(w.same_image(p) for p in in_pull) for w in wanted):
                return self.result(
                    "none", pull, pull.head_sha, attempt, f"the open {self.word} already promotes this image"
                )
            if attempt == 1:
                first = pull.head_sha if pull else None
            elif pull is not None and marker is not None:
                # Starting over because a parallel run wrote the branch: see what it left.
                moved = pull.head_sha != first and pull.head_sha not in self.written
                if moved and not ours_at_head and marker.get("head") not in self.written and settles < _SETTLE_LOOKS:
                    # Written since our first look but not yet described: give that run the moment
                    # it needs to describe its write, then look again.
                    settles += 1
                    attempt -= 1
                    continue
                if moved and ours_at_head:
                    superseded = self.superseded(pull, in_pull, wanted, attempt)
                    if superseded is not None:
                        return superseded
            if plan.empty:
                if pull is not None:
                    self.notes.append(f"open {self.word} {pull.url} promotes another image; close it if it is stale")
                return self.result("none", None, base_sha, attempt, f"{self.base} already runs this image")

            # Whose commits are on the open PR's branch? The marker answers for a head promoter
            # wrote on a branch that held only its commits (the sha binds the whole history below
            # it); any other head, or a branch that ever held someone else's commit, is looked at.
            before: BranchCompare | None = None
            pure = True
            # A commit counts as promoter's only when it is the one promoter wrote: its trailer, in one
            # piece, by the identity of the head promoter last described on a branch that was all its
            # own. A reviewer's amend or rebase keeps the trailer but not the committer; one with
            # --reset-author keeps neither identity. Without such a head nothing is verifiably ours.
            described = marker.get("head") if marker is not None and marker.get("pure") is True else None
            if pull is not None and not (ours_at_head and marker is not None and marker.get("pure") is True):
                before = forge.compare(base_sha, pull.head_sha)
                # A list the forge cut short cannot show that every commit is promoter's.
                pure = not before.truncated and not _foreign(before.commits, _writer(before.commits, described))

            mode: WriteMode
            expected: str | None
            if pull is None:
                mode, expected, change = "create", None, plan
            elif pure and not self.train:
                mode, expected, change = "reset", None, plan
            else:
                # Keep what the branch holds beyond our last commit (a person's fix, the train's
                # other apps): write on top of it instead of resetting it.
                assert pull is not None
                mode, expected = "append", pull.head_sha
                try:
                    change = req.replan(self.reader(pull.head_sha))
                except PromoterError as exc:
                    self.conflict(pull, wanted, exc)
            files = {fc.path: fc.new_text for fc in change.changed_files}
            apps = self.merged(in_pull, wanted)
            adopted = False
            try:
                if files:
                    head = forge.write_branch(
                        self.branch,
                        base_sha,
                        files,
                        commit_message(req.env, wanted),
                        mode=mode,
                        expected_head=expected,
                    )
                    self.written.add(head)
                else:  # the branch already holds the change: only the description is behind
                    assert pull is not None
                    head = pull.head_sha
            except BranchExistsError:
                head_or_none = self.adopt(base_sha, plan, wanted)
                if head_or_none is None:
                    continue
                head, adopted = head_or_none, True
                self.written.add(head)
            except StaleHeadError:
                self.notes.append(f"attempt {attempt}: {self.branch} moved while writing; re-read and retried")
                continue
            if mode == "append" and not adopted:
                after = before if (before is not None and head == pull.head_sha) else forge.compare(base_sha, head)  # type: ignore[union-attr]
                # Our own head names the identity promoter writes as; a head only described (the
                # branch held the change already) is the marker's, when it was all promoter's.
                writer = _writer(after.commits, head if head in self.written else described)
                written = self.from_compare(after, head, base_sha, writer)
            else:
                written = _Written(head, _plan_files(plan), base_sha, [])
            result = self.open_or_update(pull, apps, head, written, attempt, marker)
            if result is not None:
                return result
            self.notes.append(f"attempt {attempt}: a parallel run wrote {self.branch} too; re-read and retried")
        raise ForgeError(
            f"gave up after {req.max_attempts} attempts: {self.branch} kept moving while promoter wrote it "
            "(another pipeline promoting the same target?); run again"
        )

    def pause(self, attempt: int) -> None:
        """A random wait before starting over (full jitter): parallel runs that collided spread out, so
        one of them finishes its write and description before the others look again."""
        budget = getattr(self.forge, "budget", None)
        if budget is None:
            return
        ceiling = min(_PAUSE_MAX, self.req.settings.backoff * 2 ** (attempt - 1))
        budget.take(self._random.uniform(0, ceiling))  # a pause that does not fit is skipped

    def superseded(
        self, pull: PullInfo, in_pull: list[PromotedApp], wanted: list[PromotedApp], attempt: int
    ) -> PromotionResult | None:
        """The open PR, described and consistent, carries another image of every app this run promotes,
        written by a parallel run after this one began: that run's promotion stands, and this run
        does not overwrite it. A train's other apps are no such thing: they are appended to."""
        theirs = {p.app: p for p in in_pull}
        if not all(w.app in theirs and not w.same_image(theirs[w.app]) for w in wanted):
            return None
        images = ", ".join(f"{w.app} {theirs[w.app].image}" for w in wanted)
        ours = ", ".join(w.image for w in wanted)
        sign = WORDS.get(self.forge.kind, WORDS["github"])[1]
        return self.result(
            "superseded",
            pull,
            pull.head_sha,
            attempt,
            f"a parallel run promoted {images} on {self.branch} while this run was writing it; "
            f"{self.word} {sign}{pull.number} holds that image, not {ours}: run again to promote this one",
        )

    def conflict(self, pull: PullInfo, wanted: list[PromotedApp], exc: PromoterError) -> NoReturn:
        """The edit no longer applies on the branch someone else changed: say so there, touch nothing."""
        images = ", ".join(f"{w.app} `{w.image}`" for w in wanted)
        why = self.redact(str(exc))
        self.forge.comment(
            pull,
            f"⚠️ promoter could not apply {images} on top of this branch's head `{pull.head_sha[:12]}`, which "
            f"holds commits promoter did not make:\n\n> {why}\n\nThe branch is left exactly as it is. Resolve it on "
            f"the branch (or close this {self.word}) and run promoter again.",
        )
        raise ForgeError(
            f"could not apply the promotion on {self.branch} (it holds someone else's commits): {why}; "
            f"left the branch as it is and commented on {pull.url}"
        ) from None

    def adopt(self, base_sha: str, plan: ChangeSet, wanted: list[PromotedApp]) -> str | None:
        """A branch without an open PR: an earlier run's leftover is ours to reset; anything else is not."""
        info = self.forge.branch_info(self.branch)
        if info is None:
            return None  # deleted meanwhile: start over
        if info.sha != base_sha:
            # Every commit between the base and the head, not the head alone: promoter may have
            # appended on top of a reviewer's commit before that PR was closed. No marker names
            # the identity promoter wrote as here; the head's does, and every commit must share it.
            cmp = self.forge.compare(base_sha, info.sha)
            foreign = _foreign(cmp.commits, _writer(cmp.commits, info.sha)) if cmp.commits else []
            if foreign or cmp.truncated:  # none listed: the branch is behind the base, nothing above it
                first = foreign[0] if foreign else None
                which = (
                    f"commit {first.sha[:12]} by {first.author or 'an unknown author'}"
                    + (f" (and {len(foreign) - 1} more)" if len(foreign) > 1 else "")
                    if first is not None
                    else f"more commits than {self.forge.kind} lists (head {info.sha[:12]} by {info.author})"
                )
                raise ForgeError(
                    f"branch {self.branch} already exists in {self.forge.repository} without an open {self.word} "
                    f"and holds {which} that promoter did not make; promoter left it as it is: open a {self.word} "
                    "for that branch to keep the work, or delete that branch or change forge.branch_template, "
                    "then run again"
                )
        files = {fc.path: fc.new_text for fc in plan.changed_files}
        try:
            head = self.forge.write_branch(
                self.branch,
                base_sha,
                files,
                commit_message(self.req.env, wanted),
                mode="reset",
            )
        except StaleHeadError:
            return None
        self.notes.append(f"adopted branch {self.branch} left by an earlier run")
        return head

    # ---- the branch as it is ---------------------------------------------------------------------
    def from_compare(self, cmp: BranchCompare, head: str, base_sha: str, writer: tuple[str, str] | None) -> _Written:
        """Every file the branch changes, with its texts at the merge base and at the head."""
        mb = cmp.merge_base or base_sha
        old_read = self.base_reader(mb, [f.previous_path or f.path for f in cmp.files if f.status != "added"])
        head_read = self.reader(head)
        out = []
        for f in cmp.files:
            try:
                old = None if f.status == "added" else old_read(f.previous_path or f.path)
                new: str | None = None
                if f.status != "removed":
                    rebuilt = apply_hunks(old or "", f.patch) if f.patch else None
                    if rebuilt is not None and f.blob_sha and blob_sha(rebuilt) != f.blob_sha:
                        rebuilt = None  # the forge's hunks did not give its blob: read it
                    new = rebuilt if rebuilt is not None else head_read(f.path)
            except UnicodeDecodeError:
                out.append(BranchFile(f.path, f.status, None, None, f.previous_path, binary=True))
                continue
            out.append(BranchFile(f.path, f.status, old, new, f.previous_path))
        return _Written(head, out, mb, _foreign(cmp.commits, writer), cmp.truncated)

    def base_reader(self, sha: str, paths: list[str]) -> ReadFile:
        """Texts at `sha` from the local clone when it has that commit (no request), else from the forge."""
        local = _local_texts(self.req.repo, sha, paths)
        if local is not None:
            return lambda p: local.get(p)
        return self.reader(sha)

    # ---- the pull request ------------------------------------------------------------------------
    def open_or_update(
        self,
        pull: PullInfo | None,
        apps: list[PromotedApp],
        head: str,
        written: _Written,
        attempt: int,
        marker: Mapping[str, Any] | None,
    ) -> PromotionResult | None:
        """The result, or None when a parallel run got there first and the attempt must start over."""
        req = self.req
        review = self.review(written, apps)
        checks = review.checks
        failing = checks is not None and checks.failed
        configured_draft = req.options.draft
        promoter_draft = bool(marker and marker.get("draft_by_promoter"))
        # Drafts promoter made for findings are turned back once the findings are fixed; a draft
        # asked for in the configuration is left alone.
        if failing:
            already = pull.draft if pull is not None else configured_draft
            draft, by_promoter = True, promoter_draft or not already
        elif pull is not None and pull.draft and not promoter_draft:
            draft, by_promoter = True, False
        else:
            draft, by_promoter = configured_draft and pull is None, False
        title = pull_title(req.env, apps)
        body = self.body(apps, written, review, draft_by_promoter=by_promoter)
        options = req.options
        if any(a.rollback for a in apps) and ROLLBACK_LABEL not in options.labels:
            options = PullOptions(**{**options.__dict__, "labels": [*options.labels, ROLLBACK_LABEL]})
        options = PullOptions(**{**options.__dict__, "draft": draft})
        status = None if checks is None else ("failure" if failing else "success")
        if pull is not None:
            approvers = self.forge.approvers(pull)
            updated = self.forge.update_pull(pull, title, body, draft=draft if pull.draft != draft else None)
            self.notes.extend(self.forge.take_notes())
            if updated.head_sha and updated.head_sha != head:
                return None  # a parallel run wrote the branch after us: our description would lie
            self.set_status(head, checks)
            if approvers:
                self.tell_approvers(updated, approvers, apps, marker, head)
            return self.result("updated", updated, head, attempt, draft=draft, status=status)
        try:
            created = self.forge.create_pull(self.branch, self.base, title, body, options)
        except StaleHeadError:
            return None  # a parallel run moved the branch back onto the base ("No commits between")
        except PullExistsError:
            # A parallel run (or a lost answer to our own request) opened it: adopt, never duplicate.
            existing = self.forge.find_pull(self.branch, self.base)
            if existing is None:
                return None  # closed again meanwhile, or not listed yet: start over
            if existing.head_sha != head:
                # The branch moved after we wrote it (a parallel run, or someone's push): whichever
                # PR this is, describing its head with our marker, or reporting ours as opened at
                # our head, would lie. Start over from what is there now.
                return None
            existing_marker = parse_marker(existing.body)
            if existing_marker and existing_marker.get("head") == head:
                # Our own create went through but its answer was lost: it is the PR we just opened.
                self.notes.extend(self.forge.decorate(existing, options))
                self.set_status(head, checks)
                return self.result("created", existing, head, attempt, draft=existing.draft, status=status)
            updated = self.forge.update_pull(existing, title, body, draft=draft if existing.draft != draft else None)
            self.notes.extend(self.forge.take_notes())
            if updated.head_sha and updated.head_sha != head:
                return None  # moved while we described it: as on the update path above
            self.set_status(head, checks)
            return self.result("updated", updated, head, attempt, draft=draft, status=status)
        if created.head_sha and created.head_sha != head:
            return None  # the branch moved before the PR was opened: describe what is there
        if not created.head_sha:
            # GitLab may answer a new merge request before it knows its head (`sha` null): decorate
            # merges (auto-merge) only the head promoter wrote and described, never "whatever is there".
            created.head_sha = head
        self.set_status(head, checks)
        self.notes.extend(self.forge.decorate(created, options))
        return self.result("created", created, head, attempt, draft=created.draft, status=status)

    def set_status(self, head: str, checks: CheckResult | None) -> None:
        """`promoter/check` on the head: what branch protection can require. Nothing checked, nothing claimed."""
        if checks is None:
            return
        blocking = sum(1 for f in checks.findings if f.blocking)
        if blocking:
            self.forge.set_status(
                head,
                "failure",
                f"{blocking} blocking error{'s' if blocking != 1 else ''}: see the {self.word} description",
                self.req.provenance.run_url,
            )
        else:
            self.forge.set_status(head, "success", "promotion checks passed", self.req.provenance.run_url)

    def tell_approvers(
        self,
        pull: PullInfo,
        approvers: list[str],
        apps: list[PromotedApp],
        marker: Mapping[str, Any] | None,
        head: str,
    ) -> None:
        """Whoever approved the older state is told, by name, that it changed under their approval."""
        before = {a.app: a for a in marker_apps(marker)}
        changes = []
        for a in apps:
            old = before.get(a.app)
            if old is None:
                changes.append(f"- {a.app}: added `{a.image}`")
            elif not a.same_image(old):
                changes.append(f"- {a.app}: `{old.image}` → `{a.image}`")
        if not changes:
            changes.append(f"- the branch moved to `{head[:12]}`")
        mentions = " ".join(f"@{name}" for name in approvers)
        self.forge.comment(
            pull,
            f"{mentions}: this {self.word} changed after your approval; please review it again.\n\n"
            + "\n".join(changes)
            + f"\n\nHead is now `{head[:12]}`.",
        )

    def review(self, written: _Written, apps: list[PromotedApp]) -> BranchReview:
        if self.req.describe is not None:
            return self.req.describe(written.files, apps)
        return BranchReview(checks=self.req.checks)

    def body(self, apps: list[PromotedApp], written: _Written, review: BranchReview, *, draft_by_promoter: bool) -> str:
        masker = Masker(self.req.mask)
        diffs, stats = [], []
        for f in sorted(written.files, key=lambda f: f.path):
            old, new = masker.texts(f.path, f.old_text, f.new_text)
            text = _unified(f, old, new)
            diffs.append(text)
            # Masking keeps every line where it is, so the masked diff counts the lines the real one does.
            added, removed = _counts(text)
            stats.append(FileStat(f.path, f.status, added, removed))
        masker.values |= review.masked
        description = Description(
            env=self.req.env,
            apps=apps,
            head=written.head,
            base_branch=self.base,
            merge_base=written.merge_base,
            forge=self.forge.kind,
            files=stats,
            file_diff="".join(diffs),
            review=review,
            others=written.others,
            links=self.forge.links,
            rerun=self.req.rerun,
            history=self.req.history,
            pure=written.pure,
            draft_by_promoter=draft_by_promoter,
            limit=self.forge.body_limit,
            compare_truncated=written.truncated,
            left_out=[x for x in self.req.left_out if x.app not in {a.app for a in apps}],
        )
        # The structural masks hid every value where it stood; the scrub catches a value quoted
        # anywhere else (a finding's message); the redactor, the forge token. The marker is
        # machine-read and holds no file content: it is not scrubbed (a short secret could
        # break its JSON), only redacted (a token becomes `***` inside a JSON string).
        text = compose(description)
        cut = text.rfind(MARKER_PREFIX)
        return self.redact(masker.scrub(text[:cut])) + self.redact(text[cut:])

    def targets(self, plan: ChangeSet, in_pull: list[PromotedApp]) -> list[PromotedApp]:
        image = self.req.image
        earlier = {p.app: p for p in in_pull}
        return [
            PromotedApp(
                app=app,
                image=str(image),
                tag=image.tag,
                digest=image.digest,
                previous=self.req.previous.get(app) or previous_reference(image, [c.old for c in plan.changes]),
                provenance=self.req.provenance,
                rollback=self.req.rollback,
            ).carried_on(earlier.get(app))
            for app in self.req.apps
        ]

    def merged(self, in_pull: list[PromotedApp], wanted: list[PromotedApp]) -> list[PromotedApp]:
        if not self.train:
            return wanted
        names = {w.app for w in wanted}
        return sorted([p for p in in_pull if p.app not in names] + wanted, key=lambda a: a.app)


def _writer(commits: list[BranchCommit], sha: str | None) -> tuple[str, str] | None:
    """The identity promoter writes as, read off `sha`, a commit promoter verifiably wrote, when the
    branch holds it (with its trailer, in one piece); None when it does not."""
    commit = next((c for c in commits if c.sha == sha), None)
    if commit is None or not has_trailer(commit.message):
        return None
    return commit_writer(commit)


def _foreign(commits: list[BranchCommit], writer: tuple[str, str] | None) -> list[BranchCommit]:
    return [c for c in commits if not is_promoter_commit(c, writer)]


def _plan_files(plan: ChangeSet) -> list[BranchFile]:
    return [BranchFile(fc.path, "modified", fc.old_text, fc.new_text) for fc in plan.changed_files]


def _unified(f: BranchFile, old: str | None, new: str | None) -> str:
    if f.binary:
        return f"--- a/{f.previous_path or f.path}\n+++ b/{f.path}\nBinary file {f.status}, not shown\n"
    a = f"a/{f.previous_path or f.path}" if old is not None else "/dev/null"
    b = f"b/{f.path}" if new is not None else "/dev/null"
    # (textdiff, not difflib: a bump of one value in a 50 MB file diffed for minutes)
    return unified_diff(old or "", new or "", a, b)


def _counts(diff: str) -> tuple[int, int]:
    """Lines added and removed in a unified diff (its two header lines left out)."""
    added = removed = 0
    for line in diff.splitlines()[2:]:
        if line.startswith("+"):
            added += 1
        elif line.startswith("-"):
            removed += 1
    return added, removed


def previous_reference(image: ImageRef, olds: list[str | None]) -> str | None:
    """The full reference the environment ran before, from the old values the edit replaced."""
    tag = digest = None
    for old in olds:
        if not old:
            continue
        if "/" in old or "@" in old:
            try:
                ref = ImageRef.parse(old)
            except UsageError:  # not a reference: keep looking
                continue
            if ref.same_repository(image):
                return str(ref)
        elif ":" in old and old.split(":", 1)[0] in ("sha256", "sha512"):
            digest = old
        else:
            tag = old.rsplit(":", 1)[-1]
    if not tag and not digest:
        return None
    return image.name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


def _local_commit(repo: Path | None, paths: list[str]) -> str | None:
    """HEAD of the local checkout, when the planned files there are exactly as committed."""
    if repo is None:
        return None
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=repo,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        clean = subprocess.run(
            ["git", "diff", "--quiet", "HEAD", "--", *paths],
            cwd=repo,
            capture_output=True,
            check=False,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return head if clean.returncode == 0 else None


def _local_texts(repo: Path | None, sha: str, paths: list[str]) -> dict[str, str | None] | None:
    """Texts of `paths` at `sha` from the local clone in one git call; None when it lacks that commit."""
    if repo is None:
        return None
    from promoter.history.git import GitError, GitRepo
    from promoter.history.timeline import read_blobs

    try:
        has = subprocess.run(["git", "cat-file", "-e", f"{sha}^{{commit}}"], cwd=repo, capture_output=True, check=False)
        if has.returncode != 0:
            return None
        g = GitRepo.open(repo)
        prefix = f"{g.prefix}/" if g.prefix else ""
        blobs = read_blobs(g, [f"{sha}:{prefix}{p}" for p in paths])
    except (OSError, GitError, UsageError):
        return None
    return {p: blobs.get(f"{sha}:{prefix}{p}") for p in paths}


def publish_if_requested(
    pr: PrFlags,
    *,
    config: Any,
    env: str,
    apps: list[str],
    image: ImageRef,
    changeset: ChangeSet,
    replan: Callable[[ReadFile], ChangeSet],
    repo: Path | None = None,
    checks: CheckResult | None = None,
    describe: Describe | None = None,
    rollback: bool = False,
    history: list[HistoryEntry] | None = None,
    environ: Mapping[str, str] | None = None,
    left_out: list[LeftOut] | None = None,
    provenance: Provenance | None = None,
) -> PromotionResult | None:
    """None without --pr; else the promotion published (config: promoter.config.Config).

    `provenance` is where the image came from when the caller knows better than CI's variables
    (`promote --next` carries the build's, read from the merged pull request): flags still win.
    """
    if not pr.enabled:
        return None
    environ = os.environ if environ is None else environ
    settings = resolve_settings(
        config.forge,
        environ,
        forge=pr.forge,
        url=pr.forge_url,
        repository=pr.forge_repo,
        base_branch=pr.base_branch,
        origin=origin_url(repo) if repo is not None and pr.forge_repo is None else None,
    )
    try:
        pr_config = dict(config.env(env).pull_request)
    except UsageError:  # an environment unknown to the config has no PR settings
        pr_config = {}
    settings = grouped(settings, pr_config.get("group"), config.forge.get("branch_template"))
    options = PullOptions(
        labels=list(pr_config.get("labels", [])),
        reviewers=list(pr_config.get("reviewers", [])),
        team_reviewers=list(pr_config.get("team_reviewers", [])),
        assignees=list(pr_config.get("assignees", [])),
        draft=pr.draft if pr.draft is not None else bool(pr_config.get("draft", False)),
        auto_merge=pr.auto_merge if pr.auto_merge is not None else bool(pr_config.get("auto_merge", False)),
    )
    provenance = (provenance or Provenance.from_env(environ)).merged(
        source_repo=pr.source_repo,
        commit=pr.source_commit,
        run_url=pr.run_url,
        actor=pr.actor,
    )
    return publish_promotion(
        PromotionRequest(
            settings=settings,
            env=env,
            image=image,
            apps=apps,
            changeset=changeset,
            replan=replan,
            repo=repo,
            checks=checks,
            describe=describe,
            provenance=provenance,
            options=options,
            rollback=rollback,
            history=list(history or []),
            rerun=pr.forge_args(),
            mask=MaskRules.from_config(config.forge.get("mask_keys")),
            left_out=list(left_out or []),
        )
    )
