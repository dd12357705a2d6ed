"""Bounds on forge work, both forges: one deadline over requests, time-outs, retries and waits; rate limits
that name no wait (GitHub's secondary limits, GraphQL's limits in an HTTP 200) waited out when the wait
fits, refused at once in one line saying when to retry when it does not; answers too large to read."""

from __future__ import annotations

import re
import socket
import threading
import time

import pytest
from forgeworld import REPO, World

from promoter.model.errors import ForgeError
from promoter.publish.forge import transport
from promoter.publish.publisher import publish_promotion

BASE_READ = r"GET .*/branches/main$"
FIND = r"GET .*/(pulls|merge_requests)$"
GRAPHQL = r"POST /api/graphql$"


def calls(world: World, pattern: str) -> int:
    return len(world.fake.requests(pattern))


def one_line(exc: pytest.ExceptionInfo[ForgeError]) -> str:
    message = str(exc.value)
    assert "\n" not in message and "Traceback" not in message
    return message


# ---- the deadline ------------------------------------------------------------------------------
def test_a_forge_that_never_answers_is_given_up_on_at_the_deadline(world: World) -> None:
    """Before: (1 + max_retries) tries × the request time-out, reported as "ConnectionError".
    Now each try's time-out is cut to what is left of forge.timeout_seconds."""
    world.fake.hang_next(BASE_READ, times=50)
    settings = world.settings(timeout=1.0, timeout_seconds=2.5, max_retries=5)
    with pytest.raises(ForgeError) as err:
        publish_promotion(world.request(settings=settings))
    message = one_line(err)
    assert re.search(r"timed out after [23] s while reading branch main", message), message
    assert "forge.timeout_seconds = 2.5" in message
    # Two full tries of 1 s and a third cut to the half second left; not the six max_retries allows.
    assert calls(world, BASE_READ) == 3
    assert world.store.branches() == ["main"]


def test_waits_count_toward_the_deadline(world: World) -> None:
    """Back-off a test's sleep skips still counts: the deadline a real run would meet is met here."""
    world.fake.fail_next(BASE_READ, status=503, times=50)
    settings = world.settings(timeout_seconds=10, max_retries=10, backoff=2.0, max_wait_seconds=100)
    with pytest.raises(ForgeError) as err:
        publish_promotion(world.request(settings=settings))
    message = one_line(err)
    # Waits of 2, 4 s fit the 10 s; the next (8 s) would pass the deadline: refused, not slept.
    assert world.sleeps == [2.0, 4.0]
    assert "timed out after" in message and "forge.timeout_seconds = 10" in message
    assert calls(world, BASE_READ) == 3


def test_rendering_the_branch_is_not_forge_time(world: World) -> None:
    """The deadline bounds the forge, not promoter's own work between two requests."""
    from promoter.publish.description import BranchReview

    def slow_describe(files, apps):
        time.sleep(1.2)  # longer than the whole forge deadline below
        return BranchReview()

    settings = world.settings(timeout_seconds=1.0)
    res = publish_promotion(world.request(settings=settings, describe=slow_describe))
    assert res.operation == "created"


# ---- rate limits that name no wait ---------------------------------------------------------------
@pytest.mark.parametrize("world", ["github"], indirect=True)
@pytest.mark.parametrize("status", [403, 429])
def test_secondary_limit_without_retry_after_waits_a_minute(world: World, status: int) -> None:
    world.fake.rate_limit_next(FIND, kind="secondary", status=status, retry_after=None)
    res = publish_promotion(world.request())
    assert res.operation == "created"
    assert world.sleeps == [60.0] and calls(world, FIND) == 2


@pytest.mark.parametrize("world", ["github"], indirect=True)
def test_a_secondary_limit_that_repeats_waits_twice_as_long(world: World) -> None:
    world.fake.rate_limit_next(FIND, kind="secondary", retry_after=None, times=2)
    res = publish_promotion(world.request(settings=world.settings(max_wait_seconds=300, timeout_seconds=600)))
    assert res.operation == "created"
    assert world.sleeps == [60.0, 120.0]


def test_a_429_naming_no_wait_waits_a_minute(world: World) -> None:
    world.fake.fail_next(FIND, status=429, message="Too Many Requests")
    res = publish_promotion(world.request())
    assert res.operation == "created"
    assert world.sleeps == [60.0] and calls(world, FIND) == 2


