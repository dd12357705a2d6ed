"""Transport: the HTTP session a RegistryClient sends through, whose sockets are cut when the gate's deadline passes.

A registry (or its token service, or the storage a blob redirects to) that drips its headers or
body is never silent for a whole socket time-out: every connection this session takes (new or
pooled, to any host the client is sent to) is watched by the gate's one Watchdog
(promoter.model.watchdog, shared with the forge's transport), and the client, seeing `expired`,
words a cut read as the registry not answering in time. Bodies are read in pieces with the
deadline checked between them (read_body).
"""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import HTTPError

from promoter.model.watchdog import Watchdog, watched_pool

MAX_REDIRECT_BODY = 64 * 1024  # a redirect's body is read (requests reads it to reuse the connection): capped
PIECE = 64 * 1024


class DeadlinePassed(requests.exceptions.Timeout):
    """The gate's deadline passed while this request was being answered."""


class AnswerTooLarge(requests.exceptions.RequestException):
    """An answer larger than promoter reads."""


class WatchedAdapter(HTTPAdapter):
    """An HTTPAdapter whose connections (direct or through a proxy) are all watched by one Watchdog."""

    def __init__(self, dog: Watchdog, **kw: Any) -> None:
        self.dog = dog
        self._pools = {
            "http": watched_pool(HTTPConnectionPool, lambda: dog),
            "https": watched_pool(HTTPSConnectionPool, lambda: dog),
        }
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
