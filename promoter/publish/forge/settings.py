"""ForgeSettings: which forge, repository, URL and token a promotion talks to, from flags, config and CI variables."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from promoter.model.errors import ConfigError, UsageError

GITHUB_API = "https://api.github.com"
GITLAB_URL = "https://gitlab.com"
DEFAULT_BRANCH_TEMPLATE = "promoter/{env}/{app}"
DEFAULT_TRAIN_TEMPLATE = "promoter/{env}"
DEFAULT_TIMEOUT_SECONDS = 120.0


@dataclass
class ForgeSettings:
    type: str  # github | gitlab
    url: str  # GitHub: API base (…/api/v3 on Enterprise Server); GitLab: server root
    repository: str  # owner/name, or GitLab group/project path or numeric id
    token: str = field(repr=False)
    base_branch: str = "main"
    branch_template: str = DEFAULT_BRANCH_TEMPLATE
    mode: str = "per-app"  # per-app | train
    commit_method: str = "graphql"  # GitHub only: graphql | git-data
    max_retries: int = 5
    max_wait_seconds: float = 60.0
    # All forge work of one run (requests, their time-outs, retries, waits): a forge that accepts
    # and never answers is given up on after this, whatever max_retries and timeout allow.
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    timeout: float = 30.0  # one request (connect, and each read)
    backoff: float = 0.5
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def branch(self, env: str, apps: list[str]) -> str:
        # A release train is one branch per environment, whatever apps ride it.
        app = "train" if self.mode == "train" else apps[0] if len(apps) == 1 else "+".join(sorted(apps))
        try:
            return self.branch_template.format(env=env, app=app)
        except (KeyError, IndexError, ValueError) as exc:
            raise ConfigError(
                f"forge.branch_template: bad template {self.branch_template!r} (placeholders are {{app}} and {{env}}): {exc}"
            ) from None


def resolve_settings(
    config: Mapping[str, Any],
    environ: Mapping[str, str],
    *,
    forge: str | None = None,
    url: str | None = None,
    repository: str | None = None,
    base_branch: str | None = None,
    origin: str | None = None,
) -> ForgeSettings:
    """Flags win over `.promoter.yaml` `forge:`, which wins over the CI environment.

    `origin` is the URL of the checkout's `origin` remote: without a repository named, the one it
    names on this forge's host is the target."""
    kind = forge or config.get("type") or _detect(environ)
    if kind not in ("github", "gitlab"):
        raise UsageError("no forge chosen: set forge.type in .promoter.yaml or pass --forge github|gitlab")
    if kind == "github":
        api = url or config.get("url") or environ.get("GITHUB_API_URL") or GITHUB_API
    else:
        api = (
            url
            or config.get("url")
            or environ.get("CI_SERVER_URL")
            or _strip_api(environ.get("CI_API_V4_URL"))
            or GITLAB_URL
        )
        api = _strip_api(api) or api
    repo = repository or config.get("repository")
    if repo in (None, ""):
        # Not GITHUB_REPOSITORY / CI_PROJECT_PATH: they name the repository running CI, often an app's,
        # not the GitOps repository. The checkout promoter edits is the GitOps repository: its origin
        # remote names it, when that remote is on this forge.
        repo = origin_repository(origin, kind, str(api), environ)
    if repo in (None, ""):
        seen = f" (the checkout's origin remote is {_host_of(origin)}, not {_forge_host(kind, str(api), environ)})"
        raise UsageError(
            "no target repository: set forge.repository in .promoter.yaml or pass --forge-repo "
            + ("OWNER/NAME" if kind == "github" else "GROUP/PROJECT or a project id")
            + (seen if origin and _host_of(origin) else "")
        )
    token_env = config.get("token_env")
    names = [token_env] if token_env else (["GITHUB_TOKEN", "GH_TOKEN"] if kind == "github" else ["GITLAB_TOKEN"])
    token = next((environ[n] for n in names if environ.get(n)), None)
    if not token:
        hint = (
            "a token with contents: write and pull-requests: write"
            if kind == "github"
            else "a project or group access token with the api scope (CI_JOB_TOKEN cannot open merge requests)"
        )
        raise UsageError(f"no forge token: set {' or '.join(names)} to {hint}")
    mode = str(config.get("mode", "per-app"))
    template = config.get("branch_template") or (DEFAULT_TRAIN_TEMPLATE if mode == "train" else DEFAULT_BRANCH_TEMPLATE)
    branch = (
        base_branch
        or config.get("base_branch")
        or (environ.get("CI_DEFAULT_BRANCH") if kind == "gitlab" else None)
        or "main"
    )
    return ForgeSettings(
        type=kind,
        url=str(api).rstrip("/"),
        repository=str(repo),
        token=token,
        base_branch=branch,
        branch_template=template,
        mode=mode,
        commit_method=str(config.get("commit_method", "graphql")),
        max_retries=int(config.get("max_retries", 5)),
        max_wait_seconds=float(config.get("max_wait_seconds", 60.0)),
        timeout_seconds=float(config.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS)),
    )


