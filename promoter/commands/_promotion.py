"""How bump, promote and rollback print what they did: the diff on stdout, a summary and the gates on stderr."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from promoter.commands._options import emit_json
from promoter.model.errors import EXIT_FINDINGS, EXIT_OK

if TYPE_CHECKING:
    from promoter.flows.bump import BumpResult


def report(result: BumpResult, output: str) -> int:
    """Print `result` as text or JSON; the exit code (3 when a gate blocked it)."""
    if output == "json":
        emit_json(result.to_dict())
    else:
        print_text(result)
        if result.published is not None:
            click.echo(result.published.to_text())
    for w in result.changeset.warnings:
        click.echo(f"promoter: warning: {w}", err=True)
    return EXIT_FINDINGS if result.blocked else EXIT_OK


def print_text(result: BumpResult) -> None:
    cs = result.changeset
    if cs.empty:
        click.echo(f"no change: {len(cs.references)} reference(s) already at {result.image}", err=True)
    else:
        click.echo(cs.diff(), nl=False)
        for c in cs.changes:
            if c.old is not None and c.new is not None:
                arrow = f"{c.old} -> {c.new}"
            else:
                arrow = f"+ {c.new}" if c.new is not None else f"- {c.old}"
            note = f" ({c.note})" if c.note else ""
            click.echo(f"{c.file}:{c.line}: {c.yaml_path} [{c.style}] {arrow}{note}", err=True)
    for f in result.gates.ranked():
        where = f" ({f.location})" if f.location else ""
        click.echo(f"promoter: {f.severity.value}: {f.rule}{where}: {f.message}", err=True)
        if f.help and f.blocking:
            click.echo(f"  how to proceed: {f.help}", err=True)
    if cs.empty:
        return
    files = len(cs.changed_files)
    if result.blocked:
        click.echo(
            f"blocked by {sum(1 for f in result.gates.findings if f.blocking)} gate(s): nothing written", err=True
        )
    else:
        verb = "would change" if result.dry_run else "changed"
        click.echo(f"{verb} {len(cs.changes)} value(s) in {files} file(s)", err=True)
