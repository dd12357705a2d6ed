"""GitLabForge: the Forge protocol over python-gitlab, imported only when publishing to GitLab."""

from __future__ import annotations

import contextlib
import re
from typing import Any
from urllib.parse import quote

import gitlab
import requests
from gitlab.exceptions import GitlabError, GitlabParsingError

from promoter.gates.statuses import CheckState, CommitCheck
from promoter.model.errors import ForgeError
from promoter.publish.forge.base import (
    STATUS_CONTEXT,
    BranchCommit,
    BranchCompare,
    BranchInfo,
    ChangedFile,
    PullExistsError,
    PullInfo,
    PullOptions,
    StaleHeadError,
    StatusState,
    TextLimit,
    WebLinks,
    WriteMode,
)
from promoter.publish.forge.client import (
    ForgeClient,
    Refusal,
    UnexpectedAnswer,
    UnexpectedAnswerError,
    answer_text,
    commit_sha,
    describe_answer,
    secondary_wait,
)
from promoter.publish.forge.retry import RetryPolicy, WaitBudget, rate_limit_wait
from promoter.publish.forge.settings import ForgeSettings
from promoter.publish.forge.transport import DeadlineAdapter
from promoter.publish.redact import Redactor

# Issuable::DESCRIPTION_LENGTH_MAX = 1.megabyte, validated with `bytesize` (UTF-8 bytes).
BODY_LIMIT = TextLimit(1_048_576, "bytes", margin=48_576)
_STATE = {"success": "success", "failure": "failed", "pending": "pending"}
# Commit status words: only success is healthy; a job waiting for a click (manual) has not run yet.
_CHECK_STATE: dict[str, CheckState] = {
    "success": "success",
    "failed": "failure",
    "canceled": "failure",
    "skipped": "failure",
}
_PERMISSION_HINT = (
    "the token needs the api scope and at least the Developer role on {repo} (a project or group access token "
    "kept in a masked CI/CD variable; CI_JOB_TOKEN can only read merge requests)"
)


