"""FakeForge: a stateful GitHub/GitLab stand-in on 127.0.0.1 for tests, with fault switches and a request log."""

from __future__ import annotations

import contextlib
import fnmatch
import json
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .gitstore import GitStore


class HttpError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        headers: dict[str, str] | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.body = body


@dataclass
class Token:
    login: str
    write: bool = True
    user_id: int = 1


@dataclass
class PullRequest:
    """A GitHub pull request or a GitLab merge request (GitLab calls the number `iid`)."""

    number: int
    title: str
    body: str
    head: str
    base: str
    author: str
    state: str = "open"  # open | closed | merged
    draft: bool = False
    labels: list[str] = field(default_factory=list)
    reviewers: list[str] = field(default_factory=list)
    team_reviewers: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    auto_merge: bool = False
    head_sha: str = ""  # last known head, kept when the branch goes away
    merge_commit: str | None = None
    # How it was merged (fakeforge/merging.py): the squashed commit (GitLab), the PR's own
    # commits and the commits the merge put on the base branch, and when.
    squash_commit: str | None = None
    merge_method: str | None = None
    source_commits: list[str] = field(default_factory=list)
    landed: list[str] = field(default_factory=list)
    merged_at: str | None = None
    remove_source_branch: bool = False  # GitLab: delete the branch once merged
    reviews: list[dict[str, Any]] = field(default_factory=list)  # {login, state, commit}, oldest first
    comments: list[dict[str, Any]] = field(default_factory=list)  # {author, body}

    def approvers(self) -> list[str]:
        """Users whose latest review approves (GitHub reviews; GitLab approvals are stored the same way)."""
        latest: dict[str, str] = {}
        for r in self.reviews:
            latest[r["login"]] = r["state"]
        return [u for u, state in latest.items() if state == "APPROVED"]


@dataclass
class Repo:
    """One repository (GitHub) or project (GitLab) with its git store and review state."""

    full_name: str
    id: int
    store: GitStore
    default_branch: str = "main"
    pulls: dict[int, PullRequest] = field(default_factory=dict)
    protected: list[str] = field(default_factory=list)  # fnmatch patterns refusing pushes
    allow_auto_merge: bool = True
    require_checks: bool = False  # PRs wait for a success status before they are mergeable
    # Branch protection's required status checks: each named context's latest status on the head
    # must be success (GitHub "Require status checks to pass", GitLab external status checks).
    required_contexts: list[str] = field(default_factory=list)
    drafts_supported: bool = True  # False: a private repository on GitHub Free/Pro
    pre_receive_hooks: bool = False  # GitHub Enterprise Server hooks: a mergeable PR is "has_hooks"
    # GitLab: every commit the API writes to a branch other than the default starts a pipeline
    # (its status `ci`, running until a test finishes it), as a project with a .gitlab-ci.yml does.
    ci_on_push: bool = False
    statuses: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    check_runs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # GitHub check runs by commit
    # Branch protection requiring signed commits: only commits GitHub made (and so signed)
    # through createCommitOnBranch may land on these branches.
    signed_only: list[str] = field(default_factory=list)
    signed: set[str] = field(default_factory=set)

    @property
    def owner(self) -> str:
        return self.full_name.split("/")[0]

    def is_protected(self, branch: str) -> bool:
        return any(fnmatch.fnmatchcase(branch, p) for p in self.protected)

    def unsigned_commits(self, branch: str, sha: str) -> list[str]:
        """Commits a ref update to `sha` would bring onto a signed-only branch without a signature."""
        if not any(fnmatch.fnmatchcase(branch, p) for p in self.signed_only):
            return []
        return [c for c in self.store.new_commits(sha) if c not in self.signed]

    def next_number(self) -> int:
        return max(self.pulls, default=0) + 1


