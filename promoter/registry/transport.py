"""Transport: the HTTP session a RegistryClient sends through, whose sockets are cut when the gate's deadline passes.

A socket time-out bounds each read only: a registry (or its token service, or the storage a blob
redirects to) that sends its status line and then one header byte a second, or a manifest one byte
a second, is never silent for a whole time-out and would hold the gate for ever. So every
connection this session takes (new or pooled, to any host the client is sent to) is watched: once
the deadline passes, a watchdog thread shuts its socket down (and every `RECHECK` after, so a
connection opened later is cut too). The blocked read then fails or ends early, and the client,
seeing `expired`, words it as the registry not answering in time. The same idea as the forge's
transport (promoter.publish.forge.transport), for one gate's client rather than a run's forge work.
Bodies are read by the client in pieces with the deadline checked between them (client._read).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import weakref
from collections.abc import Callable
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import HTTPError

RECHECK = 0.1  # once the deadline passed, how often the watchdog shuts down the sockets in use
MAX_REDIRECT_BODY = 64 * 1024  # a redirect's body is read (requests reads it to reuse the connection): capped
PIECE = 64 * 1024


class DeadlinePassed(requests.exceptions.Timeout):
    """The gate's deadline passed while this request was being answered."""


class AnswerTooLarge(requests.exceptions.RequestException):
    """An answer larger than promoter reads."""


class Watchdog:
    """Shuts down every watched connection's socket once `remaining()` reaches 0, until closed.

    Its thread starts with the first connection watched and ends at `close()` (a daemon: a client
    nobody closed never keeps the process alive).
    """

    def __init__(self, remaining: Callable[[], float]) -> None:
        self.remaining = remaining
        self.fired = False
        self._conns: weakref.WeakSet[Any] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._over = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def expired(self) -> bool:
        """The deadline passed (whether or not a socket had to be cut)."""
        return self.fired or self.remaining() <= 0

    def watch(self, conn: Any) -> None:
        with self._lock:
            self._conns.add(conn)
            if self._thread is None and not self._over.is_set():
                self._thread = threading.Thread(target=self._run, name="promoter-registry-deadline", daemon=True)
                self._thread.start()

    def close(self) -> None:
        self._over.set()

    def _run(self) -> None:
        # Wait out the deadline (re-read: a test's clock, or a deadline that moved), then cut.
        while not self._over.is_set():
            left = self.remaining()
            if left > 0:
                self._over.wait(left)
                continue
            self.fired = True
            with self._lock:
                conns = list(self._conns)
            for conn in conns:
                sock = getattr(conn, "sock", None)
                if sock is not None:
                    with contextlib.suppress(OSError):  # already closed: nothing left to cut
                        sock.shutdown(socket.SHUT_RDWR)
            self._over.wait(RECHECK)


def _watched(pool: type[HTTPConnectionPool], dog: Watchdog) -> type[HTTPConnectionPool]:
    """`pool`, handing every connection a request takes from it (a new or a pooled one) to `dog`."""

    class Watched(pool):  # type: ignore[valid-type,misc]
        def _get_conn(self, timeout: float | None = None) -> Any:
            conn = super()._get_conn(timeout)
            dog.watch(conn)
            return conn

    Watched.__name__ = Watched.__qualname__ = f"Watched{pool.__name__}"
    return Watched


class WatchedAdapter(HTTPAdapter):
    """An HTTPAdapter whose connections (direct or through a proxy) are all watched by one Watchdog."""

    def __init__(self, dog: Watchdog, **kw: Any) -> None:
        self.dog = dog
        self._pools = {"http": _watched(HTTPConnectionPool, dog), "https": _watched(HTTPSConnectionPool, dog)}
        super().__init__(**kw)

    def init_poolmanager(self, *args: Any, **kw: Any) -> None:
        super().init_poolmanager(*args, **kw)
        self.poolmanager.pool_classes_by_scheme = self._pools

    def proxy_manager_for(self, proxy: str, **kw: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kw)
        manager.pool_classes_by_scheme = self._pools
        return manager

    def send(self, request: requests.PreparedRequest, *args: Any, **kw: Any) -> requests.Response:
        if self.dog.expired:
            raise DeadlinePassed("the deadline has passed", request=request)
        response = super().send(request, *args, **kw)
        if self.dog.expired:
            # A cut socket reads as the end of the headers: what came is no answer.
            response.close()
            raise DeadlinePassed("the deadline passed while the answer came", request=request)
        if response.is_redirect:
            # requests reads a redirect's whole body before following it, uncapped: read it here instead.
            # requests looks at `_content` first: the body is not read a second time.
            response._content = read_body(response, MAX_REDIRECT_BODY, self.dog)
            response._content_consumed = True  # type: ignore[attr-defined]
        return response


def read_body(response: requests.Response, cap: int, dog: Watchdog) -> bytes:
    """A streamed answer's body, read in pieces with the deadline checked between them, at most `cap` bytes.

    Raises AnswerTooLarge past `cap`, DeadlinePassed once the deadline passed (a cut socket may
    read as an early end: that body is no answer either), ConnectionError when it broke off.
    The response is closed when this raises."""
    pieces: list[bytes] = []
    size = 0
    try:
        while True:
            piece = response.raw.read1(PIECE, decode_content=True)
            if not piece:
                break
            size += len(piece)
            if size > cap:
                raise AnswerTooLarge(f"an answer larger than {cap} bytes", response=response)
            pieces.append(piece)
            if dog.expired:
                raise DeadlinePassed("the deadline passed while reading an answer", response=response)
    except requests.RequestException:  # ours above (requests' errors are OSErrors too: caught first)
        response.close()
        raise
    except (OSError, HTTPError) as exc:
        response.close()
        if dog.expired:
            raise DeadlinePassed("the deadline passed while reading an answer", response=response) from None
        raise requests.exceptions.ConnectionError(f"the answer broke off: {type(exc).__name__}") from None
    if dog.expired:  # a socket cut reads as the end of the body
        response.close()
        raise DeadlinePassed("the deadline passed while reading an answer", response=response)
    return b"".join(pieces)


def watch_session(session: requests.Session, dog: Watchdog) -> requests.Session:
    """`session` with every request (registry, token service, redirect targets) sent through `dog`'s adapter."""
    adapter = WatchedAdapter(dog)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
