"""Watchdog: shuts down the sockets of HTTP connections once a deadline passes.

A socket time-out bounds each read only: a server that sends its status line and then one header
byte a second, or a body one byte a second, is never silent for a whole time-out and would hold
promoter for ever. So the connections a request takes are watched: once the deadline passes, a
thread shuts their sockets down (and again every RECHECK, so a connection taken later is cut too),
and the blocked read fails or ends early. The forge's transport watches each request against the
run's forge deadline; the registry's watches one gate's requests against the gate's deadline.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import weakref
from collections.abc import Callable
from typing import Any

RECHECK = 0.1  # once the deadline passed, how often the sockets in use are shut down


class Watchdog:
    """Shuts down every watched connection's socket once `remaining()` reaches 0, until closed.

    Its thread starts with the first connection watched and ends at `close()` (a daemon: a watchdog
    nobody closed never keeps the process alive).
    """

    def __init__(self, remaining: Callable[[], float], name: str = "promoter-deadline") -> None:
        self.remaining = remaining
        self.name = name
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
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()

    def close(self) -> None:
        self._over.set()

    def _run(self) -> None:
        # Wait out the deadline (re-read: a deadline that moved), then cut.
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


def watched_pool(pool: type[Any], dog_for: Callable[[], Watchdog | None]) -> type[Any]:
    """urllib3's connection pool class `pool`, handing every connection a request takes from it (a new
    or a pooled one) to the watchdog `dog_for()` names at that moment (none: not watched)."""

    class Watched(pool):
        def _get_conn(self, timeout: float | None = None) -> Any:
            conn = super()._get_conn(timeout)
            dog = dog_for()
            if dog is not None:
                dog.watch(conn)
            return conn

    Watched.__name__ = Watched.__qualname__ = f"Watched{pool.__name__}"
    return Watched
