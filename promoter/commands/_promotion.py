"""How bump, promote and rollback print what they did: the diff on stdout, a summary and the gates on stderr."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from promoter.commands._options import emit_json
from promoter.model.errors import EXIT_FINDINGS, EXIT_OK

if TYPE_CHECKING:
    from promoter.flows.bump import BumpResult
    from promoter.flows.merged import NextResult
    from promoter.flows.train import TrainResult


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


def report_train(result: TrainResult, output: str) -> int:
    """Print a run over many apps: each app's diff and verdict, the pull requests, what was left out."""
    if output == "json":
        emit_json(result.to_dict())
        return result.exit_code
    print_train(result)
    return result.exit_code


def report_next(result: NextResult, output: str) -> int:
    if output == "json":
        emit_json(result.to_dict())
        return result.exit_code
    if result.train is None:
        click.echo(result.message or "nothing to promote")
        return result.exit_code
    m = result.merge
    via = "its promoter marker" if m.found_by == "marker" else "its diff against the first parent"
    click.echo(f"merged: {m.describe()} (read from {via})", err=True)
    print_train(result.train)
    if result.commented and m.pull is not None:
        click.echo(f"commented on {m.pull.url}: what blocks the next step", err=True)
    return result.exit_code


def label(tag: str | None, digest: str | None) -> str:
    out = tag or ""
    if digest:
        algo, _, hexpart = digest.partition(":")
        out += f"@{algo}:{hexpart[:12]}"
    return out or "(untagged)"


def print_train(result: TrainResult) -> None:
    for note in result.notes:
        click.echo(f"promoter: note: {note}", err=True)
    for line in result.skipped:
        click.echo(f"skipped: {line}", err=True)
    promoted = 0
    for s in result.steps:
        c = s.candidate
        head = f"{c.app}: {c.source_env or '?'} -> {c.env} {label(c.image.tag, c.image.digest)}"
        if s.error is not None:
            click.echo(f"{head}: {'failed' if s.failed else 'left out'}: {s.error}", err=True)
            continue
        assert s.result is not None
        if s.result.blocked:
            click.echo(f"{head}: blocked, left out", err=True)
            for f in s.result.gates.ranked():
                if f.blocking:
                    click.echo(f"  promoter: {f.severity.value}: {f.rule}: {f.message}", err=True)
                    if f.help:
                        click.echo(f"    how to proceed: {f.help}", err=True)
            continue
        if s.unchanged:
            click.echo(f"{head}: no change, {c.env} runs it already", err=True)
            continue
        promoted += 1
        click.echo(s.result.changeset.diff(), nl=False)
        verb = "would change" if result.dry_run else ("published" if s.result.published else "changed")
        click.echo(f"{head}: {verb} {len(s.result.changeset.changes)} value(s)", err=True)
        if s.result.published is not None:
            click.echo(s.result.published.to_text())
    left = [s.candidate.app for s in result.blocked]
    summary = f"{promoted} app(s) promoted"
    if left:
        summary += f"; left out {len(left)}: {', '.join(left)}"
    click.echo(summary, err=True)
