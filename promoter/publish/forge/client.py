"""ForgeClient: what both forge clients share, above all turning any failure into one ForgeError line.

Four kinds of failure leave a forge call, each worded once here:
- an HTTP refusal (4xx, 5xx after retries), read from the client library's exception;
- the network or the deadline (`forge.timeout_seconds`): "timed out after N s";
- a rate limit whose wait does not fit the budget: how long the forge asked for and when to retry;
- an answer promoter cannot read (an HTML page where JSON belongs, JSON of another shape):
  "unexpected answer from GitHub/GitLab (…)". A forge answer is untrusted input: a proxy's login
  page, a truncated body or a server of another version must never surface as a traceback.
"""

from __future__ import annotations

import binascii
import json
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeVar, overload

import requests

from promoter.model.errors import ForgeError, shorten
from promoter.publish.forge.base import BranchExistsError
from promoter.publish.forge.retry import SECONDARY_WAIT, WaitBudget
from promoter.publish.forge.settings import ForgeSettings
from promoter.publish.forge.transport import AnswerTooLarge, DeadlineExceeded
from promoter.publish.redact import Redactor

T = TypeVar("T")

# What reading an answer of the wrong shape raises (a missing key, None or a list where a mapping
# belongs, JSON that does not parse, base64 that does not decode). UnicodeDecodeError is not one:
# a file that is not UTF-8 is a binary file, which the publisher names as such.
_SHAPE_ERRORS: tuple[type[Exception], ...] = (
    KeyError,
    TypeError,
    AttributeError,
    IndexError,
    ValueError,  # json.JSONDecodeError, binascii.Error, int("x")
)


class UnexpectedAnswer(Exception):
    """The forge answered something promoter cannot read; the message says what it was."""

    def __init__(self, what: str, *, not_json: bool = False) -> None:
        super().__init__(what)
        self.what = what
        self.not_json = not_json


class UnexpectedAnswerError(ForgeError):
    """A ForgeError for an answer promoter could not read: where a refusal may be a note (auto-merge),
    this never is, since what the forge did is unknown."""


@dataclass(frozen=True)
class Refusal:
    """An HTTP error answer as the client library reported it, read the same way for every forge."""

    status: int  # 0: the library got no usable HTTP answer (it could not parse one)
    text: str
    rate_limited: bool
    forbidden: bool


# describe_answer reads no further than this: an answer may be up to MAX_ANSWER_BYTES, and its
# description must cost the same whatever follows (a title is at the top of a page).
DESCRIBED_BYTES = 64 * 1024
# Linear: no part can run past the next "<", so no start position rescans the rest of the text
# (`<title[^>]*>(.*?)</title>` did, for every "<title": 12 s for 140 KB of them).
_TITLE = re.compile(r"<title[^<>]*>([^<]*)", re.IGNORECASE)


def describe_answer(content_type: str | None, body: bytes | str | None) -> str:
    """What a non-JSON answer was, in a few words: its type and its title or first characters."""
    head = (body or "")[:DESCRIBED_BYTES]
    text = head.decode("utf-8", "replace") if isinstance(head, bytes) else head
    kind = (content_type or "").split(";")[0].strip() or "no content type"
    title = _TITLE.search(text)
    if "html" in kind or re.match(r"\s*<(!doctype|html)", text, re.IGNORECASE):
        shown = title.group(1) if title else text
        kind = "an HTML page"
    else:
        shown = text
        kind = f"{kind}, not JSON"
    shown = " ".join(shown.split())
    return f"{kind}: {shorten(shown, 80)!r}" if shown else kind


def when(epoch: float) -> str:
    """An instant for "run again after …": a time of day in UTC, with the date when it is not today."""
    now = time.gmtime()
    then = time.gmtime(epoch)
    fmt = "%H:%M:%S UTC" if then[:3] == now[:3] else "%Y-%m-%d %H:%M:%S UTC"
    return time.strftime(fmt, then)


