"""The documented exit codes of the failures no command returns itself: a bug, an abort, an interrupt."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest

from promoter import cli
from promoter.model.errors import EXIT_TOOL, EXIT_USAGE, ConfigError


def _boom(exc: BaseException):
    def get_command(self, ctx, name):  # noqa: ANN001, ANN202 - click's signature
        @click.command(name)
        def command() -> None:
            raise exc

        return command

    return get_command


def test_a_bug_is_one_line_exit_1_and_no_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PROMOTER_DEBUG", raising=False)
    monkeypatch.setattr(cli.LazyGroup, "get_command", _boom(KeyError("missing")))
    assert cli.run(["images"]) == EXIT_TOOL
    err = capsys.readouterr().err
    assert err == "promoter: internal error: KeyError: 'missing' (set PROMOTER_DEBUG=1 for a traceback)\n"


def test_promoter_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMOTER_DEBUG", "1")
    monkeypatch.setattr(cli.LazyGroup, "get_command", _boom(KeyError("missing")))
    with pytest.raises(KeyError):
        cli.run(["images"])


def test_an_abort_exits_130(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(cli.LazyGroup, "get_command", _boom(click.exceptions.Abort()))
    assert cli.run(["images"]) == 130
    assert capsys.readouterr().err == "promoter: aborted\n"


def test_a_keyboard_interrupt_exits_130(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(cli.LazyGroup, "get_command", _boom(KeyboardInterrupt()))
    assert cli.run(["images"]) == 130
    assert capsys.readouterr().err == "promoter: interrupted\n"


def test_a_promoter_error_exits_with_its_own_code(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli.LazyGroup, "get_command", _boom(ConfigError(".promoter.yaml:3: apps: bad")))
    assert cli.run(["images"]) == EXIT_USAGE
    assert capsys.readouterr().err == "promoter: error: .promoter.yaml:3: apps: bad\n"


def test_sigint_to_a_running_command_exits_130_with_one_line(tmp_path: Path) -> None:
    """A real Ctrl-C (SIGINT) while promoter works: 130, one line, no traceback."""
    # A FIFO makes the command block in open(); SIGINT must still end it cleanly.
    code = (
        "import os, sys\n"
        "from promoter import cli\n"
        "import promoter.commands.images as images\n"
        "def hang(*a, **k):\n"
        "    print('ready', flush=True)\n"
        "    open(sys.argv[1]).read()\n"
        "images.command.callback = hang\n"
        "sys.exit(cli.run(['images']))\n"
    )
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(fifo)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert err == "promoter: interrupted\n"
