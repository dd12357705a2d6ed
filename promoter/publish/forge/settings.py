"""ForgeSettings: which forge, repository, URL and token a promotion talks to, from flags, config and CI variables."""

from __future__ import annotations

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
) -> ForgeSettings:
    """Flags win over `.promoter.yaml` `forge:`, which wins over the CI environment."""
    kind = forge or config.get("type") or _detect(environ)
    if kind not in ("github", "gitlab"):
        raise UsageError("no forge chosen: set forge.type in .promoter.yaml or pass --forge github|gitlab")
    repo = repository or config.get("repository")
    if repo in (None, ""):
        # GITHUB_REPOSITORY / CI_PROJECT_PATH name the repository running CI, which is often not
        # the GitOps repository: guessing would open the PR in the wrong place.
        raise UsageError(
            "no target repository: set forge.repository in .promoter.yaml or pass --forge-repo "
            + ("OWNER/NAME" if kind == "github" else "GROUP/PROJECT or a project id")
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
