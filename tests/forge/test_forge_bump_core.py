"""Publishing what the real bump core plans on the bundled example repository, re-planned on forge reads."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakeforge import FakeForge
from forgeworld import REPO, TOKEN, World, git, make_repo

from promoter.config.loader import load_config
from promoter.edit import plan as bump
from promoter.model.image import ImageRef
from promoter.publish.publisher import PromotionRequest, publish_promotion

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
OVERLAY = "apps/checkout-api/overlays/dev/kustomization.yaml"
NEW = ImageRef.parse("ghcr.io/acme/checkout-api:1.5.0@sha256:" + "5" * 64)


@pytest.fixture(params=["github", "gitlab"])
def example_world(request: pytest.FixtureRequest, fake: FakeForge, tmp_path: Path) -> World:
    files = {p.relative_to(EXAMPLES).as_posix(): p.read_text() for p in EXAMPLES.rglob("*") if p.is_file()}
    local = make_repo(tmp_path / "local", files)
    fake.create_repo(REPO, source=local)
    return World(fake, local, request.param)


def request_for(world: World, image: ImageRef) -> PromotionRequest:
    config = load_config(world.local)
    return PromotionRequest(
        settings=world.settings(),
        env="dev",
        image=image,
        apps=["checkout-api"],
        changeset=bump.plan_bump(world.local, config, image, app="checkout-api", env="dev"),
        replan=lambda read: bump.plan_bump(world.local, config, image, app="checkout-api", env="dev", read_file=read),
        repo=world.local,
    )


def test_branch_holds_exactly_what_the_bump_core_writes_locally(
    example_world: World,
) -> None:
    world = example_world
    req = request_for(world, NEW)
    res = publish_promotion(req)
    assert res.operation == "created"
    # The same edit written locally is byte-for-byte what the branch holds.
    req.changeset.write(world.local)
    assert world.store.read_file(res.branch, OVERLAY) == (world.local / OVERLAY).read_bytes()
    assert world.store.changed_paths("main", res.branch) == [OVERLAY]
    assert publish_promotion(request_for_clean(world)).operation == "none"


def request_for_clean(world: World) -> PromotionRequest:
    git(world.local, "checkout", "-q", "--", ".")
    return request_for(world, NEW)


def test_concurrent_edit_of_the_same_file_is_kept_by_the_re_plan(
    example_world: World,
) -> None:
    world = example_world
    theirs = (
        (world.local / OVERLAY)
        .read_text()
        .replace(
            "namespace: checkout-dev\n",
            "namespace: checkout-dev\ncommonLabels: {team: payments}\n",
        )
    )
    world.fake.push_commit(REPO, "main", {OVERLAY: theirs}, "label the overlay")
    res = publish_promotion(request_for(world, NEW))
    assert res.operation == "created"
    on_branch = world.show(res.branch, OVERLAY)
    assert "commonLabels: {team: payments}" in on_branch and NEW.digest in on_branch  # type: ignore[operator]
    # Read through the API at the new head: only the files the bump core needed.
    reads = world.fake.requests(r"GET .*/(contents|repository/files)/")
    assert 1 <= len(reads) <= 4
    assert TOKEN not in on_branch
