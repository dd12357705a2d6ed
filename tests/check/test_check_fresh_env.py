"""On a machine with only Python and git: a fresh virtualenv, no kubectl, kustomize or helm on PATH, renders the
example's kustomize overlays and Helm chart with promoter's packaged tools (issue 9)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from promoter.model.errors import EXIT_FINDINGS, EXIT_OK

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def fresh_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtualenv (no pip, nothing installed in it) that sees promoter and its dependencies only through
    a .pth pointing at the test environment's site-packages: no activation, no `bin` of that environment."""
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    site = next((venv / "lib").glob("python3*/site-packages"))
    purelib = sysconfig.get_paths()["purelib"]
    (site / "promoter-under-test.pth").write_text(f"import site; site.addsitedir({purelib!r})\n")
    return venv / "bin" / "python"


@pytest.fixture
def bare_path(tmp_path: Path) -> str:
    """A PATH holding git only: no kubectl, kustomize or helm, whatever the machine has installed."""
    bindir = tmp_path / "bare-bin"
    bindir.mkdir()
    git = shutil.which("git")
    assert git is not None
    (bindir / "git").symlink_to(git)
    for tool in ("kubectl", "kustomize", "helm"):
        assert shutil.which(tool, path=str(bindir)) is None
    return str(bindir)


def run(python: Path, path: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env["PATH"] = path
    return subprocess.run(
        [str(python), "-m", "promoter", *args], capture_output=True, text=True, env=env, timeout=600, check=False
    )


def test_fresh_virtualenv_renders_kustomize_and_helm_without_any_tool_on_path(
    fresh_python: Path, bare_path: str, tmp_path: Path
) -> None:
    repo = tmp_path / "gitops"
    shutil.copytree(EXAMPLES, repo)
    proc = run(fresh_python, bare_path, "check", "--repo", str(repo), "--all", "-o", "json")
    assert proc.returncode == EXIT_OK, proc.stdout[-3000:] + proc.stderr
    data = json.loads(proc.stdout)
    stats = data["stats"]
    assert stats["rendered"] == stats["targets"] == 6 and stats["not_rendered"] == 0 and stats["skipped"] == 0
    kinds = {s["target"] for s in data["subjects"] if s["kind"] == "render"}
    assert {"apps/checkout-api/overlays/prod", "apps/web/chart@prod"} <= kinds
    assert stats["tools"]["kustomize"].startswith("kubectl v1.") and "(kustomize v5." in stats["tools"]["kustomize"]
    assert stats["tools"]["kustomize"].endswith("packaged")
    assert stats["tools"]["helm"].startswith("Helm SDK v4") and "in process" in stats["tools"]["helm"]
    web = [s for s in data["subjects"] if s["id"] == "apps/v1/Deployment/-/web-web"]
    assert web and web[0]["location"]["file"] == "apps/web/chart/templates/deployment.yaml"

    # An invalid value in an environment's values file fails the check, at that file's line.
    prod = repo / "apps/web/env/values-prod.yaml"
    prod.write_text(prod.read_text().replace("replicaCount: 3", "replicaCount: three"))
    proc = run(fresh_python, bare_path, "check", "--repo", str(repo), "--all", "--env", "prod")
    assert proc.returncode == EXIT_FINDINGS, proc.stdout + proc.stderr
    assert "apps/web/env/values-prod.yaml:2: error values-schema: replicaCount:" in proc.stdout