def test_a_limit_whose_wait_does_not_fit_the_deadline_fails_at_once_saying_when(world: World) -> None:
    if world.kind == "github":
        world.fake.rate_limit_next(BASE_READ, kind="secondary", retry_after=None)
    else:
        world.fake.fail_next(BASE_READ, status=429, message="Retry later")
    before = time.time()
    with pytest.raises(ForgeError) as err:
        publish_promotion(world.request(settings=world.settings(timeout_seconds=30)))
    message = one_line(err)
    name = "GitHub" if world.kind == "github" else "GitLab"
    assert f"{name} rate limit while reading branch main: {name} asks to wait 60 s" in message
    assert "left of forge.timeout_seconds = 30" in message
    retry = re.search(r"run again after (\d\d):(\d\d):(\d\d) UTC", message)
    assert retry, message
    expected = time.gmtime(before + 60)
    assert (int(retry.group(1)), int(retry.group(2))) in {
        (expected.tm_hour, expected.tm_min),
        time.gmtime(before + 61)[3:5],
    }
    assert world.sleeps == [] and calls(world, BASE_READ) == 1


@pytest.mark.parametrize("world", ["github"], indirect=True)
def test_a_limit_beyond_the_wait_budget_names_max_wait_seconds(world: World) -> None:
    world.fake.rate_limit_next(BASE_READ, kind="secondary", retry_after=None)
    with pytest.raises(ForgeError) as err:
        publish_promotion(world.request(settings=world.settings(max_wait_seconds=10)))
    message = one_line(err)
    assert "asks to wait 60 s, more than the remaining wait budget (forge.max_wait_seconds = 10)" in message
    assert world.sleeps == []


@pytest.mark.parametrize("world", ["github"], indirect=True)
def test_a_plain_403_is_still_no_rate_limit(world: World) -> None:
    world.fake.fail_next(FIND, status=403, message="Must have admin rights to Repository.")
    with pytest.raises(ForgeError) as err:
        publish_promotion(world.request())
    assert "cannot write" in one_line(err) and world.sleeps == [] and calls(world, FIND) == 1


# ---- GraphQL: a rate limit in an HTTP 200 ----------------------------------------------------------
@pytest.mark.parametrize("world", ["github"], indirect=True)
@pytest.mark.parametrize("kind", ["graphql", "graphql-code"])
def test_graphql_rate_limit_in_a_200_is_waited_out(world: World, kind: str) -> None:
    world.fake.rate_limit_next(GRAPHQL, kind=kind, retry_after=None)
    res = publish_promotion(world.request())
    assert res.operation == "created"
    # x-ratelimit-remaining is not 0 in that answer: the error's type decides, then a minute's wait.
    assert world.sleeps == [60.0] and calls(world, GRAPHQL) == 2
    assert world.store.branch_sha("promoter/dev/checkout-api") == res.head_sha


@pytest.mark.parametrize("world", ["github"], indirect=True)
def test_graphql_rate_limit_at_zero_waits_until_the_reset(world: World) -> None:
    world.fake.rate_limit_next(GRAPHQL, kind="graphql", retry_after=None, remaining=0, reset_in=20)
    res = publish_promotion(world.request())
    assert res.operation == "created"
    (wait,) = world.sleeps
    assert 19.0 <= wait <= 22.0


@pytest.mark.parametrize("world", ["github"], indirect=True)
def test_graphql_rate_limit_beyond_the_deadline_fails_in_one_line_and_leaves_nothing(world: World) -> None:
    world.fake.rate_limit_next(GRAPHQL, kind="graphql-code", retry_after=None)
    with pytest.raises(ForgeError) as err:
        publish_promotion(world.request(settings=world.settings(timeout_seconds=20)))
    message = one_line(err)
    assert "GitHub rate limit while committing to promoter/dev/checkout-api" in message
    assert "asks to wait 60 s" in message and "run again after" in message
    # The branch created for the commit is deleted again: nothing half-done.
    assert world.store.branches() == ["main"] and not world.fake.repo(REPO).pulls


# ---- answers too large to read -------------------------------------------------------------------------
def test_an_answer_larger_than_promoter_reads_is_refused(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transport, "MAX_ANSWER_BYTES", 4096)
    world.fake.answer_next(BASE_READ, {"padding": "x" * 10_000}, content_type="application/json")
    with pytest.raises(ForgeError) as err:
        publish_promotion(world.request())
    message = one_line(err)
    name = "GitHub" if world.kind == "github" else "GitLab"
    assert message.startswith(
        f"unexpected answer from {name} while reading branch main (an answer larger than 4,096 bytes"
    )


