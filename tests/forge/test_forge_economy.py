"""API economy, counted by the fake forge's request log: exactly which requests each outcome costs."""

from __future__ import annotations

import pytest
from forgeworld import DIGEST_B, World, image

from promoter.publish.publisher import publish_promotion

GITHUB = {
    "created": [
        "GET /api/v3/repos/acme/gitops/branches/main",
        "GET /api/v3/repos/acme/gitops/pulls",
        "POST /api/v3/repos/acme/gitops/git/refs",
        "POST /api/graphql",
        "POST /api/v3/repos/acme/gitops/pulls",
    ],
    "updated": [
        "GET /api/v3/repos/acme/gitops/branches/main",
        "GET /api/v3/repos/acme/gitops/pulls",
        "PATCH /api/v3/repos/acme/gitops/git/refs/heads/promoter/dev/checkout-api",
        "POST /api/graphql",
        "PATCH /api/v3/repos/acme/gitops/pulls/1",
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
    ],
    "updated": [
        "GET /api/v4/projects/acme%2Fgitops/repository/branches/main",
        "GET /api/v4/projects/acme%2Fgitops/merge_requests",
        "POST /api/v4/projects/acme%2Fgitops/repository/commits",
        "PUT /api/v4/projects/acme%2Fgitops/merge_requests/1",
    ],
    "none": [
        "GET /api/v4/projects/acme%2Fgitops/repository/branches/main",
        "GET /api/v4/projects/acme%2Fgitops/merge_requests",
    ],
}
BUDGET = {"created": 6, "updated": 5, "none": 2}


def sequence(world: World) -> list[str]:
    return [f"{r.method} {r.path}" for r in world.fake.log]


def test_request_counts_for_created_updated_and_noop(world: World) -> None:
    want = GITHUB if world.kind == "github" else GITLAB
    for operation, img in (
        ("created", image()),
        ("updated", image("1.4.3", DIGEST_B)),
        ("none", image("1.4.3", DIGEST_B)),
    ):
        world.fake.reset_log()
        res = publish_promotion(world.request(img))
        assert res.operation == operation
        assert sequence(world) == want[operation]
        assert len(world.fake.log) <= BUDGET[operation]
        assert all(r.status < 400 for r in world.fake.log)


@pytest.mark.parametrize("world", ["github"], indirect=True)  # a github-only behaviour
def test_git_data_commit_method_request_counts(world: World) -> None:
    settings = world.settings(commit_method="git-data")
    world.fake.reset_log()
    first = publish_promotion(world.request(settings=settings))
    created = sequence(world)
    world.fake.reset_log()
    second = publish_promotion(world.request(image("1.4.3", DIGEST_B), settings=settings))
    assert (first.operation, second.operation) == ("created", "updated")
    assert created == [
        "GET /api/v3/repos/acme/gitops/branches/main",
        "GET /api/v3/repos/acme/gitops/pulls",
        "POST /api/v3/repos/acme/gitops/git/trees",
        "POST /api/v3/repos/acme/gitops/git/commits",
        "POST /api/v3/repos/acme/gitops/git/refs",
        "POST /api/v3/repos/acme/gitops/pulls",
    ]
    assert len(world.fake.log) == 6  # tree + commit + force-moved ref: one more than GraphQL on update
    assert str(image("1.4.3", DIGEST_B)) in world.show(
        "promoter/dev/checkout-api", "apps/checkout-api/dev/deployment.yaml"
    )
