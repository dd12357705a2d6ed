"""`promoter report merge`: the JSON reports of a sharded check joined into one, in every report format."""

from __future__ import annotations

import os
from pathlib import Path

import click

from promoter.model.errors import EXIT_FINDINGS, EXIT_OK


@click.group("report")
def command() -> None:
    """Work with reports that checks wrote."""


@command.command("merge")
@click.argument("reports", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--output",
    "-o",
    "outputs",
    multiple=True,
    metavar="FORMAT[=FILE]",
    help="Report format, optionally to a file (repeatable): text, json, junit, sarif, codequality, github.",
)
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "never"]),
    default="error",
    show_default=True,
    help="Which findings of the merged result exit 3 (new ones only when the shards ran with --base).",
)
@click.option(
    "--allow-missing",
    is_flag=True,
    help="Merge the shards given even when some of 1/N..N/N are missing (by default that is exit 2: the "
    "missing shards' findings would go unreported).",
)
def merge(reports: tuple[Path, ...], outputs: tuple[str, ...], fail_on: str, allow_missing: bool) -> int:
    """Merge REPORTS (the JSON reports of `promoter check --shard K/N --output json=FILE`, one per shard)
    into one result: every finding once, with every target and environment that reached it, as one
    unsharded check reports it. The reports must be every shard of one plan (one cut, one commit):
    a missing shard, a shard of another plan or a shard given twice is refused.

    Exit 0, 3 when the merged result has a blocking finding (see --fail-on), 2 on bad input.
    """
    from promoter.commands.check import fails
    from promoter.flows.reports import merge_reports
    from promoter.publish.redact import environ_redactor
    from promoter.report import check_report_paths, parse_output_spec, write_reports

    specs = [parse_output_spec(o) for o in outputs] or [("text", None)]
    check_report_paths(specs, reads=[(f"the report {r}", r) for r in reports])
    result = merge_reports(list(reports), allow_missing=allow_missing)
    missing = result.stats.get("shards_missing")
    if missing:
        click.echo(f"promoter: note: merged without shards {', '.join(map(str, missing))} (--allow-missing)", err=True)
    write_reports(result, specs, title="promoter check", redact=environ_redactor(os.environ))
    return EXIT_FINDINGS if fails(result, fail_on) else EXIT_OK
