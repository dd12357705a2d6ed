"""PrFlags and the --pr option family shared by bump / promote / rollback, importable without the forge.

Declaring the options is all a command's `--help` needs; the publishing machinery
(promoter.publish) is imported only when a command runs with --pr.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from promoter.publish.flags import PrFlags

_FLAG_PARAMS = {
    "pr_enabled": "enabled",
    "pr_forge": "forge",
    "pr_forge_url": "forge_url",
    "pr_forge_repo": "forge_repo",
    "pr_base_branch": "base_branch",
    "pr_draft": "draft",
    "pr_auto_merge": "auto_merge",
    "pr_source_repo": "source_repo",
    "pr_source_commit": "source_commit",
    "pr_run_url": "run_url",
    "pr_actor": "actor",
}


def _pr_options() -> list[Callable[[Any], Any]]:
    return [
        click.option(
            "--pr",
            "pr_enabled",
            is_flag=True,
            default=False,
            help="Commit through the forge API and open or update the promotion pull request "
            "(a draft with a failing promoter/check status while findings block it).",
        ),
        click.option(
            "--forge",
            "pr_forge",
            type=click.Choice(["github", "gitlab"]),
            default=None,
            help="Forge to publish to (default: forge.type, or detected from CI).",
        ),
        click.option(
            "--forge-url",
            "pr_forge_url",
            metavar="URL",
            default=None,
            help="API base URL: GitHub Enterprise https://HOST/api/v3, self-managed GitLab https://HOST.",
        ),
        click.option(
            "--forge-repo",
            "pr_forge_repo",
            metavar="REPO",
            default=None,
            help="GitOps repository: OWNER/NAME (GitHub), GROUP/PROJECT or id (GitLab).",
        ),
        click.option(
            "--base-branch",
            "pr_base_branch",
            metavar="BRANCH",
            default=None,
            help="Branch the pull request targets (default: forge.base_branch, else main).",
        ),
        click.option(
            "--draft",
            "pr_draft",
            is_flag=True,
            default=None,
            help="Open the pull request as a draft.",
        ),
        click.option(
            "--auto-merge/--no-auto-merge",
            "pr_auto_merge",
            default=None,
            help="Merge when checks pass (default: the environment's pull_request.auto_merge).",
        ),
        click.option(
            "--source-repo",
            "pr_source_repo",
            default=None,
            help="Provenance: the repository that built the image (default: from CI).",
        ),
        click.option(
            "--source-commit",
            "pr_source_commit",
            default=None,
            help="Provenance: the commit that built the image (default: from CI).",
        ),
        click.option(
            "--run-url",
            "pr_run_url",
            default=None,
            help="Provenance: the CI run URL (default: from CI).",
        ),
        click.option(
            "--actor",
            "pr_actor",
            default=None,
            help="Provenance: who triggered it (default: from CI).",
        ),
    ]


class _Holder:
    """Something click's option decorators can attach `__click_params__` to."""

    __click_params__: list[click.Parameter]

    def __call__(self) -> None:
        return None


def add_pr_options(command: Any) -> Any:
    """Add the --pr option family; the callback receives them as one `pr: PrFlags` argument.

    Works on a plain callback (below @click.command) or on a click.Command.
    """

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def inner(*args: Any, **kwargs: Any) -> Any:
            flags = PrFlags(**{name: kwargs.pop(param, None) for param, name in _FLAG_PARAMS.items()})
            flags.enabled = bool(flags.enabled)
            return fn(*args, pr=flags, **kwargs)

        return inner

    if isinstance(command, click.Command):
        assert command.callback is not None
        command.callback = wrap(command.callback)

        # click's option decorators collect their Parameters on the function they decorate.
        holder: Any = _Holder()
        for option in _pr_options():
            option(holder)
        command.params.extend(reversed(holder.__click_params__))
        return command
    wrapped = wrap(command)
    for option in reversed(_pr_options()):
        wrapped = option(wrapped)
    return wrapped
