"""`promoter status`: what runs where, per app and environment, from Git."""

from __future__ import annotations

from pathlib import Path

import click

from promoter.commands._options import emit_json, load, repo_options
from promoter.model.errors import EXIT_OK, EXIT_USAGE


@click.command("status")
@repo_options
@click.option("--app", "apps", multiple=True, help="Only this app (repeatable).")
@click.option("--env", "envs", multiple=True, help="Only this environment (repeatable).")
@click.option(
    "--ref", default="HEAD", show_default=True, help="Git ref to read (the base branch); '-' for the working tree."
)
@click.option("--output", "-o", type=click.Choice(["text", "json"]), default="text", show_default=True)
def command(
    repo: Path, config_file: Path | None, apps: tuple[str, ...], envs: tuple[str, ...], ref: str, output: str
) -> int:
    """Show the image each app pins in each environment, since when, and which promotions are pending.

    Exit 0 when every row could be read, 2 when one could not (each named on stderr), or on bad input.
    """
    from promoter.history.status import status

    repo, config = load(repo, config_file)
    rows = status(repo, config, apps=list(apps), envs=list(envs), ref=None if ref == "-" else ref)
    if output == "json":
        emit_json([r.to_dict() for r in rows])
    else:
        table = [("APP", "ENV", "TAG", "DIGEST", "SINCE", "COMMIT", "NOTE")]
        for r in rows:
            note = (
                "unreadable (see below)"
                if r.error
                else "not configured here"
                if r.absent
                else (f"differs from {r.behind}" if r.behind else "")
            )
            table.append(
                (
                    r.app,
                    r.env,
                    r.tag or "-",
                    (r.digest[:19] + "…") if r.digest else "-",
                    r.since.strftime("%Y-%m-%d %H:%M UTC") if r.since else "-",
                    (r.commit or "-")[:12],
                    note,
                )
            )
        widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
        for row in table:
            click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)).rstrip())
    # What could not be read is bad input (a file that does not parse, a path that is not there): fail closed.
    for r in rows:
        if r.error:
            click.echo(f"promoter: error: {r.app} in {r.env}: {r.error}", err=True)
    return EXIT_USAGE if any(r.error for r in rows) else EXIT_OK