class ForgeClient(ABC):
    """The error mapping and calling helpers of a forge client; subclasses name what differs.

    A subclass sets `name` ("GitHub"), `token_vars` (what the 401 message tells to set),
    `permission_hint` (the 403 advice, `{repo}` filled in), `url_hint` (what forge.url must be),
    `library_error` (its client library's HTTP exception), reads that exception in `_refusal`
    and says in `_limit_wait` how long a rate limit the transport could not time asks for.
    """

    name: ClassVar[str]
    token_vars: ClassVar[str]
    permission_hint: ClassVar[str]
    url_hint: ClassVar[str]
    library_error: ClassVar[type[Exception]]

    def __init__(self, settings: ForgeSettings, redact: Redactor, budget: WaitBudget) -> None:
        self.settings = settings
        self.repository = settings.repository
        self._redact = redact
        self._budget = budget

    @property
    def budget(self) -> WaitBudget:
        return self._budget

    @abstractmethod
    def _refusal(self, exc: Any) -> Refusal:
        """Status, text and kind of refusal, read from this client library's HTTP exception."""

    @abstractmethod
    def _limit_wait(self, exc: Any, attempt: int) -> float | None:
        """Seconds to wait before retrying a rate-limited call the transport handed back, None when
        `exc` is no such limit (or the transport already waited on what it asked)."""

    # ---- messages ------------------------------------------------------------------------------
    def _error(self, exc: Exception, doing: str) -> ForgeError:
        name, repo, url = self.name, self.repository, self.settings.url
        if isinstance(exc, self.library_error):
            r = self._refusal(exc)
            status, text = r.status, r.text
            if status == 0:
                return self._unexpected(doing, text, not_json=True)
            if status == 401:
                msg = f"{name} rejected the token while {doing} (401 {text}): set {self.token_vars} (or forge.token_env) to a valid token for {url}"
            elif r.rate_limited:
                msg = self._rate_limit_message(doing)
            elif r.forbidden:
                msg = f"the token cannot write to {repo} while {doing} (403 {text}): " + self.permission_hint.format(
                    repo=repo
                )
            elif status >= 500 and self._budget.timed_out:
                msg = self._timed_out(doing, f"still answering {status} {text}")
            elif status >= 500:
                msg = f"{name} kept failing while {doing}: {status} {text} (after {self.settings.max_retries} retries)"
            else:
                msg = f"{name} refused {doing} on {repo}: {status} {text}"
        elif isinstance(exc, AnswerTooLarge):
            return self._unexpected(doing, str(exc))
        elif isinstance(exc, requests.exceptions.RequestException):
            if self._budget.timed_out or isinstance(exc, DeadlineExceeded) or self._budget.expired():
                msg = self._timed_out(doing)
            else:
                msg = f"cannot reach {name} at {url} while {doing}: {type(exc).__name__} (after {self.settings.max_retries} retries)"
        else:
            msg = f"{name} client failed while {doing}: {type(exc).__name__}: {exc}"
        return ForgeError(self._redact(msg))

    def _timed_out(self, doing: str, last: str | None = None) -> str:
        limit = self._budget.deadline
        return (
            f"{self.name} at {self.settings.url} timed out after {self._budget.elapsed():.0f} s while {doing}"
            + (f", {last}" if last else "")
            + f" (forge.timeout_seconds = {limit:g} bounds all forge work, retries and waits included): "
            "run again later, or raise forge.timeout_seconds"
        )

    def _rate_limit_message(self, doing: str) -> str:
        b, name = self._budget, self.name
        if b.refused is None:
            return (
                f"{name} rate limit while {doing}: still limited after {self.settings.max_retries} retries; "
                "run again in a few minutes"
            )
        if b.refused_by == "timeout_seconds":
            left = max(0.0, b.left() or 0.0)
            bound = f"more than the {left:.0f} s left of forge.timeout_seconds = {b.deadline:g}"
        else:
            bound = f"more than the remaining wait budget (forge.max_wait_seconds = {self.settings.max_wait_seconds:g})"
        return f"{name} rate limit while {doing}: {name} asks to wait {b.refused:.0f} s, {bound}; run again after {when(b.retry_at())}"

    def _unexpected(self, doing: str, what: str, *, not_json: bool = False) -> ForgeError:
        hint = f": {self.url_hint} (forge.url is {self.settings.url})" if not_json else ""
        return UnexpectedAnswerError(self._redact(f"unexpected answer from {self.name} while {doing} ({what}){hint}"))

    def _merge_unknown(self, exc: UnexpectedAnswerError, word: str, url: str) -> UnexpectedAnswerError:
        """An unreadable answer to a merge call: exit 1 (fail closed), though the request itself was opened."""
        return UnexpectedAnswerError(
            self._redact(f"{exc}; the {word} is open at {url}, not merged by promoter: look at it and merge it by hand")
        )

    # ---- calling -------------------------------------------------------------------------------
    @contextmanager
    def _calling(self, doing: str) -> Iterator[None]:
        """Whatever the library, the network or a misshapen answer raises inside leaves as one ForgeError line."""
        try:
            yield
        except ForgeError:
            raise
        except (self.library_error, requests.exceptions.RequestException) as exc:
            raise self._error(exc, doing) from None
        except UnexpectedAnswer as exc:
            raise self._unexpected(doing, exc.what, not_json=exc.not_json) from None
        except UnicodeDecodeError:
            raise  # a file that is not UTF-8 text: the publisher names it binary
        except _SHAPE_ERRORS as exc:
            raise self._unexpected(doing, _shape(exc)) from None

    def _unless_missing(self, doing: str, call: Callable[[], T]) -> T | None:
        """The call's answer, None when the forge answers 404 (a branch or file that is not there)."""
        with self._calling(doing):
            try:
                return call()
            except self.library_error as exc:
                if self._refusal(exc).status == 404:
                    return None
                raise

    def _limited(self, call: Callable[[], T]) -> T:
        """`call`, waiting out a rate limit that named no wait: at least a minute, doubling while it repeats.

        GitHub's secondary limits come as 403 or 429, often without `Retry-After` and with requests
        left; its documentation asks to wait at least one minute then. A wait that does not fit the
        budget is not slept: the refusal goes up, worded by `_rate_limit_message`.
        """
        attempt = 0
        while True:
            self._budget.refused = self._budget.refused_by = None
            try:
                return call()
            except self.library_error as exc:
                wait = self._limit_wait(exc, attempt)
                if wait is None or attempt >= self.settings.max_retries or not self._budget.take(wait):
                    raise
                attempt += 1

    # ---- messages both forges word the same way ---------------------------------------------
    def _no_base_branch(self, branch: str) -> ForgeError:
        return ForgeError(
            f"base branch {branch!r} does not exist in {self.repository}: set forge.base_branch or --base-branch"
        )

    def _branch_exists(self, branch: str) -> ForgeError:
        return BranchExistsError(f"branch {branch} already exists in {self.repository}")

    def _protected(self, branch: str, text: str, remedy: str) -> ForgeError:
        return ForgeError(
            self._redact(
                f"branch {branch} in {self.repository} refuses promoter's commit ({text}): it is protected; " + remedy
            )
        )


