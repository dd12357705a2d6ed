"""RetryPolicy: which forge failures are retried, and how long to wait, shared by the GitHub and GitLab clients.

It is a urllib3 `Retry`, mounted on the HTTP sessions of PyGithub and python-gitlab, so every
request either client makes goes through one policy: 5xx, timeouts and dropped connections
back off exponentially; 429 and rate-limited 403 answers wait what the server asks
(`Retry-After`, else `X-RateLimit-Reset`/`RateLimit-Reset`); every other 4xx goes straight
back to the client. All waits of one run draw from one bounded budget.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from urllib3.exceptions import MaxRetryError
from urllib3.util.retry import Retry


@dataclass
class WaitBudget:
    """The total time one run may spend waiting before retries; `sleep` is injectable for tests."""

    max_total: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    spent: float = 0.0
    waits: list[float] = field(default_factory=list)
    refused: float | None = None  # the wait that did not fit, for the error message

    def take(self, seconds: float) -> bool:
        seconds = max(0.0, seconds)
        if self.spent + seconds > self.max_total:
            self.refused = seconds
            return False
        self.spent += seconds
        self.waits.append(seconds)
        self.sleep(seconds)
        return True


def rate_limit_wait(status: int, headers: Mapping[str, str], now: float) -> float | None:
    """Seconds a rate-limited answer asks us to wait, or None when the answer is no rate limit."""
    retry_after = headers.get("Retry-After")
    if retry_after:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(retry_after) if retry_after else None
            if parsed is not None:
                return max(0.0, parsed.timestamp() - now)
    remaining = headers.get("X-RateLimit-Remaining", headers.get("RateLimit-Remaining"))
    reset = headers.get("X-RateLimit-Reset", headers.get("RateLimit-Reset"))
    if remaining == "0" and reset and reset.isdigit():
        # The reset second is inclusive: wait until it has passed.
        return max(0.0, int(reset) - now) + 1.0
    if status == 429:
        return None if reset is None else 1.0
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
            if wait is None and response.status == 403:
                # A plain 403 is a permission problem: never retried.
                raise MaxRetryError(_pool, url or "", None)
        new = super().increment(method, url, response, error, _pool, _stacktrace)
        if wait is None:
            wait = self.backoff * (2 ** (len(new.history) - 1))
        if self.budget.spent + wait > self.budget.max_total:
            self.budget.refused = wait
            raise MaxRetryError(_pool, url or "", error)
        assert isinstance(new, RetryPolicy)
        new.next_wait = wait
        return new

    def sleep(self, response: Any = None) -> None:
        self.budget.take(self.next_wait)
