"""GitHubForge: the Forge protocol over PyGithub (REST + GraphQL), imported only when publishing to GitHub."""

from __future__ import annotations

import base64
import contextlib
from typing import Any
from urllib.parse import quote

import requests
from github import Auth, Github, GithubException, UnknownObjectException
from github.Requester import HTTPRequestsConnectionClass, HTTPSRequestsConnectionClass

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
    header,
    secondary_wait,
)
from promoter.publish.forge.retry import RetryPolicy, WaitBudget, rate_limit_wait
from promoter.publish.forge.settings import ForgeSettings
from promoter.publish.forge.transport import DeadlineAdapter
from promoter.publish.redact import Redactor

# GitHub refuses a longer body with "body is too long (maximum is 65536 characters)" and documents
# no unit; reports disagree whether multi-byte characters count once. UTF-8 bytes are never fewer
# than characters (or UTF-16 units), so a cap in bytes holds under every reading.
BODY_LIMIT = TextLimit(65_536, "bytes", margin=1_536)
STATUS_DESCRIPTION_MAX = 140  # longer answers 422 "description is too long (maximum is 140 characters)"
COMPARE_FILES_MAX = 300  # the compare answer lists at most this many files
_EVENTUAL = "Could not resolve to a node"
_NO_DRAFTS = "Draft pull requests are not supported in this repository"
_NO_DRAFTS_NOTE = (
    "not a draft: this repository has no draft pull requests (GitHub Free/Pro private repository); "
    "require the promoter/check status in branch protection to block the merge"
)
_PERMISSION_HINT = (
    "the token needs contents: write and pull-requests: write on {repo} (in GitHub Actions: a `permissions:` block; "
    "GITHUB_TOKEN cannot write to another repository, use a GitHub App token or a fine-grained PAT; "
    "and enable 'Allow GitHub Actions to create and approve pull requests')"
)
_PROTECTED_REMEDY = "allow the token to push to it (Settings → Branches / Rules) or change forge.branch_template"


_MOVED = "moved while promoter was writing it"
_UNSTABLE_NOTE = (
    "auto-merge not enabled: GitHub refuses it while a check that is not required is failing or pending "
    "(mergeable state 'unstable'); merge by hand once the checks pass, or make them required"
)


_MERGED_READ_BACK = (
    "merged: pull request #{n} is merged (read back: the answer to promoter's merge was lost or unclear)"
)


def _connection(base: type) -> type:
    """PyGithub's connection class with the DeadlineAdapter mounted (its own HTTPAdapter knows no deadline)."""

    class Connection(base):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            if isinstance(self.retry, RetryPolicy):
                self.adapter = DeadlineAdapter(self.retry, pool_connections=self.pool_size, pool_maxsize=self.pool_size)
                self.session.mount(f"{self.protocol}://", self.adapter)

    Connection.__name__ = f"Deadline{base.__name__}"
    return Connection


_HTTP = _connection(HTTPRequestsConnectionClass)
_HTTPS = _connection(HTTPSRequestsConnectionClass)


