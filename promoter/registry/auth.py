"""Auth: the registry's `WWW-Authenticate` challenge and the answer to it (Bearer token or Basic).

The Bearer flow is Docker's token authentication, used by Docker Hub, GHCR, GitLab, Quay and
Harbor: the registry answers 401 with `Bearer realm=…,service=…,scope=…`; the client asks the
realm for a token (with Basic credentials when it has a login, anonymously otherwise) and
repeats the request with `Authorization: Bearer <token>`.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from promoter.registry.credentials import Credentials
from promoter.registry.endpoint import is_loopback

_PARAM_RE = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*(?:,|$)')


@dataclass(frozen=True)
class Challenge:
    scheme: str  # "bearer" | "basic" | other, lower case
    params: dict[str, str]

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")


def parse_challenge(header: str | None) -> Challenge | None:
    """The first challenge of a `WWW-Authenticate` header; None when there is none."""
    if not header or not header.strip():
        return None
    scheme, _, rest = header.strip().partition(" ")
    params: dict[str, str] = {}
    pos = 0
    while pos < len(rest):
        m = _PARAM_RE.match(rest, pos)
        if not m or m.end() == pos:
            break
        value = m.group(2) if m.group(2) is not None else m.group(3)
        params[m.group(1).lower()] = re.sub(r"\\(.)", r"\1", value)
        pos = m.end()
    return Challenge(scheme.lower(), params)


def basic_header(credentials: Credentials) -> str:
    raw = f"{credentials.username}:{credentials.password}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def may_send_credentials(url: str) -> bool:
    """A login travels only over TLS, or to a loopback host (a registry on the same machine)."""
    parts = urlsplit(url)
    return parts.scheme == "https" or (parts.scheme == "http" and is_loopback(parts.netloc))


def pull_scope(repository: str) -> str:
    return f"repository:{repository}:pull"
