"""The fake forge's GitLab side reproduces the behaviours in FORGES.md, seen through real python-gitlab."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fakeforge import FakeForge

TOKEN = "glpat-fakeforgeTEST0123456789"


@pytest.fixture
def fake(tmp_path: Path):
    forge = FakeForge(tmp_path / "forge")
    forge.add_token(TOKEN, "promoter-bot")
    forge.add_token("readonly-token", "reader", write=False)
    forge.create_repo("acme/gitops", files={"a.yaml": "a: 1\n", "b.yaml": "b: 1\n"})
    yield forge
    forge.close()


@pytest.fixture
def project(fake: FakeForge):
    import gitlab

    gl = gitlab.Gitlab(fake.gitlab_url, private_token=TOKEN)
    return gl.projects.get("acme/gitops", lazy=True)


def commit(project, branch: str, content: str, **extra: object):
    data = {
        "branch": branch,
        "commit_message": f"set a to {content}",
        "actions": [
            {
                "action": "update",
                "file_path": "a.yaml",
                "content": content,
                **extra.pop("action", {}),
            }
        ],
    }  # type: ignore[dict-item]
    data.update(extra)
    return project.commits.create(data)


def test_real_python_gitlab_reaches_it_through_its_url(fake: FakeForge, project) -> None:
    assert project.branches.get("main").commit["id"] == fake.repo("acme/gitops").store.branch_sha("main")
    f = project.files.get(file_path="a.yaml", ref="main")
    assert f.decode() == b"a: 1\n" and f.last_commit_id == fake.repo("acme/gitops").store.branch_sha("main")
    assert [str(r) for r in fake.log] == [
        "GET /api/v4/projects/acme%2Fgitops/repository/branches/main 200",
        "GET /api/v4/projects/acme%2Fgitops/repository/files/a.yaml 200",
    ]


def test_commits_api_creates_a_branch_with_one_commit_of_many_files(fake: FakeForge, project) -> None:
    store = fake.repo("acme/gitops").store
    main = store.branch_sha("main")
    c = project.commits.create(
        {
            "branch": "feature",
            "start_sha": main,
            "commit_message": "two files",
            "actions": [
                {"action": "update", "file_path": "a.yaml", "content": "a: 2\n"},
                {"action": "create", "file_path": "dir/c.yaml", "content": "c: 1\n"},
                {"action": "delete", "file_path": "b.yaml"},
            ],
        }
    )
    assert store.branch_sha("feature") == c.id and store.commit_info(c.id).parents == [main]
    assert store.read_file("feature", "a.yaml") == b"a: 2\n" and store.read_file("feature", "dir/c.yaml") == b"c: 1\n"
    assert store.read_file("feature", "b.yaml") is None


def test_existing_branch_needs_force_to_restart_from_start_sha(fake: FakeForge, project) -> None:
    import gitlab

    store = fake.repo("acme/gitops").store
    main = store.branch_sha("main")
    commit(project, "feature", "a: 2\n", start_sha=main)
    with pytest.raises(gitlab.GitlabCreateError) as err:
        commit(project, "feature", "a: 3\n", start_sha=main)
    assert err.value.response_code == 400 and "already exists" in str(err.value)
    forced = commit(project, "feature", "a: 4\n", start_sha=main, force=True)
    assert store.commit_info(forced.id).parents == [main]


def test_stale_last_commit_id_answers_400(fake: FakeForge, project) -> None:
    import gitlab

    store = fake.repo("acme/gitops").store
    first = commit(project, "feature", "a: 2\n", start_sha=store.branch_sha("main"))
    fake.push_commit("acme/gitops", "feature", {"a.yaml": "a: someone\n"})
    with pytest.raises(gitlab.GitlabCreateError) as err:
        commit(project, "feature", "a: 3\n", action={"last_commit_id": first.id})
    assert err.value.response_code == 400 and "has changed since" in str(err.value)
    assert store.read_file("feature", "a.yaml") == b"a: someone\n"


def test_second_open_mr_for_a_source_branch_answers_409(fake: FakeForge, project) -> None:
    import gitlab

    commit(project, "feature", "a: 2\n", start_branch="main")
    mr = project.mergerequests.create(
        {
            "source_branch": "feature",
            "target_branch": "main",
            "title": "Draft: t",
            "labels": "x,y",
        }
    )
    assert mr.iid == 1 and mr.draft and mr.labels == ["x", "y"]
    with pytest.raises(gitlab.GitlabCreateError) as err:
        project.mergerequests.create({"source_branch": "feature", "target_branch": "main", "title": "again"})
    assert err.value.response_code == 409
    assert "Another open merge request already exists for this source branch: !1" in str(err.value)
    found = project.mergerequests.list(source_branch="feature", target_branch="main", state="opened")
    assert [m.iid for m in found] == [1]


def test_auto_merge_waits_for_checks_or_merges_now(fake: FakeForge, project) -> None:
    import gitlab

    sha = commit(project, "feature", "a: 2\n", start_branch="main").id
    mr = project.mergerequests.create({"source_branch": "feature", "target_branch": "main", "title": "t"})
    fake.repo("acme/gitops").require_checks = True
    # No pipeline to wait for: recent GitLab refuses auto-merge (405), as it refuses a merge now.
    with pytest.raises(gitlab.GitlabMRClosedError) as err:
        mr.merge(auto_merge=True)
    assert err.value.response_code == 405
    project.commits.get(sha).statuses.create({"state": "running", "name": "ci"})
    mr.merge(auto_merge=True)
    assert fake.repo("acme/gitops").pulls[1].auto_merge and fake.repo("acme/gitops").pulls[1].state == "open"
    project.commits.get(sha).statuses.create({"state": "success", "name": "ci"})
    assert [s.status for s in project.commits.get(sha).statuses.list()] == ["success"]
    with pytest.raises(gitlab.GitlabMRClosedError) as err:
        mr.merge(sha="0" * 40)  # the head moved since it was read: 409, nothing merged
    assert err.value.response_code == 409 and "SHA does not match HEAD of source branch" in str(err.value)
    mr.merge(sha=sha)
    assert fake.repo("acme/gitops").pulls[1].state == "merged"
    assert fake.repo("acme/gitops").store.read_file("main", "a.yaml") == b"a: 2\n"


@pytest.mark.parametrize(("version", "waits"), [((17, 10), False), ((17, 11), True)])
def test_auto_merge_parameter_exists_since_17_11(fake: FakeForge, project, version, waits) -> None:
    """Before 17.11 `auto_merge` is an unknown parameter, ignored: the call is a plain merge, at once."""
    fake.gitlab_version = version
    sha = commit(project, "feature", "a: 2\n", start_branch="main").id
    project.commits.get(sha).statuses.create({"state": "running", "name": "ci"})
    mr = project.mergerequests.create({"source_branch": "feature", "target_branch": "main", "title": "t"})
    mr.merge(auto_merge=True)
    pr = fake.repo("acme/gitops").pulls[1]
    assert (pr.state, pr.auto_merge) == (("open", True) if waits else ("merged", False))
    assert project.manager.gitlab.version()[0].startswith(f"{version[0]}.{version[1]}.")


def test_merge_when_pipeline_succeeds_waits_on_every_version(fake: FakeForge, project) -> None:
    fake.gitlab_version = (16, 0)
    sha = commit(project, "feature", "a: 2\n", start_branch="main").id
    project.commits.get(sha).statuses.create({"state": "pending", "name": "ci"})
    mr = project.mergerequests.create({"source_branch": "feature", "target_branch": "main", "title": "t"})
    mr.merge(merge_when_pipeline_succeeds=True, auto_merge=True)
    assert fake.repo("acme/gitops").pulls[1].auto_merge and fake.repo("acme/gitops").pulls[1].state == "open"


def test_unknown_project_readonly_token_and_protected_branch(fake: FakeForge, project) -> None:
    import gitlab

    gl = gitlab.Gitlab(fake.gitlab_url, private_token=TOKEN)
    with pytest.raises(gitlab.GitlabGetError) as err:
        gl.projects.get("acme/nope", lazy=True).branches.get("main")
    assert err.value.response_code == 404 and "Project Not Found" in str(err.value)
    ro = gitlab.Gitlab(fake.gitlab_url, private_token="readonly-token").projects.get("acme/gitops", lazy=True)
    with pytest.raises(gitlab.GitlabCreateError) as err2:
        commit(ro, "feature", "a: 2\n", start_branch="main")
    assert err2.value.response_code == 403
    fake.repo("acme/gitops").protected = ["feature"]
    with pytest.raises(gitlab.GitlabCreateError) as err3:
        commit(project, "feature", "a: 2\n", start_branch="main")
    assert err3.value.response_code == 403 and "not allowed to push" in str(err3.value)
    with pytest.raises(gitlab.GitlabAuthenticationError):
        gitlab.Gitlab(fake.gitlab_url, private_token="wrong").projects.get("acme/gitops", lazy=True).branches.get(
            "main"
        )


def test_rate_limit_answer_has_gitlab_headers(fake: FakeForge) -> None:
    import requests

    fake.rate_limit_next(r"/branches/main$", kind="gitlab", retry_after=5)
    r = requests.get(
        f"{fake.url}/api/v4/projects/1/repository/branches/main",
        headers={"PRIVATE-TOKEN": TOKEN},
    )
    assert r.status_code == 429 and r.headers["Retry-After"] == "5" and r.headers["RateLimit-Remaining"] == "0"
    assert (
        requests.get(
            f"{fake.url}/api/v4/projects/1/repository/branches/main",
            headers={"PRIVATE-TOKEN": TOKEN},
        ).status_code
        == 200
    )


def test_compare_approvals_and_notes(fake: FakeForge, project) -> None:
    first = commit(project, "feature", "a: 2\n", start_branch="main").id
    compared = project.repository_compare("main", "feature")
    assert [c["id"] for c in compared["commits"]] == [first]
    assert compared["commits"][0]["parent_ids"] == [fake.repo("acme/gitops").store.branch_sha("main")]
    assert [(d["new_path"], d["diff"]) for d in compared["diffs"]] == [("a.yaml", "@@ -1 +1 @@\n-a: 1\n+a: 2\n")]
    mr = project.mergerequests.create({"source_branch": "feature", "target_branch": "main", "title": "t"})
    fake.approve("acme/gitops", 1, "alice")
    assert [a["user"]["username"] for a in mr.approvals.get().approved_by] == ["alice"]
    mr.notes.create({"body": "@alice please look again"})
    assert [n.body for n in mr.notes.list()] == ["@alice please look again"]


def test_statuses_follow_gitlabs_state_machine_and_descriptions_are_capped_in_bytes(fake: FakeForge, project) -> None:
    import gitlab

    sha = commit(project, "feature", "a: 2\n", start_branch="main").id
    statuses = project.commits.get(sha, lazy=True).statuses
    statuses.create({"state": "pending", "name": "promoter/check"})
    with pytest.raises(gitlab.GitlabCreateError) as err:
        statuses.create({"state": "pending", "name": "promoter/check"})
    assert err.value.response_code == 400 and "Cannot transition status via :enqueue from :pending" in str(err.value)
    statuses.create({"state": "failed", "name": "promoter/check"})
    statuses.create({"state": "success", "name": "promoter/check"})  # a finished one is followed by a new one
    assert fake.status_of("acme/gitops", sha, "promoter/check") == "success"
    with pytest.raises(gitlab.GitlabCreateError) as too_long:
        project.mergerequests.create(
            {"source_branch": "feature", "target_branch": "main", "title": "t", "description": "ü" * 524_289}
        )
    assert too_long.value.response_code == 400  # 1,048,578 bytes, though only 524,289 characters
    mr = project.mergerequests.create(
        {"source_branch": "feature", "target_branch": "main", "title": "Draft: t", "description": "ü" * 524_288}
    )
    assert mr.draft and fake.repo("acme/gitops").pulls[1].draft
