"""SlowServer: a hostile registry on 127.0.0.1 that answers, but slowly: headers or body one byte at a time.

Each route (a path prefix) names a behaviour. A drip never ends on its own: it stops when the
server is stopped, so a client that hangs on it is released at the end of the test (the test
has failed by then, through its own join time-out) rather than left blocked for ever.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable
from typing import Any

DRIP_EVERY = 0.2  # seconds between two bytes: far below any read time-out, so only a deadline stops it

Handler = http.server.BaseHTTPRequestHandler
Behaviour = Callable[[Handler, threading.Event], None]


class SlowServer:
    def __init__(self, routes: dict[str, Behaviour]) -> None:
        self.routes = routes
        self.stopped = threading.Event()
        self.seen: list[tuple[str, str]] = []  # (method, path) of every request
        server = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_HEAD(self) -> None:
                server._handle(self)

            def do_GET(self) -> None:
                server._handle(self)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def start(self) -> SlowServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handle(self, h: Handler) -> None:
        self.seen.append((h.command, h.path))
        for prefix, behaviour in sorted(self.routes.items(), key=lambda kv: -len(kv[0])):
            if h.path.startswith(prefix):
                try:
                    behaviour(h, self.stopped)
                except OSError:  # the client gave up and cut the connection: what the tests want
                    h.close_connection = True
                return
        h.send_response(404)
        h.send_header("Content-Length", "0")
        h.end_headers()


# ---- behaviours ----------------------------------------------------------------------------------
def _drip(h: Handler, stop: threading.Event, byte: bytes = b" ") -> None:
    while not stop.wait(DRIP_EVERY):
        h.wfile.write(byte)
        h.wfile.flush()
    h.close_connection = True


def drip_body(content_type: str = "application/vnd.oci.image.index.v1+json", *, length: bool = True) -> Behaviour:
    """200 with its headers at once (no Docker-Content-Digest), then the body a byte at a time (GET only).

    `length`: a Content-Length far larger than will ever come; without it the body runs until the
    connection closes."""

    def go(h: Handler, stop: threading.Event) -> None:
        h.send_response(200)
        h.send_header("Content-Type", content_type)
        if length:
            h.send_header("Content-Length", "100000")
        else:
            h.send_header("Connection", "close")
        h.end_headers()
        if h.command == "GET":
            _drip(h, stop)

    return go


def drip_headers(h: Handler, stop: threading.Event) -> None:
    """A status line, then a header that never ends: one byte at a time."""
    h.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.index.v1+json\r\nX-Slow: ")
    h.wfile.flush()
    _drip(h, stop, b"a")


def challenge(realm: Callable[[], str]) -> Behaviour:
    """401 with Docker's Bearer challenge pointing at `realm()` (an anonymous token is asked there)."""

    def go(h: Handler, stop: threading.Event) -> None:
        h.send_response(401)
        h.send_header("WWW-Authenticate", f'Bearer realm="{realm()}",service="slow",scope="repository:acme/api:pull"')
        h.send_header("Content-Length", "0")
        h.end_headers()

    return go


def redirect(location: Callable[[], str]) -> Behaviour:
    def go(h: Handler, stop: threading.Event) -> None:
        h.send_response(307)
        h.send_header("Location", location())
        h.send_header("Content-Length", "0")
        h.end_headers()

    return go


ENDLESS_BYTES = 64 << 20  # what `endless` sends at most before it stalls: a client that reads it all is caught


def endless(status: int = 200, location: Callable[[], str] | None = None) -> Behaviour:
    """An answer as fast as the socket takes it, with no length: ENDLESS_BYTES, then silence until stop."""

    def go(h: Handler, stop: threading.Event) -> None:
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        if location is not None:
            h.send_header("Location", location())
        h.send_header("Connection", "close")
        h.end_headers()
        block = b" " * 65536
        for _ in range(ENDLESS_BYTES // len(block)):
            if stop.is_set():
                break
            h.wfile.write(block)
        stop.wait()
        h.close_connection = True

    return go
