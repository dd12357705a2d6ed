"""Options several commands share (repository, config, output)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from promoter.config.model import Config


def repo_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option(
        "--config", "config_file", type=click.Path(path_type=Path), help="Config file (default: REPO/.promoter.yaml)."
    )(f)
    f = click.option(
        "--repo",
        type=click.Path(path_type=Path, file_okay=False),
        default=Path("."),
        show_default=True,
        help="The GitOps repository.",
    )(f)
    return f


def promotion_options(verb: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--override-freeze, --dry-run, --wait and --output, as bump, promote and rollback all take them."""

    def add(f: Callable[..., Any]) -> Callable[..., Any]:
        f = click.option("--output", "-o", type=click.Choice(["text", "json"]), default="text", show_default=True)(f)
        f = click.option(
            "--wait",
            is_flag=True,
            help="Let the healthy gate poll the forge until its statuses are green or its timeout ends.",
        )(f)
        f = click.option("--dry-run", is_flag=True, help="Print the diff; write nothing.")(f)
        return click.option(
            "--override-freeze", metavar="REASON", help=f"{verb} during a change freeze; the reason is recorded."
        )(f)

    return add


def load(repo: Path, config_file: Path | None) -> tuple[Path, Config]:
    # Imported here, not at the top: `promoter --help` imports every command module, and the
    # config loader brings the YAML parsers (tens of milliseconds) that help never needs.
    from promoter.flows.workspace import open_workspace

    return open_workspace(repo, config_file)


def emit_json(data: Any) -> None:
    import json

    click.echo(json.dumps(data, indent=2, ensure_ascii=False))
