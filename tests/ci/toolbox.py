"""What the CI-emulation tests share: a PATH as bare as a CI image's, Pythons by version, the built wheel."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Commands a CI image has (coreutils, a shell, git); never kubectl, helm, kustomize or promoter:
# the product must bring what it needs itself.
BASE_TOOLS = (
    "bash",
    "sh",
    "env",
    "cat",
    "cut",
    "sha256sum",
    "mkdir",
    "rm",
    "cp",
    "mv",
    "ls",
    "ln",
    "chmod",
    "touch",
    "tr",
    "sed",
    "grep",
    "head",
    "tail",
    "tee",
    "find",
    "xargs",
    "sort",
    "uniq",
    "wc",
    "date",
    "sleep",
    "dirname",
    "basename",
    "readlink",
    "realpath",
    "mktemp",
    "uname",
    "id",
    "whoami",
    "hostname",
    "tar",
    "gzip",
    "printf",
    "echo",
    "test",
    "[",
    "true",
    "false",
    "expr",
    "stat",
    "awk",
    "git",
    "ssh",
    "curl",
)
FORBIDDEN = ("kubectl", "helm", "kustomize", "promoter")


def missing(what: str) -> None:
    """A missing prerequisite: a failure under CI (which must install it), a skip elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} (.ci/run installs it)", pytrace=False)
    pytest.skip(what)


def bare_path(dest: Path, extra: tuple[str, ...] = ()) -> str:
    """A folder of links to the base tools (and `extra`), to be the whole PATH."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in (*BASE_TOOLS, *extra):
        found = shutil.which(name)
        if found and not (dest / name).exists():
            (dest / name).symlink_to(found)
    for name in FORBIDDEN:
        assert not (dest / name).exists()
    return str(dest)


def python_for(spec: str) -> tuple[str, str]:
    """An interpreter of version `spec` (3.13): what setup-python would hand out. (full version, path)."""
    candidates = [shutil.which(f"python{spec}")]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    if pyenv.is_dir():
        candidates += [str(d / "bin" / "python3") for d in sorted(pyenv.glob(f"{spec}.*"), reverse=True)]
    if sys.version.startswith(spec + "."):
        candidates.append(sys.executable)
    for c in candidates:
        if c and Path(c).exists() and "/shims/" not in c:  # a pyenv shim may point at nothing
            probe = subprocess.run(
                [c, "-c", "import platform; print(platform.python_version())"],
                capture_output=True,
                text=True,
                check=False,
            )
            full = probe.stdout.strip()
            if probe.returncode == 0 and full.startswith(spec + "."):
                return full, c
    missing(f"no Python {spec} on this machine")
    raise AssertionError  # unreachable


def build_wheel(dest: Path) -> Path:
    """promoter's wheel, built from a copy of this checkout (builds write into the source folder,
    and two test workers may build at once)."""
    source = dest / "source"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git",
            "build",
            "*.egg-info",
            "__pycache__",
            ".pytest_cache",
            ".hypothesis",
            ".gitlab-ci-local",
            "node_modules",
        ),
    )
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(dest), str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    wheels = list(dest.glob("gitops_promoter-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]
