"""Auto-merge as the forges really answer it: GitHub's refusals (clean, unstable, has_hooks), GitLab before and
after 17.11 and its 405 without a pipeline, and the immediate merge that merges only the reviewed head."""

from __future__ import annotations

import pytest
from forgeworld import REPO, World, image

from promoter.model.errors import ForgeError
from promoter.publish.forge.base import PullOptions
from promoter.publish.publisher import publish_promotion

MERGE = {"github": r"PUT .*/pulls/\d+/merge$", "gitlab": r"PUT .*/merge_requests/\d+/merge$"}
AUTO = PullOptions(auto_merge=True)


def merges(world: World) -> list:
    return world.fake.requests(MERGE[world.kind])


def test_a_mergeable_pr_is_merged_at_once_at_the_head_promoter_wrote(world: World) -> None:
    res = publish_promotion(world.request(options=AUTO))
    pr = world.fake.repo(REPO).pulls[res.number]
    assert pr.state == "merged"
    assert any(n.startswith("merged:") for n in res.notes), res.notes
    (merge,) = [m for m in merges(world) if m.status == 200]
    assert merge.body["sha"] == res.head_sha  # only the reviewed head may be merged


def test_a_commit_pushed_before_the_merge_is_not_merged_unreviewed(world: World) -> None:
    branch = "promoter/dev/checkout-api"
    pushed: list[str] = []
    world.fake.on_request(
        lambda fake: pushed.append(fake.push_commit(REPO, branch, {"README.md": "sneaky\n"}, "pushed meanwhile")),
        pattern=MERGE[world.kind],
    )
    res = publish_promotion(world.request(options=AUTO))
    pr = world.fake.repo(REPO).pulls[res.number]
    assert pr.state == "open", "merged a commit nobody reviewed"
    assert world.store.read_file("main", "README.md") == b"# gitops\n"
    note = next(n for n in res.notes if n.startswith("not merged"))
    assert "moved after promoter's commit" in note and res.head_sha[:12] in note  # type: ignore[index]
    assert pushed and world.store.branch_sha(branch) == pushed[0]


@pytest.mark.parametrize("world", ["github"], indirect=True)
def test_github_unstable_is_a_note_not_a_merge(world: World) -> None:
    # A check that is not required is pending: GitHub calls the PR "unstable" and refuses auto-merge.
    def ci_pending(fake) -> None:
        head = fake.repo(REPO).store.branch_sha("promoter/dev/checkout-api")
        fake.repo(REPO).statuses.setdefault(head, []).insert(0, {"state": "pending", "context": "lint"})

    world.fake.on_request(ci_pending, pattern=r"POST /api/graphql$", times=2)
    res = publish_promotion(world.request(options=AUTO))
    pr = world.fake.repo(REPO).pulls[res.number]
    assert pr.state == "open" and not pr.auto_merge
    assert any("'unstable'" in n and "not required" in n for n in res.notes), res.notes
    assert merges(world) == []


@pytest.mark.parametrize("world", ["github"], indirect=True)
def test_github_has_hooks_is_merged_like_clean(world: World) -> None:
    world.fake.repo(REPO).pre_receive_hooks = True
    res = publish_promotion(world.request(options=AUTO))
    assert world.fake.repo(REPO).pulls[res.number].state == "merged"
    assert merges(world)[0].body["sha"] == res.head_sha


@pytest.mark.parametrize("world", ["gitlab"], indirect=True)
@pytest.mark.parametrize("version", [(16, 11), (17, 10), (17, 11), (18, 2)])
def test_gitlab_auto_merge_waits_for_the_pipeline_on_every_version(world: World, version: tuple[int, int]) -> None:
    """auto_merge exists since 17.11; older servers ignore it, and would merge at once where they may:
    merge_when_pipeline_succeeds is sent too."""
    world.fake.gitlab_version = version
    world.fake.repo(REPO).ci_on_push = True  # the push starts a pipeline
    res = publish_promotion(world.request(options=AUTO))
    mr = world.fake.repo(REPO).pulls[res.number]
    assert (mr.state, mr.auto_merge) == ("open", True)
    assert "auto-merge enabled" in res.notes
    body = merges(world)[0].body
    assert body["auto_merge"] in (True, "true") and body["merge_when_pipeline_succeeds"] in (True, "true")
    assert body["sha"] == res.head_sha


