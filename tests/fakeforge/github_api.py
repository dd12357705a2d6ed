"""The GitHub REST v3 and GraphQL subset the fake forge answers, with GitHub's observable behaviours."""

from __future__ import annotations

import base64
import re
from typing import TYPE_CHECKING, Any

from .routes import Routes
from .server import HttpError, PullRequest, Repo, Token

if TYPE_CHECKING:
    from .server import FakeForge

_REPO = r"/api/v3/repos/(?P<o>[^/]+)/(?P<r>[^/]+)"
_SHA = re.compile(r"^[0-9a-f]{40}$")
BODY_MAX = 65_536  # characters, as GitHub's refusal words it
STATUS_DESCRIPTION_MAX = 140
COMPARE_FILES_MAX = 300
COMPARE_COMMITS_MAX = 250
GITHUB_COMMITTER = ("GitHub", "noreply@github.com")  # the committer of what GitHub commits itself (web-flow)
_MERGEABLE = ("clean", "unstable", "has_hooks")  # mergeable states GitHub merges (and will not auto-merge)
_STATUS_NAMES = {"A": "added", "M": "modified", "D": "removed", "R": "renamed", "T": "changed", "C": "copied"}


def _too_long(resource: str, field: str, maximum: int) -> HttpError:
    return HttpError(
        422,
        "Validation Failed",
        body={
            "message": "Validation Failed",
            "errors": [
                {
                    "resource": resource,
                    "code": "custom",
                    "field": field,
                    "message": f"{field} is too long (maximum is {maximum} characters)",
                }
            ],
            "documentation_url": "https://docs.github.com/rest",
            "status": "422",
        },
    )


def _invalid(error: dict[str, Any]) -> HttpError:
    """422 Validation Failed with one entry in `errors`, as GitHub words its refusals of a pull request."""
    return HttpError(
        422,
        "Validation Failed",
        body={
            "message": "Validation Failed",
            "errors": [{"resource": "PullRequest", **error}],
            "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
            "status": "422",
        },
    )


def _check_body(body: Any) -> None:
    if isinstance(body, str) and len(body) > BODY_MAX:
        raise _too_long("Issue", "body", BODY_MAX)


def _no_write(token: Token) -> None:
    if not token.write:
        raise HttpError(403, "Resource not accessible by integration")


