"""A stateful fake GitHub/GitLab for tests: real git storage, real HTTP, fault switches, a request log."""

from .server import FakeForge, HttpError, LoggedRequest, PullRequest, Repo

__all__ = ["FakeForge", "HttpError", "LoggedRequest", "PullRequest", "Repo"]