class _Gitlab(gitlab.Gitlab):
    """python-gitlab with its own retries off: the session's RetryPolicy is the one place that retries.

    Every request passes here: a rate limit the transport could not time is waited out by `limited`
    (GitLabForge._limited), and a success that is not JSON (a proxy's HTML page) is refused before
    python-gitlab hands it back as a raw response where a mapping is expected.
    """

    limited: Any = None

    def http_request(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["obey_rate_limit"] = False
        kwargs["retry_transient_errors"] = False
        kwargs["max_retries"] = 0

        def call() -> Any:
            return gitlab.Gitlab.http_request(self, *args, **kwargs)

        response = self.limited(call) if self.limited is not None else call()
        kind = response.headers.get("Content-Type") or ""
        if response.content and "json" not in kind.lower():
            raise UnexpectedAnswer(describe_answer(kind, response.content), not_json=True)
        return response


class GitLabForge(ForgeClient):
    kind = "gitlab"
    body_limit = BODY_LIMIT
    name = "GitLab"
    token_vars = "GITLAB_TOKEN"
    permission_hint = _PERMISSION_HINT
    url_hint = "forge.url / --forge-url must be the GitLab server's address (https://HOST, without /api/v4)"
    library_error = GitlabError

    def __init__(self, settings: ForgeSettings, redact: Redactor, budget: WaitBudget) -> None:
        super().__init__(settings, redact, budget)
        session = requests.Session()
        self._adapter = DeadlineAdapter(
            RetryPolicy(total=settings.max_retries, budget=budget, backoff=settings.backoff)
        )
        session.mount("http://", self._adapter)
        session.mount("https://", self._adapter)
        self._gl = _Gitlab(
            settings.url,
            private_token=settings.token,
            session=session,
            timeout=settings.timeout,
        )
        self._gl.limited = self._limited
        self._project = self._gl.projects.get(settings.repository, lazy=True)  # no request
        self._path = f"/projects/{quote(str(settings.repository), safe='')}"
        # (ref, path) -> last_commit_id learned from file reads
        self._last_commit: dict[tuple[str, str], str] = {}
        self._notes: list[str] = []  # from create_pull, handed over by decorate
        # A numeric project id has no web path without asking GitLab: links are left out then.
        repo = str(settings.repository)
        self.links: WebLinks | None = (
            None if repo.isdigit() else WebLinks(f"{settings.url.rstrip('/')}/{repo}", "gitlab")
        )

    # ---- errors ----------------------------------------------------------------------------
    def _refusal(self, exc: GitlabError) -> Refusal:
        if isinstance(exc, GitlabParsingError):
            # python-gitlab could not read the answer as JSON (or as the object it expected).
            return Refusal(status=0, text=" ".join(str(exc.error_message).split()), rate_limited=False, forbidden=False)
        status, text = exc.response_code or 0, " ".join(str(exc.error_message).split())
        if "<" in text and re.search(r"<(!doctype|html|head|body|title)", text, re.IGNORECASE):
            text = describe_answer(None, exc.response_body or text)  # a proxy's HTML error page
        if text.startswith(str(status)):  # GitLab repeats the code
            text = text[len(str(status)) :].strip()
        return Refusal(status=status, text=text, rate_limited=status == 429, forbidden=status == 403)

    def _limit_wait(self, exc: GitlabError, attempt: int) -> float | None:
        if exc.response_code != 429:
            return None
        if rate_limit_wait(429, self._adapter.last_headers or {}, self._budget.clock()) is not None:
            return None  # the transport waited what it named (and handed it back: more than the budget)
        # GitLab names its wait (Retry-After); one that does not is waited like GitHub's secondary limits.
        return secondary_wait(attempt)

    # ---- reading -----------------------------------------------------------------------------
    def base_head(self, branch: str) -> str:
        with self._calling(f"reading branch {branch}"):
            try:
                data: Any = self._branch(branch)
            except GitlabError as exc:
                if exc.response_code != 404:
                    raise
                # GitLab says which is missing: "404 Project Not Found" or "404 Branch Not Found".
                if "Project" in str(exc.error_message):
                    raise ForgeError(
                        self._redact(
                            f"GitLab project {self.repository} not found at {self.settings.url} (or the token cannot see it): "
                            "check forge.repository / --forge-repo (a group/project path or a numeric id)"
                        )
                    ) from None
                raise self._no_base_branch(branch) from None
            return commit_sha(data["commit"]["id"])

    def _branch(self, branch: str) -> Any:
        return self._gl.http_get(f"{self._path}/repository/branches/{quote(branch, safe='')}")

    def branch_info(self, branch: str) -> BranchInfo | None:
        doing = f"reading branch {branch}"
        data = self._unless_missing(doing, lambda: self._branch(branch))
        if data is None:
            return None
        with self._calling(doing):
            c = data["commit"]
            return BranchInfo(commit_sha(c["id"]), str(c.get("message") or ""), str(c.get("author_name") or ""))

    def read_file(self, ref: str, path: str) -> str | None:
        doing = f"reading {path} at {ref[:12]}"
        f: Any = self._unless_missing(doing, lambda: self._project.files.get(file_path=path, ref=ref))
        if f is None:
            return None
        with self._calling(doing):
            if getattr(f, "last_commit_id", None):
                self._last_commit[(ref, path)] = commit_sha(f.last_commit_id)
            raw = f.decode()
        return bytes(raw).decode("utf-8")  # not UTF-8: the caller names the file binary

    def find_pull(self, branch: str, base: str) -> PullInfo | None:
        with self._calling(f"looking for an open merge request from {branch}"):
            mrs = self._project.mergerequests.list(
                source_branch=branch,
                target_branch=base,
                state="opened",
                get_all=False,
                per_page=10,
            )
            for mr in mrs:
                if mr.source_branch == branch and mr.state == "opened":
                    return self._info(mr.attributes)
        return None

    def merged_pull(self, sha: str, base: str) -> PullInfo | None:
        doing = f"looking for the merge request merged as {sha[:12]}"
        # "The merge request that originally introduced a commit": its own commits and the
        # squashed one, not always the merge commit GitLab wrote. Recently merged merge requests
        # of the branch are the second place to look.
        related: Any = self._unless_missing(
            doing, lambda: self._gl.http_get(f"{self._path}/repository/commits/{sha}/merge_requests")
        )
        with self._calling(doing):
            found = _merged_as(related or [], sha, base)
            if found is None:
                recent: Any = self._gl.http_get(
                    f"{self._path}/merge_requests",
                    query_data={
                        "state": "merged",
                        "target_branch": base,
                        "order_by": "updated_at",
                        "sort": "desc",
                        "per_page": 20,
                    },
                )
                found = _merged_as(recent or [], sha, base)
            if found is None:
                return None
            info = self._info(found)
        info.merged, info.merge_sha = True, sha
        return info

    def commit_checks(self, sha: str) -> list[CommitCheck]:
        with self._calling(f"reading the commit statuses of {sha[:12]}"):
            data: Any = self._gl.http_get(
                f"{self._path}/repository/commits/{sha}/statuses", query_data={"per_page": 100}
            )
            newest: dict[str, dict[str, Any]] = {}
            for st in data or []:
                name = str(st.get("name") or "")
                # GitLab lists only the newest of each name without all=true; should it list more,
                # the highest id is the newest.
                cur = newest.get(name)
                if cur is None or (st.get("id") is not None and cur.get("id") is not None and st["id"] > cur["id"]):
                    newest[name] = st
        return [
            CommitCheck(
                name=name,
                state=_CHECK_STATE.get(str(st.get("status")), "pending"),
                kind="status",
                raw=str(st.get("status")),
                description=st.get("description"),
                url=st.get("target_url"),
            )
            for name, st in newest.items()
        ]

    @staticmethod
    def _info(mr: dict[str, Any]) -> PullInfo:
        return PullInfo(
            number=int(mr["iid"]),
            url=str(mr["web_url"]),
            title=str(mr.get("title") or ""),
            body=str(mr.get("description") or ""),
            branch=str(mr["source_branch"]),
            head_sha=commit_sha(mr["sha"]) if mr.get("sha") else "",
            draft=bool(mr.get("draft")),
        )

    # ---- writing -----------------------------------------------------------------------------
    def write_branch(
        self,
        branch: str,
        parent: str,
        files: dict[str, str],
        message: str,
        *,
        mode: WriteMode,
        expected_head: str | None = None,
    ) -> str:
        # One call of the commits API creates (or force-moves) the branch and commits all files.
        start = expected_head if mode == "append" else parent
        actions = []
        for path, text in sorted(files.items()):
            action: dict[str, Any] = {
                "action": "update",
                "file_path": path,
                "content": text,
            }
            last = self._last_commit.get((start or "", path))
            if mode == "append" and last:
                # GitLab refuses (400) when the file changed on the branch since we read it.
                action["last_commit_id"] = last
            actions.append(action)
        data: dict[str, Any] = {
            "branch": branch,
            "commit_message": message,
            "actions": actions,
        }
        if mode in ("create", "reset"):
            data["start_sha"] = parent
        if mode == "reset":
            data["force"] = True
        with self._calling(f"committing to {branch}"):
            try:
                commit = self._project.commits.create(data)
            except GitlabError as exc:
                text = " ".join(str(exc.error_message).split())  # one line, whatever GitLab sent
                if "already exists" in text and "branch" in text.lower():
                    raise self._branch_exists(branch) from None
                if "has changed since" in text:
                    raise StaleHeadError(f"branch {branch} changed while promoter was writing it") from None
                if "not allowed to push" in text:
                    raise self._protected(
                        branch,
                        text,
                        "allow the token's role to push (Settings → Repository → Protected branches) or change forge.branch_template",
                    ) from None
                raise
            return commit_sha(commit.id)

    # ---- merge requests ----------------------------------------------------------------------
    def _user_ids(self, names: list[str], role: str) -> list[int]:
        ids = []
        for name in names:
            with self._calling(f"looking up GitLab user {name}"):
                found: Any = self._gl.http_get("/users", query_data={"username": name})
            if not found:
                # The branch is written already: a typo in a reviewer's name is a note, not a failure.
                self._notes.append(f"GitLab user {name!r} not found: not added as {role} (environments[].pull_request)")
                continue
            with self._calling(f"looking up GitLab user {name}"):
                ids.append(int(found[0]["id"]))
        return ids

    def create_pull(self, branch: str, base: str, title: str, body: str, options: PullOptions) -> PullInfo:
        data: dict[str, Any] = {
            "source_branch": branch,
            "target_branch": base,
            "title": f"Draft: {title}" if options.draft else title,
            "description": body,
            "remove_source_branch": True,
        }
        # GitLab takes labels, assignees and reviewers in the create call itself: no extra requests.
        if options.labels:
            data["labels"] = ",".join(options.labels)
        if options.assignees:
            data["assignee_ids"] = self._user_ids(options.assignees, "assignee")
        if options.reviewers:
            data["reviewer_ids"] = self._user_ids(options.reviewers, "reviewer")
        with self._calling(f"opening a merge request from {branch}"):
            try:
                mr: Any = self._gl.http_post(f"{self._path}/merge_requests", post_data=data)
            except GitlabError as exc:
                if exc.response_code == 409:
                    raise PullExistsError(f"a merge request from {branch} already exists") from None
                raise
            return self._info(mr)

    def update_pull(self, pull: PullInfo, title: str, body: str, *, draft: bool | None = None) -> PullInfo:
        # GitLab keeps the draft state in the title.
        shown = f"Draft: {title}" if (pull.draft if draft is None else draft) else title
        with self._calling(f"updating merge request !{pull.number}"):
            mr: Any = self._gl.http_put(
                f"{self._path}/merge_requests/{pull.number}",
                post_data={"title": shown, "description": body},
            )
            return self._info(mr)

    # ---- the branch as it is, statuses, approvals, notes ---------------------------------------
    def compare(self, base: str, head: str) -> BranchCompare:
        with self._calling(f"comparing {head[:12]} with {base[:12]}"):
            data: Any = self._gl.http_get(
                f"{self._path}/repository/compare", query_data={"from": base, "to": head, "straight": "false"}
            )
            raw = data.get("commits") or []
            commits = [
                BranchCommit(
                    commit_sha(c["id"]),
                    str(c.get("author_name") or ""),
                    str(c.get("message") or ""),
                    author_email=str(c.get("author_email") or ""),
                    committer=str(c.get("committer_name") or ""),
                    committer_email=str(c.get("committer_email") or ""),
                )
                for c in raw
            ]
            shas = {c.sha for c in commits}
            # GitLab does not name the merge base: it is the parent of the branch's first commit
            # that lies outside the listed commits (promoter's branches are linear).
            merge_base = next(
                (commit_sha(p) for c in raw for p in c.get("parent_ids") or [] if p not in shas),
                head if not raw else None,
            )
            files = []
            for d in data.get("diffs") or []:
                status = (
                    "added"
                    if d.get("new_file")
                    else "removed"
                    if d.get("deleted_file")
                    else "renamed"
                    if d.get("renamed_file")
                    else "modified"
                )
                patch = answer_text(d.get("diff"), "diff") or None
                if d.get("too_large") or d.get("collapsed"):
                    patch = None  # GitLab left the hunks out: the text is read instead
                files.append(
                    ChangedFile(
                        path=answer_text(d["new_path"], "new_path", required=True),
                        status=status,
                        previous_path=answer_text(d.get("old_path"), "old_path") if status == "renamed" else None,
                        patch=patch,
                    )
                )
            truncated = bool(data.get("compare_timeout"))
        return BranchCompare(merge_base=merge_base, commits=commits, files=files, truncated=truncated)

    def set_status(self, sha: str, state: StatusState, description: str, target_url: str | None = None) -> None:
        data: dict[str, Any] = {"state": _STATE[state], "name": STATUS_CONTEXT, "description": description[:255]}
        if target_url:
            data["target_url"] = target_url
        with self._calling(f"setting the {STATUS_CONTEXT} status on {sha[:12]}"):
            try:
                self._gl.http_post(f"{self._path}/statuses/{sha}", post_data=data)
            except GitlabError as exc:
                # Re-posting the state a pending or running status already holds answers 400
                # "Cannot transition status via :enqueue from :pending": it is already so.
                if exc.response_code == 400 and "Cannot transition status" in str(exc.error_message):
                    return
                raise

    def approvers(self, pull: PullInfo) -> list[str]:
        with self._calling(f"reading the approvals of merge request !{pull.number}"):
            data: Any = self._gl.http_get(f"{self._path}/merge_requests/{pull.number}/approvals")
            return [
                str(a["user"]["username"])
                for a in (data.get("approved_by") or [])
                if isinstance(a, dict) and (a.get("user") or {}).get("username")
            ]

    def comment(self, pull: PullInfo, body: str) -> None:
        with self._calling(f"commenting on merge request !{pull.number}"):
            self._gl.http_post(f"{self._path}/merge_requests/{pull.number}/notes", post_data={"body": body})

    def take_notes(self) -> list[str]:
        notes, self._notes = self._notes, []
        return notes

    def decorate(self, pull: PullInfo, options: PullOptions) -> list[str]:
        notes = self.take_notes()
        if options.team_reviewers:
            notes.append("team_reviewers are a GitHub setting; GitLab ignores them")
        if options.auto_merge:
            try:
                notes.append(self._auto_merge(pull))
            except ForgeError as exc:
                # In doubt (a lost answer, an answer promoter cannot read), what GitLab did is read back.
                if self._merged(pull.number):
                    notes.append(_MERGED_READ_BACK.format(n=pull.number))
                elif isinstance(exc, UnexpectedAnswerError):
                    raise self._merge_unknown(exc, "merge request", pull.url) from None
                else:
                    notes.append(f"auto-merge not set: {exc}")
        return notes

    def _merged(self, n: int) -> bool:
        """Whether merge request !n is merged now, read back; False when that cannot be read either."""
        try:
            with self._calling(f"reading merge request !{n}"):
                mr: Any = self._gl.http_get(f"{self._path}/merge_requests/{n}")
                return isinstance(mr, dict) and mr.get("state") == "merged"
        except ForgeError:
            return False

    def _merge_answer(self, n: int, answer: Any, *, now: str) -> str:
        """What a 200 to `PUT …/merge` says happened: its status alone says nothing (GitLab answers 200 with
        the merge request, merged, set to auto-merge, or neither). `now`: the note for a merge done at once."""
        if not isinstance(answer, dict):
            raise UnexpectedAnswer(f"a merge answer that is {type(answer).__name__}, not a merge request")
        state = answer.get("state")
        flags = {k: answer[k] for k in ("auto_merge", "merge_when_pipeline_succeeds") if k in answer}
        if not isinstance(state, str) or not all(isinstance(v, bool) for v in flags.values()):
            shown = _clip(repr({"state": state, **flags}), 120)
            raise UnexpectedAnswer(f"a merge answer without a state and true or false auto-merge fields: {shown}")
        if state == "merged":
            return now
        if state == "opened" and any(flags.values()):
            return "auto-merge enabled"
        if state == "opened" and not flags:
            raise UnexpectedAnswer(
                "a merge answer that says neither merged nor auto-merge (no merge_when_pipeline_succeeds)"
            )
        said = [f"state: {_clip(state, 40)}", *(f"{k}: {str(v).lower()}" for k, v in flags.items())]
        detail = answer.get("detailed_merge_status") or answer.get("merge_status")
        if isinstance(detail, str) and detail:
            said.append(f"detailed_merge_status: {_clip(detail, 60)}")
        error = answer.get("merge_error")  # GitLab's reason when its merge failed (a hook, a conflict)
        if isinstance(error, str) and error:
            said.append(f"merge_error: {_clip(error, 200)}")
        return self._redact(
            f"auto-merge not set: GitLab answered the merge of !{n} without merging it or setting auto-merge "
            f"({', '.join(said)}); merge it by hand once it is mergeable"
        )

    def _auto_merge(self, pull: PullInfo) -> str:
        """Auto-merge, on every GitLab: `auto_merge` since 17.11, `merge_when_pipeline_succeeds` before
        (an older server ignores the parameter it does not know, and would merge at once where it may).
        `sha` is the head promoter wrote and described: a commit pushed since is never merged with it."""
        n = pull.number
        if not pull.head_sha:
            return self._no_head(n)
        doing = f"setting auto-merge on merge request !{n}"
        data: dict[str, Any] = {"auto_merge": True, "merge_when_pipeline_succeeds": True, "sha": pull.head_sha}
        with self._calling(doing):
            try:
                merged: Any = self._gl.http_put(f"{self._path}/merge_requests/{n}/merge", post_data=data)
            except GitlabError as exc:
                if exc.response_code == 405:
                    # Nothing to wait for: recent GitLab refuses auto-merge on a merge request without a
                    # running pipeline (and refuses any merge of one that is not mergeable).
                    return self._merge_now(pull)
                return self._merge_refused(pull, exc)
            return self._merge_answer(
                n, merged, now="merged: the merge request was already mergeable (its pipeline had passed)"
            )

    def _merge_now(self, pull: PullInfo) -> str:
        n = pull.number
        mr: Any = self._gl.http_get(f"{self._path}/merge_requests/{n}")
        if mr.get("state") == "merged":  # a retry refused (405) because the first try merged it
            return _MERGED_READ_BACK.format(n=n)
        status = str(mr.get("detailed_merge_status") or mr.get("merge_status") or "unknown")
        if status not in ("mergeable", "can_be_merged"):
            return (
                f"auto-merge not set: GitLab has no pipeline to wait for on !{n} and cannot merge it now "
                f"(detailed_merge_status: {status}); merge it by hand once it is mergeable"
            )
        if not pull.head_sha:
            return self._no_head(n)
        data: dict[str, Any] = {"sha": pull.head_sha}
        try:
            answer: Any = self._gl.http_put(f"{self._path}/merge_requests/{n}/merge", post_data=data)
        except GitlabError as exc:
            return self._merge_refused(pull, exc)
        return self._merge_answer(
            n, answer, now="merged: the merge request was already mergeable (no pipeline to wait for)"
        )

    @staticmethod
    def _no_head(n: int) -> str:
        # Without `sha` GitLab merges whatever the branch holds then, reviewed or not: never.
        return f"auto-merge not set: promoter does not know the head of !{n} it wrote; merge it by hand"

    def _merge_refused(self, pull: PullInfo, exc: GitlabError) -> str:
        r = self._refusal(exc)
        n = pull.number
        if r.status == 409:
            return (
                f"not merged: merge request !{n} moved after promoter's commit {pull.head_sha[:12]} ({r.text}); "
                "review the new commit and merge it by hand"
            )
        if r.status in (401, 403) or r.rate_limited or r.status >= 500 or r.status == 0:
            raise exc  # worded by _calling like any other failure, then made a note by decorate
        if self._merged(n):  # a retry refused because the first try, whose answer was lost, merged it
            return _MERGED_READ_BACK.format(n=n)
        return self._redact(f"auto-merge not set: GitLab refuses to merge !{n} ({r.status} {r.text})")

    def close(self) -> None:
        with contextlib.suppress(OSError):  # closing a pool never decides anything
            self._gl.session.close()


_MERGED_READ_BACK = (
    "merged: merge request !{n} is merged (read back: the answer to promoter's merge was lost or unclear)"
)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _merged_as(mrs: list[dict[str, Any]], sha: str, base: str) -> dict[str, Any] | None:
    """The merged MR into `base` whose merge made `sha`: its merge commit, its squashed commit, or
    (a fast-forward merge) its head."""
    for mr in mrs:
        if mr.get("state") != "merged" or mr.get("target_branch") != base:
            continue
        if sha in (mr.get("merge_commit_sha"), mr.get("squash_commit_sha")):
            return mr
        if not mr.get("merge_commit_sha") and mr.get("sha") == sha:
            return mr
    return None
