"""The README's quick start works as written: its one command for the bundled example runs the main
job (a dry-run promotion) and exits 0 on a machine with no network, and its test command is the one
`.ci/run` runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from tests.conftest import ROOT


def _code_blocks() -> list[str]:
    tokens = MarkdownIt("commonmark").parse((ROOT / "README.md").read_text())
    return [t.content for t in tokens if t.type in ("code_block", "fence")]


def _example_command() -> str:
    (line,) = [
        ln.strip() for b in _code_blocks() for ln in b.splitlines() if ln.strip().startswith("python3 -m pip install .")
    ]
    install, sep, run = line.partition(" && ")
    assert sep and install == "python3 -m pip install .", line
    return run


def test_the_example_command_runs_the_main_job_offline(tmp_path: Path) -> None:
    """The command after the install, run in a copy of the repository: the diff, exit 0, nothing written.

    The registry gate must not reach for the network here (the example's images are made up); the
    suite's conftest makes any lookup of a non-loopback host fail, and this runs in a subprocess with
    an environment holding no proxy or registry login either."""
    command = _example_command()
    assert command.startswith("promoter bump --repo examples ") and "--dry-run" in command
    copy = tmp_path / "checkout"
    shutil.copytree(ROOT / "examples", copy / "examples")
    before = {p: p.read_bytes() for p in (copy / "examples").rglob("*") if p.is_file()}
    exe = shutil.which("promoter") or pytest.fail("the promoter console script is not installed", pytrace=False)
    env = {
        "PATH": os.path.dirname(sys.executable) + os.pathsep + "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "NO_COLOR": "1",
    }
    # No network: a proxy that refuses everything, so a registry or forge call fails instead of leaving the machine.
    env.update({"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9", "NO_PROXY": ""})
    args = command.split()
    out = subprocess.run([exe, *args[1:]], cwd=copy, capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert '+    newTag: "1.4.3"' in out.stdout and "would change 2 value(s) in 1 file(s)" in out.stderr
    assert {p: p.read_bytes() for p in (copy / "examples").rglob("*") if p.is_file()} == before


def test_the_test_command_is_the_one_ci_runs() -> None:
    test_command = "python3 -m pip install -e '.[test]' && python3 -m pytest"
    assert any(ln.strip() == test_command for b in _code_blocks() for ln in b.splitlines())
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command in [ln.strip() for ln in ci]
