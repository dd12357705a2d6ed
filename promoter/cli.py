"""The `promoter` command: parses arguments, calls one function per command, prints its result.

Subcommands live in `promoter/commands/<name>.py`, each exposing a click command named
`command`; they are found by name and imported only when run, so `promoter images` never pays
for importing the forge clients.
"""

from __future__ import annotations

import os
import pkgutil
import sys
from typing import Any

import click

from promoter import __version__
from promoter.model.errors import EXIT_TOOL, PromoterError, ToolError, one_line


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
    writes to stdout and stderr is redacted of the tokens the environment holds; a failed write
    to stdout (a full disk, a closed pipe) is an error like any other, never a silent exit 0."""
    out, err = sys.stdout, sys.stderr
    sys.stdout = _CheckedStdout(out)
    try:
        if not any(name.endswith("TOKEN") for name in os.environ):
            return _run(argv)  # nothing to hide: no import, no wrapper
        from promoter.publish.redact import RedactingStream, Redactor

        redact = Redactor.from_environ(os.environ)
        sys.stdout, sys.stderr = RedactingStream(sys.stdout, redact), RedactingStream(err, redact)
        return _run(argv)
    finally:
        sys.stdout, sys.stderr = out, err


class StdoutError(ToolError):
    """Writing to stdout failed: ENOSPC (`> /dev/full`), EIO, EPIPE (the reader went away)."""

    def __init__(self, exc: OSError) -> None:
        super().__init__(f"cannot write to stdout: {exc.strerror or exc}")


class _CheckedStdout:
    """stdout, whose write errors become one StdoutError (click writes through `buffer` too)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: Any) -> int:
        try:
            return int(self._stream.write(text) or 0)
        except OSError as exc:
            raise StdoutError(exc) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            raise StdoutError(exc) from None

    @property
    def buffer(self) -> Any:
        inner = getattr(self._stream, "buffer", None)
        return None if inner is None else _CheckedStdout(inner)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _silence_stdout() -> None:
    """After stdout failed: point fd 1 at /dev/null, so the interpreter's last flush at exit does
    not fail again with a second message (and exit 120)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.__stdout__.fileno())  # type: ignore[union-attr]
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real stdout (tests capture it): nothing to silence
        pass


def _run(argv: list[str] | None) -> int:
    from promoter.yamlio.limits import Limits, configure

    configure(Limits())  # each run starts from the defaults; its workspace's config may change them
    try:
        # Not cli.main(): it turns Ctrl-C into Abort after printing a blank line; an interrupt is
        # reported here, as one line, like every other ending.
        args = list(sys.argv[1:] if argv is None else argv)
        with cli.make_context("promoter", args) as ctx:
            rv = cli.invoke(ctx)
        sys.stdout.flush()  # a report that did not reach its reader is a failure, said here
        return rv if isinstance(rv, int) else 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.UsageError as exc:  # bad flags: one line like every other error, exit 2
        command = exc.ctx.command_path if exc.ctx is not None else "promoter"
        click.echo(f"promoter: error: {one_line(exc.format_message())} (see '{command} --help')", err=True)
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("promoter: aborted", err=True)
        return 130
    except PromoterError as exc:
        if isinstance(exc, StdoutError):
            _silence_stdout()
        click.echo(f"promoter: error: {one_line(str(exc))}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("promoter: interrupted", err=True)
        return 130
    except OSError as exc:
        # The machine refused something (permissions, a read-only or full disk) that no code path
        # turned into its own message: still one line naming the file, exit 1.
        if os.environ.get("PROMOTER_DEBUG"):
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        click.echo(f"promoter: error: {one_line(where + (exc.strerror or str(exc)))}", err=True)
        return EXIT_TOOL
    except Exception as exc:  # a bug: one line, the traceback only on request
        if os.environ.get("PROMOTER_DEBUG"):
            raise
        click.echo(
            f"promoter: internal error: {type(exc).__name__}: {one_line(str(exc))} (set PROMOTER_DEBUG=1 for a traceback)",
            err=True,
        )
        return EXIT_TOOL


def main() -> None:
    code = run()
    # Everything the command built is garbage now; the interpreter's last collection would walk all
    # of it (a check of 10,000 objects: 30 ms of a 0.7 s run) only to free it when the process ends.
    # Frozen objects are skipped by that walk; nothing else changes (exit handlers still run).
    import gc

    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    main()
