"""ForgeClient: what both forge clients share, above all turning an HTTP failure into one ForgeError line."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import requests

from promoter.model.errors import ForgeError
from promoter.publish.forge.base import BranchExistsError
from promoter.publish.forge.retry import WaitBudget
from promoter.publish.forge.settings import ForgeSettings
from promoter.publish.redact import Redactor

T = TypeVar("T")


@dataclass(frozen=True)
class Refusal:
    """An HTTP error answer as the client library reported it, read the same way for every forge."""

    status: int
    text: str
    rate_limited: bool
    forbidden: bool


class ForgeClient(ABC):
    """The error mapping and calling helpers of a forge client; subclasses name what differs.

    A subclass sets `name` ("GitHub"), `token_vars` (what the 401 message tells to set),
    `permission_hint` (the 403 advice, `{repo}` filled in), `library_error` (its client
    library's HTTP exception) and reads that exception in `_refusal`.
    """

    name: ClassVar[str]
    token_vars: ClassVar[str]
    permission_hint: ClassVar[str]
    library_error: ClassVar[type[Exception]]

    def __init__(self, settings: ForgeSettings, redact: Redactor, budget: WaitBudget) -> None:
        self.settings = settings
        self.repository = settings.repository
        self._redact = redact
        self._budget = budget

    @abstractmethod
    def _refusal(self, exc: Any) -> Refusal:
        """Status, text and kind of refusal, read from this client library's HTTP exception."""

    def _error(self, exc: Exception, doing: str) -> ForgeError:
        name, repo, url = self.name, self.repository, self.settings.url
        if isinstance(exc, self.library_error):
            r = self._refusal(exc)
            status, text = r.status, r.text
            if status == 401:
                msg = f"{name} rejected the token while {doing} (401 {text}): set {self.token_vars} (or forge.token_env) to a valid token for {url}"
            elif r.rate_limited:
                wait = self._budget.refused
                asked = f"asked to wait {wait:.0f} s, " if wait is not None else ""
                msg = (
                    f"{name} rate limit while {doing}: the server {asked}more than the remaining wait budget "
                    f"(forge.max_wait_seconds = {self.settings.max_wait_seconds:g}); run again later"
                )
            elif r.forbidden:
                msg = f"the token cannot write to {repo} while {doing} (403 {text}): " + self.permission_hint.format(
                    repo=repo
                )
            elif status >= 500:
                msg = f"{name} kept failing while {doing}: {status} {text} (after {self.settings.max_retries} retries)"
            else:
                msg = f"{name} refused {doing} on {repo}: {status} {text}"
        elif isinstance(exc, requests.exceptions.RequestException):
            msg = f"cannot reach {name} at {url} while {doing}: {type(exc).__name__} (after {self.settings.max_retries} retries)"
        else:
            msg = f"{name} client failed while {doing}: {type(exc).__name__}: {exc}"
        return ForgeError(self._redact(msg))

    @contextmanager
    def _calling(self, doing: str) -> Iterator[None]:
        """Whatever the library or the network raises inside leaves as one ForgeError line."""
        try:
            yield
        except ForgeError:
            raise
        except (self.library_error, requests.exceptions.RequestException) as exc:
            raise self._error(exc, doing) from None

    def _unless_missing(self, doing: str, call: Callable[[], T]) -> T | None:
        """The call's answer, None when the forge answers 404 (a branch or file that is not there)."""
        with self._calling(doing):
            try:
                return call()
            except self.library_error as exc:
                if self._refusal(exc).status == 404:
                    return None
                raise

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
