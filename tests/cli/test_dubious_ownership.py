"""A checkout owned by another user (a container running as root on a mounted folder): git refuses it, and
promoter says that, with the fix, instead of "not inside a git repository"."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import invoke, make_repo

CONFIG = "version: 1\nenvironments: [{name: dev}]\napps: {}\n"


def test_a_repository_owned_by_another_user_is_named_with_the_fix(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("this test needs root (to give the checkout another owner); CI runs as root", pytrace=False)
        pytest.skip("needs root to give the checkout another owner")
    repo = make_repo(tmp_path / "repo", {".promoter.yaml": CONFIG})
    for folder, dirs, files in os.walk(repo):
        for name in [folder, *(os.path.join(folder, n) for n in dirs + files)]:
            os.lchown(name, 4321, 4321)
    # No safe.directory from this machine's own git configuration may hide the refusal.
    env = {"HOME": str(tmp_path), "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    for args in (("status", "--repo", str(repo)), ("check", "--repo", str(repo), "--base", "HEAD")):
        r = invoke(*args, env=env)
        assert r.exit_code == 2, (args, r.stderr)
        assert "git refuses this repository: it is owned by another user" in r.stderr, r.stderr
        assert f"git config --global --add safe.directory {repo.resolve()}" in r.stderr
        assert "not inside a git repository" not in r.stderr and "Traceback" not in r.stderr
