"""RegistryClient: the OCI distribution API calls promoter makes, bounded in time and size, never leaking a login.

Every call shares one Deadline (the gate's `timeout_seconds`): requests time out within it, and a
429 (or a 503 with `Retry-After`) is waited out only when the wait fits in what is left; otherwise
the call fails at once with RateLimited, naming the wait the registry asked for. The deadline
bounds the whole conversation, not each read: a registry, token service or blob storage that
drips its headers or body is cut off when it passes (model.watchdog.Watchdog) and reported as
Unreachable, naming the registry and what was asked. Connection failures and 5xx are retried
briefly, then reported as Unreachable naming the registry. Bodies are read in pieces up to a cap
and checked against the digest they were asked for.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from promoter.registry.auth import Challenge, basic_header, may_send_credentials, parse_challenge, pull_scope
from promoter.registry.credentials import Lookup
from promoter.registry.endpoint import Endpoint
from promoter.registry.errors import Denied, RateLimited, RegistryError, Unauthorized, Unreachable, Unreadable
from promoter.registry.manifest import ACCEPT, Manifest
from promoter.registry.transport import AnswerTooLarge, DeadlinePassed, Watchdog, read_body, watch_session

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 20.0
MAX_MANIFEST_BYTES = 4 << 20  # the limit the distribution spec suggests registries enforce
MAX_BLOB_BYTES = 4 << 20  # image configs are kilobytes; a larger one is not a config
MAX_TOKEN_BYTES = 1 << 20
MAX_REDIRECTS = 5
USER_AGENT = "promoter (image_exists gate)"


@dataclass
class Deadline:
    """The time one gate may spend on a registry, waits for rate limits included."""

    seconds: float
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    start: float = field(default=-1.0)
    waited: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.start < 0:
            self.start = self.clock()

    def remaining(self) -> float:
        return self.seconds - (self.clock() - self.start)

    def timeout(self) -> tuple[float, float]:
        left = max(0.1, self.remaining())
        return (min(CONNECT_TIMEOUT, left), min(READ_TIMEOUT, left))

    def wait(self, seconds: float) -> bool:
        """Sleep `seconds` if that leaves time for the request after it; False (no sleep) if not."""
        if seconds + 0.5 > self.remaining():
            return False
        self.waited.append(seconds)
        self.sleep(seconds)
        return True


def retry_after(headers: Any, now: float | None = None) -> float | None:
    """Seconds a `Retry-After` header (delta-seconds or an HTTP date) asks for; None without one."""
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass(frozen=True)
class ManifestHead:
    digest: str | None  # Docker-Content-Digest; None when the registry did not send it
    media_type: str | None
    size: int | None


def _error_code(body: bytes) -> str | None:
    """`MANIFEST_UNKNOWN: manifest unknown` from a distribution error body, if it is one."""
    try:
        data = json.loads(body[:65536])
        first = data["errors"][0]
        code, message = str(first.get("code", "")), str(first.get("message", ""))
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return None
    text = f"{code}: {message}" if message else code
    return text[:200] or None


class RegistryClient:
    def __init__(
        self, endpoint: Endpoint, lookup: Lookup, deadline: Deadline, session: requests.Session | None = None
    ) -> None:
        self.endpoint = endpoint
        self.lookup = lookup
        self.deadline = deadline
        # Every request of this client (the registry's, the token service's, a blob's redirects)
        # goes through one watchdog that cuts its sockets when the gate's deadline passes.
        self.watchdog = Watchdog(deadline.remaining, "promoter-registry-deadline")
        self.session = watch_session(session or requests.Session(), self.watchdog)
        self.session.max_redirects = MAX_REDIRECTS
        self.session.trust_env = True  # HTTPS_PROXY / NO_PROXY as users set them
        self.authorization: str | None = None
        self.requests_made = 0
        self._secrets = list(lookup.secrets)
        if lookup.credentials is not None:
            self._secrets.append(basic_header(lookup.credentials).split(" ", 1)[1])

    def close(self) -> None:
        self.watchdog.close()
        self.session.close()

    # ---- the calls ---------------------------------------------------------------------------
    def head_manifest(self, reference: str) -> ManifestHead | None:
        """HEAD /v2/<name>/manifests/<reference>; None when the registry says it does not exist."""
        resp = self._send(
            "HEAD", self.endpoint.url(f"manifests/{reference}"), {"Accept": ACCEPT}, f"manifest {reference}"
        )
        resp.close()
        if resp.status_code == 404:
            return None
        self._expect_ok(resp, f"HEAD manifest {reference}")
        size = resp.headers.get("Content-Length")
        return ManifestHead(
            resp.headers.get("Docker-Content-Digest"),
            (resp.headers.get("Content-Type") or "").split(";")[0].strip() or None,
            int(size) if size and size.isdigit() else None,
        )

    def get_manifest(self, reference: str) -> Manifest | None:
        """GET the manifest or index; checked against `reference` when it is a digest. None on 404."""
        resp = self._send(
            "GET", self.endpoint.url(f"manifests/{reference}"), {"Accept": ACCEPT}, f"manifest {reference}"
        )
        if resp.status_code == 404:
            resp.close()
            return None
        self._expect_ok(resp, f"GET manifest {reference}")
        body = self._read(resp, MAX_MANIFEST_BYTES, f"GET manifest {reference}")
        digest = self._digest_of(body, reference, resp.headers.get("Docker-Content-Digest"), f"manifest {reference}")
        try:
            return Manifest.parse(
                digest, resp.headers.get("Content-Type"), body, f"{self.endpoint}: manifest {reference}"
            )
        except ValueError as exc:
            raise Unreadable(self.endpoint.registry, str(exc)) from None

    def get_blob(self, digest: str) -> bytes | None:
        """GET a blob (an image config), following the registry's redirect to its storage; None on 404."""
        resp = self._send("GET", self.endpoint.url(f"blobs/{digest}"), {}, f"blob {digest}", redirects=True)
        if resp.status_code == 404:
            resp.close()
            return None
        self._expect_ok(resp, f"GET blob {digest}")
        body = self._read(resp, MAX_BLOB_BYTES, f"GET blob {digest}")
        self._digest_of(body, digest, None, f"blob {digest}")
        return body

    # ---- plumbing ----------------------------------------------------------------------------
    def _scrub(self, text: str) -> str:
        for s in sorted((s for s in self._secrets if s and len(s) >= 4), key=len, reverse=True):
            text = text.replace(s, "***")
        return text

    def _fail(self, cls: type[RegistryError], message: str, hint: str | None = None) -> RegistryError:
        return cls(self.endpoint.registry, self._scrub(message), hint=self._scrub(hint) if hint else None)

    def _expect_ok(self, resp: requests.Response, what: str) -> None:
        if 200 <= resp.status_code < 300:
            return
        code = _error_code(self._read(resp, 65536, what)) if resp.request.method != "HEAD" else None
        raise self._fail(
            Unreadable,
            f"{self.endpoint.registry} answered {what} in {self.endpoint.repository} with HTTP {resp.status_code}"
            + (f" ({code})" if code else ""),
        )

    def _read(self, resp: requests.Response, cap: int, what: str, who: str | None = None) -> bytes:
        try:
            return read_body(resp, cap, self.watchdog)
        except AnswerTooLarge:
            raise self._fail(
                Unreadable, f"{who or self.endpoint.registry} sent more than {cap // 1024} KiB for {what}: not read"
            ) from None
        except DeadlinePassed:
            raise self._late(what, who) from None
        except requests.RequestException as exc:
            raise self._fail(
                Unreachable,
                f"{who or self.endpoint.registry} stopped answering while sending {what}: {type(exc).__name__}",
            ) from None
        finally:
            resp.close()

    def _late(self, what: str, who: str | None = None) -> RegistryError:
        """The gate's deadline passed before `who` (the registry by default) finished answering `what`."""
        return self._fail(
            Unreachable,
            f"{who or 'registry ' + self.endpoint.registry} did not answer {what} ({self.endpoint.repository}) "
            f"within the gate's {self.deadline.seconds:g}s (timeout_seconds bounds all its requests, waits included)",
        )

    def _digest_of(self, body: bytes, reference: str, header: str | None, what: str) -> str:
        """The body's digest; when `reference` is a digest, the body must hash to it."""
        algo = reference.split(":", 1)[0] if ":" in reference else "sha256"
        if algo not in ("sha256", "sha512"):
            algo = "sha256"
        actual = f"{algo}:{hashlib.new(algo, body).hexdigest()}"
        if ":" in reference and actual != reference:
            raise self._fail(
                Unreadable, f"{self.endpoint.registry} sent a {what} whose content hashes to {actual}, not {reference}"
            )
        if header and ":" not in reference and header.split(":", 1)[0] == algo and header != actual:
            raise self._fail(
                Unreadable,
                f"{self.endpoint.registry} sent {what} with Docker-Content-Digest {header} but content {actual}",
            )
        return actual

    def _send(
        self, method: str, url: str, headers: dict[str, str], what: str, *, redirects: bool = False
    ) -> requests.Response:
        """One logical request: authenticate on 401, wait out 429 within the deadline, retry 5xx and dropped connections."""
        tried_auth = False
        failures = 0
        call = f"{method} {what}"
        while True:
            if self.watchdog.expired:
                raise self._late(call)
            sent = dict(headers, **{"User-Agent": USER_AGENT})
            if self.authorization:
                sent["Authorization"] = self.authorization
            try:
                self.requests_made += 1
                resp = self.session.request(
                    method, url, headers=sent, timeout=self.deadline.timeout(), allow_redirects=redirects, stream=True
                )
            except requests.Timeout:
                if self.watchdog.expired:
                    raise self._late(call) from None
                raise self._fail(
                    Unreachable, f"{self.endpoint.registry} did not answer {call} in time ({self.endpoint.base_url})"
                ) from None
            except AnswerTooLarge:
                raise self._fail(
                    Unreadable, f"{self.endpoint.registry} redirected {call} with an answer too large to read"
                ) from None
            except requests.ConnectionError as exc:
                if self.watchdog.expired:  # the watchdog cut the connection: the deadline, not the network
                    raise self._late(call) from None
                failures += 1
                if failures < 2 and self.deadline.wait(0.5):
                    continue
                raise self._fail(
                    Unreachable,
                    f"cannot reach registry {self.endpoint.registry} at {self.endpoint.base_url}: {_reason(exc)}",
                ) from None
            except requests.RequestException as exc:
                if self.watchdog.expired:
                    raise self._late(call) from None
                raise self._fail(
                    Unreachable, f"cannot talk to registry {self.endpoint.registry}: {type(exc).__name__}"
                ) from None
            status = resp.status_code
            if status == 401:
                challenge = parse_challenge(resp.headers.get("WWW-Authenticate"))
                resp.close()
                if tried_auth:
                    raise self._refused(what)
                tried_auth = True
                self.authorization = self._answer(challenge, what)
                continue
            if status == 403:
                resp.close()
                raise self._fail(
                    Denied,
                    f"{self.endpoint.registry} denied reading {self.endpoint.repository} ({what}, HTTP 403) to {self._who()}",
                    hint="the login has no pull permission on this repository",
                )
            if status == 429 or (status == 503 and resp.headers.get("Retry-After")):
                asked = retry_after(resp.headers)
                resp.close()
                failures += 1
                wait = asked if asked is not None else min(8.0, 2.0 ** (failures - 1))
                if failures <= 5 and self.deadline.wait(wait):
                    continue
                asked_text = f"asked to wait {asked:g}s" if asked is not None else "no Retry-After given"
                raise self._fail(
                    RateLimited,
                    f"registry {self.endpoint.registry} rate-limited {what} (HTTP {status}, {asked_text}) and the wait does "
                    f"not fit the gate's {self.deadline.seconds:g}s deadline",
                    hint="run again later, log in (logged-in pulls have higher limits), or raise gates.image_exists.timeout_seconds",
                )
            if status >= 500:
                resp.close()
                failures += 1
                if failures < 3 and self.deadline.wait(0.5 * failures):
                    continue
                raise self._fail(
                    Unreachable, f"registry {self.endpoint.registry} failed {what} with HTTP {status} {failures} times"
                )
            return resp

    def _who(self) -> str:
        c = self.lookup.credentials
        return f"user {c.username} (from {c.source})" if c else "anonymous"

    def _refused(self, what: str) -> RegistryError:
        c = self.lookup.credentials
        if c is not None:
            return self._fail(
                Unauthorized,
                f"{self.endpoint.registry} refused the login of user {c.username} (from {c.source}) for {what} in {self.endpoint.repository}",
                hint="check that the password or token is current and may pull this repository",
            )
        return self._needs_login(what)

    def _needs_login(self, what: str) -> RegistryError:
        looked = ", ".join(self.lookup.looked) or "nowhere"
        notes = "; ".join(self.lookup.notes)
        return self._fail(
            Unauthorized,
            f"{self.endpoint.registry} needs a login to read {self.endpoint.repository} ({what}) and promoter found none (looked at: {looked})",
            hint=(notes + "; " if notes else "")
            + f"log in with `docker login {self.endpoint.registry}` or set registries.{self.endpoint.registry}.password_env",
        )

    def _answer(self, challenge: Challenge | None, what: str) -> str:
        """The Authorization header that answers the registry's challenge."""
        creds = self.lookup.credentials
        if challenge is None or challenge.scheme not in ("bearer", "basic"):
            raise self._fail(
                Unreadable, f"{self.endpoint.registry} answered 401 for {what} without a Bearer or Basic challenge"
            )
        if challenge.scheme == "basic":
            if creds is None:
                raise self._needs_login(what)
            if not may_send_credentials(self.endpoint.base_url):
                raise self._fail(
                    Unauthorized,
                    f"{self.endpoint.registry} asks for a password over plain HTTP; promoter sends logins only over HTTPS or to loopback",
                )
            return basic_header(creds)
        return "Bearer " + self._token(challenge, what)

    def _token(self, challenge: Challenge, what: str) -> str:
        realm = challenge.realm
        if not realm or not realm.startswith(("https://", "http://")):
            raise self._fail(Unreadable, f"{self.endpoint.registry} sent a Bearer challenge without a usable realm")
        params = {"scope": challenge.params.get("scope") or pull_scope(self.endpoint.repository)}
        if challenge.params.get("service"):
            params["service"] = challenge.params["service"]
        headers = {"User-Agent": USER_AGENT}
        service = f"the token service of {self.endpoint.registry} ({realm.split('?')[0]})"
        creds = self.lookup.credentials
        if creds is not None:
            if not may_send_credentials(realm):
                raise self._fail(
                    Unauthorized,
                    f"the token service of {self.endpoint.registry} is plain HTTP ({realm.split('?')[0]}); promoter sends logins only over HTTPS or to loopback",
                )
            headers["Authorization"] = basic_header(creds)
        try:
            self.requests_made += 1
            resp = self.session.get(
                realm,
                params=params,
                headers=headers,
                timeout=self.deadline.timeout(),
                stream=True,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            if self.watchdog.expired:
                raise self._late(f"a token for {what}", service) from None
            raise self._fail(
                Unreachable,
                f"cannot reach the token service of {self.endpoint.registry} ({realm.split('?')[0]}): {_reason(exc)}",
            ) from None
        if resp.status_code in (401, 403):
            resp.close()
            raise self._refused(what) if creds is not None else self._needs_login(what)
        if resp.status_code == 429:
            resp.close()
            raise self._fail(
                RateLimited, f"the token service of {self.endpoint.registry} rate-limited promoter (HTTP 429)"
            )
        if resp.status_code != 200:
            resp.close()
            raise self._fail(
                Unreachable if resp.status_code >= 500 else Unreadable,
                f"the token service of {self.endpoint.registry} answered HTTP {resp.status_code}",
            )
        body = self._read(resp, MAX_TOKEN_BYTES, f"a token for {what}", service)
        try:
            data = json.loads(body)
            token = data.get("token") or data.get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:
            raise self._fail(Unreadable, f"the token service of {self.endpoint.registry} answered without a token")
        self._secrets.append(token)
        return token


def _reason(exc: Exception) -> str:
    """A short cause for a connection failure, without the library's nested repr (or any URL)."""
    text = str(exc)
    for needle, reason in (
        ("Name or service not known", "host name not found"),
        ("Failed to resolve", "host name not found"),
        ("nodename nor servname", "host name not found"),
        ("Connection refused", "connection refused"),
        ("timed out", "timed out"),
        ("CERTIFICATE_VERIFY_FAILED", "TLS certificate not trusted"),
        ("SSLError", "TLS handshake failed"),
        ("Network is unreachable", "network unreachable"),
    ):
        if needle in text:
            return reason
    return type(exc).__name__