class GitHubForge(ForgeClient):
    kind = "github"
    body_limit = BODY_LIMIT
    name = "GitHub"
    token_vars = "GITHUB_TOKEN or GH_TOKEN"
    permission_hint = _PERMISSION_HINT
    url_hint = "forge.url / --forge-url must be GitHub's API address (https://api.github.com, or https://HOST/api/v3)"
    library_error = GithubException

    def __init__(self, settings: ForgeSettings, redact: Redactor, budget: WaitBudget) -> None:
        super().__init__(settings, redact, budget)
        retry = RetryPolicy(total=settings.max_retries, budget=budget, backoff=settings.backoff)
        # No client-side throttling: a promotion makes a handful of requests, well under the
        # secondary limits; the retry policy handles a limit when the server signals one.
        self._gh = Github(
            auth=Auth.Token(settings.token),
            base_url=settings.url,
            timeout=max(1, round(settings.timeout)),  # PyGithub insists on an int
            retry=retry,
            seconds_between_requests=None,
            seconds_between_writes=None,
            lazy=True,
        )
        self._req = self._gh.requester
        # The requester opens its connection on the first request, from this class: the only
        # place to reach the HTTP session PyGithub makes (tests/forge/test_forge_limits.py proves it is used).
        attr = "_Requester__connectionClass"
        if hasattr(self._req, attr):
            setattr(self._req, attr, _HTTPS if settings.url.startswith("https:") else _HTTP)
        self._path = f"/repos/{settings.repository}"
        self._owner = settings.repository.split("/", 1)[0]
        self._trees: dict[str, str] = {}  # commit sha -> tree sha, learned for free from branch answers
        self._notes: list[str] = []  # said while creating or updating, handed over by take_notes
        self.links: WebLinks | None = WebLinks(f"{_web_root(settings.url)}/{settings.repository}", "github")

    # ---- errors ----------------------------------------------------------------------------
    def _text(self, exc: GithubException) -> str:
        data = exc.data
        parts: list[str] = []
        if isinstance(data, dict):
            if data.get("message"):
                parts.append(str(data["message"]))
            for err in data.get("errors") or []:
                if isinstance(err, dict) and err.get("message"):
                    parts.append(str(err["message"]))
                elif isinstance(err, dict) and err.get("field"):
                    # {"resource": "PullRequest", "field": "head", "code": "invalid"}
                    parts.append(f"{err['field']} {err.get('code') or 'invalid'}")
                elif isinstance(err, str):
                    parts.append(err)
            if not parts and isinstance(data.get("data"), str):  # not JSON: PyGithub keeps the text
                parts.append(describe_answer(header(exc.headers, "content-type"), data["data"]))
        elif data:
            parts.append(str(data))
        # Forge text goes into one error line: its line breaks (and runs of blanks) become one space.
        return " ".join("; ".join(parts).split()) or f"HTTP {exc.status}"

    @staticmethod
    def _graphql_limited(exc: GithubException) -> bool:
        """GraphQL answers a rate limit with HTTP 200 and an error: type RATE_LIMITED (since 2018) or,
        lately, RATE_LIMIT with code graphql_rate_limit; x-ratelimit-remaining is not always 0 then."""
        data = exc.data if isinstance(exc.data, dict) else {}
        for err in data.get("errors") or []:
            if isinstance(err, dict) and (
                err.get("type") in ("RATE_LIMITED", "RATE_LIMIT") or err.get("code") == "graphql_rate_limit"
            ):
                return True
        return False

    def _refusal(self, exc: GithubException) -> Refusal:
        text = self._text(exc)
        headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
        # GitHub answers a rate limit with 403 as often as with 429: the headers or the text tell them apart.
        limited = (
            "retry-after" in headers or headers.get("x-ratelimit-remaining") == "0" or "rate limit" in text.lower()
        )
        return Refusal(
            status=exc.status or 0,
            text=text,
            rate_limited=(exc.status in (403, 429) and limited) or self._graphql_limited(exc),
            forbidden=exc.status == 403 or "Resource not accessible" in text,
        )

    def _limit_wait(self, exc: GithubException, attempt: int) -> float | None:
        named = rate_limit_wait(exc.status, exc.headers or {}, self._budget.clock())
        if self._graphql_limited(exc):
            # An HTTP 200: the transport never saw a limit, so whatever the headers name is ours to wait.
            return named if named is not None else secondary_wait(attempt)
        if exc.status not in (403, 429) or named is not None:
            return None  # no limit, or one the transport timed (and, having handed it back, refused)
        text = self._text(exc).lower()
        if exc.status == 429 or "rate limit" in text or "abuse" in text:
            return secondary_wait(attempt)
        return None

    # ---- requests ----------------------------------------------------------------------------
    def _rest(self, verb: str, path: str, *, parameters: Any = None, input: Any = None) -> Any:
        """One REST request's JSON (None for an empty answer), rate limits without a named wait waited out."""
        return self._limited(lambda: self._json(verb, path, parameters, input)[1])

    def _json(self, verb: str, path: str, parameters: Any, input: Any) -> tuple[Any, Any]:
        headers, data = self._req.requestJsonAndCheck(verb, path, parameters=parameters, input=input)
        kind = header(headers, "content-type") or ""
        if data is not None and "json" not in kind.lower():
            # PyGithub keeps a body that is not JSON as {"data": text} (GET adds "url").
            body = data.get("data") if isinstance(data, dict) else data
            raise UnexpectedAnswer(describe_answer(kind, str(body)), not_json=True)
        return headers, data

    def _graphql(self, mutation: str, inp: dict[str, Any], output: str) -> Any:
        """A named mutation's data. GraphQL answers errors, rate limits among them, with HTTP 200: they
        are raised as PyGithub raises them (404 for NOT_FOUND, else 400), inside `_limited` so a rate
        limit is waited out like a REST one."""
        name = mutation[0].upper() + mutation[1:] + "Input"
        query = f"mutation Mutation($input: {name}!) {{ {mutation}(input: $input) {{ {output} }} }}"

        def once() -> Any:
            headers, data = self._json(
                "POST", self._req.graphql_url, None, {"query": query, "variables": {"input": inp}}
            )
            if not isinstance(data, dict):
                raise UnexpectedAnswer(f"GraphQL answered {type(data).__name__}, not an object")
            errors = data.get("errors")
            if errors:
                single = errors[0] if isinstance(errors, list) and len(errors) == 1 else None
                if isinstance(single, dict) and single.get("type") == "NOT_FOUND":
                    raise UnknownObjectException(404, data, headers, single.get("message"))
                raise GithubException(400, data, headers)
            result = (data.get("data") or {}).get(mutation)
            if not isinstance(result, dict):
                raise UnexpectedAnswer(f"GraphQL {mutation} answered {type(result).__name__}, not an object")
            return result

        return self._limited(once)

    def _eventually(self, doing: str, fn: Any) -> Any:
        """Right after a PR is created GitHub may not resolve it yet: retry that answer a few times."""
        for attempt in range(4):
            with self._calling(doing):
                try:
                    return fn()
                except GithubException as exc:
                    if (
                        _EVENTUAL in self._text(exc)
                        and attempt < 3
                        and self._budget.take(self.settings.backoff * 2**attempt)
                    ):
                        continue
                    raise

    # ---- reading -----------------------------------------------------------------------------
    def base_head(self, branch: str) -> str:
        doing = f"reading branch {branch}"
        data = self._unless_missing(doing, lambda: self._branch(branch))
        if data is None:
            if not self._repo_visible():
                raise ForgeError(
                    self._redact(
                        f"GitHub repository {self.repository} not found at {self.settings.url} (or the token cannot see it): "
                        "check forge.repository / --forge-repo and give the token read access to that repository"
                    )
                )
            raise self._no_base_branch(branch)
        with self._calling(doing):
            sha = commit_sha(data["commit"]["sha"])
            self._trees[sha] = str(data["commit"]["commit"]["tree"]["sha"])
        return sha

    def _branch(self, branch: str) -> Any:
        return self._rest("GET", f"{self._path}/branches/{quote(branch)}")

    def _repo_visible(self) -> bool:
        # A refusal or an odd answer means "not visible"; the network and the deadline fail as every
        # other call does ("cannot reach GitHub …", "timed out after …"), never as urllib3's text.
        with self._calling(f"reading repository {self.repository}"):
            try:
                self._rest("GET", self._path)
                return True
            except (GithubException, UnexpectedAnswer):
                return False

    def branch_info(self, branch: str) -> BranchInfo | None:
        doing = f"reading branch {branch}"
        data = self._unless_missing(doing, lambda: self._branch(branch))
        if data is None:
            return None
        with self._calling(doing):
            commit = data["commit"]
            return BranchInfo(
                commit_sha(commit["sha"]),
                str(commit["commit"]["message"]),
                str(commit["commit"]["author"]["name"]),
            )

    def read_file(self, ref: str, path: str) -> str | None:
        doing = f"reading {path} at {ref[:12]}"
        data = self._unless_missing(
            doing, lambda: self._rest("GET", f"{self._path}/contents/{quote(path)}", parameters={"ref": ref})
        )
        with self._calling(doing):
            if not isinstance(data, dict) or data.get("type") != "file":
                return None
            if data.get("content") or not data.get("size"):
                raw = base64.b64decode(data.get("content") or "")
            else:
                # Files over 1 MB come without content: fetch the blob.
                blob = self._rest("GET", f"{self._path}/git/blobs/{commit_sha(data['sha'])}")
                raw = base64.b64decode(blob["content"])
        return raw.decode("utf-8")  # not UTF-8: the caller names the file binary

    def find_pull(self, branch: str, base: str) -> PullInfo | None:
        # The owner prefix is required: without it GitHub ignores the filter (PyGithub issue 1566).
        params = {
            "state": "open",
            "head": f"{self._owner}:{branch}",
            "base": base,
            "per_page": 10,
        }
        with self._calling(f"looking for an open pull request from {branch}"):
            data = self._rest("GET", f"{self._path}/pulls", parameters=params)
            for pr in data or []:
                if pr["head"]["ref"] == branch and pr["base"]["ref"] == base and pr["state"] == "open":
                    return self._info(pr)
        return None

    def merged_pull(self, sha: str, base: str) -> PullInfo | None:
        # "The merged pull request that introduced the commit": for a merge commit, a squashed
        # commit or the tip of a rebase, merge_commit_sha is the commit the base branch moved to.
        doing = f"looking for the pull request merged as {sha[:12]}"
        data = self._unless_missing(
            doing, lambda: self._rest("GET", f"{self._path}/commits/{sha}/pulls", parameters={"per_page": 30})
        )
        with self._calling(doing):
            for pr in data or []:
                if pr.get("merged_at") and pr["base"]["ref"] == base and pr.get("merge_commit_sha") == sha:
                    info = self._info(pr)
                    info.merged, info.merge_sha = True, sha
                    return info
        return None

    def commit_checks(self, sha: str) -> list[CommitCheck]:
        doing = f"reading the statuses and check runs of {sha[:12]}"
        with self._calling(doing):
            # The combined status holds the newest status of each context.
            combined = self._rest("GET", f"{self._path}/commits/{sha}/status", parameters={"per_page": 100})
            runs = self._rest(
                "GET", f"{self._path}/commits/{sha}/check-runs", parameters={"per_page": 100, "filter": "latest"}
            )
            return self._checks(combined, runs)

    @staticmethod
    def _checks(combined: Any, runs: Any) -> list[CommitCheck]:
        """Commit statuses (combined: the newest of each context) and check runs (the newest of each name)."""
        out = [
            CommitCheck(
                name=str(st.get("context") or ""),
                state=_STATUS_STATE.get(str(st.get("state")), "failure"),
                kind="status",
                raw=str(st.get("state")),
                description=st.get("description"),
                url=st.get("target_url"),
            )
            for st in (combined or {}).get("statuses") or []
        ]
        newest: dict[str, dict[str, Any]] = {}
        for run in (runs or {}).get("check_runs") or []:
            name = str(run.get("name") or "")
            if name not in newest or int(run.get("id") or 0) > int(newest[name].get("id") or 0):
                newest[name] = run
        for name, run in newest.items():
            status, conclusion = str(run.get("status") or ""), run.get("conclusion")
            state: CheckState
            if status != "completed":
                state, raw = "pending", status
            else:
                # Only success is healthy: neutral, skipped, cancelled, timed_out … are not.
                state, raw = ("success" if conclusion == "success" else "failure"), str(conclusion)
            out.append(
                CommitCheck(
                    name=name,
                    state=state,
                    kind="check run",
                    raw=raw,
                    description=(run.get("output") or {}).get("title"),
                    url=run.get("html_url") or run.get("details_url"),
                )
            )
        return out

    @staticmethod
    def _info(pr: dict[str, Any]) -> PullInfo:
        return PullInfo(
            number=int(pr["number"]),
            url=str(pr["html_url"]),
            title=str(pr.get("title") or ""),
            body=str(pr.get("body") or ""),
            branch=str(pr["head"]["ref"]),
            head_sha=commit_sha(pr["head"]["sha"]),
            node_id=pr.get("node_id"),
            draft=bool(pr.get("draft")),
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
        if self.settings.commit_method == "git-data":
            return self._write_git_data(branch, parent, files, message, mode=mode, expected_head=expected_head)
        if mode == "create":
            self._create_ref(branch, parent)
            try:
                return self._commit_on_branch(branch, parent, files, message)
            except StaleHeadError:
                raise  # someone else wrote the new branch: not ours to delete
            except ForgeError:
                self._delete_quietly(branch)  # leave nothing half-done
                raise
        if mode == "reset":
            self._move_ref(branch, parent, force=True)
            return self._commit_on_branch(branch, parent, files, message)
        assert expected_head is not None
        return self._commit_on_branch(branch, expected_head, files, message)

    def _ref_error(self, exc: GithubException, branch: str, doing: str) -> ForgeError:
        text = self._text(exc)
        if exc.status == 422 and "Reference already exists" in text:
            return self._branch_exists(branch)
        if exc.status == 422 and "not a fast forward" in text:
            return StaleHeadError(f"branch {branch} {_MOVED}")
        if exc.status == 422 and "Reference does not exist" in text:
            # Deleted meanwhile (a parallel run cleaning up, or the PR merged): start over.
            return StaleHeadError(f"branch {branch} was deleted while promoter was writing it")
        if "signature" in text:
            return ForgeError(
                self._redact(
                    f"branch {branch} in {self.repository} accepts only signed commits ({text}): "
                    "set forge.commit_method: graphql (GitHub signs those) or lift the rule for promoter's branches"
                )
            )
        if "Protected branch" in text or "protected" in text.lower():
            return self._protected(branch, text, _PROTECTED_REMEDY)
        return self._error(exc, doing)

    def _create_ref(self, branch: str, sha: str) -> None:
        doing = f"creating branch {branch}"
        with self._calling(doing):
            try:
                self._rest("POST", f"{self._path}/git/refs", input={"ref": f"refs/heads/{branch}", "sha": sha})
            except GithubException as exc:
                raise self._ref_error(exc, branch, doing) from None

    def _move_ref(self, branch: str, sha: str, *, force: bool) -> None:
        doing = f"updating branch {branch}"
        with self._calling(doing):
            try:
                self._rest("PATCH", f"{self._path}/git/refs/heads/{quote(branch)}", input={"sha": sha, "force": force})
            except GithubException as exc:
                raise self._ref_error(exc, branch, doing) from None

    def _commit_on_branch(self, branch: str, expected: str, files: dict[str, str], message: str) -> str:
        # GraphQL createCommitOnBranch: one request for all files, signed by GitHub (Verified),
        # and expectedHeadOid makes the write conditional on the branch not having moved.
        headline, _, body = message.partition("\n")
        mutation_input = {
            "branch": {
                "repositoryNameWithOwner": self.repository,
                "branchName": branch,
            },
            "expectedHeadOid": expected,
            "fileChanges": {
                "additions": [
                    {
                        "path": p,
                        "contents": base64.b64encode(t.encode("utf-8")).decode(),
                    }
                    for p, t in sorted(files.items())
                ]
            },
            "message": {"headline": headline, "body": body.strip("\n")},
        }
        with self._calling(f"committing to {branch}"):
            try:
                data = self._graphql("createCommitOnBranch", mutation_input, "commit { oid url }")
            except GithubException as exc:
                text = self._text(exc)
                errors = exc.data.get("errors", []) if isinstance(exc.data, dict) else []
                types = {e.get("type") for e in errors if isinstance(e, dict)}
                if "STALE_DATA" in types or "Expected branch to point to" in text:
                    raise StaleHeadError(f"branch {branch} {_MOVED}") from None
                if "Could not resolve to a Ref" in text:
                    raise StaleHeadError(f"branch {branch} was deleted while promoter was writing it") from None
                if "Protected branch" in text or "rejected" in text:
                    raise self._protected(branch, text.strip(), _PROTECTED_REMEDY) from None
                if "FORBIDDEN" in types or "Resource not accessible" in text:
                    raise ForgeError(
                        self._redact(
                            f"the token cannot write to {self.repository} (createCommitOnBranch: {text.strip()}): "
                        )
                        + _PERMISSION_HINT.format(repo=self.repository)
                    ) from None
                raise
            return commit_sha(data["commit"]["oid"])

    def _write_git_data(
        self,
        branch: str,
        parent: str,
        files: dict[str, str],
        message: str,
        *,
        mode: WriteMode,
        expected_head: str | None,
    ) -> str:
        # Git Data API: tree + commit + ref. Unsigned commits, one more request than GraphQL on update.
        start = expected_head if mode == "append" else parent
        assert start is not None
        with self._calling(f"committing to {branch}"):
            base_tree = self._trees.get(start)
            if base_tree is None:
                c = self._rest("GET", f"{self._path}/git/commits/{start}")
                base_tree = str(c["tree"]["sha"])
            entries = [{"path": p, "mode": "100644", "type": "blob", "content": t} for p, t in sorted(files.items())]
            tree = self._rest("POST", f"{self._path}/git/trees", input={"base_tree": base_tree, "tree": entries})
            commit = self._rest(
                "POST",
                f"{self._path}/git/commits",
                input={"message": message, "tree": str(tree["sha"]), "parents": [start]},
            )
            sha = commit_sha(commit["sha"])
        if mode == "create":
            self._create_ref(branch, sha)
        else:
            # append is a fast-forward: GitHub refuses it (422) when the branch moved.
            self._move_ref(branch, sha, force=mode == "reset")
        return sha

    def _delete_quietly(self, branch: str) -> None:
        with contextlib.suppress(GithubException, requests.exceptions.RequestException, UnexpectedAnswer):
            self._rest("DELETE", f"{self._path}/git/refs/heads/{quote(branch)}")

    # ---- pull requests -----------------------------------------------------------------------
    def create_pull(self, branch: str, base: str, title: str, body: str, options: PullOptions) -> PullInfo:
        payload = {
            "title": title,
            "body": body,
            "head": branch,
            "base": base,
            "draft": options.draft,
        }
        with self._calling(f"opening a pull request from {branch}"):
            try:
                data = self._rest("POST", f"{self._path}/pulls", input=payload)
            except GithubException as exc:
                text = self._text(exc)
                if exc.status == 422 and "A pull request already exists for" in text:
                    raise PullExistsError(f"a pull request from {branch} already exists") from None
                if exc.status == 422 and ("No commits between" in text or "head invalid" in text):
                    # A parallel run moved the branch back onto the base (or deleted it) between our
                    # commit and this request: the branch is not what we wrote; start over.
                    raise StaleHeadError(f"branch {branch} {_MOVED} ({text})") from None
                if exc.status == 422 and _NO_DRAFTS in text and options.draft:
                    # Private repositories on GitHub Free/Pro have no drafts: open it ready, say so;
                    # the failing promoter/check status still blocks a merge where it is required.
                    self._notes.append(_NO_DRAFTS_NOTE)
                    data = self._rest("POST", f"{self._path}/pulls", input={**payload, "draft": False})
                else:
                    raise
            return self._info(data)

    def update_pull(self, pull: PullInfo, title: str, body: str, *, draft: bool | None = None) -> PullInfo:
        def call() -> Any:
            return self._rest("PATCH", f"{self._path}/pulls/{pull.number}", input={"title": title, "body": body})

        doing = f"updating pull request #{pull.number}"
        data = self._eventually(doing, call)
        with self._calling(doing):
            info = self._info(data)
        if draft is not None and draft != info.draft:
            # REST cannot change the draft state; GraphQL can, in either direction.
            mutation = "convertPullRequestToDraft" if draft else "markPullRequestReadyForReview"
            try:
                self._eventually(
                    f"{'marking' if draft else 'readying'} pull request #{pull.number}",
                    lambda: self._graphql(
                        mutation, {"pullRequestId": info.node_id or pull.node_id}, "pullRequest { isDraft }"
                    ),
                )
                info.draft = draft
            except ForgeError as exc:
                # The description is updated already: a draft state GitHub refuses is a note.
                self._notes.append(_NO_DRAFTS_NOTE if _NO_DRAFTS in str(exc) else f"draft state not changed: {exc}")
        return info

    def take_notes(self) -> list[str]:
        notes, self._notes = self._notes, []
        return notes

    # ---- the branch as it is, statuses, reviews, comments --------------------------------------
    def compare(self, base: str, head: str) -> BranchCompare:
        with self._calling(f"comparing {head[:12]} with {base[:12]}"):
            data = self._rest("GET", f"{self._path}/compare/{base}...{head}")
            commits = [_branch_commit(c) for c in data.get("commits") or []]
            # Every field read from the answer is checked for its type here: a patch that is not text
            # is refused as an unexpected answer rather than skipped, since a forge that misshapes one
            # field cannot be trusted for the others (fail closed: no promotion on a guess).
            files = [
                ChangedFile(
                    path=answer_text(f["filename"], "filename", required=True),
                    status=str(f.get("status") or "modified"),
                    previous_path=answer_text(f.get("previous_filename"), "previous_filename"),
                    patch=answer_text(f.get("patch"), "patch"),
                    blob_sha=answer_text(f.get("sha"), "sha"),
                )
                for f in data.get("files") or []
            ]
            total = int(data.get("total_commits") or len(commits))
            base_commit = (data.get("merge_base_commit") or {}).get("sha")
            merge_base = None if base_commit is None else commit_sha(base_commit)
        return BranchCompare(
            merge_base=merge_base,
            commits=commits,
            files=files,
            truncated=total > len(commits) or len(files) >= COMPARE_FILES_MAX,
        )

    def set_status(self, sha: str, state: StatusState, description: str, target_url: str | None = None) -> None:
        payload: dict[str, Any] = {
            "state": state,
            "context": STATUS_CONTEXT,
            "description": _clip(description, STATUS_DESCRIPTION_MAX),
        }
        if target_url:
            payload["target_url"] = target_url
        with self._calling(f"setting the {STATUS_CONTEXT} status on {sha[:12]}"):
            self._rest("POST", f"{self._path}/statuses/{sha}", input=payload)

    def approvers(self, pull: PullInfo) -> list[str]:
        with self._calling(f"reading the reviews of pull request #{pull.number}"):
            data = self._rest("GET", f"{self._path}/pulls/{pull.number}/reviews", parameters={"per_page": 100})
            latest: dict[str, str] = {}
            for review in data or []:  # oldest first: a later review of the same person wins
                login = (review.get("user") or {}).get("login")
                if login and review.get("state") in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
                    latest[str(login)] = str(review["state"])
        return [login for login, state in latest.items() if state == "APPROVED"]

    def comment(self, pull: PullInfo, body: str) -> None:
        with self._calling(f"commenting on pull request #{pull.number}"):
            self._rest("POST", f"{self._path}/issues/{pull.number}/comments", input={"body": body})

    def decorate(self, pull: PullInfo, options: PullOptions) -> list[str]:
        # The PR exists by now: a setting GitHub refuses (a reviewer who is no collaborator, a
        # missing label permission) becomes a note in the report, not a failed promotion.
        notes: list[str] = self.take_notes()
        n = pull.number
        if options.labels or options.assignees:
            issue: dict[str, Any] = {}
            if options.labels:
                issue["labels"] = options.labels
            if options.assignees:
                issue["assignees"] = options.assignees
            try:
                self._eventually(
                    f"labelling pull request #{n}",
                    lambda: self._rest("PATCH", f"{self._path}/issues/{n}", input=issue),
                )
            except ForgeError as exc:
                notes.append(f"labels/assignees not set: {exc}")
        if options.reviewers or options.team_reviewers:
            review = {
                "reviewers": options.reviewers,
                "team_reviewers": options.team_reviewers,
            }
            try:
                self._eventually(
                    f"requesting reviewers on pull request #{n}",
                    lambda: self._rest("POST", f"{self._path}/pulls/{n}/requested_reviewers", input=review),
                )
            except ForgeError as exc:
                notes.append(f"reviewers not requested: {exc}")
        if options.auto_merge:
            try:
                notes.extend(self._auto_merge(pull))
            except ForgeError as exc:
                # In doubt (a lost answer, retries refused because the first try merged, an answer
                # promoter cannot read), what GitHub did is read back from the pull request.
                if self._merged(pull):
                    notes.append(_MERGED_READ_BACK.format(n=n))
                elif isinstance(exc, UnexpectedAnswerError):
                    raise self._merge_unknown(exc, "pull request", pull.url) from None
                else:
                    notes.append(f"auto-merge not enabled: {exc}")
        return notes

    def _merged(self, pull: PullInfo) -> bool:
        """Whether the pull request is merged now, read back; False when that cannot be read either."""
        try:
            with self._calling(f"reading pull request #{pull.number}"):
                data = self._rest("GET", f"{self._path}/pulls/{pull.number}")
                return isinstance(data, dict) and data.get("merged") is True
        except ForgeError:
            return False

    def _auto_merge(self, pull: PullInfo) -> list[str]:
        try:
            self._eventually(
                f"enabling auto-merge on pull request #{pull.number}",
                lambda: self._graphql(
                    "enablePullRequestAutoMerge",
                    {"pullRequestId": pull.node_id, "mergeMethod": "MERGE"},
                    "clientMutationId",
                ),
            )
            return ["auto-merge enabled"]
        except ForgeError as exc:
            text = str(exc)
            if "clean status" in text or "has_hooks status" in text:
                # Mergeable now, nothing to wait for (has_hooks: and GitHub Enterprise runs
                # pre-receive hooks on the merge): GitHub will not queue it, so merge it now.
                return [self._merge_now(pull)]
            if "unstable status" in text:
                return [_UNSTABLE_NOTE]
            if "not allowed" in text:
                return [
                    "auto-merge not enabled: turn on 'Allow auto-merge' in the repository settings (Settings → General)"
                ]
            raise

    def _merge_now(self, pull: PullInfo) -> str:
        """Merge the head promoter wrote and described, and only that: `sha` makes GitHub refuse (409)
        when a commit was pushed in between, which would otherwise be merged unreviewed."""
        n = pull.number
        with self._calling(f"merging pull request #{n}"):
            try:
                data = self._rest(
                    "PUT", f"{self._path}/pulls/{n}/merge", input={"merge_method": "merge", "sha": pull.head_sha}
                )
            except GithubException as exc:
                text = self._text(exc)
                if exc.status == 409:
                    return (
                        f"not merged: pull request #{n} moved after promoter's commit {pull.head_sha[:12]} ({text}); "
                        "review the new commit and merge it by hand"
                    )
                if exc.status in (405, 422):
                    # A retry of a merge whose answer was lost is refused: the first try merged it.
                    if self._merged(pull):
                        return _MERGED_READ_BACK.format(n=n)
                    return f"not merged: GitHub refuses to merge pull request #{n} now ({exc.status} {text})"
                raise
            # The status alone says nothing: GitHub's answer names the outcome in `merged`.
            merged = data.get("merged") if isinstance(data, dict) else None
            if not isinstance(merged, bool):
                raise UnexpectedAnswer(f"a merge answer without a true or false 'merged': {_clip(repr(data), 80)}")
            if not merged:
                message = data.get("message")
                reason = _clip(message, 200) if isinstance(message, str) and message else "no reason given"
                return self._redact(
                    f"not merged: GitHub answered that pull request #{n} was not merged ({reason}); "
                    "merge it by hand once it is mergeable"
                )
        return "merged: the pull request was already mergeable"

    def close(self) -> None:
        with contextlib.suppress(OSError):  # closing a pool never decides anything
            self._gh.close()


_STATUS_STATE: dict[str, CheckState] = {
    "success": "success",
    "pending": "pending",
    "failure": "failure",
    "error": "failure",
}


def _web_root(api: str) -> str:
    """The web address of a GitHub API base: api.github.com -> github.com, HOST/api/v3 -> HOST."""
    api = api.rstrip("/")
    if api.startswith(("https://api.github.com", "http://api.github.com")):
        return "https://github.com"
    return api.removesuffix("/api/v3")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _branch_commit(c: Any) -> BranchCommit:
    """A commit of a compare answer: the git identities in `commit`, the account's login as the
    author's name only when git recorded none."""
    git_commit = c.get("commit") or {}
    author = git_commit.get("author") or {}
    committer = git_commit.get("committer") or {}
    return BranchCommit(
        commit_sha(c["sha"]),
        str(author.get("name") or (c.get("author") or {}).get("login") or ""),
        str(git_commit.get("message") or ""),
        author_email=str(author.get("email") or ""),
        committer=str(committer.get("name") or ""),
        committer_email=str(committer.get("email") or ""),
        verified=(git_commit.get("verification") or {}).get("verified") is True,
    )
