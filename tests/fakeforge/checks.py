"""GitHub check runs and the pulls a commit belongs to: the routes the health gate and `promote --next` read.

Check runs as GitHub keeps them: one per (name, run), `status` queued | in_progress |
completed, `conclusion` once completed; listing a commit's runs gives the latest run of each
name (`filter=latest`, the default). The pulls of a commit are answered by fakeforge/merging.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .server import HttpError, Repo, Token

if TYPE_CHECKING:
    from .github_api import GitHubApi

_STATUSES = ("queued", "in_progress", "completed", "waiting", "requested", "pending")
_CONCLUSIONS = ("success", "failure", "neutral", "cancelled", "skipped", "timed_out", "action_required", "stale")


class CheckRuns:
    def __init__(self, api: GitHubApi) -> None:
        self.api = api
        self._ids = 0

    def _sha(self, repo: Repo, ref: str) -> str:
        import re

        sha = repo.store.rev_parse(ref) if re.fullmatch(r"[0-9a-f]{40}", ref) else repo.store.branch_sha(ref)
        if sha is None:
            raise HttpError(422, f"No commit found for SHA: {ref}")
        return sha

    def _json(self, repo: Repo, run: dict[str, Any]) -> dict[str, Any]:
        url = f"{self.api.forge.url}/{repo.full_name}/runs/{run['id']}"
        return {**run, "html_url": url, "details_url": run.get("details_url") or url}

    def create(self, *, repo: Repo, body: dict[str, Any], token: Token, **_: Any) -> tuple[int, Any]:
        if not token.write:
            raise HttpError(403, "Resource not accessible by integration")
        name, head = body.get("name"), str(body.get("head_sha") or "")
        if not name or not head:
            raise HttpError(422, "Validation Failed: name and head_sha are required")
        sha = self._sha(repo, head)
        status = str(body.get("status") or ("completed" if body.get("conclusion") else "queued"))
        if status not in _STATUSES:
            raise HttpError(422, f"Validation Failed: status {status!r}")
        conclusion = body.get("conclusion")
        if status == "completed" and conclusion not in _CONCLUSIONS:
            raise HttpError(422, "Validation Failed: conclusion is required when status is completed")
        self._ids += 1
        run = {
            "id": self._ids,
            "name": str(name),
            "head_sha": sha,
            "status": status,
            "conclusion": conclusion if status == "completed" else None,
            "details_url": body.get("details_url"),
            "output": body.get("output") or {"title": None, "summary": None},
        }
        repo.check_runs.setdefault(sha, []).append(run)
        return 201, self._json(repo, run)

    def update(self, *, repo: Repo, rid: str, body: dict[str, Any], token: Token, **_: Any) -> tuple[int, Any]:
        if not token.write:
            raise HttpError(403, "Resource not accessible by integration")
        run = next((r for runs in repo.check_runs.values() for r in runs if r["id"] == int(rid)), None)
        if run is None:
            raise HttpError(404, "Not Found")
        for key in ("status", "conclusion", "details_url", "output"):
            if key in body:
                run[key] = body[key]
        if run.get("conclusion") and run["status"] != "completed":
            run["status"] = "completed"
        return 200, self._json(repo, run)

    def list_for_ref(self, *, repo: Repo, ref: str, query: dict[str, list[str]], **_: Any) -> tuple[int, Any]:
        sha = self._sha(repo, ref)
        runs = repo.check_runs.get(sha, [])
        if query.get("filter", ["latest"])[0] == "latest":
            latest: dict[str, dict[str, Any]] = {}
            for r in runs:  # oldest first: a later run of the same name wins
                latest[r["name"]] = r
            runs = list(latest.values())
        if query.get("check_name"):
            runs = [r for r in runs if r["name"] == query["check_name"][0]]
        per_page = int(query.get("per_page", ["30"])[0])
        shown = sorted(runs, key=lambda r: -r["id"])[:per_page]
        return 200, {"total_count": len(runs), "check_runs": [self._json(repo, r) for r in shown]}

    def pulls_of_commit(self, *, repo: Repo, ref: str, **_: Any) -> tuple[int, Any]:
        from .merging import related

        sha = self._sha(repo, ref)
        return 200, [self.api.pull_json(repo, pr) for pr in related(repo, sha)]