def grouped(settings: ForgeSettings, group: str | None, configured_template: str | None) -> ForgeSettings:
    """The settings for an environment whose `pull_request.group` says how its PRs are cut:
    `environment` (one release train for every app) or `app` (one PR each); None keeps forge.mode."""
    if group is None:
        return settings
    mode = "train" if group == "environment" else "per-app"
    if mode == settings.mode:
        return settings
    template = configured_template or (DEFAULT_TRAIN_TEMPLATE if mode == "train" else DEFAULT_BRANCH_TEMPLATE)
    return replace(settings, mode=mode, branch_template=template)


# `https://[user[:pw]@]host[:port]/path[.git]`, `ssh://git@host[:port]/path`, `git@host:path`.
_URL_REMOTE = re.compile(r"^(?:https?|ssh|git)://(?:[^@/]*@)?(?P<host>[^/:@]+)(?::\d+)?/(?P<path>.+)$")
_SCP_REMOTE = re.compile(r"^(?:[^@/:]+@)?(?P<host>[^/:@]+):(?P<path>[^/].*)$")


def _remote_parts(remote: str | None) -> tuple[str, str] | None:
    """(host, path) of a remote URL, credentials dropped (a GitLab runner's clone URL holds the job token)."""
    if not remote:
        return None
    m = _URL_REMOTE.match(remote.strip()) or _SCP_REMOTE.match(remote.strip())
    if m is None:
        return None
    path = m["path"].strip("/").removesuffix(".git").strip("/")
    return m["host"].lower(), path


def _host_of(remote: str | None) -> str:
    parts = _remote_parts(remote)
    return parts[0] if parts else ""


def _forge_host(kind: str, api: str, environ: Mapping[str, str]) -> str:
    """The host a checkout of this forge is cloned from: github.com for api.github.com, else the API's."""
    if (
        kind == "github"
        and environ.get("GITHUB_SERVER_URL")
        and api.rstrip("/") == environ.get("GITHUB_API_URL", "").rstrip("/")
    ):
        api = environ["GITHUB_SERVER_URL"]
    m = re.match(r"^[a-z]+://(?:[^@/]*@)?(?P<host>[^/:]+)", api)
    host = m["host"].lower() if m else ""
    return "github.com" if host == "api.github.com" else host


def origin_repository(remote: str | None, kind: str, api: str, environ: Mapping[str, str]) -> str | None:
    """The repository a checkout's origin remote names on this forge (OWNER/NAME, or GitLab's
    GROUP/…/PROJECT); None when the remote is elsewhere or not a repository URL."""
    parts = _remote_parts(remote)
    if parts is None or parts[0] != _forge_host(kind, api, environ):
        return None
    segments = parts[1].split("/")
    if any(not s or s in (".", "..") for s in segments):
        return None
    if kind == "github":
        return parts[1] if len(segments) == 2 else None
    # GitLab under a relative URL root (https://host/gitlab/group/project): the root is not the group.
    root = re.sub(r"^[a-z]+://[^/]+", "", api).strip("/")
    path = parts[1].removeprefix(root + "/") if root else parts[1]
    return path if len(path.split("/")) >= 2 else None


def _detect(environ: Mapping[str, str]) -> str | None:
    if environ.get("GITLAB_CI") or environ.get("CI_API_V4_URL"):
        return "gitlab"
    if environ.get("GITHUB_ACTIONS"):
        return "github"
    return None


def _strip_api(url: str | None) -> str | None:
    if not url:
        return None
    url = url.rstrip("/")
    return url.removesuffix("/api/v4")
