"""The GitLab REST v4 subset the fake forge answers, with GitLab's observable behaviours."""

from __future__ import annotations

import base64
import re
from typing import TYPE_CHECKING, Any

from .routes import Routes
from .server import HttpError, PullRequest, Repo, Token

if TYPE_CHECKING:
    from .server import FakeForge

_P = r"/api/v4/projects/(?P<pid>[^/]+)"
DESCRIPTION_MAX = 1_048_576  # Issuable::DESCRIPTION_LENGTH_MAX = 1.megabyte, counted with bytesize
NOTE_MAX = 1_000_000  # Note: validates :note, length: { maximum: 1_000_000 } (characters)
_FINAL = ("success", "failed", "canceled", "skipped")


def _check_description(value: Any) -> None:
    if isinstance(value, str) and len(value.encode("utf-8")) > DESCRIPTION_MAX:
        raise HttpError(
            400,
            "400 Bad request",
            body={"message": {"description": [f"is too long (maximum is {DESCRIPTION_MAX} characters)"]}},
        )


def _no_write(token: Token) -> None:
    if not token.write:
        raise HttpError(403, "403 Forbidden")


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v for v in value.split(",") if v]
    return [str(v) for v in value]


def _bool(value: Any) -> bool:
    return value in (True, "true", "True", "1", 1)