def test_each_poll_of_the_healthy_gate_has_the_whole_deadline(world: World) -> None:
    """--wait polls the forge for up to hours: forge.timeout_seconds bounds each poll, not all of them."""
    from types import SimpleNamespace

    from promoter.flows.forgeaccess import ForgeAccess

    url = world.fake.github_url if world.kind == "github" else world.fake.gitlab_url
    config = SimpleNamespace(forge={"type": world.kind, "url": url, "repository": REPO, "timeout_seconds": 1})
    environ = {"GITHUB_TOKEN" if world.kind == "github" else "GITLAB_TOKEN": "ghp_FAKEtoken0123456789abcdefABCDEF0123"}
    head = world.store.branch_sha("main")
    world.fake.slow_next(r"GET .*/commits/[0-9a-f]+/(status|statuses|check-runs)$", delay=0.3, times=20)
    with ForgeAccess(config, None, environ) as access:  # type: ignore[arg-type]
        for _ in range(4):  # 4 polls × 0.3 s or more each: past one deadline of 1 s in all
            assert access.commit_checks(head or "") == []


# ---- a forge that answers, a byte at a time ------------------------------------------------------------
class TricklingServer:
    """Sends a status line at once, then one header byte every 0.1 s: each socket read gets a byte, so no read
    ever times out. It gives up after `limit` seconds (a bound for the test, not a time it measures) and
    records whether the client cut the connection before that."""

    def __init__(self, limit: float = 20.0) -> None:
        self.limit = limit
        self.cut_by_client: list[bool] = []
        self._stop = threading.Event()
        self._srv = socket.create_server(("127.0.0.1", 0))
        self._srv.settimeout(0.1)
        self.port = self._srv.getsockname()[1]
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._srv.accept()
            except OSError:
                continue
            t = threading.Thread(target=self._trickle, args=(conn,), daemon=True)
            self._threads.append(t)
            t.start()

    def _trickle(self, conn: socket.socket) -> None:
        end = time.monotonic() + self.limit
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                while time.monotonic() < end and not self._stop.is_set():
                    conn.sendall(b"a")
                    self._stop.wait(0.1)
                self.cut_by_client.append(False)
                conn.sendall(b"\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
            except OSError:
                self.cut_by_client.append(True)

    def close(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=5)
        self._srv.close()


@pytest.mark.parametrize("kind", ["github", "gitlab"])
def test_headers_that_trickle_in_are_given_up_on_at_the_deadline(kind: str) -> None:
    """Before: socket time-outs bound each read only, and a server sending a header byte every 0.1 s held
    promoter until it stopped by itself (forge.timeout_seconds = 2, the review saw 30 s). Now a watchdog
    cuts the connection at the deadline ("timed out after N s"): the server sees it cut before its own end."""
    from promoter.publish.forge import open_forge
    from promoter.publish.forge.settings import ForgeSettings

    server = TricklingServer()
    try:
        url = f"http://127.0.0.1:{server.port}" + ("/api/v3" if kind == "github" else "")
        settings = ForgeSettings(
            type=kind,
            url=url,
            repository=REPO,
            token="ghp_FAKEtoken0123456789abcdefABCDEF0123",
            timeout_seconds=2,
            timeout=1.0,
            max_retries=1,
        )
        forge = open_forge(settings)
        try:
            with pytest.raises(ForgeError) as err:
                forge.base_head("main")
        finally:
            forge.close()
        message = one_line(err)
        assert re.search(r"timed out after \d+ s while reading branch main", message), message
        assert "forge.timeout_seconds = 2 " in message
        for _ in range(50):  # the server notices the cut at its next byte
            if server.cut_by_client:
                break
            time.sleep(0.1)
        assert server.cut_by_client and all(server.cut_by_client), "promoter waited for the server to stop"
    finally:
        server.close()


def test_one_try_never_takes_more_than_what_is_left() -> None:
    """Connect and read time-outs are each cut to what is left; `total` caps the two together. Before: a try
    could take twice what was left (a slow connect, then a slow read)."""
    from promoter.publish.forge.retry import WaitBudget

    now = [0.0]
    budget = WaitBudget(deadline=10.0, timer=lambda: now[0])
    with budget.request():
        now[0] = 7.0
        timeout = transport.DeadlineTimeout(budget, 5.0, 5.0).clone()
    assert (timeout.connect_timeout, timeout.total) == (3.0, 3.0)
    timeout.start_connect()
    assert timeout.read_timeout is not None and timeout.read_timeout <= 3.0
    assert transport.DeadlineTimeout(WaitBudget(), 5.0, 6.0).clone().total is None  # no deadline: as configured
