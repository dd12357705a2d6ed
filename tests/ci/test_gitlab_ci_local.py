"""The GitLab include and component run for real under gitlab-ci-local (shell executor), in a throwaway
GitOps repository cloned shallow as GitLab's runner clones it, against the fake forge.

The jobs' PATH is an image's: Python and git (plus what gitlab-ci-local itself needs), no kubectl,
helm or promoter. Each job installs promoter from its wheel as the template does; pip reads a
wheelhouse instead of the index (a runner with a package mirror), so the jobs need no network.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from tests.ci.toolbox import ROOT, bare_path, build_wheel, missing, python_for
from tests.conftest import git, registry_gate_off
from tests.fakeforge import FakeForge

EXAMPLES = ROOT / "examples"
TOKEN = "glpat-GitlabCiLocalToken0123456789"
BASE_DEPLOY = "apps/checkout-api/base/deployment.yaml"
DEV = "apps/checkout-api/overlays/dev/kustomization.yaml"
NEW_IMAGE = "ghcr.io/acme/checkout-api:1.5.0@sha256:" + "7" * 64
LONG_AGO = "2020-01-01T10:00:00+00:00"


def _gitlab_ci_local() -> str:
    for candidate in (
        os.environ.get("GITLAB_CI_LOCAL"),
        str(ROOT / ".ci" / "npm" / "node_modules" / ".bin" / "gitlab-ci-local"),
        shutil.which("gitlab-ci-local"),
    ):
        if candidate and Path(candidate).exists():
            return candidate
    missing("gitlab-ci-local is not installed (npm install gitlab-ci-local@4.65.1)")
    raise AssertionError


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    for tool in ("node", "rsync", "git"):
        if not shutil.which(tool):
            missing(f"{tool} is not on PATH")
    tool = _gitlab_ci_local()
    root = tmp_path_factory.mktemp("glci")
    _, python = python_for("3.13")  # the template's default image is python:3.13
    tools = root / "bin"
    tools.mkdir()
    for name in ("python3", "python"):
        (tools / name).symlink_to(python)
    path = bare_path(tools, extra=("node", "rsync"))
    wheel = build_wheel(root / "dist")
    wheelhouse = root / "wheelhouse"
    proc = subprocess.run(
        [python, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(wheelhouse), str(wheel)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return {"tool": tool, "path": path, "wheel": wheel, "wheelhouse": wheelhouse, "root": root}


@pytest.fixture
def forge(tmp_path: Path):
    fake = FakeForge(tmp_path / "forge")
    fake.add_token(TOKEN, "promoter-bot")
    yield fake
    fake.close()


def _commit(repo: Path, message: str, date: str | None = None) -> None:
    env = {**os.environ, **({"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date} if date else {})}
    git(repo, "add", "-A")
    subprocess.run(
        ["git", "-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-qm", message],
        cwd=repo,
        check=True,
        env=env,
    )


def gitops_origin(tmp: Path, wheel: Path, change: tuple[str, str, str] | None) -> Path:
    """A bare origin: main holds examples/, promoter's CI files and a .gitlab-ci.yml using both forms;
    branch `feature` holds one change."""
    work = tmp / "author"
    shutil.copytree(EXAMPLES, work)
    git(work, "init", "-q", "-b", "main")
    # The images named here are in no registry: the image_exists gate is judged in tests/registry.
    (work / ".promoter.yaml").write_text(registry_gate_off((EXAMPLES / ".promoter.yaml").read_text()))
    ci = work / "ci"
    ci.mkdir()
    shutil.copy(ROOT / ".gitlab-ci-template.yml", ci / "promoter.yml")  # as `include: project:` would bring it
    shutil.copytree(ROOT / "templates", ci / "templates")
    (work / ".gitlab-ci.yml").write_text(
        yaml.safe_dump(
            {
                "stages": ["test", "deploy"],
                "include": [
                    {"local": "ci/promoter.yml"},
                    {
                        "local": "ci/templates/promoter-bump.yml",
                        "inputs": {
                            "job-name": "promote-dev",
                            "app": "checkout-api",
                            "env": "dev",
                            "image": NEW_IMAGE,
                            "forge-repo": "acme/gitops",
                            "source": str(wheel),
                        },
                    },
                ],
                # One variable overrides where promoter comes from (here: the wheel of this checkout).
                "variables": {"PROMOTER_SOURCE": str(wheel)},
                "promoter-check": {"extends": ".promoter-check"},
            },
            sort_keys=False,
        )
    )
    _commit(work, "initial", LONG_AGO)
    git(work, "checkout", "-q", "-b", "feature")
    if change:
        rel, old, new = change
        text = (work / rel).read_text()
        assert old in text
        (work / rel).write_text(text.replace(old, new, 1))
        _commit(work, "the change")
    bare = tmp / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(bare)], check=True)
    return bare


def runner_clone(origin: Path, dest: Path, branch: str) -> Path:
    """GitLab's runner: init, fetch the pipeline's branch only at GIT_DEPTH, check out its commit."""
    dest.mkdir()
    git(dest, "init", "-q")
    git(dest, "remote", "add", "origin", f"file://{origin}")
    git(dest, "fetch", "-q", "--no-tags", "--depth=1", "origin", f"+refs/heads/{branch}:refs/remotes/origin/{branch}")
    git(dest, "checkout", "-q", "-f", "--detach", f"origin/{branch}")
    assert git(dest, "rev-parse", "--is-shallow-repository").strip() == "true"
    return dest


def pipeline(setup: dict, ws: Path, variables: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], Path]:
    state = ws.parent / "state"
    variables = {
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(setup["wheelhouse"]),
        "PIP_CONFIG_FILE": os.devnull,
        **variables,
    }
    args = [
        str(setup["tool"]),
        "--force-shell-executor",
        "--shell-isolation",
        "--state-dir",
        "../state",
        "--home",
        str(ws.parent / "home"),
        "--no-color",
        # A merge request pipeline is simulated by setting the variables GitLab would set.
        "--ignore-predefined-vars",
        ",".join(k for k in variables if k.startswith("CI_")),
    ]
    for k, v in variables.items():
        args += ["--variable", f"{k}={v}"]
    # A temp folder of the test's own, as a shell runner's /tmp: what the jobs leave in it stays visible.
    temp = ws.parent / "runner-tmp"
    temp.mkdir(exist_ok=True)
    env = {"PATH": str(setup["path"]), "HOME": str(ws.parent / "home"), "LANG": "C.UTF-8", "TMPDIR": str(temp)}
    (ws.parent / "home").mkdir(exist_ok=True)
    proc = subprocess.run(args, cwd=ws, env=env, capture_output=True, text=True, timeout=540, check=False)
    # Each job installed promoter (~500 MB) in the temp folder and removes it at its end, passed or failed.
    # A shell runner keeps /tmp from job to job: the ones left behind once filled this machine's disk.
    left = sorted(p.name for p in temp.glob("promoter-venv-*"))
    assert not left, f"jobs left their virtual environments behind: {left}"
    return proc, state / "builds"


MR = {
    "CI_PIPELINE_SOURCE": "merge_request_event",
    "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
    "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feature",
    "CI_MERGE_REQUEST_IID": "1",
    "CI_DEFAULT_BRANCH": "main",
    "CI_COMMIT_BRANCH": "",
}


def test_check_job_fails_a_merge_request_with_a_bad_manifest(setup, tmp_path: Path) -> None:
    origin = gitops_origin(tmp_path, setup["wheel"], (BASE_DEPLOY, "replicas: 2", 'replicas: "three"'))
    ws = runner_clone(origin, tmp_path / "ws", "feature")
    proc, builds = pipeline(setup, ws, MR)
    log = proc.stdout + proc.stderr
    assert proc.returncode != 0, log
    assert "FAIL  promoter-check" in log, log
    assert "promote-dev" not in log, log  # the bump job only runs on the default branch
    assert f"{BASE_DEPLOY}:6" in log  # the text report names the line
    junit = ET.parse(builds / "promoter-check" / "promoter-junit.xml").getroot()
    assert int(junit.get("failures")) >= 1
    assert BASE_DEPLOY in {c.get("file") for c in junit.iter("testcase") if c.find("failure") is not None}
    quality = json.loads((builds / "promoter-check" / "gl-code-quality-report.json").read_text())
    assert any(
        i["location"]["path"] == BASE_DEPLOY and i["severity"] in ("major", "critical", "blocker") for i in quality
    )


def test_check_job_passes_a_good_merge_request(setup, tmp_path: Path) -> None:
    origin = gitops_origin(tmp_path, setup["wheel"], (DEV, 'newTag: "1.4.2"', 'newTag: "1.4.3"'))
    ws = runner_clone(origin, tmp_path / "ws", "feature")
    own = tmp_path / "own-venv"  # a folder the user names is theirs: kept (e.g. cached between jobs)
    proc, builds = pipeline(setup, ws, {**MR, "PROMOTER_VENV": str(own)})
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log
    assert "PASS  promoter-check" in log and "promote-dev" not in log
    assert (own / "pyvenv.cfg").is_file() and (own / "bin" / "promoter").is_file()
    assert "neither kustomize nor kubectl" not in log  # kubectl came with promoter, not with the image
    junit = ET.parse(builds / "promoter-check" / "promoter-junit.xml").getroot()
    assert junit.get("failures") == "0" and int(junit.get("tests")) > 0
    names = [c.get("name") for c in junit.iter("testcase")]
    assert len(names) == len(set(names))


def test_bump_job_opens_a_merge_request_and_writes_the_dotenv(setup, forge: FakeForge, tmp_path: Path) -> None:
    origin = gitops_origin(tmp_path, setup["wheel"], None)
    forge.create_repo("acme/gitops", source=origin)
    ws = runner_clone(origin, tmp_path / "ws", "main")
    proc, builds = pipeline(
        setup,
        ws,
        {
            "CI_PIPELINE_SOURCE": "push",
            "CI_COMMIT_BRANCH": "main",
            "CI_DEFAULT_BRANCH": "main",
            "CI_SERVER_URL": forge.gitlab_url,
            "GITLAB_TOKEN": TOKEN,
        },
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log
    assert "PASS  promote-dev" in log and "promoter-check" not in log  # check runs in merge request pipelines only
    pulls = forge.repo("acme/gitops").pulls
    assert len(pulls) == 1
    mr = next(iter(pulls.values()))
    assert mr.head == "promoter/dev/checkout-api" and mr.base == "main"
    assert "1.5.0" in git(forge.repo("acme/gitops").store.path, "show", f"{mr.head}:{DEV}")
    env = dict(line.split("=", 1) for line in (builds / "promote-dev" / "promotion.env").read_text().splitlines())
    assert env["PROMOTION_OPERATION"] == "created" and env["PROMOTION_MR_IID"] == str(mr.number)
    assert (
        env["PROMOTION_BRANCH"] == mr.head
        and env["PROMOTION_IMAGE"] == NEW_IMAGE
        and env["PROMOTION_CHANGED"] == "true"
    )
    assert env["PROMOTION_MR_URL"].endswith(f"/merge_requests/{mr.number}")
    assert len(env["PROMOTION_HEAD_SHA"]) == 40
    assert TOKEN not in log


def test_promote_next_job_opens_the_next_merge_request(setup, forge: FakeForge, tmp_path: Path) -> None:
    """After a dev promotion merged (squashed), the template's promote job in mode next opens stage's MR."""
    from datetime import datetime

    from tests.conftest import invoke

    origin = gitops_origin(tmp_path, setup["wheel"], None)
    repo = forge.create_repo("acme/gitops", source=origin)
    forge.now = datetime.fromisoformat(LONG_AGO)
    ci = {
        "stages": ["deploy"],
        "include": [{"local": "ci/promoter.yml"}],
        "variables": {"PROMOTER_SOURCE": str(setup["wheel"])},
        "promote-next": {
            "extends": ".promoter-promote",
            "variables": {"PROMOTER_MODE": "next", "PROMOTER_FORGE_REPO": "acme/gitops"},
        },
    }
    forge.push_commit("acme/gitops", "main", {".gitlab-ci.yml": yaml.safe_dump(ci, sort_keys=False)}, "ci: next")
    author = tmp_path / "author-clone"
    git(tmp_path, "clone", "-q", f"file://{repo.store.path}", str(author))
    flags = ("--forge", "gitlab", "--forge-url", forge.gitlab_url, "--forge-repo", "acme/gitops")
    opened = invoke(
        "bump", "--repo", str(author), "--app", "checkout-api", "--env", "dev", "--image", NEW_IMAGE, "--pr", *flags,
        env={"GITLAB_TOKEN": TOKEN},
    )  # fmt: skip
    assert opened.exit_code == 0, opened.stderr
    merged = forge.merge_pull("acme/gitops", 1, "squash", gitlab=True)  # two days and more ago: stage's soak is 1h
    forge.now = None
    ws = tmp_path / "ws"
    git(tmp_path, "clone", "-q", f"file://{repo.store.path}", str(ws))  # GIT_DEPTH: "0"
    proc, builds = pipeline(
        setup,
        ws,
        {
            "CI_PIPELINE_SOURCE": "push",
            "CI_COMMIT_BRANCH": "main",
            "CI_DEFAULT_BRANCH": "main",
            "CI_COMMIT_SHA": merged,
            "CI_SERVER_URL": forge.gitlab_url,
            "GITLAB_TOKEN": TOKEN,
        },
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log
    assert "PASS  promote-next" in log
    mr = repo.pulls[2]
    assert mr.head == "promoter/stage/checkout-api" and mr.title.startswith("promote checkout-api to stage: 1.5.0")
    env = dict(line.split("=", 1) for line in (builds / "promote-next" / "promotion.env").read_text().splitlines())
    assert env["PROMOTION_MR_IID"] == "2" and env["PROMOTION_OPERATION"] == "created"
    assert (
        env["PROMOTION_IMAGE"] == NEW_IMAGE and env["PROMOTION_LEFT_OUT"] == "" and env["PROMOTION_CHANGED"] == "true"
    )
    assert TOKEN not in log
