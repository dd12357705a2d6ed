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
    "budget_for",
    "open_forge",
    "resolve_settings",
]


def budget_for(settings: ForgeSettings) -> WaitBudget:
    """The waits and the deadline of one run's forge work, as the settings say (its clock starts now)."""
    from promoter.publish.forge.retry import WaitBudget

    return WaitBudget(max_total=settings.max_wait_seconds, sleep=settings.sleep, deadline=settings.timeout_seconds)


def open_forge(
    settings: ForgeSettings,
    redact: Redactor | None = None,
    budget: WaitBudget | None = None,
) -> Forge:
    redact = redact or Redactor(settings.token)
    budget = budget or budget_for(settings)
    if settings.type == "github":
        from promoter.publish.forge.github import GitHubForge

        return GitHubForge(settings, redact, budget)
    from promoter.publish.forge.gitlab import GitLabForge

    return GitLabForge(settings, redact, budget)