class GitHubApi:
    def __init__(self, forge: FakeForge) -> None:
        from .checks import CheckRuns

        self.forge = forge
        checks = CheckRuns(self)
        r = _REPO
        self.routes = Routes(
            [
                ("POST", r + r"/check-runs", checks.create),
                ("PATCH", r + r"/check-runs/(?P<rid>\d+)", checks.update),
                ("GET", r + r"/commits/(?P<ref>[^/]+)/check-runs", checks.list_for_ref),
                ("GET", r + r"/commits/(?P<ref>[^/]+)/pulls", checks.pulls_of_commit),
                ("GET", r"/api/v3/user", self.get_user),
                ("GET", r, self.get_repo),
                ("GET", r + r"/branches/(?P<b>.+)", self.get_branch),
                ("GET", r + r"/git/ref/heads/(?P<b>.+)", self.get_ref),
                ("POST", r + r"/git/refs", self.create_ref),
                ("PATCH", r + r"/git/refs/heads/(?P<b>.+)", self.update_ref),
                ("DELETE", r + r"/git/refs/heads/(?P<b>.+)", self.delete_ref),
                ("POST", r + r"/git/trees", self.create_tree),
                ("POST", r + r"/git/blobs", self.create_blob),
                ("PUT", r + r"/contents/(?P<path>.+)", self.put_contents),
                ("POST", r + r"/git/commits", self.create_commit),
                ("GET", r + r"/git/commits/(?P<sha>[0-9a-f]{40})", self.get_git_commit),
                ("GET", r + r"/commits/(?P<ref>.+)/status", self.combined_status),
                ("GET", r + r"/commits/(?P<ref>.+)/statuses", self.list_statuses),
                ("GET", r + r"/compare/(?P<basehead>.+)", self.compare),
                ("GET", r + r"/commits/(?P<ref>.+)", self.get_commit),
                ("POST", r + r"/statuses/(?P<sha>[0-9a-f]{40})", self.create_status),
                ("GET", r + r"/contents/(?P<path>.+)", self.get_contents),
                ("GET", r + r"/pulls", self.list_pulls),
                ("POST", r + r"/pulls", self.create_pull),
                ("GET", r + r"/pulls/(?P<n>\d+)", self.get_pull),
                ("PATCH", r + r"/pulls/(?P<n>\d+)", self.edit_pull),
                ("PUT", r + r"/pulls/(?P<n>\d+)/merge", self.merge_pull),
                ("POST", r + r"/pulls/(?P<n>\d+)/requested_reviewers", self.request_reviewers),
                ("GET", r + r"/pulls/(?P<n>\d+)/reviews", self.list_reviews),
                ("GET", r + r"/issues/(?P<n>\d+)/comments", self.list_comments),
                ("POST", r + r"/issues/(?P<n>\d+)/comments", self.create_comment),
                ("POST", r + r"/issues/(?P<n>\d+)/labels", self.add_labels),
                ("POST", r + r"/issues/(?P<n>\d+)/assignees", self.add_assignees),
                ("PATCH", r + r"/issues/(?P<n>\d+)", self.edit_issue),
                ("POST", r"/api/graphql", self.graphql),
            ],
            not_found="Not Found",
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
        if "o" in args:
            repo = self.forge.repos.get(f"{args.pop('o')}/{args.pop('r')}")
            if repo is None:
                raise HttpError(404, "Not Found")
        return fn(repo=repo, query=query, body=body or {}, token=token, **args)

    # ---- JSON shapes -----------------------------------------------------------------------
    def _api(self, repo: Repo) -> str:
        return f"{self.forge.github_url}/repos/{repo.full_name}"

    def repo_json(self, repo: Repo) -> dict[str, Any]:
        return {
            "id": repo.id,
            "node_id": f"R_{repo.id}",
            "name": repo.full_name.split("/")[1],
            "full_name": repo.full_name,
            "owner": {"login": repo.owner},
            "default_branch": repo.default_branch,
            "url": self._api(repo),
            "html_url": f"{self.forge.url}/{repo.full_name}",
            "allow_auto_merge": repo.allow_auto_merge,
            "permissions": {"pull": True, "push": True},
        }

    def commit_json(self, repo: Repo, sha: str) -> dict[str, Any]:
        info = repo.store.commit_info(sha)
        return {
            "sha": sha,
            "node_id": f"C_{sha}",
            "url": f"{self._api(repo)}/commits/{sha}",
            "html_url": f"{self.forge.url}/{repo.full_name}/commit/{sha}",
            "commit": {
                "message": info.message,
                "tree": {
                    "sha": info.tree,
                    "url": f"{self._api(repo)}/git/trees/{info.tree}",
                },
                "author": {
                    "name": info.author_name,
                    "email": info.author_email,
                    "date": "2026-01-01T00:00:00Z",
                },
                "committer": {
                    "name": info.committer_name,
                    "email": info.committer_email,
                    "date": "2026-01-01T00:00:00Z",
                },
                "url": f"{self._api(repo)}/git/commits/{sha}",
                "verification": self._verification(repo, sha),
            },
            "parents": [{"sha": p, "url": f"{self._api(repo)}/commits/{p}"} for p in info.parents],
        }

    def pull_json(self, repo: Repo, pr: PullRequest) -> dict[str, Any]:
        store = repo.store
        head_sha = store.branch_sha(pr.head) or pr.head_sha
        base_sha = store.branch_sha(pr.base) or ""
        state = self.mergeable_state(repo, pr) if pr.state == "open" else "unknown"
        return {
            "id": repo.id * 100000 + pr.number,
            "node_id": f"PR_{repo.id}_{pr.number}",
            "number": pr.number,
            "url": f"{self._api(repo)}/pulls/{pr.number}",
            "html_url": f"{self.forge.url}/{repo.full_name}/pull/{pr.number}",
            "state": "open" if pr.state == "open" else "closed",
            "merged": pr.state == "merged",
            "merged_at": pr.merged_at,
            "merge_commit_sha": pr.merge_commit,
            "title": pr.title,
            "body": pr.body,
            "draft": pr.draft,
            "user": {"login": pr.author},
            "head": {
                "ref": pr.head,
                "sha": head_sha,
                "label": f"{repo.owner}:{pr.head}",
                "repo": self.repo_json(repo),
            },
            "base": {
                "ref": pr.base,
                "sha": base_sha,
                "label": f"{repo.owner}:{pr.base}",
                "repo": self.repo_json(repo),
            },
            "labels": [{"name": n} for n in pr.labels],
            "requested_reviewers": [{"login": n} for n in pr.reviewers],
            "requested_teams": [{"slug": n} for n in pr.team_reviewers],
            "assignees": [{"login": n} for n in pr.assignees],
            "mergeable": state in _MERGEABLE,
            "mergeable_state": state,
            "auto_merge": {"merge_method": "merge"} if pr.auto_merge else None,
        }

    def mergeable_state(self, repo: Repo, pr: PullRequest) -> str:
        """GitHub's mergeable_state: the shared one (clean | blocked | draft), told apart further as
        GitHub does: `unstable` when a status that is not required is failing or pending, `has_hooks`
        when the repository runs pre-receive hooks (GitHub Enterprise Server)."""
        state = self.forge.mergeable_state(repo, pr)
        if state != "clean":
            return state
        head = repo.store.branch_sha(pr.head) or pr.head_sha
        latest: dict[str, str] = {}
        for s in repo.statuses.get(head, []):  # newest first
            latest.setdefault(s["context"], s["state"])
        if any(v != "success" for v in latest.values()):
            return "unstable"
        return "has_hooks" if repo.pre_receive_hooks else "clean"

    # ---- repository, branches, refs ----------------------------------------------------------
    def get_user(self, *, repo: None, token: Token, **_: Any) -> tuple[int, Any]:
        return 200, {"login": token.login, "id": token.user_id}

    def get_repo(self, *, repo: Repo, **_: Any) -> tuple[int, Any]:
        return 200, self.repo_json(repo)

    def get_branch(self, *, repo: Repo, b: str, **_: Any) -> tuple[int, Any]:
        sha = repo.store.branch_sha(b)
        if sha is None:
            raise HttpError(404, "Branch not found")
        return 200, {
            "name": b,
            "commit": self.commit_json(repo, sha),
            "protected": repo.is_protected(b),
        }

    def get_ref(self, *, repo: Repo, b: str, **_: Any) -> tuple[int, Any]:
        sha = repo.store.branch_sha(b)
        if sha is None:
            raise HttpError(404, "Not Found")
        return 200, self._ref_json(repo, b, sha)

    def _ref_json(self, repo: Repo, branch: str, sha: str) -> dict[str, Any]:
        return {
            "ref": f"refs/heads/{branch}",
            "node_id": f"REF_{branch}",
            "url": f"{self._api(repo)}/git/refs/heads/{branch}",
            "object": {
                "sha": sha,
                "type": "commit",
                "url": f"{self._api(repo)}/git/commits/{sha}",
            },
        }

    def create_ref(self, *, repo: Repo, body: dict[str, Any], token: Token, **_: Any) -> tuple[int, Any]:
        _no_write(token)
        ref, sha = str(body.get("ref", "")), str(body.get("sha", ""))
        if not ref.startswith("refs/") or ref.count("/") < 2:
            raise HttpError(422, "Reference name is not valid")
        if not _SHA.match(sha) or repo.store.object_type(sha) != "commit":
            raise HttpError(422, "Object does not exist")
        branch = ref.removeprefix("refs/heads/")
        if repo.store.branch_sha(branch) is not None:
            raise HttpError(422, "Reference already exists")
        if repo.is_protected(branch):
            raise HttpError(422, f"Protected branch update failed for {ref}.")
        self._check_signed(repo, branch, sha)
        repo.store.update_ref(branch, sha, "0" * 40)
        return 201, self._ref_json(repo, branch, sha)

    def update_ref(self, *, repo: Repo, b: str, body: dict[str, Any], token: Token, **_: Any) -> tuple[int, Any]:
        _no_write(token)
        old = repo.store.branch_sha(b)
        if old is None:
            raise HttpError(422, "Reference does not exist")
        sha = str(body.get("sha", ""))
        if repo.store.object_type(sha) != "commit":
            raise HttpError(422, "Object does not exist")
        if repo.is_protected(b):
            raise HttpError(422, f"Protected branch update failed for refs/heads/{b}.")
        if not body.get("force") and not repo.store.is_ancestor(old, sha):
            raise HttpError(422, "Update is not a fast forward")
        self._check_signed(repo, b, sha)
        repo.store.update_ref(b, sha, old)
        return 200, self._ref_json(repo, b, sha)

    @staticmethod
    def _check_signed(repo: Repo, branch: str, sha: str) -> None:
        if repo.unsigned_commits(branch, sha):
            raise HttpError(
                422,
                f"Protected branch update failed for refs/heads/{branch}. Commits must have verified signatures.",
            )

    def delete_ref(self, *, repo: Repo, b: str, token: Token, **_: Any) -> tuple[int, Any]:
        _no_write(token)
        if repo.store.branch_sha(b) is None:
            raise HttpError(422, "Reference does not exist")
        if repo.is_protected(b):
            raise HttpError(422, f"Protected branch update failed for refs/heads/{b}.")
        repo.store.delete_ref(b)
        return 204, None

    # ---- Git Data: trees and commits ---------------------------------------------------------
    def create_blob(self, *, repo: Repo, body: dict[str, Any], token: Token, **_: Any) -> tuple[int, Any]:
        _no_write(token)
        if not repo.store.branches():
            raise HttpError(409, "Git Repository is empty.")
        raw = str(body.get("content", ""))
        data = base64.b64decode(raw) if body.get("encoding") == "base64" else raw.encode()
        sha = repo.store.git("hash-object", "-w", "--stdin", input=data).strip()
        return 201, {"sha": sha, "url": f"{self._api(repo)}/git/blobs/{sha}"}

    def put_contents(self, *, repo: Repo, path: str, body: dict[str, Any], token: Token, **_: Any) -> tuple[int, Any]:
        """The contents API: one commit per file; a stale blob sha answers 409."""
        _no_write(token)
        branch = str(body.get("branch") or repo.default_branch)
        head = repo.store.branch_sha(branch)
        if head is None:
            raise HttpError(404, f"Branch {branch} not found")
        current = repo.store.blob_sha(head, path)
        if current is not None and body.get("sha") != current:
            raise HttpError(409, f"{path} does not match {body.get('sha')}")
        if current is None and body.get("sha"):
            raise HttpError(422, "sha wasn't supplied.")
        if repo.is_protected(branch):
            raise HttpError(409, f"Protected branch update failed for refs/heads/{branch}.")
        content = base64.b64decode(str(body.get("content", "")))
        sha = repo.store.commit_files(
            head,
            {path: content},
            str(body.get("message", "")),
            author=(token.login, f"{token.login}@users.noreply.fake"),
        )
        self._check_signed(repo, branch, sha)
        repo.store.update_ref(branch, sha, head)
        return (201 if current is None else 200), {
            "content": {"path": path, "sha": repo.store.blob_sha(sha, path)},
            "commit": {"sha": sha},
        }

    def create_tree(self, *, repo: Repo, body: dict[str, Any], token: Token, **_: Any) -> tuple[int, Any]:
        _no_write(token)
        if not repo.store.branches():
            raise HttpError(409, "Git Repository is empty.")
        base = body.get("base_tree")
        if base and repo.store.object_type(base) != "tree":
            raise HttpError(422, "base_tree is not a valid tree oid")
        entries: dict[str, bytes | str | None] = {}
        for e in body.get("tree", []):
            if "content" in e:
                entries[e["path"]] = str(e["content"]).encode()
            else:
                entries[e["path"]] = e.get("sha")
        sha = repo.store.write_tree(base, entries)
        return 201, {
            "sha": sha,
            "url": f"{self._api(repo)}/git/trees/{sha}",
            "tree": [],
            "truncated": False,
        }

    def create_commit(self, *, repo: Repo, body: dict[str, Any], token: Token, **_: Any) -> tuple[int, Any]:
        _no_write(token)
        tree, parents = body.get("tree", ""), list(body.get("parents", []))
        if repo.store.object_type(tree) != "tree" or any(repo.store.object_type(p) != "commit" for p in parents):
            raise HttpError(
                422,
                "Tree SHA does not exist" if repo.store.object_type(tree) != "tree" else "Parent SHA does not exist",
            )
        sha = repo.store.commit_tree(
            tree,
            parents,
            str(body.get("message", "")),
            author=(token.login, f"{token.login}@users.noreply.fake"),
        )
        return 201, self._git_commit_json(repo, sha)

    def get_git_commit(self, *, repo: Repo, sha: str, **_: Any) -> tuple[int, Any]:
        if repo.store.object_type(sha) != "commit":
            raise HttpError(404, "Not Found")
        return 200, self._git_commit_json(repo, sha)

    def _git_commit_json(self, repo: Repo, sha: str) -> dict[str, Any]:
        info = repo.store.commit_info(sha)
        return {
            "sha": sha,
            "url": f"{self._api(repo)}/git/commits/{sha}",
            "message": info.message,
            "tree": {"sha": info.tree},
            "parents": [{"sha": p} for p in info.parents],
            "author": {
                "name": info.author_name,
                "email": info.author_email,
                "date": "2026-01-01T00:00:00Z",
            },
            "committer": {
                "name": info.committer_name,
                "email": info.committer_email,
                "date": "2026-01-01T00:00:00Z",
            },
            "verification": self._verification(repo, sha),
        }

    @staticmethod
    def _verification(repo: Repo, sha: str) -> dict[str, Any]:
        signed = sha in repo.signed
        return {"verified": signed, "reason": "valid" if signed else "unsigned", "signature": None, "payload": None}

    def get_commit(self, *, repo: Repo, ref: str, **_: Any) -> tuple[int, Any]:
        sha = repo.store.rev_parse(ref) if _SHA.match(ref) else repo.store.branch_sha(ref)
        if sha is None:
            raise HttpError(422, f"No commit found for SHA: {ref}")
        return 200, self.commit_json(repo, sha)

    # ---- statuses ----------------------------------------------------------------------------
    def create_status(self, *, repo: Repo, sha: str, body: dict[str, Any], token: Token, **_: Any) -> tuple[int, Any]:
        _no_write(token)
        if body.get("state") not in ("error", "failure", "pending", "success"):
            raise HttpError(422, "Validation Failed")
        if len(str(body.get("description") or "")) > STATUS_DESCRIPTION_MAX:
            raise _too_long("Status", "description", STATUS_DESCRIPTION_MAX)
        if repo.store.object_type(sha) != "commit":
            raise HttpError(422, f"No commit found for SHA: {sha}")
        status = {
            "state": body["state"],
            "context": body.get("context", "default"),
            "description": body.get("description"),
            "target_url": body.get("target_url"),
        }
        # Later statuses of one context replace earlier ones in the combined view.
        repo.statuses.setdefault(sha, []).insert(0, status)
        return 201, {"id": len(repo.statuses[sha]), **status}

    def combined_status(self, *, repo: Repo, ref: str, **_: Any) -> tuple[int, Any]:
        sha = repo.store.rev_parse(ref) if _SHA.match(ref) else repo.store.branch_sha(ref)
        if sha is None:
            raise HttpError(404, "Not Found")
        latest: dict[str, dict[str, Any]] = {}
        for s in repo.statuses.get(sha, []):
            latest.setdefault(s["context"], s)
        states = [s["state"] for s in latest.values()]
        state = (
            "failure"
            if {"failure", "error"} & set(states)
            else "pending"
            if "pending" in states or not states
            else "success"
        )
        return 200, {
            "state": state,
            "sha": sha,
            "statuses": list(latest.values()),
            "total_count": len(latest),
        }

    def list_statuses(self, *, repo: Repo, ref: str, **_: Any) -> tuple[int, Any]:
        sha = repo.store.rev_parse(ref) if _SHA.match(ref) else repo.store.branch_sha(ref)
        if sha is None:
            raise HttpError(404, "Not Found")
        return 200, list(repo.statuses.get(sha, []))  # newest first, as GitHub lists them

    # ---- compare -----------------------------------------------------------------------------
    def compare(self, *, repo: Repo, basehead: str, **_: Any) -> tuple[int, Any]:
        """`BASE...HEAD`: what HEAD holds above the merge base, files with their patches (at most 300)."""
        if "..." not in basehead:
            raise HttpError(404, "Not Found")
        base_ref, head_ref = basehead.split("...", 1)
        store = repo.store
        base = store.rev_parse(base_ref) if _SHA.match(base_ref) else store.branch_sha(base_ref)
        head = store.rev_parse(head_ref) if _SHA.match(head_ref) else store.branch_sha(head_ref)
        if base is None or head is None:
            raise HttpError(404, "Not Found")
        mb = store.merge_base(base, head)
        if mb is None:
            raise HttpError(404, f"No common ancestor between {base_ref} and {head_ref}.")
        commits = store.commits_between(base, head)
        files = []
        for letter, path, previous in store.diff_entries(mb, head)[:COMPARE_FILES_MAX]:
            entry: dict[str, Any] = {
                "sha": store.blob_sha(head, path) if letter != "D" else store.blob_sha(mb, path),
                "filename": path,
                "status": _STATUS_NAMES.get(letter, "modified"),
                "patch": store.file_patch(mb, head, path, previous),
            }
            if previous:
                entry["previous_filename"] = previous
            files.append(entry)
        behind = len(store.commits_between(head, base))
        return 200, {
            "url": f"{self._api(repo)}/compare/{basehead}",
            "html_url": f"{self.forge.url}/{repo.full_name}/compare/{basehead}",
            "base_commit": self.commit_json(repo, base),
            "merge_base_commit": self.commit_json(repo, mb),
            "status": "identical"
            if not commits and not behind
            else "ahead"
            if not behind
            else "behind"
            if not commits
            else "diverged",
            "ahead_by": len(commits),
            "behind_by": behind,
            "total_commits": len(commits),
            "commits": [self.commit_json(repo, c) for c in commits[:COMPARE_COMMITS_MAX]],
            "files": files,
        }

    # ---- contents ----------------------------------------------------------------------------
    def get_contents(self, *, repo: Repo, path: str, query: dict[str, list[str]], **_: Any) -> tuple[int, Any]:
        ref = query.get("ref", [repo.default_branch])[0]
        sha = repo.store.rev_parse(ref) if _SHA.match(ref) else repo.store.branch_sha(ref)
        if sha is None:
            raise HttpError(404, f"No commit found for the ref {ref}")
        data = repo.store.read_file(sha, path)
        if data is None:
            raise HttpError(404, "Not Found")
        return 200, {
            "type": "file",
            "encoding": "base64",
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "size": len(data),
            "sha": repo.store.blob_sha(sha, path),
            "content": base64.encodebytes(data).decode(),
            "url": f"{self._api(repo)}/contents/{path}?ref={ref}",
        }

    # ---- pull requests -----------------------------------------------------------------------
    def list_pulls(self, *, repo: Repo, query: dict[str, list[str]], **_: Any) -> tuple[int, Any]:
        state = query.get("state", ["open"])[0]
        head = query.get("head", [None])[0]
        base = query.get("base", [None])[0]
        out = []
        for pr in sorted(repo.pulls.values(), key=lambda p: -p.number):
            if state != "all" and (pr.state == "open") != (state == "open"):
                continue
            # GitHub's quirk: the head filter only applies in the owner:branch form; a bare branch
            # name is ignored and every PR comes back (PyGithub issue 1566).
            if head and ":" in head and head != f"{repo.owner}:{pr.head}":
                continue
            if base and base != pr.base:
                continue
            out.append(self.pull_json(repo, pr))
        page = int(query.get("page", ["1"])[0])
        per_page = int(query.get("per_page", ["30"])[0])
        return 200, out[(page - 1) * per_page : page * per_page]

    def create_pull(self, *, repo: Repo, body: dict[str, Any], token: Token, **_: Any) -> tuple[int, Any]:
        _no_write(token)
        head, base = str(body.get("head", "")), str(body.get("base", ""))
        head = head.split(":", 1)[1] if ":" in head else head
        if not body.get("title"):
            raise HttpError(422, "Validation Failed: title is missing")
        _check_body(body.get("body"))
        if repo.store.branch_sha(base) is None:
            raise _invalid({"field": "base", "code": "invalid"})
        if repo.store.branch_sha(head) is None:
            raise _invalid({"field": "head", "code": "invalid"})
        for pr in repo.pulls.values():
            if pr.state == "open" and pr.head == head and pr.base == base:
                raise _invalid({"code": "custom", "message": f"A pull request already exists for {repo.owner}:{head}."})
        if body.get("draft") and not repo.drafts_supported:
            raise HttpError(422, "Draft pull requests are not supported in this repository.")
        if not repo.store.changed_paths(repo.store.branch_sha(base) or "", repo.store.branch_sha(head) or ""):
            # What a parallel run that just moved the branch back onto its base leaves for a moment.
            raise _invalid({"code": "custom", "message": f"No commits between {base} and {head}"})
        pr = PullRequest(
            number=repo.next_number(),
            title=str(body["title"]),
            body=str(body.get("body") or ""),
            head=head,
            base=base,
            author=token.login,
            draft=bool(body.get("draft", False)),
        )
        pr.head_sha = repo.store.branch_sha(head) or ""
        repo.pulls[pr.number] = pr
        return 201, self.pull_json(repo, pr)

    def _pull(self, repo: Repo, n: str) -> PullRequest:
        pr = repo.pulls.get(int(n))
        if pr is None:
            raise HttpError(404, "Not Found")
        return pr

    def get_pull(self, *, repo: Repo, n: str, **_: Any) -> tuple[int, Any]:
        return 200, self.pull_json(repo, self._pull(repo, n))

    def edit_pull(self, *, repo: Repo, n: str, body: dict[str, Any], token: Token, **_: Any) -> tuple[int, Any]:
        _no_write(token)
        pr = self._pull(repo, n)
        _check_body(body.get("body"))
        if "title" in body:
            pr.title = str(body["title"])
        if "body" in body:
            pr.body = str(body["body"] or "")
        if body.get("state") == "closed" and pr.state == "open":
            pr.state = "closed"
        if "base" in body:
            pr.base = str(body["base"])
        return 200, self.pull_json(repo, pr)

    def merge_pull(self, *, repo: Repo, n: str, body: dict[str, Any], token: Token, **_: Any) -> tuple[int, Any]:
        _no_write(token)
        pr = self._pull(repo, n)
        if pr.state != "open":
            raise HttpError(405, "Pull Request is not mergeable")
        state = self.mergeable_state(repo, pr)
        if state == "draft":
            raise HttpError(405, "Pull Request is still a draft")
        if state not in _MERGEABLE:
            raise HttpError(405, "Required status check is expected.")
        head = repo.store.branch_sha(pr.head) or pr.head_sha
        if body.get("sha") and body["sha"] != head:
            # "sha: SHA that pull request head must match to allow merge."
            raise HttpError(409, "Head branch was modified. Review and try the merge again.")
        sha = self.forge._merge(repo, pr, str(body.get("merge_method") or "merge"))
        return 200, {
            "sha": sha,
            "merged": True,
            "message": "Pull Request successfully merged",
        }

    def request_reviewers(self, *, repo: Repo, n: str, body: dict[str, Any], token: Token, **_: Any) -> tuple[int, Any]:
        _no_write(token)
        pr = self._pull(repo, n)
        for r in body.get("reviewers", []):
            if r == pr.author:
                raise HttpError(422, "Review cannot be requested from pull request author.")
            if r not in pr.reviewers:
                pr.reviewers.append(r)
        for t in body.get("team_reviewers", []):
            if t not in pr.team_reviewers:
                pr.team_reviewers.append(t)
        return 201, self.pull_json(repo, pr)

    def list_reviews(self, *, repo: Repo, n: str, **_: Any) -> tuple[int, Any]:
        pr = self._pull(repo, n)
        return 200, [
            {"id": i + 1, "user": {"login": r["login"]}, "state": r["state"], "commit_id": r["commit"]}
            for i, r in enumerate(pr.reviews)
        ]

    def list_comments(self, *, repo: Repo, n: str, **_: Any) -> tuple[int, Any]:
        pr = self._pull(repo, n)
        return 200, [
            {"id": i + 1, "user": {"login": c["author"]}, "body": c["body"]} for i, c in enumerate(pr.comments)
        ]

    def create_comment(self, *, repo: Repo, n: str, body: dict[str, Any], token: Token, **_: Any) -> tuple[int, Any]:
        _no_write(token)
        pr = self._pull(repo, n)
        text = body.get("body")
        if not text:
            raise HttpError(422, "Validation Failed: body is missing")
        if len(str(text)) > BODY_MAX:
            raise _too_long("IssueComment", "body", BODY_MAX)
        pr.comments.append({"author": token.login, "body": str(text)})
        return 201, {"id": len(pr.comments), "user": {"login": token.login}, "body": str(text)}

    def add_labels(self, *, repo: Repo, n: str, body: Any, token: Token, **_: Any) -> tuple[int, Any]:
        _no_write(token)
        pr = self._pull(repo, n)
        labels = body.get("labels", []) if isinstance(body, dict) else body
        for label in labels:
            if label not in pr.labels:
                pr.labels.append(label)
        return 200, [{"name": n} for n in pr.labels]

    def add_assignees(self, *, repo: Repo, n: str, body: dict[str, Any], token: Token, **_: Any) -> tuple[int, Any]:
        _no_write(token)
        pr = self._pull(repo, n)
        for a in body.get("assignees", []):
            if a not in pr.assignees:
                pr.assignees.append(a)
        return 201, {
            "number": pr.number,
            "assignees": [{"login": a} for a in pr.assignees],
        }

    def edit_issue(self, *, repo: Repo, n: str, body: dict[str, Any], token: Token, **_: Any) -> tuple[int, Any]:
        _no_write(token)
        pr = self._pull(repo, n)
        if "labels" in body:
            pr.labels = [str(x) for x in body["labels"]]
        if "assignees" in body:
            pr.assignees = [str(x) for x in body["assignees"]]
        return 200, {
            "number": pr.number,
            "labels": [{"name": x} for x in pr.labels],
            "assignees": [{"login": a} for a in pr.assignees],
        }

    # ---- GraphQL -----------------------------------------------------------------------------
    def graphql(self, *, repo: None, body: dict[str, Any], token: Token, **_: Any) -> tuple[int, Any]:
        query = str(body.get("query", ""))
        variables = body.get("variables") or {}
        m = re.search(
            r"\b(createCommitOnBranch|enablePullRequestAutoMerge|convertPullRequestToDraft|markPullRequestReadyForReview)\s*\(",
            query,
        )
        if not m:
            return 200, {"errors": [{"message": "the fake forge answers only the mutations promoter sends"}]}
        try:
            if m.group(1) == "createCommitOnBranch":
                data = self._create_commit_on_branch(variables.get("input") or {}, token)
            elif m.group(1) == "enablePullRequestAutoMerge":
                data = self._enable_auto_merge(variables.get("input") or {}, token)
            else:
                data = self._set_draft(variables.get("input") or {}, token, m.group(1) == "convertPullRequestToDraft")
        except _GraphQLError as exc:
            return 200, {
                "data": {m.group(1): None},
                "errors": [{"type": exc.type, "message": exc.message, "path": [m.group(1)]}],
            }
        return 200, {"data": {m.group(1): data}}

    def _create_commit_on_branch(self, inp: dict[str, Any], token: Token) -> dict[str, Any]:
        target = inp.get("branch") or {}
        repo = self.forge.repos.get(str(target.get("repositoryNameWithOwner", "")))
        if repo is None:
            raise _GraphQLError(
                "NOT_FOUND",
                f"Could not resolve to a Repository with the name '{target.get('repositoryNameWithOwner')}'.",
            )
        if not token.write:
            raise _GraphQLError("FORBIDDEN", "Resource not accessible by integration")
        branch = str(target.get("branchName", ""))
        head = repo.store.branch_sha(branch)
        if head is None:
            raise _GraphQLError(
                "NOT_FOUND",
                f"Could not resolve to a Ref with the name 'refs/heads/{branch}'.",
            )
        expected = inp.get("expectedHeadOid")
        if expected != head:
            raise _GraphQLError(
                "STALE_DATA",
                f'Expected branch to point to "{expected}" but it did not. Pull and try again.',
            )
        if repo.is_protected(branch):
            raise _GraphQLError(
                "UNPROCESSABLE",
                f"A commit to refs/heads/{branch} was rejected: Protected branch update failed.",
            )
        changes = inp.get("fileChanges") or {}
        files: dict[str, bytes | None] = {}
        for d in changes.get("deletions") or []:
            files[d["path"]] = None
        for a in changes.get("additions") or []:
            files[a["path"]] = base64.b64decode(a["contents"])
        msg = inp.get("message") or {}
        message = str(msg.get("headline", ""))
        if msg.get("body"):
            message += "\n\n" + str(msg["body"])
        sha = repo.store.commit_files(
            head,
            files,
            message,
            author=(token.login, f"{token.login}@users.noreply.fake"),
            committer=GITHUB_COMMITTER,  # GitHub commits these itself (web-flow) and signs them
        )
        repo.signed.add(sha)  # GitHub signs what it commits itself
        repo.store.update_ref(branch, sha, head)
        return {
            "commit": {
                "oid": sha,
                "url": f"{self.forge.url}/{repo.full_name}/commit/{sha}",
            }
        }

    def _node(self, inp: dict[str, Any], token: Token) -> tuple[Repo, PullRequest]:
        node = str(inp.get("pullRequestId", ""))
        m = re.match(r"^PR_(\d+)_(\d+)$", node)
        repo = self.forge.repo_by_id(m.group(1)) if m else None
        pr = repo.pulls.get(int(m.group(2))) if repo and m else None
        if repo is None or pr is None:
            raise _GraphQLError(
                "NOT_FOUND",
                f"Could not resolve to a node with the global id of '{node}'",
            )
        if not token.write:
            raise _GraphQLError("FORBIDDEN", "Resource not accessible by integration")
        return repo, pr

    def _set_draft(self, inp: dict[str, Any], token: Token, draft: bool) -> dict[str, Any]:
        repo, pr = self._node(inp, token)
        if draft and not repo.drafts_supported:
            raise _GraphQLError("UNPROCESSABLE", "Draft pull requests are not supported in this repository.")
        if pr.state != "open":
            raise _GraphQLError("UNPROCESSABLE", "Pull request is closed")
        pr.draft = draft
        return {"pullRequest": {"isDraft": pr.draft}}

    def _enable_auto_merge(self, inp: dict[str, Any], token: Token) -> dict[str, Any]:
        repo, pr = self._node(inp, token)
        if not repo.allow_auto_merge:
            raise _GraphQLError("UNPROCESSABLE", "Auto merge is not allowed for this repository")
        state = self.mergeable_state(repo, pr)
        if state in _MERGEABLE:
            # Mergeable already (clean; unstable: a check that is not required fails or is pending;
            # has_hooks: and pre-receive hooks run): GitHub has nothing to wait for, and refuses.
            raise _GraphQLError("UNPROCESSABLE", f"Pull request is in {state} status")
        pr.auto_merge = True
        return {"actor": {"login": token.login}, "clientMutationId": None}


class _GraphQLError(Exception):
    def __init__(self, type_: str, message: str) -> None:
        super().__init__(message)
        self.type = type_
        self.message = message
