"""The `promoter` command: parses arguments, calls one function per command, prints its result.

Subcommands live in `promoter/commands/<name>.py`, each exposing a click command named
`command`; they are found by name and imported only when run, so `promoter images` never pays
for importing the forge clients.
"""

from __future__ import annotations

import os
import pkgutil
import sys

import click

from promoter import __version__
from promoter.model.errors import EXIT_TOOL, PromoterError


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        import promoter.commands as pkg

        return sorted(
            m.name.replace("_", "-") for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_")
        )

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.list_commands(ctx):
            return None
        import importlib

        mod = importlib.import_module(f"promoter.commands.{name.replace('-', '_')}")
        return mod.command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="promoter")
def cli() -> None:
    """Promote container images through GitOps environments, and gate every change."""


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code; every error is one line on stderr. Whatever it
    writes to stdout and stderr is redacted of the tokens the environment holds."""
    if not any(name.endswith("TOKEN") for name in os.environ):
        return _run(argv)  # nothing to hide: no import, no wrapper
    from promoter.publish.redact import RedactingStream, Redactor

    redact = Redactor.from_environ(os.environ)
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = RedactingStream(out, redact), RedactingStream(err, redact)
    try:
        return _run(argv)
    finally:
        sys.stdout, sys.stderr = out, err


def _run(argv: list[str] | None) -> int:
    try:
        # Not cli.main(): it turns Ctrl-C into Abort after printing a blank line; an interrupt is
        # reported here, as one line, like every other ending.
        args = list(sys.argv[1:] if argv is None else argv)
        with cli.make_context("promoter", args) as ctx:
            rv = cli.invoke(ctx)
        return rv if isinstance(rv, int) else 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.UsageError as exc:  # bad flags: one line like every other error, exit 2
        command = exc.ctx.command_path if exc.ctx is not None else "promoter"
        click.echo(f"promoter: error: {exc.format_message()} (see '{command} --help')", err=True)
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("promoter: aborted", err=True)
        return 130
    except PromoterError as exc:
        click.echo(f"promoter: error: {exc}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("promoter: interrupted", err=True)
        return 130
    except Exception as exc:  # a bug: one line, the traceback only on request
        if os.environ.get("PROMOTER_DEBUG"):
            raise
        click.echo(
            f"promoter: internal error: {type(exc).__name__}: {exc} (set PROMOTER_DEBUG=1 for a traceback)", err=True
        )
        return EXIT_TOOL


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":
    main()
