"""`promoter promote`: carry the image an environment runs to the next one, the same tag and digest.

Three forms: one app (`--app APP --from ENV`), every app that lags (`--all --from ENV`, a release
train), or whatever a merged promotion carried (`--next`, run on the default branch after a merge).
"""

from __future__ import annotations

from pathlib import Path

import click

from promoter.commands._options import load, promotion_options, repo_options
from promoter.commands._pr import add_pr_options
from promoter.commands._promotion import report, report_next, report_train
from promoter.model.errors import UsageError
from promoter.publish.flags import PrFlags


@click.command("promote")
@click.option("--app", help="App name from .promoter.yaml (one app; see --all and --next for many).")
@click.option("--all", "all_apps", is_flag=True, help="Every app whose --to environment lags --from (a release train).")
@click.option(
    "--next",
    "next_step",
    is_flag=True,
    help="After a promotion merged: carry what it promoted to the environment after the one it reached.",
)
@click.option(
    "--merged-sha",
    metavar="SHA",
    help="With --next: the commit the merge made on the base branch (default: HEAD; in CI, the pushed commit).",
)
@click.option("--from", "from_env", metavar="ENV", help="Environment whose image is promoted.")
@click.option("--to", "to_env", metavar="ENV", help="Target environment (default: the one after --from).")
@click.option(
    "--ref", default="HEAD", show_default=True, help="Git ref the source environment is read at (the base branch)."
)
@repo_options
@promotion_options("Promote")
@add_pr_options
def command(
    app: str | None,
    all_apps: bool,
    next_step: bool,
    merged_sha: str | None,
    from_env: str | None,
    to_env: str | None,
    ref: str,
    wait: bool,
    repo: Path,
    config_file: Path | None,
    override_freeze: str | None,
    dry_run: bool,
    output: str,
    pr: PrFlags,
) -> int:
    """Set an app in the next environment to exactly the image it runs in --from (read from Git at --ref).

    \b
      promote --app APP --from ENV [--to ENV]   one app
      promote --all --from ENV [--to ENV]       every app whose --to lags --from: one release train
                                                (or one PR per app: environments[].pull_request.group)
      promote --next [--merged-sha SHA]         what a merged promotion carried, to the next environment

    The target environment's gates apply (promotion order, soak, health, freeze, …): exit 3 when one
    blocks; with --all and --next the others go ahead and the blocked ones are listed.
    """
    _check_form(app, all_apps, next_step, merged_sha, from_env, to_env, ref)
    repo, config = load(repo, config_file)
    if next_step:
        from promoter.flows.merged import promote_next

        return report_next(
            promote_next(
                repo,
                config,
                merged_sha=merged_sha,
                override_freeze=override_freeze,
                dry_run=dry_run,
                pr=pr,
                wait=wait,
            ),
            output,
        )
    assert from_env is not None
    if all_apps:
        from promoter.flows.train import promote_all

        return report_train(
            promote_all(
                repo,
                config,
                from_env,
                to_env,
                ref=ref,
                override_freeze=override_freeze,
                dry_run=dry_run,
                pr=pr,
                wait=wait,
            ),
            output,
        )
    from promoter.flows.promote import promote

    assert app is not None
    result = promote(
        repo,
        config,
        app,
        from_env,
        to_env,
        ref=ref,
        override_freeze=override_freeze,
        dry_run=dry_run,
        pr=pr,
        wait=wait,
    )
    return report(result, output)


def _check_form(
    app: str | None,
    all_apps: bool,
    next_step: bool,
    merged_sha: str | None,
    from_env: str | None,
    to_env: str | None,
    ref: str,
) -> None:
    """One of the three forms, each with the options it takes: a usage error (exit 2) otherwise."""
    if next_step:
        extra = [
            flag
            for flag, given in (
                ("--app", app),
                ("--all", all_apps),
                ("--from", from_env),
                ("--to", to_env),
                ("--ref", ref != "HEAD"),
            )
            if given
        ]
        if extra:
            raise UsageError(
                f"--next reads the apps and environments from the merge: it takes no {', '.join(extra)} "
                "(give --merged-sha SHA to name the merge)"
            )
        return
    if merged_sha:
        raise UsageError("--merged-sha goes with --next")
    if all_apps and app:
        raise UsageError("give --app APP or --all, not both")
    if not all_apps and not app:
        raise UsageError("give --app APP, --all (every app that lags) or --next (after a merge)")
    if not from_env:
        raise UsageError(
            f"{'--all' if all_apps else '--app'} needs --from ENV (the environment whose image is promoted)"
        )
