"""Fixtures for the validation tests: the shared kubeconform recordings and a fake kubeconform on PATH."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def shared_dir() -> Path:
    return Path(os.environ.get("PROMOTER_SHARED") or ROOT.parent / "shared")


@pytest.fixture(scope="session")
def kubeconform_reference() -> Path:
    """shared/reference/kubeconform: absent is a one-line failure under CI, a skip elsewhere."""
    ref = shared_dir() / "reference" / "kubeconform"
    if not (ref / "README.md").is_file():
        msg = f"kubeconform recordings not found at {ref}: set PROMOTER_SHARED to the shared folder"
        if os.environ.get("CI"):
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    return ref


@pytest.fixture
def fake_kubeconform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kubeconform_reference: Path) -> Path:
    """Put the replaying fake `kubeconform` first on PATH; returns the file its argv is written to."""
    bindir = tmp_path / "fakebin"
    bindir.mkdir()
    exe = bindir / "kubeconform"
    exe.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{HERE / "fake_kubeconform.py"}" "$@"\n')
    exe.chmod(0o755)
    args_file = tmp_path / "kubeconform-args.json"
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("FAKE_KUBECONFORM_RECORDINGS", str(kubeconform_reference))
    monkeypatch.setenv("FAKE_KUBECONFORM_ARGS", str(args_file))
    monkeypatch.delenv("FAKE_KUBECONFORM_RECORDING", raising=False)
    monkeypatch.delenv("FAKE_KUBECONFORM_CRASH", raising=False)
    return args_file


@pytest.fixture
def no_kubeconform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A PATH on which no kubeconform can be found (the rest of PATH stays for python and git)."""
    import shutil

    dirs = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d and not (Path(d) / "kubeconform").exists()]
    monkeypatch.setenv("PATH", os.pathsep.join(dirs))
    assert shutil.which("kubeconform") is None


@pytest.fixture(scope="session")
def kubeconform_binary() -> Path:
    """The real kubeconform v0.7.0 from the shared folder: absent is a failure under CI, a skip elsewhere."""
    exe = shared_dir() / "tools" / "kubeconform" / "kubeconform"
    if not (exe.is_file() and os.access(exe, os.X_OK)):
        msg = f"the real kubeconform binary was not found at {exe}: set PROMOTER_SHARED to the shared folder"
        if os.environ.get("CI"):
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    return exe


@pytest.fixture
def real_kubeconform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kubeconform_binary: Path) -> Path:
    """The real kubeconform first on PATH (the wrapper finds it there); returns its path."""
    bindir = tmp_path / "kcbin"
    bindir.mkdir()
    (bindir / "kubeconform").symlink_to(kubeconform_binary)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    return kubeconform_binary
