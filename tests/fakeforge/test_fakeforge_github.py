"""The fake forge's GitHub side reproduces the behaviours in FORGES.md, seen through plain HTTP and real PyGithub."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fakeforge import FakeForge

TOKEN = "ghp_fakeforgeTEST0123456789abcdefghij"
H = {"Authorization": f"token {TOKEN}", "Accept": "application/vnd.github+json"}


@pytest.fixture
def fake(tmp_path: Path):
    forge = FakeForge(tmp_path / "forge")
    forge.add_token(TOKEN, "promoter-bot")
    forge.add_token("readonly", "reader", write=False)
    forge.create_repo("acme/gitops", files={"a.yaml": "a: 1\n", "b.yaml": "b: 1\n"})
    yield forge
    forge.close()


def api(fake: FakeForge, path: str) -> str:
    return f"{fake.github_url}/repos/acme/gitops{path}"


def git_log(fake: FakeForge, ref: str) -> list[str]:
    out = subprocess.run(
        ["git", "log", "--format=%s", ref],
        cwd=fake.repo("acme/gitops").store.path,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.splitlines()


def branch(fake: FakeForge, name: str, files: dict[str, str], message: str = "work") -> str:
    return fake.push_commit("acme/gitops", name, files, message, start="main")


def open_pr(fake: FakeForge, head: str, title: str = "t") -> requests.Response:
    return requests.post(
        api(fake, "/pulls"),
        json={"title": title, "head": head, "base": "main", "body": "b"},
        headers=H,
    )


def test_real_pygithub_reaches_it_through_base_url(fake: FakeForge) -> None:
    from github import Auth, Github

    gh = Github(auth=Auth.Token(TOKEN), base_url=fake.github_url, retry=None, lazy=True)
    repo = gh.get_repo("acme/gitops")
    b = repo.get_branch("main")
    assert b.commit.sha == fake.repo("acme/gitops").store.branch_sha("main")
    assert repo.get_contents("a.yaml", ref="main").decoded_content == b"a: 1\n"
    assert [str(r) for r in fake.log] == [
        "GET /api/v3/repos/acme/gitops/branches/main 200",
        "GET /api/v3/repos/acme/gitops/contents/a.yaml 200",
    ]


def test_head_filter_needs_the_owner_prefix(fake: FakeForge) -> None:
    branch(fake, "one", {"a.yaml": "a: 2\n"})
    branch(fake, "two", {"b.yaml": "b: 2\n"})
    assert open_pr(fake, "one").status_code == 201
    assert open_pr(fake, "two").status_code == 201
    with_prefix = requests.get(api(fake, "/pulls"), params={"head": "acme:one", "state": "open"}, headers=H).json()
    without = requests.get(api(fake, "/pulls"), params={"head": "one", "state": "open"}, headers=H).json()
    assert [p["head"]["ref"] for p in with_prefix] == ["one"]
    assert sorted(p["head"]["ref"] for p in without) == [
        "one",
        "two",
    ]  # the filter is ignored


def test_second_pr_for_the_same_head_answers_422(fake: FakeForge) -> None:
    branch(fake, "one", {"a.yaml": "a: 2\n"})
    assert open_pr(fake, "one").status_code == 201
    again = open_pr(fake, "one")
    assert again.status_code == 422
    assert "A pull request already exists for acme:one" in again.text


def test_pr_without_commits_is_refused(fake: FakeForge) -> None:
    fake.push_commit("acme/gitops", "empty", {}, "nothing", start="main")
    r = open_pr(fake, "empty")
    assert r.status_code == 422 and "No commits between" in r.text


def test_refs_create_exists_and_non_fast_forward(fake: FakeForge) -> None:
    store = fake.repo("acme/gitops").store
    main = store.branch_sha("main")
    r = requests.post(api(fake, "/git/refs"), json={"ref": "refs/heads/x", "sha": main}, headers=H)
    assert r.status_code == 201 and store.branch_sha("x") == main
    r = requests.post(api(fake, "/git/refs"), json={"ref": "refs/heads/x", "sha": main}, headers=H)
    assert r.status_code == 422 and "Reference already exists" in r.text
    side = branch(fake, "side", {"a.yaml": "a: 3\n"})
    other = fake.push_commit("acme/gitops", "x", {"b.yaml": "b: 9\n"})
    r = requests.patch(api(fake, "/git/refs/heads/x"), json={"sha": side}, headers=H)
    assert r.status_code == 422 and "Update is not a fast forward" in r.text
    assert store.branch_sha("x") == other
    r = requests.patch(api(fake, "/git/refs/heads/x"), json={"sha": side, "force": True}, headers=H)
    assert r.status_code == 200 and store.branch_sha("x") == side


def test_git_data_tree_and_commit_are_real_git_objects(fake: FakeForge) -> None:
    store = fake.repo("acme/gitops").store
    main = store.branch_sha("main")
    tree = store.commit_info(main).tree
    t = requests.post(
        api(fake, "/git/trees"),
        json={
            "base_tree": tree,
            "tree": [
                {
                    "path": "dir/c.yaml",
                    "mode": "100644",
                    "type": "blob",
                    "content": "c: 1\n",
                }
            ],
        },
        headers=H,
    ).json()
    c = requests.post(
        api(fake, "/git/commits"),
        json={"message": "add c", "tree": t["sha"], "parents": [main]},
        headers=H,
    ).json()
    requests.post(api(fake, "/git/refs"), json={"ref": "refs/heads/c", "sha": c["sha"]}, headers=H)
    assert store.read_file("c", "dir/c.yaml") == b"c: 1\n" and store.read_file("c", "a.yaml") == b"a: 1\n"
    assert git_log(fake, "c") == ["add c", "initial"]


def test_empty_repository_answers_409_to_trees(tmp_path: Path) -> None:
    forge = FakeForge(tmp_path / "empty")
    forge.add_token(TOKEN)
    forge.create_repo("acme/empty")
    try:
        r = requests.post(
            f"{forge.github_url}/repos/acme/empty/git/trees",
            json={"tree": []},
            headers=H,
        )
        assert r.status_code == 409
    finally:
        forge.close()


def _commit_on_branch(fake: FakeForge, name: str, expected: str, contents: bytes, token: str = TOKEN) -> dict:
    query = "mutation Mutation($input: CreateCommitOnBranchInput!) { createCommitOnBranch(input: $input) { commit { oid } } }"
    variables = {
        "input": {
            "branch": {"repositoryNameWithOwner": "acme/gitops", "branchName": name},
            "expectedHeadOid": expected,
            "fileChanges": {
                "additions": [{"path": "a.yaml", "contents": base64.b64encode(contents).decode()}],
                "deletions": [{"path": "b.yaml"}],
            },
            "message": {"headline": "graphql commit", "body": "details"},
        }
    }
    return requests.post(
        f"{fake.url}/api/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"bearer {token}"},
    ).json()


def test_create_commit_on_branch_is_one_commit_and_checks_the_expected_head(
    fake: FakeForge,
) -> None:
    store = fake.repo("acme/gitops").store
    main = store.branch_sha("main")
    ok = _commit_on_branch(fake, "main", main, b"a: 42\n")
    sha = ok["data"]["createCommitOnBranch"]["commit"]["oid"]
    assert store.branch_sha("main") == sha
    assert store.read_file("main", "a.yaml") == b"a: 42\n" and store.read_file("main", "b.yaml") is None
    assert store.commit_info(sha).message == "graphql commit\n\ndetails"
    stale = _commit_on_branch(fake, "main", main, b"a: 43\n")
    assert stale["errors"][0]["type"] == "STALE_DATA" and store.branch_sha("main") == sha
    denied = _commit_on_branch(fake, "main", sha, b"a: 44\n", token="readonly")
    assert "Resource not accessible" in denied["errors"][0]["message"]


def test_auto_merge_needs_a_pending_pr_and_the_repository_setting(
    fake: FakeForge,
) -> None:
    branch(fake, "one", {"a.yaml": "a: 2\n"})
    pr = open_pr(fake, "one").json()
    query = "mutation Mutation($input: EnablePullRequestAutoMergeInput!) { enablePullRequestAutoMerge(input: $input) { clientMutationId } }"

    def enable() -> dict:
        return requests.post(
            f"{fake.url}/api/graphql",
            json={
                "query": query,
                "variables": {"input": {"pullRequestId": pr["node_id"]}},
            },
            headers=H,
        ).json()

    assert "clean status" in enable()["errors"][0]["message"]
    fake.repo("acme/gitops").require_checks = True
    assert "errors" not in enable() and fake.repo("acme/gitops").pulls[1].auto_merge
    fake.repo("acme/gitops").allow_auto_merge = False
    assert "not allowed" in enable()["errors"][0]["message"]


def test_merge_is_a_real_three_way_merge(fake: FakeForge) -> None:
    branch(fake, "one", {"a.yaml": "a: 2\n"})
    open_pr(fake, "one")
    fake.push_commit("acme/gitops", "main", {"b.yaml": "b: 2\n"})
    r = requests.put(api(fake, "/pulls/1/merge"), json={}, headers=H)
    assert r.status_code == 200
    store = fake.repo("acme/gitops").store
    assert store.read_file("main", "a.yaml") == b"a: 2\n" and store.read_file("main", "b.yaml") == b"b: 2\n"
    assert len(store.commit_info("main").parents) == 2
    assert requests.get(api(fake, "/pulls/1"), headers=H).json()["merged"] is True


def test_rebase_replays_each_commit_on_its_own_parent(fake: FakeForge) -> None:
    """Two commits editing the same line, main moved meanwhile (so the copies get new ids): each copy
    applies the commit's own change, as GitHub's rebase does. Replaying by a merge from the common
    ancestor made the second copy conflict with the first: "can't be rebased"."""
    branch(fake, "two", {"a.yaml": "a: 2\n"}, "step 0")
    fake.push_commit("acme/gitops", "two", {"a.yaml": "a: 3\n"}, "step 1")
    open_pr(fake, "two")
    fake.push_commit("acme/gitops", "main", {"b.yaml": "b: 2\n"}, "elsewhere")
    sha = fake.merge_pull("acme/gitops", 1, "rebase")
    store = fake.repo("acme/gitops").store
    assert git_log(fake, sha)[:3] == ["step 1", "step 0", "elsewhere"]
    assert store.read_file("main", "a.yaml") == b"a: 3\n" and store.read_file("main", "b.yaml") == b"b: 2\n"
    assert len(store.commit_info(sha).parents) == 1


def test_rebase_refuses_a_commit_that_does_not_apply(fake: FakeForge) -> None:
    branch(fake, "clash", {"a.yaml": "a: 2\n"}, "step 0")
    open_pr(fake, "clash")
    fake.push_commit("acme/gitops", "main", {"a.yaml": "a: 9\n"}, "main edits the same line")
    r = requests.put(api(fake, "/pulls/1/merge"), json={"merge_method": "rebase"}, headers=H)
    assert r.status_code == 405 and "can't be rebased" in r.json()["message"]
    assert fake.repo("acme/gitops").store.read_file("main", "a.yaml") == b"a: 9\n"


def test_statuses_gate_mergeability(fake: FakeForge) -> None:
    sha = branch(fake, "one", {"a.yaml": "a: 2\n"})
    open_pr(fake, "one")
    fake.repo("acme/gitops").require_checks = True
    assert requests.put(api(fake, "/pulls/1/merge"), json={}, headers=H).status_code == 405
    requests.post(
        api(fake, f"/statuses/{sha}"),
        json={"state": "success", "context": "promoter"},
        headers=H,
    )
    assert requests.get(api(fake, "/commits/one/status"), headers=H).json()["state"] == "success"
    assert requests.put(api(fake, "/pulls/1/merge"), json={}, headers=H).status_code == 200


def test_labels_reviewers_and_assignees(fake: FakeForge) -> None:
    branch(fake, "one", {"a.yaml": "a: 2\n"})
    open_pr(fake, "one")
    requests.post(api(fake, "/issues/1/labels"), json={"labels": ["promotion"]}, headers=H)
    requests.post(
        api(fake, "/pulls/1/requested_reviewers"),
        json={"reviewers": ["alice"], "team_reviewers": ["sre"]},
        headers=H,
    )
    requests.post(api(fake, "/issues/1/assignees"), json={"assignees": ["bob"]}, headers=H)
    pr = requests.get(api(fake, "/pulls/1"), headers=H).json()
    assert [x["name"] for x in pr["labels"]] == ["promotion"]
    assert [x["login"] for x in pr["requested_reviewers"]] == ["alice"] and [
        x["slug"] for x in pr["requested_teams"]
    ] == ["sre"]
    assert [x["login"] for x in pr["assignees"]] == ["bob"]


def test_auth_unknown_repo_no_write_and_protected_branches(fake: FakeForge) -> None:
    assert requests.get(api(fake, "/branches/main"), headers={"Authorization": "token wrong"}).status_code == 401
    assert requests.get(f"{fake.github_url}/repos/acme/nope", headers=H).status_code == 404
    main = fake.repo("acme/gitops").store.branch_sha("main")
    ro = {"Authorization": "token readonly"}
    r = requests.post(api(fake, "/git/refs"), json={"ref": "refs/heads/y", "sha": main}, headers=ro)
    assert r.status_code == 403 and "Resource not accessible by integration" in r.text
    fake.repo("acme/gitops").protected = ["release/*"]
    r = requests.post(
        api(fake, "/git/refs"),
        json={"ref": "refs/heads/release/1", "sha": main},
        headers=H,
    )
    assert r.status_code == 422 and "Protected branch" in r.text


def test_fault_switches_and_the_request_log(fake: FakeForge) -> None:
    url = api(fake, "/branches/main")
    fake.fail_next(r"/branches/main$", status=503, times=2)
    assert [requests.get(url, headers=H).status_code for _ in range(3)] == [
        503,
        503,
        200,
    ]
    fake.rate_limit_next(r"/branches/main$", kind="secondary", retry_after=9)
    r = requests.get(url, headers=H)
    assert r.status_code == 403 and r.headers["Retry-After"] == "9" and "secondary rate limit" in r.text
    fake.rate_limit_next(r"/branches/main$", kind="primary", status=429, retry_after=None, reset_in=60)
    r = requests.get(url, headers=H)
    assert (
        r.status_code == 429 and r.headers["X-RateLimit-Remaining"] == "0" and int(r.headers["X-RateLimit-Reset"]) > 0
    )
    fake.drop_next(r"/branches/main$")
    with pytest.raises(requests.ConnectionError):
        requests.get(url, headers=H)
    fake.slow_next(r"/branches/main$", delay=1.5)
    with pytest.raises(requests.Timeout):
        requests.get(url, headers=H, timeout=0.3)
    assert [r.status for r in fake.requests(r"/branches/main$")][:6] == [
        503,
        503,
        200,
        403,
        429,
        0,
    ]


def test_hook_fires_on_the_nth_request(fake: FakeForge) -> None:
    seen: list[str] = []
    fake.on_request(
        lambda f: seen.append(f.repo("acme/gitops").store.branch_sha("main") or ""),
        nth=2,
    )
    requests.get(api(fake, "/branches/main"), headers=H)
    assert seen == []
    requests.get(api(fake, "/branches/main"), headers=H)
    assert len(seen) == 1


def test_contents_api_commits_one_file_and_refuses_a_stale_sha(fake: FakeForge) -> None:
    store = fake.repo("acme/gitops").store
    blob = store.blob_sha("main", "a.yaml")
    body = {
        "message": "edit a",
        "content": base64.b64encode(b"a: 5\n").decode(),
        "sha": blob,
        "branch": "main",
    }
    assert requests.put(api(fake, "/contents/a.yaml"), json=body, headers=H).status_code == 200
    assert store.read_file("main", "a.yaml") == b"a: 5\n" and git_log(fake, "main")[0] == "edit a"
    stale = requests.put(
        api(fake, "/contents/a.yaml"),
        json={**body, "content": base64.b64encode(b"a: 6\n").decode()},
        headers=H,
    )
    assert stale.status_code == 409 and store.read_file("main", "a.yaml") == b"a: 5\n"


def test_blobs_and_signed_commit_protection(fake: FakeForge) -> None:
    store = fake.repo("acme/gitops").store
    r = requests.post(
        api(fake, "/git/blobs"),
        json={"content": "x: 1\n", "encoding": "utf-8"},
        headers=H,
    )
    assert r.status_code == 201 and store.object_type(r.json()["sha"]) == "blob"
    fake.repo("acme/gitops").signed_only = ["signed/*"]
    main = store.branch_sha("main")
    # A branch at an existing commit brings nothing new: allowed.
    assert (
        requests.post(
            api(fake, "/git/refs"),
            json={"ref": "refs/heads/signed/a", "sha": main},
            headers=H,
        ).status_code
        == 201
    )
    unsigned = store.commit_files(main, {"a.yaml": b"a: 7\n"}, "unsigned")
    r = requests.patch(api(fake, "/git/refs/heads/signed/a"), json={"sha": unsigned}, headers=H)
    assert r.status_code == 422 and "verified signatures" in r.text
    signed = _commit_on_branch(fake, "signed/a", main, b"a: 8\n")
    assert "errors" not in signed and store.read_file("signed/a", "a.yaml") == b"a: 8\n"


def test_compare_lists_commits_files_and_hunks_above_the_merge_base(fake: FakeForge) -> None:
    store = fake.repo("acme/gitops").store
    first = branch(fake, "feature", {"a.yaml": "a: 2\n", "c.yaml": "c: 1\n"}, "one")
    second = fake.push_commit("acme/gitops", "feature", {"b.yaml": None}, "two")
    fake.push_commit("acme/gitops", "main", {"a.yaml": "a: 9\n"}, "main moves on")  # three dots ignore it
    data = requests.get(api(fake, "/compare/main...feature"), headers=H).json()
    assert [c["sha"] for c in data["commits"]] == [first, second] and data["status"] == "diverged"
    assert data["merge_base_commit"]["sha"] == store.commit_info(first).parents[0]
    files = {f["filename"]: f for f in data["files"]}
    assert {k: v["status"] for k, v in files.items()} == {"a.yaml": "modified", "b.yaml": "removed", "c.yaml": "added"}
    assert files["a.yaml"]["patch"] == "@@ -1 +1 @@\n-a: 1\n+a: 2\n"
    assert files["a.yaml"]["sha"] == store.blob_sha("feature", "a.yaml")
    assert requests.get(api(fake, "/compare/main...nope"), headers=H).status_code == 404


def test_reviews_comments_drafts_and_required_status_contexts(fake: FakeForge) -> None:
    sha = branch(fake, "one", {"a.yaml": "a: 2\n"})
    open_pr(fake, "one")
    fake.approve("acme/gitops", 1, "alice")
    fake.approve("acme/gitops", 1, "bob", "CHANGES_REQUESTED")
    reviews = requests.get(api(fake, "/pulls/1/reviews"), headers=H).json()
    assert [(r["user"]["login"], r["state"]) for r in reviews] == [("alice", "APPROVED"), ("bob", "CHANGES_REQUESTED")]
    assert requests.post(api(fake, "/issues/1/comments"), json={"body": "hi @alice"}, headers=H).status_code == 201
    assert [c["body"] for c in requests.get(api(fake, "/issues/1/comments"), headers=H).json()] == ["hi @alice"]
    # Draft through GraphQL, as GitHub does it (REST cannot).
    query = "mutation($input: ConvertPullRequestToDraftInput!) { convertPullRequestToDraft(input: $input) { pullRequest { isDraft } } }"
    r = requests.post(
        f"{fake.url}/api/graphql", json={"query": query, "variables": {"input": {"pullRequestId": "PR_1_1"}}}, headers=H
    )
    assert r.json()["data"]["convertPullRequestToDraft"]["pullRequest"]["isDraft"] is True
    assert (
        requests.put(api(fake, "/pulls/1/merge"), json={}, headers=H).json()["message"]
        == "Pull Request is still a draft"
    )
    fake.repo("acme/gitops").pulls[1].draft = False
    # A required context must be success on the head; another context's success does not count.
    fake.repo("acme/gitops").required_contexts = ["promoter/check"]

    def post(state: str, ctx: str) -> None:
        requests.post(api(fake, f"/statuses/{sha}"), json={"state": state, "context": ctx}, headers=H)

    post("success", "ci")
    post("failure", "promoter/check")
    assert requests.put(api(fake, "/pulls/1/merge"), json={}, headers=H).status_code == 405
    post("success", "promoter/check")
    listed = requests.get(api(fake, "/commits/one/statuses"), headers=H).json()
    assert [s["state"] for s in listed if s["context"] == "promoter/check"] == ["success", "failure"]
    assert requests.put(api(fake, "/pulls/1/merge"), json={}, headers=H).status_code == 200


def test_limits_github_documents(fake: FakeForge) -> None:
    sha = branch(fake, "one", {"a.yaml": "a: 2\n"})
    too_long = requests.post(
        api(fake, "/pulls"), json={"title": "t", "head": "one", "base": "main", "body": "x" * 65_537}, headers=H
    )
    assert too_long.status_code == 422
    assert too_long.json()["errors"][0]["message"] == "body is too long (maximum is 65536 characters)"
    assert open_pr(fake, "one").status_code == 201
    fits = requests.patch(api(fake, "/pulls/1"), json={"body": "ü" * 65_536}, headers=H)
    assert fits.status_code == 200  # characters, as GitHub's message counts them
    status = requests.post(
        api(fake, f"/statuses/{sha}"), json={"state": "success", "description": "d" * 141}, headers=H
    )
    assert status.status_code == 422 and "maximum is 140 characters" in status.text


def test_rate_limits_come_with_the_documented_bodies_and_headers(fake: FakeForge) -> None:
    url = api(fake, "/branches/main")
    # Secondary: 403 (or 429), requests left, no Retry-After: GitHub's docs say wait at least a minute.
    fake.rate_limit_next(r"/branches/main$", kind="secondary", retry_after=None)
    r = requests.get(url, headers=H)
    assert r.status_code == 403 and "Retry-After" not in r.headers
    assert int(r.headers["X-RateLimit-Remaining"]) > 0 and r.headers["X-RateLimit-Resource"] == "core"
    assert r.json()["message"].startswith("You have exceeded a secondary rate limit")
    assert r.json()["documentation_url"].endswith("#about-secondary-rate-limits")
    # GraphQL: HTTP 200 with an error, remaining requests not always 0.
    query = {"query": "mutation { createCommitOnBranch(input: {}) { commit { oid } } }"}
    for kind, type_, code in (("graphql", "RATE_LIMITED", None), ("graphql-code", "RATE_LIMIT", "graphql_rate_limit")):
        fake.rate_limit_next(r"POST /api/graphql$", kind=kind, retry_after=None)
        r = requests.post(f"{fake.url}/api/graphql", json=query, headers=H)
        (error,) = r.json()["errors"]
        assert r.status_code == 200 and error["type"] == type_ and error.get("code") == code
        assert "rate limit" in error["message"] and r.headers["X-RateLimit-Remaining"] != "0"


def test_answers_that_are_no_json_and_requests_never_answered(fake: FakeForge) -> None:
    url = api(fake, "/branches/main")
    fake.answer_next(r"/branches/main$", "<!DOCTYPE html><html><title>Sign in</title></html>")
    r = requests.get(url, headers=H)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html") and "Sign in" in r.text
    fake.answer_next(r"/branches/main$", {"name": "main"}, content_type="application/json")
    assert requests.get(url, headers=H).json() == {"name": "main"}  # JSON without the commit
    fake.hang_next(r"/branches/main$")
    with pytest.raises(requests.Timeout):
        requests.get(url, headers=H, timeout=0.5)
    assert requests.get(url, headers=H).json()["commit"]["sha"]  # only the next one hung


def test_pull_request_refusals_are_worded_as_validation_errors(fake: FakeForge) -> None:
    branch(fake, "one", {"a.yaml": "a: 2\n"})
    assert open_pr(fake, "one").status_code == 201
    again = open_pr(fake, "one")
    assert again.status_code == 422 and again.json()["message"] == "Validation Failed"
    assert again.json()["errors"][0]["message"] == "A pull request already exists for acme:one."
    main = fake.repo("acme/gitops").store.branch_sha("main")
    fake.push_commit("acme/gitops", "two", {}, start="main")  # a branch with nothing above main
    fake.repo("acme/gitops").store.update_ref("two", main)
    empty = open_pr(fake, "two")
    assert empty.status_code == 422 and empty.json()["errors"][0]["message"] == "No commits between main and two"
    missing = open_pr(fake, "nowhere")
    assert missing.status_code == 422 and missing.json()["errors"][0] == {
        "resource": "PullRequest",
        "field": "head",
        "code": "invalid",
    }


def test_merge_with_a_stale_sha_is_refused_and_auto_merge_refusals_name_the_state(fake: FakeForge) -> None:
    head = branch(fake, "one", {"a.yaml": "a: 2\n"})
    pr = open_pr(fake, "one").json()
    enable = {
        "query": "mutation M($input: EnablePullRequestAutoMergeInput!) { enablePullRequestAutoMerge(input: $input) { clientMutationId } }",
        "variables": {"input": {"pullRequestId": pr["node_id"]}},
    }
    repo = fake.repo("acme/gitops")
    requests.post(api(fake, f"/statuses/{head}"), json={"state": "pending", "context": "lint"}, headers=H)
    assert requests.get(api(fake, "/pulls/1"), headers=H).json()["mergeable_state"] == "unstable"
    refused = requests.post(f"{fake.url}/api/graphql", json=enable, headers=H).json()
    assert refused["errors"][0]["message"] == "Pull request is in unstable status"
    requests.post(api(fake, f"/statuses/{head}"), json={"state": "success", "context": "lint"}, headers=H)
    repo.pre_receive_hooks = True
    refused = requests.post(f"{fake.url}/api/graphql", json=enable, headers=H).json()
    assert refused["errors"][0]["message"] == "Pull request is in has_hooks status"
    fake.push_commit("acme/gitops", "one", {"b.yaml": "b: 9\n"}, "pushed after the review")
    stale = requests.put(api(fake, "/pulls/1/merge"), json={"sha": head}, headers=H)
    assert stale.status_code == 409 and stale.json()["message"].startswith("Head branch was modified")
    assert repo.pulls[1].state == "open"
    now = repo.store.branch_sha("one")
    assert requests.put(api(fake, "/pulls/1/merge"), json={"sha": now}, headers=H).status_code == 200