@pytest.mark.parametrize("world", ["gitlab"], indirect=True)
def test_gitlab_without_a_pipeline_answers_405_and_a_mergeable_mr_is_merged_now(world: World) -> None:
    res = publish_promotion(world.request(options=AUTO))
    assert world.fake.repo(REPO).pulls[res.number].state == "merged"
    assert [m.status for m in merges(world)] == [405, 200]
    assert any("no pipeline to wait for" in n for n in res.notes), res.notes


@pytest.mark.parametrize("world", ["gitlab"], indirect=True)
def test_gitlab_without_a_pipeline_and_not_mergeable_is_a_note(world: World) -> None:
    world.fake.repo(REPO).require_checks = True
    res = publish_promotion(world.request(image(), options=AUTO))
    mr = world.fake.repo(REPO).pulls[res.number]
    assert mr.state == "open" and not mr.auto_merge
    note = next(n for n in res.notes if n.startswith("auto-merge not set"))
    assert "no pipeline to wait for" in note and "ci_must_pass" in note
    assert [m.status for m in merges(world)] == [405]


@pytest.mark.parametrize("world", ["gitlab"], indirect=True)
def test_gitlab_merges_only_the_head_promoter_wrote_when_its_answer_names_none(world: World) -> None:
    """GitLab may answer a new merge request before it knows its head (`sha: null`). Before: promoter merged
    without `sha`, so a commit pushed in between was merged unreviewed; now the head it wrote is passed."""
    branch = "promoter/dev/checkout-api"
    world.fake.edit_next(r"POST .*/merge_requests$", lambda mr: {**mr, "sha": None})
    world.fake.on_request(
        lambda fake: fake.push_commit(REPO, branch, {"README.md": "sneaky\n"}, "pushed meanwhile"),
        pattern=MERGE[world.kind],
    )
    res = publish_promotion(world.request(options=AUTO))
    pr = world.fake.repo(REPO).pulls[res.number]
    assert pr.state == "open", "merged a commit nobody reviewed"
    assert world.store.read_file("main", "README.md") == b"# gitops\n"
    assert merges(world) and {m.body.get("sha") for m in merges(world)} == {res.head_sha}
    assert any(n.startswith("not merged") and "moved after promoter's commit" in n for n in res.notes), res.notes


@pytest.mark.parametrize("world", ["gitlab"], indirect=True)
def test_gitlab_refuses_to_merge_a_merge_request_whose_head_it_does_not_know(world: World) -> None:
    """The client's own guard: without the head promoter wrote, no merge is asked at all."""
    from promoter.publish.forge import open_forge
    from promoter.publish.forge.base import PullInfo

    res = publish_promotion(world.request())
    forge = open_forge(world.settings())
    try:
        pull = PullInfo(res.number, res.url or "", "t", "b", "promoter/dev/checkout-api", head_sha="")  # type: ignore[arg-type]
        notes = forge.decorate(pull, AUTO)
    finally:
        forge.close()
    assert notes == [f"auto-merge not set: promoter does not know the head of !{res.number} it wrote; merge it by hand"]
    assert merges(world) == [] and world.fake.repo(REPO).pulls[res.number].state == "open"


# ---- the merge answer is read, not its status ------------------------------------------------------------------
# A 200 whose body says the merge did not happen (GitHub `merged: false`; GitLab still `opened` without auto-merge),
# the answer of a merge that happened but was lost, and an answer promoter cannot read at all.
NOT_MERGED = {
    "merged": False,
    "message": "Pull Request is not mergeable",
    "state": "opened",
    "merge_when_pipeline_succeeds": False,
}


def test_a_merge_answered_200_but_not_merged_is_reported_not_merged(world: World) -> None:
    world.fake.answer_next(MERGE[world.kind], NOT_MERGED, content_type="application/json")
    res = publish_promotion(world.request(options=AUTO))
    pr = world.fake.repo(REPO).pulls[res.number]
    assert pr.state == "open" and not pr.auto_merge
    assert not any(n.startswith("merged") or n == "auto-merge enabled" for n in res.notes), res.notes
    if world.kind == "github":
        note = next(n for n in res.notes if n.startswith("not merged"))
        assert "Pull Request is not mergeable" in note and f"#{res.number}" in note
    else:
        note = next(n for n in res.notes if n.startswith("auto-merge not set"))
        assert "state: opened" in note and "merge_when_pipeline_succeeds: false" in note


