"""Transport: the HTTP adapter both forge clients send through, bounding each answer in time and size.

Every request's time-outs are cut to what is left of the run's deadline (`WaitBudget.left`), at
each try urllib3 makes, so a forge that accepts and never answers is given up on when the deadline
passes rather than after (1 + retries) × the request time-out. The answer's body is read here, in
pieces, with the deadline checked between them and its size capped: a forge answer is untrusted
input, and an endless or enormous one must neither hang promoter nor fill its memory.

Socket time-outs bound each read only: a server that sends its status line and then one header
byte a second is never "silent" for a whole time-out. So each request also has a watchdog that
shuts its connection's socket down once the deadline passes; the read then fails, urllib3 finds no
time left to retry in, and the client words it "timed out after N s" as any other time-out.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError
from urllib3.util import Timeout

from promoter.model.watchdog import Watchdog, watched_pool
from promoter.publish.forge.retry import RetryPolicy, WaitBudget

# The largest answer read: a 32 MiB file (limits.file_size_mib's default) in base64 inside JSON.
MAX_ANSWER_BYTES = 64 * 1024 * 1024
_PIECE = 64 * 1024
_LEAST = 0.05  # a time-out is never cut below this: the last request before the deadline still gets a try

# The watchdog of the request this thread is sending: the pools below tell it which connection is used.
_WATCHED = threading.local()


class DeadlineExceeded(requests.exceptions.Timeout):
    """The run's forge deadline passed before (or while) this request was answered."""


class AnswerTooLarge(requests.exceptions.RequestException):
    """The forge's answer is larger than promoter reads."""


class DeadlineTimeout(Timeout):
    """urllib3 clones a request's Timeout at every try: each clone gets what is left of the deadline."""

    def __init__(self, budget: WaitBudget, connect: float | None, read: float | None) -> None:
        super().__init__(connect=connect, read=read)
        self.budget = budget
        self.configured = (connect, read)

    def clone(self) -> Timeout:
        connect, read = self.configured
        left = self.budget.left()
        if left is not None:
            left = max(_LEAST, left)
            connect = left if connect is None else min(connect, left)
            read = left if read is None else min(read, left)
            # `total` caps connect + read together: one try never takes 2 × what was left.
            return Timeout(connect=connect, read=read, total=left)
        return Timeout(connect=connect, read=read)


_POOLS = {
    "http": watched_pool(HTTPConnectionPool, lambda: getattr(_WATCHED, "dog", None)),
    "https": watched_pool(HTTPSConnectionPool, lambda: getattr(_WATCHED, "dog", None)),
}


class DeadlineAdapter(HTTPAdapter):
    """An HTTPAdapter whose retries are a RetryPolicy, and whose requests keep to that policy's budget."""

    def __init__(self, retry: RetryPolicy, max_bytes: int | None = None, **kw: Any) -> None:
        super().__init__(max_retries=retry, **kw)
        self.budget = retry.budget
        self.max_bytes = MAX_ANSWER_BYTES if max_bytes is None else max_bytes
        # The last answer's headers: python-gitlab's errors drop them, and a 429 is read by them.
        self.last_headers: Any = {}

    def init_poolmanager(self, *args: Any, **kw: Any) -> None:
        super().init_poolmanager(*args, **kw)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **kw: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kw)
        manager.pool_classes_by_scheme = _POOLS
        return manager

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        if self.budget.expired():
            self.budget.timed_out = True
            raise DeadlineExceeded("the forge deadline has passed", request=request)
        with self.budget.request():
            left = self.budget.left()
            if left is None:
                return self._send(request, stream, timeout, verify, cert, proxies)
            end = time.monotonic() + left
            dog = Watchdog(lambda: end - time.monotonic(), "promoter-forge-deadline")
            _WATCHED.dog = dog
            try:
                response = self._send(request, stream, timeout, verify, cert, proxies)
            finally:
                _WATCHED.dog = None
                dog.close()
                if dog.fired:  # the client words a cut socket as the time-out it is
                    self.budget.timed_out = True
            if dog.fired:
                # A cut socket reads as the end of the headers or body: what came is no answer.
                response.close()
                raise DeadlineExceeded("the forge deadline passed while it was answering", request=request)
            return response

    def _send(
        self, request: requests.PreparedRequest, stream: bool, timeout: Any, verify: Any, cert: Any, proxies: Any
    ) -> requests.Response:
        if isinstance(timeout, tuple):
            connect, read = timeout
        elif isinstance(timeout, Timeout):
            connect, read = timeout.connect_timeout, timeout.read_timeout
        else:
            connect = read = timeout
        response = super().send(
            request,
            stream=True,
            timeout=DeadlineTimeout(self.budget, connect, read),  # type: ignore[arg-type]
            verify=verify,
            cert=cert,
            proxies=proxies,
        )
        self.last_headers = response.headers
        if not stream:
            self._read_body(response)
        return response

    def _read_body(self, response: requests.Response) -> None:
        """The whole body, as requests would read it, but in pieces: the deadline and size checked between."""
        raw, pieces, size = response.raw, [], 0
        try:
            while True:
                piece = raw.read1(_PIECE, decode_content=True)
                if not piece:
                    break
                size += len(piece)
                if size > self.max_bytes:
                    raise AnswerTooLarge(f"an answer larger than {_size(self.max_bytes)}", response=response)
                pieces.append(piece)
                if self.budget.expired():
                    self.budget.timed_out = True
                    raise DeadlineExceeded("the forge deadline passed while reading an answer", response=response)
        except ProtocolError as exc:
            response.close()
            raise requests.exceptions.ChunkedEncodingError(exc) from None
        except DecodeError as exc:
            response.close()
            raise requests.exceptions.ContentDecodingError(exc) from None
        except ReadTimeoutError as exc:
            response.close()
            raise requests.exceptions.ConnectionError(exc) from None
        except requests.exceptions.RequestException:
            response.close()
            raise
        # requests reads `_content` when set: the body is not read a second time.
        response._content = b"".join(pieces)
        response._content_consumed = True  # type: ignore[attr-defined]


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB" if n >= 1024 * 1024 else f"{n:,} bytes"
