"""Forges promoter publishes to (GitHub, GitLab), behind the small protocol in forge.base.

`open_forge` imports the client library of the chosen forge only: `import github` alone costs
about 160 ms, and commands that never publish must not pay for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from promoter.publish.forge.base import Forge, PullInfo, PullOptions
from promoter.publish.forge.settings import ForgeSettings, resolve_settings
from promoter.publish.redact import Redactor

if TYPE_CHECKING:
    from promoter.publish.forge.retry import WaitBudget

__all__ = [
    "Forge",
    "ForgeSettings",
    "PullInfo",
    "PullOptions",
    "Redactor",
    "open_forge",
    "resolve_settings",
]


def open_forge(
    settings: ForgeSettings,
    redact: Redactor | None = None,
    budget: WaitBudget | None = None,
) -> Forge:
    from promoter.publish.forge.retry import WaitBudget

    redact = redact or Redactor(settings.token)
    budget = budget or WaitBudget(max_total=settings.max_wait_seconds, sleep=settings.sleep)
    if settings.type == "github":
        from promoter.publish.forge.github import GitHubForge

        return GitHubForge(settings, redact, budget)
    from promoter.publish.forge.gitlab import GitLabForge

    return GitLabForge(settings, redact, budget)
