"""API economy, counted by the fake forge's request log: exactly which requests each outcome costs.

Since promotion PRs gate the merge and tell approvers (issue 11), each write also sets the
`promoter/check` status on the new head (1 request) and an update reads who approved the PR
before it changes (1 request; a comment follows only when someone did). Reading the branch's
commits (compare) costs a request only when the marker cannot vouch that every commit is
promoter's: not in these cases.
"""

from __future__ import annotations

import pytest
from forgeworld import DIGEST_B, DIGEST_C, REPO, World, image

from promoter.model.finding import CheckResult
from promoter.publish.publisher import publish_promotion

HEAD = "<head>"
GITHUB = {
    "created": [
        "GET /api/v3/repos/acme/gitops/branches/main",
        "GET /api/v3/repos/acme/gitops/pulls",
        "POST /api/v3/repos/acme/gitops/git/refs",
        "POST /api/graphql",
        "POST /api/v3/repos/acme/gitops/pulls",
        f"POST /api/v3/repos/acme/gitops/statuses/{HEAD}",
    ],
    "updated": [
        "GET /api/v3/repos/acme/gitops/branches/main",
        "GET /api/v3/repos/acme/gitops/pulls",
        "PATCH /api/v3/repos/acme/gitops/git/refs/heads/promoter/dev/checkout-api",
        "POST /api/graphql",
        "GET /api/v3/repos/acme/gitops/pulls/1/reviews",
        "PATCH /api/v3/repos/acme/gitops/pulls/1",
        f"POST /api/v3/repos/acme/gitops/statuses/{HEAD}",
    ],
    "none": [
        "GET /api/v3/repos/acme/gitops/branches/main",
        "GET /api/v3/repos/acme/gitops/pulls",
    ],
}
GITLAB = {
    "created": [
        "GET /api/v4/projects/acme%2Fgitops/repository/branches/main",
        "GET /api/v4/projects/acme%2Fgitops/merge_requests",
        "POST /api/v4/projects/acme%2Fgitops/repository/commits",
        "POST /api/v4/projects/acme%2Fgitops/merge_requests",
        f"POST /api/v4/projects/acme%2Fgitops/statuses/{HEAD}",
    ],
    "updated": [
        "GET /api/v4/projects/acme%2Fgitops/repository/branches/main",
        "GET /api/v4/projects/acme%2Fgitops/merge_requests",
        "POST /api/v4/projects/acme%2Fgitops/repository/commits",
        "GET /api/v4/projects/acme%2Fgitops/merge_requests/1/approvals",
        "PUT /api/v4/projects/acme%2Fgitops/merge_requests/1",
        f"POST /api/v4/projects/acme%2Fgitops/statuses/{HEAD}",
    ],
    "none": [
        "GET /api/v4/projects/acme%2Fgitops/repository/branches/main",
        "GET /api/v4/projects/acme%2Fgitops/merge_requests",
    ],
}
BUDGET = {"created": 6, "updated": 7, "none": 2}


def sequence(world: World, head: str | None = None) -> list[str]:
    return [f"{r.method} {r.path}".replace(head, HEAD) if head else f"{r.method} {r.path}" for r in world.fake.log]


def test_request_counts_for_created_updated_and_noop(world: World) -> None:
    want = GITHUB if world.kind == "github" else GITLAB
    for operation, img in (
        ("created", image()),
        ("updated", image("1.4.3", DIGEST_B)),
        ("none", image("1.4.3", DIGEST_B)),
    ):
        world.fake.reset_log()
        res = publish_promotion(world.request(img, checks=CheckResult()))
        assert res.operation == operation
        assert sequence(world, res.head_sha) == want[operation]
        assert len(world.fake.log) <= BUDGET[operation]
        assert all(r.status < 400 for r in world.fake.log)


def test_approvers_cost_one_comment_and_a_foreign_commit_one_compare(world: World) -> None:
    first = publish_promotion(world.request(image(), checks=CheckResult()))
    world.fake.approve(REPO, first.number or 0, "alice")
    world.fake.reset_log()
    publish_promotion(world.request(image("1.4.3", DIGEST_B), checks=CheckResult()))
    comments = r"POST .*/(issues/1/comments|merge_requests/1/notes)$"
    assert len(world.fake.requests(comments)) == 1
    assert len(world.fake.log) == len((GITHUB if world.kind == "github" else GITLAB)["updated"]) + 1
    world.fake.push_commit(REPO, "promoter/dev/checkout-api", {"README.md": "fix\n"}, "reviewer's fix")
    world.fake.reset_log()
    publish_promotion(world.request(image("1.4.4", DIGEST_C), checks=CheckResult()))
    # Looked at once before writing (whose commits?) and once after (what the branch holds now).
    assert len(world.fake.requests(r"GET .*/compare")) == 2


@pytest.mark.parametrize("world", ["github"], indirect=True)  # a github-only behaviour
def test_git_data_commit_method_request_counts(world: World) -> None:
    settings = world.settings(commit_method="git-data")
    world.fake.reset_log()
    first = publish_promotion(world.request(settings=settings))
    created = sequence(world)
    world.fake.reset_log()
    second = publish_promotion(world.request(image("1.4.3", DIGEST_B), settings=settings))
    updated = sequence(world)
    assert (first.operation, second.operation) == ("created", "updated")
    assert created == [
        "GET /api/v3/repos/acme/gitops/branches/main",
        "GET /api/v3/repos/acme/gitops/pulls",
        "POST /api/v3/repos/acme/gitops/git/trees",
        "POST /api/v3/repos/acme/gitops/git/commits",
        "POST /api/v3/repos/acme/gitops/git/refs",
        "POST /api/v3/repos/acme/gitops/pulls",
    ]
    # tree + commit + force-moved ref: one more than GraphQL on update (no checks given: no status)
    assert updated == [
        "GET /api/v3/repos/acme/gitops/branches/main",
        "GET /api/v3/repos/acme/gitops/pulls",
        "POST /api/v3/repos/acme/gitops/git/trees",
        "POST /api/v3/repos/acme/gitops/git/commits",
        "PATCH /api/v3/repos/acme/gitops/git/refs/heads/promoter/dev/checkout-api",
        "GET /api/v3/repos/acme/gitops/pulls/1/reviews",
        "PATCH /api/v3/repos/acme/gitops/pulls/1",
    ]
    assert str(image("1.4.3", DIGEST_B)) in world.show(
        "promoter/dev/checkout-api", "apps/checkout-api/dev/deployment.yaml"
    )
