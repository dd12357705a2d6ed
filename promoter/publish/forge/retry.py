"""RetryPolicy and WaitBudget: which forge failures are retried, how long to wait, and when forge work must stop.

The policy is a urllib3 `Retry`, mounted on the HTTP sessions of PyGithub and python-gitlab, so
every request either client makes goes through one policy: 5xx, timeouts and dropped connections
back off exponentially; 429 and rate-limited 403 answers wait what the server asks (`Retry-After`,
else `X-RateLimit-Reset`/`RateLimit-Reset` with the remaining count at 0). A rate limit that names
no wait (GitHub's secondary limits often do not) goes back to the client, which reads its body and
waits at least a minute (`ForgeClient._limited`); every other 4xx goes straight back too.

All of one run's forge work draws from one `WaitBudget`: the time it may sleep
(`forge.max_wait_seconds`) and the deadline of the whole (`forge.timeout_seconds`), which counts
the time spent in requests (their time-outs and retries included) and in waits alike. A wait that does not fit either is not slept:
the run fails at once, saying how long the server asked for and when to try again.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from urllib3.exceptions import MaxRetryError
from urllib3.util.retry import Retry

SECONDARY_WAIT = 60.0  # GitHub: "wait for at least one minute before retrying", doubling while it repeats


@dataclass
class WaitBudget:
    """The time one run may spend sleeping (`max_total`) and on forge work as a whole (`deadline`).

    Forge work is the time spent inside requests (the transport marks each one, its time-outs,
    retries and the back-off between them included) plus the waits taken between requests (rate
    limits, pauses before starting over). Promoter's own work between two requests (rendering the
    branch for its description, a gate's polling interval) is not the forge's and is not counted.
    `sleep` is injectable for tests: a sleep that returns at once still counts its seconds, so a
    test meets the deadline a real run would.
    """

    max_total: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time  # epoch seconds, for X-RateLimit-Reset
    deadline: float | None = None  # seconds of forge work in all; None: no deadline
    timer: Callable[[], float] = time.monotonic
    spent: float = 0.0
    waits: list[float] = field(default_factory=list)
    refused: float | None = None  # the wait that did not fit, for the error message
    refused_by: str | None = None  # "max_wait_seconds" | "timeout_seconds"
    timed_out: bool = False  # a request or retry was cut short by the deadline
    used: float = 0.0  # forge work finished so far, in seconds
    _active: float | None = None  # when the request in flight began

    # ---- the deadline ----------------------------------------------------------------------
    def elapsed(self) -> float:
        """Seconds of forge work so far: requests (the one in flight too) and waits."""
        return self.used + (self.timer() - self._active if self._active is not None else 0.0)

    def left(self) -> float | None:
        """Seconds left before the deadline (may be negative), None without one."""
        return None if self.deadline is None else self.deadline - self.elapsed()

    def expired(self) -> bool:
        left = self.left()
        return left is not None and left <= 0

    @contextmanager
    def request(self) -> Iterator[None]:
        """One request in flight (the transport's send): its whole time is forge work."""
        outer = self._active is not None
        if not outer:
            self._active = self.timer()
        try:
            yield
        finally:
            if not outer and self._active is not None:
                self.used += self.timer() - self._active
                self._active = None

    def renew(self) -> None:
        """Start the bounds afresh: a new piece of forge work (one poll of many) gets the whole deadline
        and wait budget again."""
        self.used = self.spent = 0.0
        self.refused = self.refused_by = None
        self.timed_out = False

    # ---- waits -----------------------------------------------------------------------------
    def fits(self, seconds: float) -> bool:
        """Whether a wait of `seconds` fits both bounds; records the refusal when it does not."""
        seconds = max(0.0, seconds)
        left = self.left()
        if self.spent + seconds > self.max_total:
            self.refused, self.refused_by = seconds, "max_wait_seconds"
            return False
        if left is not None and seconds >= left:
            # Waiting would leave no time for the request it waits for.
            self.refused, self.refused_by = seconds, "timeout_seconds"
            return False
        return True

    def take(self, seconds: float) -> bool:
        """Sleep `seconds` when it fits; False (nothing slept) when it does not."""
        seconds = max(0.0, seconds)
        if not self.fits(seconds):
            return False
        self.spent += seconds
        self.waits.append(seconds)
        before = self.timer()
        self.sleep(seconds)
        slept = self.timer() - before
        if self._active is None:
            self.used += max(seconds, slept)  # a wait between requests
        else:
            # Inside a request (urllib3's back-off): its real time is in the request's span; a
            # sleep that did not take its time (a test's) still counts what it stood for.
            self.used += max(0.0, seconds - slept)
        return True

    def retry_at(self) -> float:
        """Epoch seconds when the refused wait is over."""
        return self.clock() + (self.refused or 0.0)


def rate_limit_wait(status: int, headers: Mapping[str, Any], now: float) -> float | None:
    """Seconds a rate-limited answer asks us to wait, or None when its headers name no wait."""
    lower = {str(k).lower(): str(v) for k, v in headers.items()}
    retry_after = lower.get("retry-after")
    if retry_after:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            try:
                parsed = email.utils.parsedate_to_datetime(retry_after)
            except (TypeError, ValueError):
                parsed = None
            if parsed is not None:
                return max(0.0, parsed.timestamp() - now)
    remaining = lower.get("x-ratelimit-remaining", lower.get("ratelimit-remaining"))
    reset = lower.get("x-ratelimit-reset", lower.get("ratelimit-reset"))
    if remaining == "0" and reset and reset.isdigit():
        # The reset second is inclusive: wait until it has passed.
        return max(0.0, int(reset) - now) + 1.0
    return None


class RetryPolicy(Retry):
    """urllib3 Retry for forge APIs (see module docstring)."""

    next_wait: float = 0.0  # set on the copy increment() returns, slept by sleep()

    def __init__(self, *, budget: WaitBudget | None = None, backoff: float = 0.5, **kw: Any) -> None:
        kw["allowed_methods"] = None  # POSTs too: publish re-checks state, so a replayed write is adopted
        kw["raise_on_status"] = False  # hand the final answer to the client, which raises its own error
        kw.setdefault("status_forcelist", None)
        kw.setdefault("backoff_factor", backoff)
        super().__init__(**kw)
        self.budget = budget or WaitBudget()
        self.backoff = backoff

    def new(self, **kw: Any) -> RetryPolicy:
        new = super().new(**kw)
        new.budget = self.budget
        new.backoff = self.backoff
        return new

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if not self.total:
            return False
        return status_code >= 500 or status_code in (403, 429)

    def increment(  # type: ignore[override]
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> Retry:
        wait: float | None = None
        if response is not None and response.status in (403, 429):
            wait = rate_limit_wait(response.status, response.headers, self.budget.clock())
            if wait is None:
                # A plain 403 is a permission problem, never retried; a limit that names no wait
                # is told apart (and waited out) by the client, which reads the answer's body.
                raise MaxRetryError(_pool, url or "", None)
        new = super().increment(method, url, response, error, _pool, _stacktrace)
        if wait is None:
            wait = self.backoff * (2 ** (len(new.history) - 1))
        if not self.budget.fits(wait):
            if self.budget.refused_by == "timeout_seconds":
                self.budget.timed_out = True
            raise MaxRetryError(_pool, url or "", error)
        assert isinstance(new, RetryPolicy)
        new.next_wait = wait
        return new

    def sleep(self, response: Any = None) -> None:
        self.budget.take(self.next_wait)