class GitLabApi:
    def __init__(self, forge: FakeForge) -> None:
        self.forge = forge
        p = _P
        self.routes = Routes(
            [
                ("GET", r"/api/v4/version", self.get_version),
                ("GET", r"/api/v4/user", self.get_user),
                ("GET", r"/api/v4/users", self.list_users),
                ("GET", p, self.get_project),
                ("GET", p + r"/repository/branches/(?P<b>[^/]+)", self.get_branch),
                ("DELETE", p + r"/repository/branches/(?P<b>[^/]+)", self.delete_branch),
                ("GET", p + r"/repository/files/(?P<path>[^/]+)", self.get_file),
                ("GET", p + r"/repository/commits/(?P<sha>[^/]+)/statuses", self.list_statuses),
                ("GET", p + r"/repository/commits/(?P<sha>[^/]+)/merge_requests", self.commit_mrs),
                ("GET", p + r"/repository/compare", self.compare),
                ("GET", p + r"/repository/commits/(?P<sha>[^/]+)", self.get_commit),
                ("POST", p + r"/repository/commits", self.create_commit),
                ("POST", p + r"/statuses/(?P<sha>[0-9a-f]{40})", self.create_status),
                ("GET", p + r"/merge_requests", self.list_mrs),
                ("POST", p + r"/merge_requests", self.create_mr),
                ("GET", p + r"/merge_requests/(?P<iid>\d+)", self.get_mr),
                ("PUT", p + r"/merge_requests/(?P<iid>\d+)", self.update_mr),
                ("PUT", p + r"/merge_requests/(?P<iid>\d+)/merge", self.merge_mr),
                ("GET", p + r"/merge_requests/(?P<iid>\d+)/approvals", self.approvals),
                ("GET", p + r"/merge_requests/(?P<iid>\d+)/notes", self.list_notes),
                ("POST", p + r"/merge_requests/(?P<iid>\d+)/notes", self.create_note),
            ],
            not_found="404 Not Found",
        )

    def route(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        body: Any,
        token: Token,
    ) -> tuple[int, Any]:
        fn, args = self.routes.match(method, path)
        repo = None
        if "pid" in args:
            repo = self.forge.repo_by_id(args.pop("pid"))
            if repo is None:
                raise HttpError(404, "404 Project Not Found")
        q = {k: v[0] for k, v in query.items()}
        if method != "GET" and (body is None or isinstance(body, dict)):
            body = {**q, **(body or {})}  # GitLab takes attributes as query parameters too
        return fn(repo=repo, query=q, body=body or {}, token=token, **args)

    # ---- JSON shapes -----------------------------------------------------------------------
    def project_json(self, repo: Repo) -> dict[str, Any]:
        return {
            "id": repo.id,
            "path_with_namespace": repo.full_name,
            "name": repo.full_name.rsplit("/", 1)[-1],
            "default_branch": repo.default_branch,
            "web_url": f"{self.forge.url}/{repo.full_name}",
        }

    def commit_json(self, repo: Repo, sha: str) -> dict[str, Any]:
        info = repo.store.commit_info(sha)
        return {
            "id": sha,
            "short_id": sha[:8],
            "title": info.message.split("\n", 1)[0],
            "message": info.message,
            "author_name": info.author_name,
            "author_email": info.author_email,
            "committer_name": info.committer_name,
            "committer_email": info.committer_email,
            "parent_ids": info.parents,
            "web_url": f"{self.forge.url}/{repo.full_name}/-/commit/{sha}",
        }

    def mr_json(self, repo: Repo, mr: PullRequest) -> dict[str, Any]:
        sha = repo.store.branch_sha(mr.head) or mr.head_sha
        state = {"open": "opened", "closed": "closed", "merged": "merged"}[mr.state]
        mergeable = self.forge.mergeable_state(repo, mr) if mr.state == "open" else "not_open"
        if mergeable == "blocked" and self.pipeline(repo, sha) == "running":
            mergeable = "running"
        return {
            "id": repo.id * 100000 + mr.number,
            "iid": mr.number,
            "project_id": repo.id,
            "title": mr.title,
            "description": mr.body,
            "state": state,
            "draft": mr.draft,
            "work_in_progress": mr.draft,
            "source_branch": mr.head,
            "target_branch": mr.base,
            "sha": sha,
            "merge_commit_sha": mr.merge_commit,
            "squash_commit_sha": mr.squash_commit,
            "merged_at": mr.merged_at,
            "web_url": f"{self.forge.url}/{repo.full_name}/-/merge_requests/{mr.number}",
            "author": {"username": mr.author},
            "labels": list(mr.labels),
            "assignees": [{"id": self.forge.users.get(a), "username": a} for a in mr.assignees],
            "reviewers": [{"id": self.forge.users.get(a), "username": a} for a in mr.reviewers],
            "merge_when_pipeline_succeeds": mr.auto_merge,
            "detailed_merge_status": {
                "clean": "mergeable",
                "blocked": "ci_must_pass",
                "running": "ci_still_running",
                "draft": "draft_status",
            }.get(mergeable, mergeable),
        }

    # ---- users, project, branches ------------------------------------------------------------
    def get_version(self, **_: Any) -> tuple[int, Any]:
        major, minor = self.forge.gitlab_version
        return 200, {"version": f"{major}.{minor}.0-ee", "revision": "fake"}

    def get_user(self, *, token: Token, **_: Any) -> tuple[int, Any]:
        return 200, {"id": token.user_id, "username": token.login}

    def list_users(self, *, query: dict[str, str], **_: Any) -> tuple[int, Any]:
        name = query.get("username")
        return 200, [{"id": uid, "username": u} for u, uid in self.forge.users.items() if name is None or u == name]

    def get_project(self, *, repo: Repo, **_: Any) -> tuple[int, Any]:
        return 200, self.project_json(repo)

    def get_branch(self, *, repo: Repo, b: str, **_: Any) -> tuple[int, Any]:
        sha = repo.store.branch_sha(b)
        if sha is None:
            raise HttpError(404, "404 Branch Not Found")
        return 200, {
            "name": b,
            "commit": self.commit_json(repo, sha),
            "protected": repo.is_protected(b),
        }

    def delete_branch(self, *, repo: Repo, b: str, token: Token, **_: Any) -> tuple[int, Any]:
        _no_write(token)
        if repo.store.branch_sha(b) is None:
            raise HttpError(404, "404 Branch Not Found")
        if repo.is_protected(b):
            raise HttpError(403, "403 Forbidden")
        repo.store.delete_ref(b)
        return 204, None

    def _resolve(self, repo: Repo, ref: str) -> str | None:
        return repo.store.rev_parse(ref) if re.fullmatch(r"[0-9a-f]{40}", ref) else repo.store.branch_sha(ref)

    def get_file(self, *, repo: Repo, path: str, query: dict[str, str], **_: Any) -> tuple[int, Any]:
        ref = query.get("ref")
        if not ref:
            raise HttpError(400, "ref is missing")
        sha = self._resolve(repo, ref)
        data = repo.store.read_file(sha, path) if sha else None
        if data is None:
            raise HttpError(404, "404 File Not Found")
        return 200, {
            "file_name": path.rsplit("/", 1)[-1],
            "file_path": path,
            "size": len(data),
            "encoding": "base64",
            "content": base64.b64encode(data).decode(),
            "ref": ref,
            "blob_id": repo.store.blob_sha(sha, path),
            "commit_id": sha,
            "last_commit_id": repo.store.last_commit_for_path(sha, path),
        }

    def get_commit(self, *, repo: Repo, sha: str, **_: Any) -> tuple[int, Any]:
        resolved = self._resolve(repo, sha)
        if resolved is None:
            raise HttpError(404, "404 Commit Not Found")
        return 200, self.commit_json(repo, resolved)

    # ---- commits API -------------------------------------------------------------------------
    def create_commit(self, *, repo: Repo, body: dict[str, Any], token: Token, **_: Any) -> tuple[int, Any]:
        _no_write(token)
        store = repo.store
        branch = str(body.get("branch") or "")
        if not branch or not body.get("commit_message") or not isinstance(body.get("actions"), list):
            raise HttpError(400, "branch, commit_message, actions are missing")
        start_branch, start_sha, force = (
            body.get("start_branch"),
            body.get("start_sha"),
            _bool(body.get("force")),
        )
        existing = store.branch_sha(branch)
        if start_sha:
            if store.object_type(str(start_sha)) != "commit":
                raise HttpError(400, f"Cannot find start_sha '{start_sha}'")
            start = str(start_sha)
        elif start_branch:
            start = store.branch_sha(str(start_branch))
            if start is None:
                raise HttpError(400, f"Cannot find start_branch '{start_branch}'")
        else:
            if existing is None:
                raise HttpError(400, "You can only create or edit files when you are on a branch")
            start = existing
        if existing is not None and (start_sha or start_branch) and start_branch != branch and not force:
            raise HttpError(
                400,
                f"A branch called '{branch}' already exists. Switch to that branch in order to make changes",
            )
        if repo.is_protected(branch):
            raise HttpError(403, "You are not allowed to push into this branch")
        files: dict[str, bytes | None] = {}
        for action in body["actions"]:
            kind, path = action.get("action"), str(action.get("file_path", ""))
            present = store.read_file(start, path) is not None
            last = action.get("last_commit_id")
            # GitLab compares with the file's last commit on start_branch, which defaults to the
            # target branch (not start_sha): Commits::CreateService#file_has_changed?.
            check_ref = store.branch_sha(str(start_branch or branch))
            if (
                last
                and kind in ("update", "delete", "move")
                and check_ref
                and store.last_commit_for_path(check_ref, path) != last
            ):
                raise HttpError(
                    400,
                    "You are attempting to update a file that has changed since you started editing it.",
                )
            if kind == "create":
                if present:
                    raise HttpError(400, "A file with this name already exists")
            elif kind in ("update", "delete"):
                if not present:
                    raise HttpError(400, "A file with this name doesn't exist")
            else:
                raise HttpError(400, f"action {kind!r} is not supported by the fake forge")
            if kind == "delete":
                files[path] = None
            else:
                content = str(action.get("content", ""))
                files[path] = base64.b64decode(content) if action.get("encoding") == "base64" else content.encode()
        sha = store.commit_files(
            start,
            files,
            str(body["commit_message"]),
            author=(
                body.get("author_name") or token.login,
                body.get("author_email") or f"{token.login}@users.noreply.fake",
            ),
            # GitLab commits as the token's user whoever the named author is.
            committer=(token.login, f"{token.login}@users.noreply.fake"),
        )
        store.update_ref(branch, sha, existing or "0" * 40)
        if repo.ci_on_push and branch != repo.default_branch:
            # The push starts the project's pipeline: its status is `running` until something finishes it.
            repo.statuses.setdefault(sha, []).insert(
                0, {"state": "pending", "context": "ci", "status": "running", "name": "ci"}
            )
        return 201, self.commit_json(repo, sha)

    # ---- statuses ----------------------------------------------------------------------------
    def create_status(self, *, repo: Repo, sha: str, body: dict[str, Any], token: Token, **_: Any) -> tuple[int, Any]:
        _no_write(token)
        state = body.get("state")
        if state not in (
            "pending",
            "running",
            "success",
            "failed",
            "canceled",
            "skipped",
        ):
            raise HttpError(400, "state does not have a valid value")
        if repo.store.object_type(sha) != "commit":
            raise HttpError(404, "404 Commit Not Found")
        name = str(body.get("name") or body.get("context") or "default")
        status = {
            "status": state,
            "name": name,
            "target_url": body.get("target_url"),
            "description": body.get("description"),
        }
        statuses = repo.statuses.setdefault(sha, [])
        current = next((s for s in statuses if s["context"] == name), None)
        # GitLab reuses a pending or running status of the same name and moves it through its state
        # machine; re-posting the state it holds is refused. A finished one is followed by a new one.
        if current is not None and current.get("status", "success") not in _FINAL:
            event = {"pending": "enqueue", "running": "run"}.get(state)
            if current.get("status") == state and event:
                raise HttpError(400, f"Cannot transition status via :{event} from :{state}")
            statuses.remove(current)
        # Both APIs read the same list: `state` in GitHub's words (success / failure / pending).
        github_state = {"failed": "failure", "canceled": "error", "skipped": "success", "running": "pending"}
        statuses.insert(0, {"state": github_state.get(state, state), "context": name, **status})
        return 201, {"id": len(statuses), "sha": sha, **status}

    def list_statuses(self, *, repo: Repo, sha: str, query: dict[str, str], **_: Any) -> tuple[int, Any]:
        resolved = self._resolve(repo, sha) or sha
        stored = repo.statuses.get(resolved, [])  # newest first
        out, seen = [], set()
        for i, s in enumerate(stored):
            # Without all=true GitLab lists only the newest status of each name.
            if s["context"] in seen and not _bool(query.get("all")):
                continue
            seen.add(s["context"])
            out.append({"id": len(stored) - i, **{k: v for k, v in s.items() if k not in ("state", "context")}})
        return 200, out

    def commit_mrs(self, *, repo: Repo, sha: str, **_: Any) -> tuple[int, Any]:
        from .merging import related

        resolved = self._resolve(repo, sha)
        if resolved is None:
            raise HttpError(404, "404 Commit Not Found")
        return 200, [self.mr_json(repo, mr) for mr in related(repo, resolved, gitlab=True)]

    # ---- compare -----------------------------------------------------------------------------
    def compare(self, *, repo: Repo, query: dict[str, str], **_: Any) -> tuple[int, Any]:
        store = repo.store
        base = self._resolve(repo, query.get("from", ""))
        head = self._resolve(repo, query.get("to", ""))
        if base is None or head is None:
            raise HttpError(404, "404 Ref Not Found")
        straight = _bool(query.get("straight"))
        start = base if straight else store.merge_base(base, head)
        if start is None:
            raise HttpError(404, "404 Ref Not Found")
        commits = store.commits_between(base, head)
        diffs = []
        for letter, path, previous in store.diff_entries(start, head):
            diffs.append(
                {
                    "old_path": previous or path,
                    "new_path": path,
                    "a_mode": "0" if letter == "A" else "100644",
                    "b_mode": "0" if letter == "D" else "100644",
                    "diff": store.file_patch(start, head, path, previous),
                    "new_file": letter == "A",
                    "renamed_file": letter == "R",
                    "deleted_file": letter == "D",
                }
            )
        return 200, {
            "commit": self.commit_json(repo, commits[-1]) if commits else None,
            "commits": [self.commit_json(repo, c) for c in commits],
            "diffs": diffs,
            "compare_timeout": False,
            "compare_same_ref": base == head,
            "web_url": f"{self.forge.url}/{repo.full_name}/-/compare/{query.get('from')}...{query.get('to')}",
        }

    # ---- merge requests ----------------------------------------------------------------------
    def list_mrs(self, *, repo: Repo, query: dict[str, str], **_: Any) -> tuple[int, Any]:
        state = query.get("state", "all")
        out = []
        for mr in sorted(repo.pulls.values(), key=lambda m: -m.number):
            gl_state = {"open": "opened", "closed": "closed", "merged": "merged"}[mr.state]
            if state != "all" and gl_state != state:
                continue
            if query.get("source_branch") and query["source_branch"] != mr.head:
                continue
            if query.get("target_branch") and query["target_branch"] != mr.base:
                continue
            out.append(self.mr_json(repo, mr))
        page, per_page = int(query.get("page", "1")), int(query.get("per_page", "20"))
        return 200, out[(page - 1) * per_page : page * per_page]

    def create_mr(self, *, repo: Repo, body: dict[str, Any], token: Token, **_: Any) -> tuple[int, Any]:
        _no_write(token)
        source, target, title = (
            body.get("source_branch"),
            body.get("target_branch"),
            body.get("title"),
        )
        if not source or not target or not title:
            raise HttpError(400, "source_branch, target_branch, title are missing")
        if repo.store.branch_sha(str(source)) is None:
            raise HttpError(400, "Source branch does not exist")  # GitLab words it inside a list; close enough
        if repo.store.branch_sha(str(target)) is None:
            raise HttpError(400, "Target branch does not exist")
        for mr in repo.pulls.values():
            if mr.state == "open" and mr.head == source:
                raise HttpError(
                    409,
                    f"Another open merge request already exists for this source branch: !{mr.number}",
                )
        title = str(title)
        _check_description(body.get("description"))
        draft = title.startswith(("Draft:", "[Draft]", "(Draft)"))
        mr = PullRequest(
            number=repo.next_number(),
            title=title,
            body=str(body.get("description") or ""),
            head=str(source),
            base=str(target),
            author=token.login,
            draft=draft,
            labels=_list(body.get("labels")),
        )
        mr.assignees = self._usernames(body.get("assignee_ids"))
        mr.reviewers = self._usernames(body.get("reviewer_ids"))
        mr.remove_source_branch = _bool(body.get("remove_source_branch"))
        mr.head_sha = repo.store.branch_sha(str(source)) or ""
        repo.pulls[mr.number] = mr
        return 201, self.mr_json(repo, mr)

    def _usernames(self, ids: Any) -> list[str]:
        """The known users among `ids` (a list or a comma-separated string), in the forge's user order."""
        wanted = [int(x) for x in _list(ids)]
        return [u for u, uid in self.forge.users.items() if uid in wanted]

    def _mr(self, repo: Repo, iid: str) -> PullRequest:
        mr = repo.pulls.get(int(iid))
        if mr is None:
            raise HttpError(404, "404 Not found")
        return mr

    def get_mr(self, *, repo: Repo, iid: str, **_: Any) -> tuple[int, Any]:
        return 200, self.mr_json(repo, self._mr(repo, iid))

    def update_mr(self, *, repo: Repo, iid: str, body: dict[str, Any], token: Token, **_: Any) -> tuple[int, Any]:
        _no_write(token)
        mr = self._mr(repo, iid)
        _check_description(body.get("description"))
        if "title" in body:
            mr.title = str(body["title"])
            mr.draft = mr.title.startswith(("Draft:", "[Draft]", "(Draft)"))
        if "description" in body:
            mr.body = str(body["description"] or "")
        if "labels" in body:
            mr.labels = _list(body["labels"])
        if "add_labels" in body:
            mr.labels += [x for x in _list(body["add_labels"]) if x not in mr.labels]
        if "assignee_ids" in body:
            mr.assignees = self._usernames(body["assignee_ids"])
        if "reviewer_ids" in body:
            mr.reviewers = self._usernames(body["reviewer_ids"])
        if body.get("state_event") == "close":
            mr.state = "closed"
        return 200, self.mr_json(repo, mr)

    def approvals(self, *, repo: Repo, iid: str, **_: Any) -> tuple[int, Any]:
        mr = self._mr(repo, iid)
        approved = [{"user": {"id": self.forge.users.get(u), "username": u, "name": u}} for u in mr.approvers()]
        return 200, {
            "id": repo.id * 100000 + mr.number,
            "iid": mr.number,
            "project_id": repo.id,
            "approved": bool(approved),
            "approved_by": approved,
        }

    def list_notes(self, *, repo: Repo, iid: str, **_: Any) -> tuple[int, Any]:
        mr = self._mr(repo, iid)
        return 200, [
            {"id": i + 1, "body": c["body"], "author": {"username": c["author"]}, "system": False}
            for i, c in enumerate(mr.comments)
        ]

    def create_note(self, *, repo: Repo, iid: str, body: dict[str, Any], token: Token, **_: Any) -> tuple[int, Any]:
        _no_write(token)
        mr = self._mr(repo, iid)
        text = body.get("body")
        if not text:
            raise HttpError(400, "400 Bad request - body is missing")
        if len(str(text)) > NOTE_MAX:
            raise HttpError(
                400, "400 Bad request", body={"message": {"note": ["is too long (maximum is 1000000 characters)"]}}
            )
        mr.comments.append({"author": token.login, "body": str(text)})
        return 201, {"id": len(mr.comments), "body": str(text), "author": {"username": token.login}, "system": False}

    def pipeline(self, repo: Repo, sha: str) -> str | None:
        """The head pipeline of a commit, from its statuses (GitLab keeps external statuses in a
        pipeline): None without any, `running` while one is pending or running, else success or failed."""
        latest: dict[str, str] = {}
        for st in repo.statuses.get(sha, []):  # newest first
            latest.setdefault(st["context"], st["state"])
        if not latest:
            return None
        if any(v == "pending" for v in latest.values()):
            return "running"
        return "success" if all(v == "success" for v in latest.values()) else "failed"

    def merge_mr(self, *, repo: Repo, iid: str, body: dict[str, Any], token: Token, **_: Any) -> tuple[int, Any]:
        """PUT …/merge as lib/api/merge_requests.rb answers it.

        Auto-merge is asked with `auto_merge` (since 17.11; an older server ignores it, as Grape
        ignores every parameter it does not declare) or `merge_when_pipeline_succeeds`. It is set only
        while the head pipeline runs; with no pipeline to wait for GitLab answers 405 (since 12.10).
        Without it, or once the pipeline passed, a mergeable merge request is merged at once. `sha`
        must be the source branch's head, else 409.
        """
        _no_write(token)
        mr = self._mr(repo, iid)
        if mr.state != "open":
            raise HttpError(405, "405 Method Not Allowed")
        head = repo.store.branch_sha(mr.head) or mr.head_sha
        auto = _bool(body.get("merge_when_pipeline_succeeds")) or (
            self.forge.gitlab_version >= (17, 11) and _bool(body.get("auto_merge"))
        )
        pipeline = self.pipeline(repo, head)
        state = self.forge.mergeable_state(repo, mr)
        automatically = auto and state != "draft" and pipeline == "running"
        immediately = state == "clean" and (pipeline == "success" if auto else True)
        if not automatically and not immediately:
            raise HttpError(405, "405 Method Not Allowed")
        if body.get("sha") and body["sha"] != head:
            raise HttpError(409, f"SHA does not match HEAD of source branch: {head}")
        if automatically and not immediately:
            mr.auto_merge = True
            return 200, self.mr_json(repo, mr)
        self.forge._merge(repo, mr, "squash" if _bool(body.get("squash")) else "merge", gitlab=True)
        return 200, self.mr_json(repo, mr)
