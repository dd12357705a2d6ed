"""Every fault switch of the fake forge, against both real clients: what is retried, how often, how long we wait."""

from __future__ import annotations

import pytest
from forgeworld import REPO, World

from promoter.model.errors import ForgeError
from promoter.publish.forge.base import PullOptions
from promoter.publish.publisher import publish_promotion

BASE_READ = r"GET .*/branches/main$"
FIND = r"GET .*/(pulls|merge_requests)$"
CREATE_PR = r"POST .*/(pulls|merge_requests)$"


def calls(world: World, pattern: str) -> int:
    return len(world.fake.requests(pattern))


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried_with_growing_backoff(world: World, status: int) -> None:
    world.fake.fail_next(BASE_READ, status=status, times=2)
    res = publish_promotion(world.request())
    assert res.operation == "created"
    assert calls(world, BASE_READ) == 3
    assert world.sleeps == [0.01, 0.02]  # backoff 0.01 s, doubled


def test_server_errors_on_a_write_are_retried(world: World) -> None:
    world.fake.fail_next(CREATE_PR, status=502)
    res = publish_promotion(world.request())
    assert res.operation == "created"
    assert calls(world, CREATE_PR) == 2 and len(world.fake.repo(REPO).pulls) == 1


def test_server_errors_beyond_max_retries_fail_in_one_line(world: World) -> None:
    world.fake.fail_next(BASE_READ, status=503, times=50)
    with pytest.raises(ForgeError) as err:
        publish_promotion(world.request())
    assert calls(world, BASE_READ) == 4  # 1 + max_retries (3)
    assert "kept failing" in str(err.value) and "\n" not in str(err.value)
    assert world.store.branches() == ["main"]


@pytest.mark.parametrize("status", [403, 429])
def test_secondary_rate_limit_waits_what_retry_after_says(world: World, status: int) -> None:
    kind = "secondary" if world.kind == "github" else "gitlab"
    world.fake.rate_limit_next(FIND, kind=kind, status=status, retry_after=7)
    res = publish_promotion(world.request())
    assert res.operation == "created"
    assert calls(world, FIND) == 2
    assert world.sleeps == [7.0]


def test_primary_rate_limit_waits_until_the_reset(world: World) -> None:
    kind = "primary" if world.kind == "github" else "gitlab"
    world.fake.rate_limit_next(
        BASE_READ,
        kind=kind,
        status=403 if world.kind == "github" else 429,
        retry_after=None,
        reset_in=30,
    )
    res = publish_promotion(world.request())
    assert res.operation == "created"
    assert calls(world, BASE_READ) == 2
    (wait,) = world.sleeps
    assert 29.0 <= wait <= 32.0  # until X-RateLimit-Reset (+1 s), computed from the header


def test_rate_limit_longer_than_the_wait_budget_fails_without_waiting(
    world: World,
) -> None:
    kind = "secondary" if world.kind == "github" else "gitlab"
    world.fake.rate_limit_next(BASE_READ, kind=kind, status=429, retry_after=3600)
    with pytest.raises(ForgeError) as err:
        publish_promotion(world.request())
    message = str(err.value)
    assert "rate limit" in message and "3600 s" in message and "forge.max_wait_seconds = 120" in message
    assert world.sleeps == [] and calls(world, BASE_READ) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_other_client_errors_are_not_retried(world: World, status: int) -> None:
    world.fake.fail_next(FIND, status=status, message="Nope")
    with pytest.raises(ForgeError) as err:
        publish_promotion(world.request())
    assert calls(world, FIND) == 1 and world.sleeps == []
    assert "\n" not in str(err.value)


def test_dropped_connection_is_retried(world: World) -> None:
    world.fake.drop_next(BASE_READ)
    res = publish_promotion(world.request())
    assert res.operation == "created"
    assert calls(world, BASE_READ) == 2


def test_dropped_connections_beyond_max_retries_fail_in_one_line(world: World) -> None:
    world.fake.drop_next(BASE_READ, times=50)
    with pytest.raises(ForgeError) as err:
        publish_promotion(world.request())
    assert "cannot reach" in str(err.value) and calls(world, BASE_READ) == 4


def test_slow_answer_times_out_and_is_retried(world: World) -> None:
    world.fake.slow_next(FIND, delay=1.6)
    res = publish_promotion(world.request(settings=world.settings(timeout=1)))
    assert res.operation == "created"
    assert calls(world, FIND) == 2
    assert len(world.fake.repo(REPO).pulls) == 1


@pytest.mark.parametrize("world", ["github"], indirect=True)  # a github-only behaviour
def test_not_yet_resolvable_pr_right_after_create_is_retried(world: World) -> None:
    world.fake.fail_next(
        r"PATCH .*/issues/\d+$",
        status=422,
        message="Could not resolve to a node with the global id of 'PR_1_1'",
    )
    res = publish_promotion(world.request(options=PullOptions(labels=["promotion"])))
    assert world.fake.repo(REPO).pulls[res.number].labels == ["promotion"]
    assert calls(world, r"PATCH .*/issues/\d+$") == 2