_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def commit_sha(value: Any) -> str:
    """A commit id from an answer: 40 (or 64) hex digits, else the answer is not what it claims. An id
    goes into later URLs (`statuses/{sha}`): one shaped like a path must never get there."""
    if not isinstance(value, str) or not _SHA.fullmatch(value):
        raise UnexpectedAnswer(f"a commit id that is none: {shorten(repr(value), 60)}")
    return value


@overload
def answer_text(value: Any, field: str, *, required: Literal[True]) -> str: ...
@overload
def answer_text(value: Any, field: str, *, required: bool = False) -> str | None: ...
def answer_text(value: Any, field: str, *, required: bool = False) -> str | None:
    """A text field of an answer (a path, a patch): a string, or None when absent and not `required`.
    Anything else means the answer is not what it claims: it must not reach code that slices text."""
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise UnexpectedAnswer(f"a {field} that is not text: {shorten(repr(value), 60)}")
    return value


def secondary_wait(attempt: int) -> float:
    """The wait before retry `attempt` (0-based) of a limit that named none: 60 s, 120 s, 240 s, …"""
    return SECONDARY_WAIT * 2**attempt


def header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    """A header's value, whatever the case of its name."""
    for k, v in (headers or {}).items():
        if str(k).lower() == name.lower():
            return str(v)
    return None


def _shape(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"JSON without the field {exc.args[0]!r}" if exc.args else "JSON without a field promoter needs"
    if isinstance(exc, json.JSONDecodeError):
        return f"JSON that does not parse: {exc.msg} at character {exc.pos}"
    if isinstance(exc, binascii.Error):
        return f"content that is not base64: {exc}"
    return f"JSON of another shape: {type(exc).__name__}: {shorten(exc, 120)}"
