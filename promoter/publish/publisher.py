"""publish_promotion: commit a promotion through the forge API and open, update or leave its one pull request.

The local checkout is only read. Every attempt starts from the base branch head on the forge:
when it differs from the commit the local plan was made on, the files are re-read at that head
and the edit is planned again on them, so a change someone else pushed meanwhile is kept, never
overwritten. The promotion branch is written with a conditional write (GitHub
`expectedHeadOid`, GitLab `last_commit_id`); when it moved, the attempt starts over (bounded).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promoter.model.changeset import ChangeSet
from promoter.model.errors import ForgeError, UsageError
from promoter.model.finding import CheckResult
from promoter.model.image import ImageRef
from promoter.publish.flags import PrFlags
from promoter.publish.forge.base import (
    BranchExistsError,
    Forge,
    PullExistsError,
    PullInfo,
    PullOptions,
    StaleHeadError,
    WriteMode,
)
from promoter.publish.forge.settings import ForgeSettings, resolve_settings
from promoter.publish.pullrequest import (
    PromotedApp,
    Provenance,
    commit_message,
    is_promoter_commit,
    marker_apps,
    parse_marker,
    pull_body,
    pull_title,
)
from promoter.publish.redact import Redactor

ReadFile = Callable[[str], "str | None"]


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
    checks: CheckResult | None = None
    rendered_diff: str | None = None
    provenance: Provenance = field(default_factory=Provenance)
    options: PullOptions = field(default_factory=PullOptions)
    previous: dict[str, str] = field(default_factory=dict)  # app -> reference it replaces (else read from the plan)
    max_attempts: int = 3
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
        }

    def to_text(self) -> str:
        kind = "merge request !" if self.forge == "gitlab" else "pull request #"
        if self.operation == "none":
            where = f" ({kind}{self.number}: {self.url})" if self.url else ""
            return f"operation: none: {self.reason}{where}"
        head = (self.head_sha or "")[:12]
        out = f"operation: {self.operation} {kind}{self.number}: {self.url} (branch {self.branch}, head {head})"
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
        finally:
            if request.forge is None:
                forge.close()


class _Publisher:
    def __init__(self, req: PromotionRequest, forge: Forge, redact: Redactor) -> None:
        self.req = req
        self.forge = forge
        self.redact = redact
        self.base = req.base_branch or req.settings.base_branch
        self.branch = req.settings.branch(req.env, req.apps)
        self.train = req.settings.mode == "train"
        self.notes: list[str] = []

    def result(
        self,
        operation: str,
        pull: PullInfo | None,
        head: str | None,
        attempt: int,
        reason: str | None = None,
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
        for attempt in range(1, req.max_attempts + 1):
            base_sha = forge.base_head(self.base)
            plan = req.changeset if base_sha == local else req.replan(self.reader(base_sha))
            pull = forge.find_pull(self.branch, self.base)
            marker = parse_marker(pull.body) if pull else None
            if pull and marker is None:
                raise ForgeError(
                    f"open pull request {pull.url} uses branch {self.branch} but was not opened by promoter "
                    "(no promoter marker in its description): close it or change forge.branch_template"
                )
            in_pull = marker_apps(marker)
            wanted = self.targets(plan)
            ours_at_head = pull is not None and marker is not None and marker.get("head") == pull.head_sha
            if pull and ours_at_head and all(any(w.same_image(p) for p in in_pull) for w in wanted):
                return self.result(
                    "none",
                    pull,
                    pull.head_sha,
                    attempt,
                    "the open pull request already promotes this image",
                )
            if plan.empty:
                if pull is not None:
                    self.notes.append(f"open pull request {pull.url} promotes another image; close it if it is stale")
                return self.result(
                    "none",
                    None,
                    base_sha,
                    attempt,
                    f"{self.base} already runs this image",
                )

            mode: WriteMode
            expected: str | None
            if pull is None:
                mode, expected, change = "create", None, plan
            elif self.train or not ours_at_head:
                # Keep what the branch holds beyond our last commit (a person's fix, the train's
                # other apps): write on top of it instead of resetting it.
                assert pull is not None
                mode, expected = "append", pull.head_sha
                change = req.replan(self.reader(pull.head_sha))
            else:
                mode, expected, change = "reset", None, plan
            files = {fc.path: fc.new_text for fc in change.changed_files}
            apps = self.merged(in_pull, wanted)
            superseded = [p for p in in_pull if any(p.app == w.app and not w.same_image(p) for w in wanted)]
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
                else:  # the branch already holds the change: only the description is behind
                    assert pull is not None
                    head = pull.head_sha
            except BranchExistsError:
                head_or_none = self.adopt(base_sha, plan, wanted)
                if head_or_none is None:
                    continue
                head = head_or_none
            except StaleHeadError:
                self.notes.append(f"attempt {attempt}: {self.branch} moved while writing; re-read and retried")
                continue
            result = self.open_or_update(pull, apps, superseded, head, plan, attempt)
            if result is not None:
                return result
            self.notes.append(f"attempt {attempt}: a parallel run wrote {self.branch} too; re-read and retried")
        raise ForgeError(
            f"gave up after {req.max_attempts} attempts: {self.branch} kept moving while promoter wrote it "
            "(another pipeline promoting the same target?); run again"
        )

    def adopt(self, base_sha: str, plan: ChangeSet, wanted: list[PromotedApp]) -> str | None:
        """A branch without an open PR: an earlier run's leftover is ours to reset; anything else is not."""
        info = self.forge.branch_info(self.branch)
        if info is None:
            return None  # deleted meanwhile: start over
        if not (is_promoter_commit(info.message) or info.sha == base_sha):
            raise ForgeError(
                f"branch {self.branch} already exists in {self.forge.repository} with commits promoter did not make "
                f"(head {info.sha[:12]} by {info.author}): delete that branch or change forge.branch_template"
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

    def open_or_update(
        self,
        pull: PullInfo | None,
        apps: list[PromotedApp],
        superseded: list[PromotedApp],
        head: str,
        plan: ChangeSet,
        attempt: int,
    ) -> PromotionResult | None:
        """The result, or None when a parallel run got there first and the attempt must start over."""
        req = self.req
        title = pull_title(req.env, apps)
        body = self.redact(
            pull_body(
                env=req.env,
                apps=apps,
                file_diff=plan.diff(),
                head=head,
                rendered_diff=req.rendered_diff,
                checks=req.checks,
                provenance=req.provenance,
                superseded=superseded,
                limit=self.forge.body_limit,
            )
        )
        if pull is not None:
            updated = self.forge.update_pull(pull, title, body)
            if updated.head_sha and updated.head_sha != head:
                return None  # a parallel run wrote the branch after us: our description would lie
            return self.result("updated", updated, head, attempt)
        try:
            created = self.forge.create_pull(self.branch, self.base, title, body, req.options)
        except PullExistsError:
            # A parallel run (or a lost answer to our own request) opened it: adopt, never duplicate.
            existing = self.forge.find_pull(self.branch, self.base)
            if existing is None:
                raise ForgeError(
                    f"the forge reports an open pull request from {self.branch} but lists none; run again"
                ) from None
            existing_marker = parse_marker(existing.body)
            if existing_marker and existing_marker.get("head") == head:
                # Our own create went through but its answer was lost: it is the PR we just opened.
                self.notes.extend(self.forge.decorate(existing, req.options))
                return self.result("created", existing, head, attempt)
            if existing.head_sha != head:
                # A parallel run wrote the branch after us: describing its commit with our
                # marker would lie. Start over from what is there now.
                return None
            return self.result("updated", self.forge.update_pull(existing, title, body), head, attempt)
        if created.head_sha and created.head_sha != head:
            return None  # the branch moved before the PR was opened: describe what is there
        self.notes.extend(self.forge.decorate(created, req.options))
        return self.result("created", created, head, attempt)

    def targets(self, plan: ChangeSet) -> list[PromotedApp]:
        image = self.req.image
        return [
            PromotedApp(
                app=app,
                image=str(image),
                tag=image.tag,
                digest=image.digest,
                previous=self.req.previous.get(app) or previous_reference(image, [c.old for c in plan.changes]),
            )
            for app in self.req.apps
        ]

    def merged(self, in_pull: list[PromotedApp], wanted: list[PromotedApp]) -> list[PromotedApp]:
        if not self.train:
            return wanted
        names = {w.app for w in wanted}
        return sorted([p for p in in_pull if p.app not in names] + wanted, key=lambda a: a.app)


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
    rendered_diff: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> PromotionResult | None:
    """None without --pr; else the promotion published (config: promoter.config.Config)."""
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
    )
    try:
        pr_config = dict(config.env(env).pull_request)
    except UsageError:  # an environment unknown to the config has no PR settings
        pr_config = {}
    options = PullOptions(
        labels=list(pr_config.get("labels", [])),
        reviewers=list(pr_config.get("reviewers", [])),
        team_reviewers=list(pr_config.get("team_reviewers", [])),
        assignees=list(pr_config.get("assignees", [])),
        draft=pr.draft if pr.draft is not None else bool(pr_config.get("draft", False)),
        auto_merge=pr.auto_merge if pr.auto_merge is not None else bool(pr_config.get("auto_merge", False)),
    )
    provenance = Provenance.from_env(environ).merged(
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
            rendered_diff=rendered_diff,
            provenance=provenance,
            options=options,
        )
    )
