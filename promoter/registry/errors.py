"""RegistryError and its kinds: what went wrong talking to a registry, each a sentence a user can act on."""

from __future__ import annotations

from promoter.model.errors import ToolError


class RegistryError(ToolError):
    """A registry could not answer the question; `kind` says why, for findings and tests.

    Kinds: `unreachable` (DNS, connection, time-out, 5xx), `rate-limited` (429 beyond the
    deadline), `unauthorized` (credentials missing or refused), `denied` (403), `unreadable`
    (an answer promoter cannot read: bad JSON, too large, wrong digest, schema 1), `credentials`
    (a configured credential source is broken).
    """

    kind = "error"

    def __init__(self, registry: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.registry = registry


class Unreachable(RegistryError):
    kind = "unreachable"


class RateLimited(RegistryError):
    kind = "rate-limited"


class Unauthorized(RegistryError):
    kind = "unauthorized"


class Denied(RegistryError):
    kind = "denied"


class Unreadable(RegistryError):
    kind = "unreadable"


class CredentialsError(RegistryError):
    kind = "credentials"


# Kinds that mean "the registry could not be asked right now": an environment with
# `offline: allow` lets a promotion through these (recorded as a warning), never the others.
OFFLINE_KINDS = frozenset({Unreachable.kind, RateLimited.kind})