@dataclass
class Fault:
    pattern: re.Pattern[str]
    kind: str  # status | drop | slow | hang | answer | edit
    times: int
    status: int = 502
    headers: dict[str, str] = field(default_factory=dict)
    message: str = "Server Error"
    delay: float = 0.0
    after: bool = False  # drop the connection after doing the work (the answer is lost)
    hits: int = 0
    body: Any = None  # kind "answer": the body as sent (bytes or str), or JSON-able data
    content_type: str | None = None  # kind "answer" (and a status fault with a body): its Content-Type
    edit: Callable[[Any], Any] | None = None  # kind "edit": the successful answer's data, as sent


@dataclass
class Hook:
    pattern: re.Pattern[str] | None
    nth: int | None
    fn: Callable[[FakeForge], None]
    times: int = 1


@dataclass
class LoggedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    status: int
    api: str  # github | graphql | gitlab | other
    body: Any = None

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.status}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _any(self) -> None:
        self.server.forge._handle(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    forge: FakeForge


class FakeForge:
    """Serves GitHub REST at /api/v3 (GraphQL at /api/graphql) and GitLab v4 at /api/v4.

    Base URLs for the real clients: `github_url` (PyGithub base_url) and `gitlab_url`
    (python-gitlab url).
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.repos: dict[str, Repo] = {}
        self.tokens: dict[str, Token] = {}
        self.users: dict[str, int] = {}
        self.log: list[LoggedRequest] = []
        self.faults: list[Fault] = []
        self.hooks: list[Hook] = []
        self.echo_token_in_errors = False  # a misbehaving server, to prove redaction
        # GitLab's version: `auto_merge` on the merge API exists since 17.11 (older servers ignore it).
        self.gitlab_version: tuple[int, int] = (18, 0)
        self._closing = threading.Event()  # wakes requests that hang, so closing never waits on them
        self.now: datetime | None = None  # when set, the time of every commit the forge writes
        self.lock = threading.RLock()
        self._count = 0
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.forge = self
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
        )
        self._thread.start()
        from . import github_api, gitlab_api

        self._github = github_api.GitHubApi(self)
        self._gitlab = gitlab_api.GitLabApi(self)

    # ---- addresses -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def github_url(self) -> str:
        return f"{self.url}/api/v3"

    @property
    def gitlab_url(self) -> str:
        return self.url

    def close(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()

    # ---- setup -----------------------------------------------------------------------------
    def add_token(self, token: str, login: str = "promoter-bot", *, write: bool = True) -> None:
        uid = self.users.setdefault(login, len(self.users) + 1)
        self.tokens[token] = Token(login, write, uid)

    def add_user(self, login: str) -> int:
        return self.users.setdefault(login, len(self.users) + 1)

    def create_repo(
        self,
        full_name: str,
        *,
        files: dict[str, str] | None = None,
        source: Path | None = None,
        branch: str = "main",
    ) -> Repo:
        """A repository; `source` (a local git repo) is fetched so commit ids match it exactly."""
        with self.lock:
            store = GitStore(self.root / f"{full_name.replace('/', '__')}.git")
            repo = Repo(full_name, len(self.repos) + 1, store, default_branch=branch)
            store.clock = lambda: self.now
            if source is not None:
                store.seed(source, branch)
            elif files is not None:
                sha = store.commit_files(None, {p: t.encode() for p, t in files.items()}, "initial")
                store.update_ref(branch, sha)
            self.repos[full_name] = repo
            return repo

    def repo(self, name: str) -> Repo:
        return self.repos[name]

    def repo_by_id(self, ident: str) -> Repo | None:
        if ident.isdigit():
            return next((r for r in self.repos.values() if r.id == int(ident)), None)
        return self.repos.get(ident)

    # ---- test helpers ----------------------------------------------------------------------
    def push_commit(
        self,
        repo: str,
        branch: str,
        files: dict[str, str | None],
        message: str = "concurrent change",
        *,
        start: str | None = None,
    ) -> str:
        """Commit to a branch directly, as another pipeline or a person would (a new branch starts at `start`)."""
        with self.lock:
            r = self.repos[repo]
            parent = r.store.branch_sha(branch) or (r.store.branch_sha(start) if start else None)
            data = {p: (t.encode() if t is not None else None) for p, t in files.items()}
            sha = r.store.commit_files(parent, data, message, author=("Someone Else", "someone@example.com"))
            r.store.update_ref(branch, sha)
            return sha

    def merge_pull(self, repo: str, number: int, method: str = "merge", *, gitlab: bool = False) -> str:
        """Merge as a person clicking the button would: `method` merge | squash | rebase (GitHub),
        merge | squash (`gitlab`: a merge commit either way). Returns the base branch's new head."""
        with self.lock:
            r = self.repos[repo]
            return self._merge(r, r.pulls[number], method, gitlab=gitlab)

    def _merge(self, repo: Repo, pr: PullRequest, method: str = "merge", *, gitlab: bool = False) -> str:
        from .merging import merge

        return merge(self, repo, pr, method, gitlab=gitlab)

    def approve(self, repo: str, number: int, login: str, state: str = "APPROVED") -> None:
        """A reviewer approves (or requests changes on) the PR/MR at its current head."""
        with self.lock:
            r = self.repos[repo]
            pr = r.pulls[number]
            self.add_user(login)
            pr.reviews.append({"login": login, "state": state, "commit": r.store.branch_sha(pr.head) or pr.head_sha})

    def status_of(self, repo: str, sha: str, context: str) -> str | None:
        """The latest state of one status context on a commit (GitHub words: success, failure, …)."""
        for s in self.repos[repo].statuses.get(sha, []):
            if s["context"] == context:
                return str(s["state"])
        return None

    def mergeable_state(self, repo: Repo, pr: PullRequest) -> str:
        head = repo.store.branch_sha(pr.head) or pr.head_sha
        if pr.draft:
            return "draft"
        for context in repo.required_contexts:
            latest = next((s for s in repo.statuses.get(head, []) if s["context"] == context), None)
            if latest is None or latest["state"] != "success":
                return "blocked"
        if repo.require_checks:
            states = [s["state"] for s in repo.statuses.get(head, [])]
            if "success" not in states:
                return "blocked"
        return "clean"

    def requests(self, pattern: str | None = None) -> list[LoggedRequest]:
        """Logged requests whose "METHOD /path" matches the regex (all without one)."""
        return [r for r in self.log if pattern is None or re.search(pattern, f"{r.method} {r.path}")]

    def reset_log(self) -> None:
        with self.lock:
            self.log.clear()

    # ---- fault switches --------------------------------------------------------------------
    def fail_next(
        self,
        pattern: str,
        *,
        status: int = 502,
        times: int = 1,
        message: str = "Server Error",
        headers: dict[str, str] | None = None,
    ) -> Fault:
        """The next `times` requests matching `pattern` ("METHOD /path" regex) answer `status`."""
        return self._add(
            Fault(
                re.compile(pattern),
                "status",
                times,
                status,
                dict(headers or {}),
                message,
            )
        )

    def rate_limit_next(
        self,
        pattern: str,
        *,
        kind: str = "secondary",
        status: int = 403,
        retry_after: int | None = 1,
        reset_in: int = 1,
        times: int = 1,
        remaining: int = 4987,
    ) -> Fault:
        """Rate-limit answers with the bodies and headers the services document (see FORGES.md).

        kind: `primary` (GitHub: X-RateLimit-Remaining 0 and a reset), `secondary` (GitHub: 403 or
        429, requests left, Retry-After only when `retry_after` is given), `gitlab` (Rack::Attack:
        429, text/plain "Retry later", Retry-After and RateLimit-*), `graphql` (GitHub GraphQL: HTTP
        200 with an error of type RATE_LIMITED) or `graphql-code` (lately: type RATE_LIMIT, code
        graphql_rate_limit); the GraphQL kinds keep `remaining` requests in their headers, as GitHub
        sometimes does, and name no Retry-After unless given.
        """
        reset = str(int(time.time()) + reset_in)
        headers: dict[str, str] = {}
        body: Any = None
        content_type: str | None = None
        if kind == "primary":
            headers = _github_limit_headers(0, reset)
            message = "API rate limit exceeded for installation ID 1."
            body = {
                "message": message,
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
                "status": str(status),
            }
        elif kind == "gitlab":
            headers = {
                "RateLimit-Name": "throttle_authenticated_api",
                "RateLimit-Limit": "600",
                "RateLimit-Observed": "601",
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": reset,
                "RateLimit-ResetTime": time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(int(reset))),
            }
            message, status, body, content_type = "Retry later", 429, "Retry later\n", "text/plain"
        elif kind in ("graphql", "graphql-code"):
            headers = _github_limit_headers(remaining, reset, resource="graphql")
            error: dict[str, Any] = (
                {"type": "RATE_LIMITED", "message": "API rate limit exceeded for user ID 1."}
                if kind == "graphql"
                else {
                    "type": "RATE_LIMIT",
                    "code": "graphql_rate_limit",
                    "message": "API rate limit already exceeded for user ID 1.",
                }
            )
            message, status, body = error["message"], 200, {"errors": [error]}
        else:
            headers = _github_limit_headers(remaining, reset)
            message = (
                "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
                "If you reach out to GitHub Support for help, please include the request ID 0403:4D2E:1F0B0:3A2E1:6790A1B2."
            )
            body = {
                "message": message,
                "documentation_url": "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
                "status": str(status),
            }
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        return self._add(
            Fault(re.compile(pattern), "status", times, status, headers, message, body=body, content_type=content_type)
        )

    def answer_next(
        self,
        pattern: str,
        body: Any,
        *,
        status: int = 200,
        content_type: str = "text/html; charset=utf-8",
        times: int = 1,
    ) -> Fault:
        """Answer the next matching requests with `body` as given, without doing their work: a proxy's
        HTML login page, a truncated body, JSON of another shape (pass data and a JSON content type)."""
        return self._add(Fault(re.compile(pattern), "answer", times, status, body=body, content_type=content_type))

    def edit_next(self, pattern: str, edit: Callable[[Any], Any], *, times: int = 1) -> Fault:
        """Do the work of the next matching requests, then send `edit(answer data)` when they succeed: a
        server of another version, or one answering before it knows a field (GitLab's `sha: null`)."""
        return self._add(Fault(re.compile(pattern), "edit", times, edit=edit))

    def hang_next(self, pattern: str, *, times: int = 1) -> Fault:
        """Accept the next matching requests and never answer them (until the forge is closed)."""
        return self._add(Fault(re.compile(pattern), "hang", times))

    def slow_next(self, pattern: str, *, delay: float, times: int = 1) -> Fault:
        return self._add(Fault(re.compile(pattern), "slow", times, delay=delay))

    def drop_next(self, pattern: str, *, times: int = 1, after: bool = False) -> Fault:
        """Close the connection without an answer; `after=True` does the work first (answer lost)."""
        return self._add(Fault(re.compile(pattern), "drop", times, after=after))

    def on_request(
        self,
        fn: Callable[[FakeForge], None],
        *,
        pattern: str | None = None,
        nth: int | None = None,
        times: int = 1,
    ) -> None:
        """Run `fn` before handling the nth request (1-based, counted from now) or the next matching one."""
        with self.lock:
            self.hooks.append(
                Hook(
                    re.compile(pattern) if pattern else None,
                    self._count + nth if nth else None,
                    fn,
                    times,
                )
            )

    def _add(self, fault: Fault) -> Fault:
        with self.lock:
            self.faults.append(fault)
        return fault

    def _take_fault(self, key: str) -> Fault | None:
        with self.lock:
            for f in self.faults:
                if f.hits < f.times and f.pattern.search(key):
                    f.hits += 1
                    return f
        return None

    # ---- HTTP plumbing ---------------------------------------------------------------------
    def _handle(self, h: _Handler) -> None:
        parts = urlsplit(h.path)
        path, query = parts.path, parse_qs(parts.query)
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        if body is None and raw and b"=" in raw:  # form-encoded
            body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        api = (
            "graphql"
            if path == "/api/graphql"
            else "github"
            if path.startswith("/api/v3/")
            else "gitlab"
            if path.startswith("/api/v4/")
            else "other"
        )
        key = f"{h.command} {path}"
        # Logged on arrival (status 0 until answered), so a slow or dropped request is counted
        # even when the client has moved on.
        entry = LoggedRequest(h.command, path, query, 0, api, body)
        with self.lock:
            self.log.append(entry)
            self._count += 1
            n = self._count
            hooks = [
                k
                for k in self.hooks
                if k.times > 0
                and ((k.nth is not None and k.nth == n) or (k.pattern is not None and k.pattern.search(key)))
            ]
            for k in hooks:
                k.times -= 1
        for k in hooks:
            k.fn(self)
        fault = self._take_fault(key)
        if fault and fault.kind == "slow":
            self._closing.wait(fault.delay)
        if fault and fault.kind == "hang":
            self._closing.wait()
            self._drop(h)
            return
        if fault and fault.kind == "drop" and not fault.after:
            self._drop(h)
            return
        if fault and fault.kind in ("status", "answer"):
            entry.status = fault.status
            body = fault.body if fault.body is not None else self._error_body(api, fault.status, fault.message)
            with contextlib.suppress(OSError):
                self._send(h, fault.status, body, fault.headers, fault.content_type)
            return
        status, payload, headers = self._dispatch(h, api, path, query, body)
        if fault and fault.kind == "drop":
            self._drop(h)
            return
        if fault and fault.kind == "edit" and fault.edit is not None and 200 <= status < 300:
            payload = fault.edit(payload)
        entry.status = status
        with contextlib.suppress(OSError):  # the client gave up (slow answer): nothing to tell it
            self._send(h, status, payload, headers)

    def _dispatch(
        self, h: _Handler, api: str, path: str, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        token = self._token(h, api)
        try:
            if token is None:
                raise HttpError(401, "Bad credentials" if api != "gitlab" else "401 Unauthorized")
            with self.lock:
                if api == "gitlab":
                    status, payload = self._gitlab.route(h.command, path, query, body, token)
                elif api in ("github", "graphql"):
                    status, payload = self._github.route(h.command, path, query, body, token)
                else:
                    raise HttpError(404, "Not Found")
            return status, payload, {}
        except HttpError as exc:
            message = exc.message
            if self.echo_token_in_errors:
                message += f" (credentials: {h.headers.get('Authorization') or h.headers.get('PRIVATE-TOKEN')})"
            payload = exc.body if exc.body is not None else self._error_body(api, exc.status, message)
            return exc.status, payload, exc.headers

    def _token(self, h: _Handler, api: str) -> Token | None:
        if api == "gitlab":
            value = h.headers.get("PRIVATE-TOKEN") or (h.headers.get("Authorization") or "").removeprefix("Bearer ")
        else:
            auth = h.headers.get("Authorization") or ""
            value = auth.split(" ", 1)[1] if " " in auth else ""
        return self.tokens.get(value)

    @staticmethod
    def _error_body(api: str, status: int, message: str) -> Any:
        if api == "gitlab":
            return {"message": message}
        return {
            "message": message,
            "documentation_url": "https://docs.github.com/rest",
            "status": str(status),
        }

    @staticmethod
    def _send(h: _Handler, status: int, payload: Any, headers: dict[str, str], content_type: str | None = None) -> None:
        if isinstance(payload, bytes | str) and content_type is not None:
            data = payload.encode() if isinstance(payload, str) else payload
        else:
            data = b"" if payload is None else json.dumps(payload).encode()
        h.send_response(status)
        h.send_header("Content-Type", content_type or "application/json; charset=utf-8")
        h.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)

    @staticmethod
    def _drop(h: _Handler) -> None:
        h.close_connection = True
        with contextlib.suppress(OSError):
            h.connection.shutdown(socket.SHUT_RDWR)


def _github_limit_headers(remaining: int, reset: str, resource: str = "core") -> dict[str, str]:
    limit = 5000
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": reset,
        "X-RateLimit-Used": str(limit - remaining),
        "X-RateLimit-Resource": resource,
    }
