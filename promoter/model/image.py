"""ImageRef: the container image reference grammar (distribution/reference), parse and format."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from types import EllipsisType

from promoter.model.errors import UsageError, shorten

DOCKER_HUB = "docker.io"
DOCKER_HUB_ALIASES = {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}

_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_RE = re.compile(rf"^(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?$")
_PATH_COMPONENT_RE = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
# ASCII only, as distribution/reference: `\w` alone would take `1.5.０` (a fullwidth digit) or `v1.5.0é`.
_TAG_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", re.ASCII)
_ALGO_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:[+._-][A-Za-z][A-Za-z0-9]*)*$")
# Digest algorithms registries accept, with their hex length.
DIGEST_ALGORITHMS = {"sha256": 64, "sha512": 128}
_SHELL_META = set(";|&$`<>(){}[]*?!'\"\\~#")
_SHELL_META_RE = re.compile("[" + re.escape("".join(sorted(_SHELL_META))) + "]")
MAX_NAME_LENGTH = 255
_IPV6_HOST_RE = re.compile(r"^\[[0-9a-fA-F:]+\](?=[:/])")


def _fail(raw: str, why: str) -> UsageError:
    return UsageError(f"invalid image reference {shorten(raw, 600)!r}: {why}")  # the longest valid one is shown whole


def check_digest(digest: str, raw: str | None = None) -> str:
    """Validate `algo:hex`; return it unchanged or raise a UsageError naming the defect."""
    shown = raw if raw is not None else digest
    algo, sep, hexpart = digest.partition(":")
    if not sep:
        raise _fail(shown, f"digest {digest!r} must look like sha256:<64 hex characters>")
    if not _ALGO_RE.fullmatch(algo):
        raise _fail(shown, f"digest algorithm {algo!r} is malformed")
    if algo not in DIGEST_ALGORITHMS:
        raise _fail(shown, f"unsupported digest algorithm {algo!r} (supported: sha256, sha512)")
    want = DIGEST_ALGORITHMS[algo]
    if any(c in "ABCDEF" for c in hexpart):
        raise _fail(shown, f"digest hex must be lowercase ({algo}:{hexpart[:12]}…)")
    if not re.fullmatch(r"[0-9a-f]*", hexpart):
        raise _fail(shown, "digest contains non-hex characters")
    if len(hexpart) != want:
        raise _fail(shown, f"{algo} digest must have {want} hex characters, got {len(hexpart)}")
    return digest


def check_tag(tag: str, raw: str | None = None) -> str:
    shown = raw if raw is not None else tag
    if tag == "":
        raise _fail(shown, "tag is empty")
    if len(tag) > 128:
        raise _fail(shown, f"tag is {len(tag)} characters long (at most 128)")
    if not _TAG_RE.fullmatch(tag):
        raise _fail(
            shown,
            f"tag {shorten(tag)!r} may hold only letters, digits, '_', '.', '-' (ASCII) and not start with '.' or '-'",
        )
    return tag


@dataclass(frozen=True)
class ImageRef:
    """A parsed reference. `registry` is None when the reference names none (Docker Hub)."""

    registry: str | None
    path: str
    tag: str | None = None
    digest: str | None = None

    # ---- parsing -------------------------------------------------------------------------
    @classmethod
    def parse(cls, raw: str) -> ImageRef:
        if not isinstance(raw, str):
            raise _fail(str(raw), "not a string")
        if raw == "":
            raise _fail(raw, "empty")
        if any(c in "\r\n" for c in raw):
            raise _fail(raw, "contains a newline")
        if any(c.isspace() for c in raw):
            raise _fail(raw, "contains whitespace")
        # An IPv6 registry host is bracketed (`[::1]:5000/app`); elsewhere brackets are globs.
        ipv6 = _IPV6_HOST_RE.match(raw)
        rest_of = raw[ipv6.end() if ipv6 else 0 :]
        if _SHELL_META_RE.search(rest_of):
            bad = sorted({c for c in rest_of if c in _SHELL_META})
            raise _fail(raw, f"contains shell metacharacter(s) {' '.join(bad)}")
        rest, digest = raw, None
        if "@" in rest:
            rest, digest = rest.split("@", 1)
            if "@" in digest:
                raise _fail(raw, "more than one '@'")
            check_digest(digest, raw)
        tag = None
        slash = rest.rfind("/")
        colon = rest.rfind(":")
        if colon > slash:
            rest, tag = rest[:colon], rest[colon + 1 :]
            check_tag(tag, raw)
        name = rest
        if not name:
            raise _fail(raw, "repository name is empty")
        if len(name) > MAX_NAME_LENGTH:
            raise _fail(raw, f"repository name is longer than {MAX_NAME_LENGTH} characters")
        registry, path = split_registry(name)
        if registry is not None and not any(c in registry for c in ".:[") and registry != "localhost":
            # Docker would take `ACME/app` as a registry host named ACME; nobody means that.
            raise _fail(raw, f"repository {name!r} must be lowercase")
        if registry is not None and not _DOMAIN_RE.fullmatch(registry):
            raise _fail(raw, f"registry {registry!r} is not a valid host[:port]")
        for comp in path.split("/"):
            if comp != comp.lower():
                raise _fail(raw, f"repository {name!r} must be lowercase")
            if not _PATH_COMPONENT_RE.fullmatch(comp):
                raise _fail(raw, f"repository path component {comp!r} is malformed")
        return cls(registry=registry, path=path, tag=tag, digest=digest)

    @classmethod
    def parse_repository(cls, raw: str) -> ImageRef:
        """Parse a bare repository (no tag, no digest)."""
        ref = cls.parse(raw)
        if ref.tag or ref.digest:
            raise _fail(raw, "expected a repository without tag or digest")
        return ref

    # ---- views ---------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The repository as written (registry included when it was)."""
        return f"{self.registry}/{self.path}" if self.registry else self.path

    @property
    def repository(self) -> str:
        """The full, normalised repository: `nginx` → `docker.io/library/nginx`."""
        reg = (self.registry or DOCKER_HUB).lower()  # host names are case-insensitive
        if reg in DOCKER_HUB_ALIASES:
            reg = DOCKER_HUB
            path = self.path if "/" in self.path else f"library/{self.path}"
            return f"{reg}/{path}"
        return f"{reg}/{self.path}"

    @property
    def short_digest(self) -> str | None:
        if not self.digest:
            return None
        algo, _, hexpart = self.digest.partition(":")
        return f"{algo}:{hexpart[:12]}"

    def same_repository(self, other: ImageRef | str) -> bool:
        if isinstance(other, str):
            other = ImageRef.parse(other)
        return self.repository == other.repository

    def with_(self, *, tag: str | None | EllipsisType = ..., digest: str | None | EllipsisType = ...) -> ImageRef:
        """A copy with `tag` and/or `digest` replaced (None removes it; leaving one out keeps it)."""
        return replace(
            self,
            tag=self.tag if tag is ... else tag,
            digest=self.digest if digest is ... else digest,
        )

    def __str__(self) -> str:
        out = self.name
        if self.tag:
            out += f":{self.tag}"
        if self.digest:
            out += f"@{self.digest}"
        return out


def split_registry(name: str) -> tuple[str | None, str]:
    # Docker's rule: the first component is a registry only if it has a '.' or ':' or is
    # 'localhost' (or has uppercase, which then fails the host grammar loudly, not silently).
    first, sep, rest = name.partition("/")
    if not sep:
        return None, name
    if "." in first or ":" in first or first == "localhost" or first != first.lower():
        return first, rest
    return None, name


def try_parse(raw: object) -> ImageRef | None:
    """Parse without raising: for scanning YAML where most strings are not images."""
    if not isinstance(raw, str) or not raw or len(raw) > 512:
        return None
    return _try_parse(str(raw))


@lru_cache(maxsize=8192)
def _try_parse(raw: str) -> ImageRef | None:
    # Repositories repeat across a repository's files (the same base image in every app): parse each once.
    try:
        return ImageRef.parse(raw)
    except UsageError:
        return None
