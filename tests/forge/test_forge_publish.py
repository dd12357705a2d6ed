"""End-to-end publishing against the fake forge, both forges: created, updated, superseded, no-op, races."""

from __future__ import annotations

from forgeworld import DIGEST_A, DIGEST_B, REPO, World, image, plan

from promoter.publish import publish_promotion

DEV = "apps/checkout-api/dev/deployment.yaml"
BRANCH = "promoter/dev/checkout-api"


def expected(text: str, ref: str) -> str:
    return text.replace("ghcr.io/acme/checkout-api:1.4.1", ref)


def test_created_opens_one_pr_whose_branch_holds_exactly_the_change(world: World) -> None:
    img = image()
    res = publish_promotion(world.request(img))
    assert res.operation == "created"
    assert res.branch == BRANCH and res.number == 1
    assert res.head_sha == world.store.branch_sha(BRANCH)
    original = (world.local / DEV).read_text()
    assert world.show(BRANCH, DEV) == expected(original, str(img))
    # Only that file changed, in one commit on top of main.
    base = world.store.branch_sha("main")
    assert world.store.commit_info(res.head_sha).parents == [base]
    assert world.store.changed_paths(base, res.head_sha) == [DEV]
    pr = world.fake.repo(REPO).pulls[1]
    assert pr.title == "promote checkout-api to dev: 1.4.2 (sha256:3f2a9c…)"
    assert pr.head == BRANCH and pr.base == "main" and pr.state == "open"
