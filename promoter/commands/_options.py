"""Options several commands share (repository, config, output)."""

from __future__ import annotations

import functools
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


def deprecated_alias(
    flag: str, dest: str, *, metavar: str, new: str, why: str
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """An old spelling of an option that shipped: it still works for one release, hidden from --help,
    and says on stderr what to write instead. Giving both spellings with different values is an error."""
    hidden_name = f"deprecated_{flag.lstrip('-').replace('-', '_')}"

    def add(f: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(f)
        def inner(*args: Any, **kwargs: Any) -> Any:
            old = kwargs.pop(hidden_name, None)
            if old is not None:
                click.echo(
                    f"promoter: warning: {flag} is deprecated and goes away in the next release ({why}); "
                    f"write {new} {old}",
                    err=True,
                )
                if kwargs.get(dest) not in (None, old):
                    from promoter.model.errors import UsageError

                    raise UsageError(f"give {new} or its old spelling {flag}, not both")
                kwargs[dest] = old
            return f(*args, **kwargs)

        return click.option(flag, hidden_name, metavar=metavar, hidden=True, help=f"Deprecated: use {new}.")(inner)

    return add