@pytest.mark.parametrize(
    "body",
    [
        {"merged": "maybe"},
        {"merged": None, "state": None},
        ["merged"],
        {"state": "opened", "merge_when_pipeline_succeeds": "yes"},
    ],
    ids=["merged-maybe", "nulls", "a-list", "mwps-text"],
)
def test_a_merge_answer_of_another_shape_is_an_unexpected_answer_naming_the_open_request(
    world: World, body: object
) -> None:
    world.fake.answer_next(MERGE[world.kind], body, content_type="application/json")
    with pytest.raises(ForgeError) as err:
        publish_promotion(world.request(options=AUTO))
    message = str(err.value)
    (pr,) = world.fake.repo(REPO).pulls.values()
    assert pr.state == "open" and not pr.auto_merge
    assert message.startswith(f"unexpected answer from {'GitHub' if world.kind == 'github' else 'GitLab'} while ")
    assert "merg" in message and "\n" not in message
    word = "pull request" if world.kind == "github" else "merge request"
    assert f"the {word} is open at {world.fake.url}" in message and f"/{pr.number}" in message
    assert "not merged" in message


def test_an_html_answer_to_the_merge_fails_like_on_every_other_endpoint(world: World) -> None:
    page = "<!DOCTYPE html><html><head><title>Sign in · Proxy</title></head><body>login</body></html>"
    world.fake.answer_next(MERGE[world.kind], page)
    with pytest.raises(ForgeError) as err:
        publish_promotion(world.request(options=AUTO))
    message = str(err.value)
    (pr,) = world.fake.repo(REPO).pulls.values()
    assert pr.state == "open"
    assert "unexpected answer from" in message and "an HTML page: 'Sign in · Proxy'" in message
    assert "is open at" in message and "not merged" in message


def test_a_merge_whose_answer_is_lost_is_reported_merged(world: World) -> None:
    if world.kind == "gitlab":
        # Without a pipeline the auto-merge call is refused (405) and the merge follows at once: its answer is lost.
        world.fake.on_request(
            lambda fake: fake.drop_next(MERGE["gitlab"], after=True), pattern=r"GET .*/merge_requests/\d+$"
        )
    else:
        world.fake.drop_next(MERGE[world.kind], after=True)
    res = publish_promotion(world.request(options=AUTO))
    assert world.fake.repo(REPO).pulls[res.number].state == "merged"
    assert any(n.startswith("merged") for n in res.notes), res.notes
    assert not any(n.startswith(("not merged", "auto-merge not")) for n in res.notes), res.notes
    assert [m.status for m in merges(world)][-1] == 405  # the retry was refused: it had been merged


def test_a_merge_whose_answers_are_all_lost_is_reported_merged_when_it_happened(world: World) -> None:
    """No answer at all, retries included: promoter cannot tell from the call, so it reads the request."""
    if world.kind == "gitlab":  # the merge at once, after the 405 to auto-merge without a pipeline
        world.fake.on_request(
            lambda fake: fake.drop_next(MERGE["gitlab"], after=True, times=50), pattern=r"GET .*/merge_requests/\d+$"
        )
    else:
        world.fake.drop_next(MERGE[world.kind], after=True, times=50)
    res = publish_promotion(world.request(options=AUTO))
    pr = world.fake.repo(REPO).pulls[res.number]
    assert pr.state == "merged"
    assert any(n.startswith("merged") for n in res.notes), res.notes


@pytest.mark.parametrize("world", ["gitlab"], indirect=True)
def test_gitlab_merge_answered_200_with_a_merge_error_names_it(world: World) -> None:
    """GitLab answers a merge that failed inside (a pre-merge hook) with 200, the MR still opened and `merge_error`."""
    answer = {"state": "opened", "merge_when_pipeline_succeeds": False, "merge_error": "Pre-merge hooks failed"}
    world.fake.answer_next(MERGE["gitlab"], answer, content_type="application/json")
    res = publish_promotion(world.request(options=AUTO))
    assert world.fake.repo(REPO).pulls[res.number].state == "open"
    note = next(n for n in res.notes if n.startswith("auto-merge not set"))
    assert "merge_error: Pre-merge hooks failed" in note and "merge it by hand" in note
