"""A registry that answers slowly (headers or body a byte at a time) or endlessly is cut off by the gate's deadline.

`gates.image_exists.timeout_seconds` bounds the whole conversation with the registry: every
request (HEAD and GET manifests, the token service, a blob's redirect to its storage, retries
after a 429) and the reading of every answer. A drip never trips a read time-out, so without
that bound it holds the gate for ever. Each call here runs in a thread joined with a generous
limit: a regression fails the test instead of hanging the suite. No assertion is on speed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from promoter.registry.client import Deadline, RegistryClient
from promoter.registry.credentials import Lookup
from promoter.registry.endpoint import Endpoint
from promoter.registry.errors import RegistryError

from .slowserver import SlowServer, challenge, drip_body, drip_headers, endless, redirect
from .test_image_exists_cli import blocked, make_gitops, tree_hash

HANG = 60.0  # far beyond every deadline below: only a client that ignores its deadline gets there
MANIFESTS = "/v2/acme/api/manifests/"
BLOB = "sha256:" + "b" * 64


def finishes(call: Callable[[], Any], within: float = HANG) -> Any:
    """`call()`'s result (or its exception, raised here); fails when it is still running after `within` seconds."""
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = call()
        except BaseException as exc:  # handed to the test's thread
            out["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(within)
    assert not t.is_alive(), f"still waiting on the registry after {within:g}s: the deadline was not enforced"
    if "error" in out:
        raise out["error"]
    return out.get("value")


@pytest.fixture
def servers() -> Iterator[Callable[[dict[str, Any]], SlowServer]]:
    """Starts SlowServers; stops them all (ending their drips) when the test ends."""
    started: list[SlowServer] = []

    def start(routes: dict[str, Any]) -> SlowServer:
        server = SlowServer(routes).start()
        started.append(server)
        return server

    yield start
    for s in started:
        s.stop()


def client_for(server: SlowServer, seconds: float) -> RegistryClient:
    return RegistryClient(Endpoint(server.host, server.url, "acme/api"), Lookup(None), Deadline(seconds))


def refused(server: SlowServer, seconds: float, call: Callable[[RegistryClient], Any]) -> RegistryError:
    """The RegistryError `call` ends with, against `server`, within the generous join limit."""
    client = client_for(server, seconds)

    def go() -> Any:
        try:
            return call(client)
        finally:
            client.close()

    with pytest.raises(RegistryError) as info:
        finishes(go)
    return info.value


# ---- the registry itself drips -------------------------------------------------------------------------
@pytest.mark.parametrize("length", [True, False], ids=["content-length", "until-close"])
def test_a_manifest_dripped_a_byte_at_a_time_is_given_up_at_the_deadline(servers, length: bool):
    server = servers({MANIFESTS: drip_body(length=length)})
    err = refused(server, 0.5, lambda c: c.get_manifest("1.0.0"))
    assert err.kind == "unreachable"
    assert err.message == (
        f"registry {server.host} did not answer GET manifest 1.0.0 (acme/api) within the gate's 0.5s "
        "(timeout_seconds bounds all its requests, waits included)"
    )


def test_headers_dripped_a_byte_at_a_time_are_given_up_at_the_deadline(servers):
    server = servers({MANIFESTS: drip_headers})
    err = refused(server, 0.5, lambda c: c.head_manifest("1.0.0"))
    assert err.kind == "unreachable"
    assert f"registry {server.host} did not answer HEAD manifest 1.0.0 (acme/api) within the gate's 0.5s" in err.message


def test_a_wait_for_a_429_and_the_drip_after_it_share_one_deadline(servers):
    """The first answer is a 429 asking for 1 s; the retry drips. The wait is taken and the whole stays bounded."""
    calls: list[int] = []
    drip = drip_body()

    def limited_once(h: Any, stop: threading.Event) -> None:
        calls.append(1)
        if len(calls) == 1:
            h.send_response(429)
            h.send_header("Retry-After", "1")
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        drip(h, stop)

    server = servers({MANIFESTS: limited_once})
    client = client_for(server, 2.5)
    with pytest.raises(RegistryError) as info:
        finishes(lambda: client.get_manifest("1.0.0"))
    client.close()
    assert client.deadline.waited == [1.0] and len(calls) == 2
    assert "did not answer GET manifest 1.0.0 (acme/api) within the gate's 2.5s" in info.value.message


# ---- the token service and the blob storage drip ----------------------------------------------------
@pytest.mark.parametrize("behaviour", [drip_body("application/json"), drip_headers], ids=["body", "headers"])
def test_a_token_service_that_drips_is_given_up_at_the_deadline(servers, behaviour):
    tokens = servers({"/token": behaviour})
    server = servers({"/v2/": challenge(lambda: f"{tokens.url}/token")})
    err = refused(server, 0.5, lambda c: c.head_manifest("1.0.0"))
    assert err.kind == "unreachable"
    assert err.message.startswith(
        f"the token service of {server.host} ({tokens.url}/token) did not answer a token for manifest 1.0.0 (acme/api) "
        "within the gate's 0.5s"
    )
    assert ("GET", "/v2/acme/api/manifests/1.0.0") not in server.seen  # asked with HEAD only, never got a token


def test_a_blob_redirected_to_a_dripping_storage_is_given_up_at_the_deadline(servers):
    storage = servers({"/blob": drip_body("application/octet-stream")})
    server = servers({"/v2/acme/api/blobs/": redirect(lambda: f"{storage.url}/blob")})
    err = refused(server, 0.5, lambda c: c.get_blob(BLOB))
    assert err.kind == "unreachable"
    assert f"did not answer GET blob {BLOB} (acme/api) within the gate's 0.5s" in err.message
    assert storage.seen == [("GET", "/blob")]


# ---- endless answers are refused at their size cap, well before the deadline --------------------------
def test_an_endless_manifest_is_refused_at_the_cap(servers):
    server = servers({MANIFESTS: endless()})
    err = refused(server, 30, lambda c: c.get_manifest("1.0.0"))
    assert err.kind == "unreadable"
    assert err.message == f"{server.host} sent more than 4096 KiB for GET manifest 1.0.0: not read"


def test_an_endless_token_answer_is_refused_at_the_cap(servers):
    tokens = servers({"/token": endless()})
    server = servers({"/v2/": challenge(lambda: f"{tokens.url}/token")})
    err = refused(server, 30, lambda c: c.head_manifest("1.0.0"))
    assert err.kind == "unreadable"
    assert err.message == (
        f"the token service of {server.host} ({tokens.url}/token) sent more than 1024 KiB for a token for manifest 1.0.0: not read"
    )


def test_an_endless_redirect_body_is_not_read_whole(servers):
    """requests reads a redirect's body before following it, uncapped unless promoter's transport caps it."""
    storage = servers({"/blob": drip_body("application/octet-stream")})
    server = servers({"/v2/acme/api/blobs/": endless(307, location=lambda: f"{storage.url}/blob")})
    err = refused(server, 30, lambda c: c.get_blob(BLOB))
    assert err.kind == "unreadable"
    assert err.message == f"{server.host} redirected GET blob {BLOB} with an answer too large to read"
    assert storage.seen == []


# ---- through the CLI: the gate blocks, nothing is written ---------------------------------------------
def test_bump_blocks_with_one_line_when_the_registry_drips_the_manifest(servers, tmp_path: Path, clean_env):
    """Issue 13's reproduction: HEAD answers without a digest, so the tag's manifest is read, a byte a second."""
    server = servers({MANIFESTS: drip_body()})
    image = f"{server.host}/acme/api"
    repo = make_gitops(tmp_path, image, gates={"dev": {"image_exists": {"timeout_seconds": 1}}})
    before = tree_hash(repo)
    f = finishes(
        lambda: blocked(
            repo,
            f"{image}:1.0.0",
            clean_env,
            f"gate image_exists: registry {server.host} did not answer GET manifest 1.0.0 (acme/api) within the gate's 1s",
        )
    )
    assert f["evidence"]["wrong"] == "unreachable" and "offline: allow" in f["help"]
    assert tree_hash(repo) == before
