"""Fixtures for the gate and history tests: real GitOps histories with commit times we choose."""

from __future__ import annotations

import copy
import importlib.util
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from promoter.config.loader import load_config
from promoter.config.model import Config

# tests/ is not a package and `import conftest` is ambiguous between folders: load the root one by path.
_spec = importlib.util.spec_from_file_location(
    "promoter_root_conftest", Path(__file__).resolve().parents[1] / "conftest.py"
)
assert _spec and _spec.loader
root_conftest = sys.modules.setdefault(_spec.name, importlib.util.module_from_spec(_spec))
if not hasattr(root_conftest, "make_repo"):
    _spec.loader.exec_module(root_conftest)

UTC = UTC
D0 = "sha256:" + "0" * 64
D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
D3 = "sha256:" + "3" * 64
D4 = "sha256:" + "4" * 64

# The timeline of the shared history (all UTC).
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # Mon: every env at 1.0.0@D0
T1 = datetime(2026, 11, 10, 10, 0, tzinfo=UTC)  # dev 1.1.0@D1
T2 = datetime(2026, 11, 11, 10, 0, tzinfo=UTC)  # stage 1.1.0@D1
T3 = datetime(2026, 11, 12, 10, 0, tzinfo=UTC)  # dev 1.2.0@D2
T4 = datetime(2026, 11, 12, 12, 0, tzinfo=UTC)  # stage 1.2.0@D2 (D1 leaves stage after 26h)
T5 = datetime(2026, 11, 13, 8, 0, tzinfo=UTC)  # dev 1.3.0@D3
T6_BRANCH = datetime(2026, 11, 13, 9, 0, tzinfo=UTC)  # stage 1.3.0@D3 committed on a PR branch...
T6_MERGE = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # ...merged into main (Mon) with a merge commit

CONFIG = """\
version: 1
environments:
  - name: dev
  - name: stage
  - name: prod
defaults:
  path: apps/{app}/{env}
apps:
  api:
    image: ghcr.io/acme/api
  cache:
    image: quay.io/acme/cache
  redis:
    image: redis
"""


def kustomization(tag: str | None, digest: str | None, image: str = "ghcr.io/acme/api") -> str:
    out = (
        "apiVersion: kustomize.config.k8s.io/v1beta1\n"
        "kind: Kustomization\n"
        "resources:\n  - deployment.yaml\n"
        "images:\n"
        f"  - name: {image}\n"
    )
    if tag:
        out += f'    newTag: "{tag}"  # set by promoter\n'
    if digest:
        out += f"    digest: {digest}\n"
    return out


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api
"""


def git(repo: Path, *args: str, when: datetime | None = None) -> str:
    """git in `repo`; `when` sets both author and committer dates (commit times are what soak reads)."""
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    if when is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = when.isoformat()
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


class GitOps:
    """A GitOps repository (possibly a subfolder of a git work tree) whose history tests write."""

    def __init__(self, path: Path, gitdir: Path | None = None) -> None:
        self.path = path
        self.gitdir = gitdir or path

    def write(self, files: dict[str, str | None]) -> None:
        for rel, text in files.items():
            f = self.path / rel
            if text is None:
                f.unlink()
                continue
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(text)

    def commit(self, when: datetime, message: str, files: dict[str, str | None] | None = None) -> str:
        if files:
            self.write(files)
        git(self.gitdir, "add", "-A")
        git(self.gitdir, "commit", "-q", "-m", message, when=when)
        return self.head()

    def set_image(self, env: str, tag: str | None, digest: str | None, when: datetime, app: str = "api") -> str:
        return self.commit(
            when, f"{app} {env}: {tag}@{digest}", {f"apps/{app}/{env}/kustomization.yaml": kustomization(tag, digest)}
        )

    def head(self) -> str:
        return git(self.gitdir, "rev-parse", "HEAD").strip()

    def config(self, **gates: dict[str, Any]) -> Config:
        """The repository's config with `gates` per environment replaced (in memory).

        The registry gate (image_exists, on by default) is off unless a test sets it: these
        histories name images no registry holds, and tests/registry judges that gate against a
        real registry server.
        """
        cfg = copy.deepcopy(load_config(self.path))
        for e in cfg.environments:
            e.gates = {"image_exists": False, **e.gates}
        for env, g in gates.items():
            cfg.env(env).gates = {"image_exists": False, **g}
        return cfg


def init(path: Path, gitdir: Path | None = None) -> GitOps:
    root_conftest.make_repo(gitdir or path, commit=False)
    repo = GitOps(path, gitdir)
    files: dict[str, str | None] = {".promoter.yaml": CONFIG}
    for env in ("dev", "stage", "prod"):
        files[f"apps/api/{env}/kustomization.yaml"] = kustomization("1.0.0", D0)
        files[f"apps/api/{env}/deployment.yaml"] = DEPLOYMENT
    repo.commit(T0, "initial", files)
    return repo


def build_pipeline(path: Path, gitdir: Path | None = None) -> tuple[GitOps, dict[str, str]]:
    """dev → stage → prod history of the timeline above; returns the repo and the commit of each step."""
    repo = init(path, gitdir)
    shas = {"T0": repo.head()}
    shas["T1"] = repo.set_image("dev", "1.1.0", D1, T1)
    shas["T2"] = repo.set_image("stage", "1.1.0", D1, T2)
    shas["T3"] = repo.set_image("dev", "1.2.0", D2, T3)
    shas["T4"] = repo.set_image("stage", "1.2.0", D2, T4)
    shas["T5"] = repo.set_image("dev", "1.3.0", D3, T5)
    git(repo.gitdir, "checkout", "-q", "-b", "promote/stage")
    shas["T6_BRANCH"] = repo.set_image("stage", "1.3.0", D3, T6_BRANCH)
    git(repo.gitdir, "checkout", "-q", "main")
    git(repo.gitdir, "merge", "-q", "--no-ff", "-m", "Merge promote/stage", "promote/stage", when=T6_MERGE)
    shas["T6_MERGE"] = repo.head()
    return repo, shas


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> tuple[GitOps, dict[str, str]]:
    """The shared, read-only history: dev 1.3.0@D3, stage 1.3.0@D3 (merged T6_MERGE), prod 1.0.0@D0."""
    return build_pipeline(tmp_path_factory.mktemp("pipeline") / "gitops")


@pytest.fixture
def fresh_pipeline(pipeline: tuple[GitOps, dict[str, str]], tmp_path: Path) -> tuple[GitOps, dict[str, str]]:
    """The same history (same commits) in a clone a test may change."""
    source, shas = pipeline
    path = tmp_path / "gitops"
    git(tmp_path, "clone", "-q", "--no-hardlinks", str(source.path), str(path))
    git(path, "config", "commit.gpgsign", "false")
    return GitOps(path), shas


EXAMPLES_DIR: Path = root_conftest.EXAMPLES
