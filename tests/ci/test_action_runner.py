"""action.yml run for real under a runner emulation (tests/ci/ghrunner.py): every command, the real
install into a cached venv, a shallow checkout, the fake forge for pull requests.

The job's PATH holds no kubectl, helm or promoter: the action must bring its own.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from tests.ci.ghrunner import JobResult, Runner
from tests.ci.toolbox import ROOT, bare_path, build_wheel, python_for
from tests.conftest import git, invoke, registry_gate_off
from tests.fakeforge import FakeForge

EXAMPLES = ROOT / "examples"
TOKEN = "ghp_ActionEmulationToken0123456789abcdefAB"
BASE_DEPLOY = "apps/checkout-api/base/deployment.yaml"
DEV = "apps/checkout-api/overlays/dev/kustomization.yaml"
NEW_IMAGE = "ghcr.io/acme/checkout-api:1.5.0@sha256:" + "5" * 64
TWO_DAYS_AGO = "2020-01-01T10:00:00+00:00"


@pytest.fixture(scope="module")
def machine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Runner, Path]:
    root = tmp_path_factory.mktemp("runner")
    path = bare_path(root / "tools")
    runner = Runner(
        root, python_for, base_env={"PATH": path, "HOME": os.environ.get("HOME", str(root)), "LANG": "C.UTF-8"}
    )
    wheel = build_wheel(root / "dist")
    # The first job of this runner installs promoter (the cache misses) and saves the environment.
    ws = root / "warm-up"
    ws.mkdir()
    first = runner.run_action(ROOT, ws, {"source": str(wheel), "command": "images"})
    assert first.success and first.steps[2].outputs == {"cache-hit": "false"}, first.log
    return runner, wheel


@pytest.fixture(scope="module")
def fake(tmp_path_factory: pytest.TempPathFactory):
    forge = FakeForge(tmp_path_factory.mktemp("forge"))
    forge.add_token(TOKEN, "promoter-bot")
    yield forge
    forge.close()


def _commit_all(repo: Path, message: str, date: str | None = None) -> None:
    env = {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date} if date else {}
    git(repo, "add", "-A")
    subprocess.run(
        ["git", "-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-qm", message],
        cwd=repo,
        check=True,
        env={**os.environ, **env},
    )


def origin_with_pr(tmp: Path, subfolder: str = "", change: tuple[str, str, str] | None = None) -> Path:
    """A bare origin: main holds examples/ (under `subfolder`), committed long ago; branch `pr` one change."""
    work = tmp / "author"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    gitops = work / subfolder if subfolder else work
    shutil.copytree(EXAMPLES, gitops, dirs_exist_ok=True)
    # The images named here are in no registry: the image_exists gate is judged in tests/registry.
    (gitops / ".promoter.yaml").write_text(registry_gate_off((EXAMPLES / ".promoter.yaml").read_text()))
    (work / "README.md").write_text("# gitops\n")
    _commit_all(work, "initial", TWO_DAYS_AGO)
    git(work, "checkout", "-q", "-b", "pr")
    if change:
        rel, old, new = change
        f = work / subfolder / rel
        assert old in f.read_text()
        f.write_text(f.read_text().replace(old, new, 1))
        _commit_all(work, "the change")
    bare = tmp / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(bare)], check=True)
    return bare


def checkout(origin: Path, workspace: Path, branch: str, depth: int | None = 1) -> Path:
    """What actions/checkout does: init, one branch fetched at depth 1 (no other branch), detached HEAD."""
    workspace.mkdir(parents=True)
    git(workspace, "init", "-q")
    git(workspace, "remote", "add", "origin", f"file://{origin}")
    fetch = (
        ["fetch", "-q", "--no-tags"]
        + ([f"--depth={depth}"] if depth else [])
        + ["origin", f"+refs/heads/{branch}:refs/remotes/origin/{branch}"]
    )
    git(workspace, *fetch)
    git(workspace, "checkout", "-q", "--detach", f"origin/{branch}")
    return workspace


def run(machine: tuple[Runner, Path], workspace: Path, with_: dict[str, str], **kw) -> JobResult:
    runner, wheel = machine
    return runner.run_action(ROOT, workspace, {"source": str(wheel), **with_}, **kw)


def assert_clean(job: JobResult, token: str = "ghs_jobtoken0000000000000000000000000000") -> None:
    """The job is as the user left it (nothing added to PATH or env), the token masked before any use."""
    assert job.env_changes == ""
    assert token in job.masks
    for step in job.steps:
        visible = step.stdout.replace(f"::add-mask::{token}", "")
        assert token not in visible and token not in step.stderr
    assert all(token not in v for v in job.outputs.values()) and token not in job.summary


def test_check_on_a_pull_request_fails_on_a_bad_manifest_with_root_paths(machine, tmp_path: Path) -> None:
    origin = origin_with_pr(tmp_path, change=(BASE_DEPLOY, "replicas: 2", 'replicas: "three"'))
    ws = checkout(origin, tmp_path / "ws", "pr")
    assert git(ws, "branch", "-r").split() == ["origin/pr"]  # no origin/main, as after actions/checkout
    # `origin/main` used to become origin/origin/main
    job = run(
        machine,
        ws,
        {"command": "check", "base": "origin/main", "reports": "sarif junit codequality"},
        github={"event_name": "pull_request", "base_ref": "main", "head_ref": "pr"},
    )
    assert not job.success and job.outputs["exit-code"] == "3", job.log
    assert int(job.outputs["errors"]) >= 1
    errors = [a for a in job.annotations if a.kind == "error"]
    files = {a.props["file"] for a in errors}
    assert BASE_DEPLOY in files and all((ws / f).is_file() for f in files), files
    sarif = json.loads(Path(job.outputs["sarif-file"]).read_text())
    uris = {
        loc["physicalLocation"]["artifactLocation"]["uri"]
        for r in sarif["runs"][0]["results"]
        for loc in r["locations"]
    }
    assert BASE_DEPLOY in uris
    assert Path(job.outputs["junit-file"]).is_file() and Path(job.outputs["codequality-file"]).is_file()
    assert "promoter check" in job.summary and "FAIL" in job.summary
    assert_clean(job)


def test_check_of_a_subfolder_repository_names_files_from_the_workspace_root(machine, tmp_path: Path) -> None:
    origin = origin_with_pr(tmp_path, subfolder="deploy", change=(DEV, 'newTag: "1.4.2"', 'newTag: "1.4.3"'))
    ws = checkout(origin, tmp_path / "ws", "pr")
    job = run(
        machine,
        ws,
        {"command": "check", "repo": "deploy", "reports": "sarif codequality junit"},
        github={"event_name": "pull_request", "base_ref": "main", "head_ref": "pr"},
    )
    assert job.success and job.outputs["exit-code"] == "0", job.log
    assert job.outputs["errors"] == "0" and int(job.outputs["warnings"]) > 0
    files = {a.props["file"] for a in job.annotations if "file" in a.props}
    assert files and all(f.startswith("deploy/") and (ws / f).exists() for f in files), files
    sarif = json.loads(Path(job.outputs["sarif-file"]).read_text())
    uris = {
        loc["physicalLocation"]["artifactLocation"]["uri"]
        for r in sarif["runs"][0]["results"]
        for loc in r["locations"]
    }
    assert uris and all(u.startswith("deploy/") for u in uris)
    quality = json.loads(Path(job.outputs["codequality-file"]).read_text())
    assert quality and all(i["location"]["path"].startswith("deploy/") for i in quality)
    report = json.loads(Path(job.outputs["json-file"]).read_text())
    assert report["targets"] == ["apps/checkout-api/overlays/dev"]  # only what the PR changed
    assert "promoter check" in job.summary and "PASS" in job.summary
    assert_clean(job)


def test_bump_without_pr_edits_the_checkout_and_reports_root_relative_files(machine, tmp_path: Path) -> None:
    origin = origin_with_pr(tmp_path, subfolder="deploy")
    ws = checkout(origin, tmp_path / "ws", "main", depth=None)
    job = run(
        machine, ws, {"command": "bump", "repo": "deploy", "app": "checkout-api", "env": "dev", "image": NEW_IMAGE}
    )
    assert job.success, job.log
    assert job.outputs["changed"] == "true" and json.loads(job.outputs["changed-files"]) == [f"deploy/{DEV}"]
    assert job.outputs["image"] == NEW_IMAGE and job.outputs["operation"] == ""
    assert "1.5.0" in (ws / "deploy" / DEV).read_text()
    assert f"deploy/{DEV}" in job.summary and "```diff" in job.summary
    assert_clean(job)


def test_bump_dry_run_with_pr_writes_and_opens_nothing(machine, fake: FakeForge, tmp_path: Path) -> None:
    origin = origin_with_pr(tmp_path)
    ws = checkout(origin, tmp_path / "ws", "main", depth=None)
    fake.create_repo("acme/dry", source=origin)
    job = run(
        machine,
        ws,
        {
            "command": "bump",
            "app": "checkout-api",
            "env": "dev",
            "image": NEW_IMAGE,
            "pr": "true",
            "dry-run": "true",
            "forge-repository": "acme/dry",
            "token": TOKEN,
        },
        job_env={"GITHUB_API_URL": fake.github_url},
    )
    assert job.success, job.log
    assert fake.repo("acme/dry").pulls == {} and git(ws, "status", "--porcelain") == ""
    assert_clean(job, TOKEN)


def test_bump_with_pr_opens_the_pull_request_and_sets_its_outputs(machine, fake: FakeForge, tmp_path: Path) -> None:
    origin = origin_with_pr(tmp_path)
    ws = checkout(origin, tmp_path / "ws", "main", depth=None)
    fake.create_repo("acme/gitops", source=origin)
    job = run(
        machine,
        ws,
        {
            "command": "bump",
            "app": "checkout-api",
            "env": "dev",
            "image": NEW_IMAGE,
            "pr": "true",
            "draft": "true",
            "token": TOKEN,
        },
        job_env={"GITHUB_API_URL": fake.github_url},
    )
    assert job.success, job.log
    pulls = fake.repo("acme/gitops").pulls
    assert len(pulls) == 1
    pr = next(iter(pulls.values()))
    assert pr.draft and pr.head == "promoter/dev/checkout-api"
    out = job.outputs
    assert out["operation"] == "created" and out["pr-number"] == str(pr.number) and out["branch"] == pr.head
    assert out["pr-url"].endswith(f"/pull/{pr.number}")
    assert out["head-sha"] == git(fake.repo("acme/gitops").store.path, "rev-parse", pr.head).strip()
    assert json.loads(out["changed-files"]) == [DEV]
    assert git(ws, "status", "--porcelain") == ""  # with pr the checkout is only read
    assert f"[#{pr.number}]({out['pr-url']})" in job.summary
    assert_clean(job, TOKEN)


def test_promote_carries_dev_to_stage_through_a_pull_request(machine, fake: FakeForge, tmp_path: Path) -> None:
    origin = origin_with_pr(tmp_path)
    ws = checkout(origin, tmp_path / "ws", "main", depth=None)
    fake.create_repo("acme/promote", source=origin)
    job = run(
        machine,
        ws,
        {
            "command": "promote",
            "app": "checkout-api",
            "from": "dev",
            "pr": "true",
            "forge-repository": "acme/promote",
            "token": TOKEN,
        },
        job_env={"GITHUB_API_URL": fake.github_url},
    )
    assert job.success, job.log
    dev_digest = "sha256:3f2a9c1d5be4e0a7c8b6f1e2d3c4b5a69788766554433221100ffeeddccbbaa9"
    assert job.outputs["image"].endswith("1.4.2@" + dev_digest)
    assert job.outputs["operation"] == "created" and job.outputs["branch"] == "promoter/stage/checkout-api"
    store = fake.repo("acme/promote").store.path
    assert dev_digest in git(
        store, "show", "promoter/stage/checkout-api:apps/checkout-api/overlays/stage/kustomization.yaml"
    )
    assert_clean(job, TOKEN)


def test_promote_next_after_a_merge_opens_the_next_pull_request(machine, fake: FakeForge, tmp_path: Path) -> None:
    origin = origin_with_pr(tmp_path)
    repo = fake.create_repo("acme/next", source=origin)
    # The dev promotion, opened and merged two days ago (stage's soak is 1h).
    author = tmp_path / "author-clone"
    git(tmp_path, "clone", "-q", str(origin), str(author))
    opened = invoke(
        "bump",
        *("--repo", str(author), "--app", "checkout-api", "--env", "dev", "--image", NEW_IMAGE, "--pr"),
        *("--forge", "github", "--forge-url", fake.github_url, "--forge-repo", "acme/next"),
        env={"GITHUB_TOKEN": TOKEN},
    )
    assert opened.exit_code == 0, opened.stderr
    fake.now = datetime.fromisoformat(TWO_DAYS_AGO)
    merged = fake.merge_pull("acme/next", 1, "squash")
    fake.now = None
    ws = checkout(repo.store.path, tmp_path / "ws", "main", depth=None)
    job = run(
        machine,
        ws,
        {"command": "promote", "next": "true", "pr": "true", "forge-repository": "acme/next", "token": TOKEN},
        job_env={"GITHUB_API_URL": fake.github_url},
    )
    assert job.success, job.log
    assert "promoter promote --repo . --next --pr --forge github --forge-repo acme/next" in job.log
    out = job.outputs
    assert out["operation"] == "created" and out["branch"] == "promoter/stage/checkout-api"
    assert out["image"] == NEW_IMAGE and out["left-out"] == "[]" and out["changed"] == "true"
    assert [p["number"] for p in json.loads(out["pull-requests"])] == [2]
    assert "After [#1]" in job.summary and "| checkout-api | dev | stage |" in job.summary
    assert NEW_IMAGE.split("@")[1] in git(
        repo.store.path, "show", "promoter/stage/checkout-api:apps/checkout-api/overlays/stage/kustomization.yaml"
    )
    assert merged == git(ws, "rev-parse", "HEAD").strip()
    assert_clean(job, TOKEN)


@pytest.mark.parametrize(
    ("with_", "argv"),
    [
        ({"next": "true"}, ["--next"]),
        ({"next": "true", "merged-sha": "abc123", "wait": "true"}, ["--next", "--merged-sha", "abc123", "--wait"]),
        ({"all": "true", "from": "dev"}, ["--all", "--from", "dev"]),
        (
            {"all": "true", "from": "stage", "to": "prod", "ref": "main"},
            ["--all", "--from", "stage", "--to", "prod", "--ref", "main"],
        ),
        ({"app": "api", "from": "dev"}, ["--app", "api", "--from", "dev"]),
    ],
)
def test_promote_inputs_become_its_flags(with_: dict[str, str], argv: list[str]) -> None:
    driver = _driver()
    inputs = {"command": "promote", **with_}
    assert driver.validate(inputs) == "promote"
    plan = driver.plan("promote", inputs, {}, ROOT, ROOT)
    assert plan.argv == ["promote", "--repo", ".", *argv, "--output", "json"]


def test_rollback_status_and_images_run_with_their_outputs(machine, tmp_path: Path) -> None:
    origin = origin_with_pr(tmp_path)
    ws = checkout(origin, tmp_path / "ws", "main", depth=None)
    job = run(
        machine, ws, {"command": "rollback", "app": "checkout-api", "env": "dev", "image": "1.4.1", "dry-run": "true"}
    )
    assert job.success, job.log
    assert job.outputs["changed"] == "true" and job.outputs["image"].endswith(":1.4.1")
    assert "dry run" in job.summary and git(ws, "status", "--porcelain") == ""
    job = run(machine, ws, {"command": "status", "app": "checkout-api"})
    assert job.success and "| checkout-api | dev | 1.4.2 |" in job.summary, job.log
    job = run(machine, ws, {"command": "images", "path": "apps/checkout-api"})
    assert job.success and "image reference(s)" in job.summary, job.log
    log = job.steps[-1].stdout
    listed = json.loads(log[log.index("\n[") + 1 :])  # the JSON list is in the log
    assert {r["file"] for r in listed} >= {"apps/checkout-api/overlays/dev/kustomization.yaml"}


def _driver():
    """action/run.py, imported by path (it is shipped with the action, not in the package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("promoter_action_run", ROOT / "action" / "run.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("with_", "says"),
    [
        (
            {"command": "bump", "app": "checkout-api", "env": "dev", "image": NEW_IMAGE, "dry_run": "true"},
            "unknown input(s) 'dry_run' ('dry_run': did you mean 'dry-run'?)",
        ),
        ({"command": "check", "all": "true", "base": "main"}, "give base or all: true, not both"),
        (
            {"command": "bump", "app": "a", "env": "dev", "image": NEW_IMAGE, "draft": "true"},
            "draft only matter(s) with pr: true",
        ),
        ({"command": "check", "image": NEW_IMAGE}, "check does not take the input(s) image"),
        ({"command": "promote", "app": "a", "from": "dev", "tag": "1.0"}, "promote does not take the input(s) tag"),
        (
            {"command": "promote", "next": "true", "from": "dev"},
            "reads apps and environments from the merge; it takes no from",
        ),
        (
            {"command": "promote", "app": "a", "from": "dev", "merged-sha": "abc"},
            "merged-sha only matters with next: true",
        ),
        ({"command": "promote", "all": "true", "app": "a", "from": "dev"}, "give app or all: true, not both"),
        ({"command": "promote", "all": "true"}, "promote needs the input(s) from"),
        ({"command": "promote", "from": "dev"}, "promote needs app (one app), all: true"),
        ({"command": "promote", "next": "yes"}, "input next: 'yes' is not true or false"),
        ({"command": "status", "wait": "true"}, "status does not take the input(s) wait"),
        (
            {"command": "bump", "app": "a", "env": "dev", "image": NEW_IMAGE, "pr": "yes"},
            "input pr: 'yes' is not true or false",
        ),
        ({"command": "bump", "path": "apps/a", "image": NEW_IMAGE, "pr": "true"}, "pr: true needs app and env"),
        ({"command": "bump", "app": "a", "image": NEW_IMAGE}, "bump needs app and env (or path)"),
        ({"command": "rollback", "app": "a", "env": "dev"}, "rollback needs the input(s) image"),
        ({"command": "check", "fail-on": "sometimes"}, "input fail-on: 'sometimes' is not error, warning or never"),
        ({"command": "deploy"}, "input command: 'deploy' is not one of"),
        # args cannot carry what an input stands for: the input's own checks would be side-stepped.
        (
            {"command": "bump", "app": "a", "env": "dev", "image": NEW_IMAGE, "args": "--pr"},
            "input args: --pr has its own input; use `pr:` instead of args",
        ),
        (
            {"command": "bump", "app": "a", "env": "dev", "image": NEW_IMAGE, "args": "--draft --forge-repo=acme/x"},
            "input args: --draft has its own input; use `draft:`",
        ),
        ({"command": "check", "base": "main", "args": "--all"}, "input args: --all has its own input; use `all:`"),
        ({"command": "check", "args": "-o sarif=x.sarif"}, "input args: -o has its own input; use `reports:`"),
        ({"command": "images", "args": "--repo=elsewhere"}, "input args: --repo has its own input; use `repo:`"),
        ({"command": "check", "args": "--path-prefix x"}, "input args: --path-prefix has its own input; use `repo:`"),
        ({"command": "check", "args": "--jobs 'two"}, "input args: No closing quotation"),
    ],
)
def test_unknown_or_contradictory_inputs_are_refused(with_: dict[str, str], says: str) -> None:
    driver = _driver()
    action = __import__("yaml").safe_load((ROOT / "action.yml").read_text())
    # The inputs context as the runner builds it: what was given, then every default.
    inputs = {**{k: str(v.get("default", "")) for k, v in action["inputs"].items()}, **with_}
    with pytest.raises(driver.Refused) as err:
        driver.validate(driver.read_inputs({"PROMOTER_ACTION_INPUTS": json.dumps(inputs)}))
    assert says in str(err.value)


def test_args_without_an_input_of_their_own_pass_through() -> None:
    driver = _driver()
    inputs = {"command": "check", "all": "true", "args": "--jobs 2 --schema-dir schemas -- --pr"}
    assert driver.validate(inputs) == "check"
    assert driver.plan("check", inputs, {}, ROOT, ROOT).argv[-6:] == [
        "--jobs",
        "2",
        "--schema-dir",
        "schemas",
        "--",
        "--pr",
    ]


def test_every_option_an_input_stands_for_is_a_real_option() -> None:
    """OPTION_INPUTS names promoter's options and the Action's inputs as they are spelled."""
    driver = _driver()
    assert set(driver.OPTION_INPUTS.values()) <= driver.KNOWN
    helps = " ".join(invoke(c, "--help").stdout for c in driver.COMMANDS)
    for option in driver.OPTION_INPUTS:
        assert option in helps, option


@pytest.mark.parametrize("command", ["images", "bump"])
def test_paths_are_relative_to_repo_as_on_the_command_line(command: str) -> None:
    driver = _driver()
    inputs = {"command": command, "repo": "deploy", "path": "apps/web\napps/checkout-api", "image": NEW_IMAGE}
    assert driver.validate(inputs) == command
    argv = driver.plan(command, inputs, {}, ROOT, ROOT).argv
    assert argv[:3] == [command, "--repo", "deploy"]
    assert "deploy/apps/web" not in argv and "apps/web" in argv and "apps/checkout-api" in argv


def test_images_of_a_subfolder_repository(machine, tmp_path: Path) -> None:
    origin = origin_with_pr(tmp_path, subfolder="deploy")
    ws = checkout(origin, tmp_path / "ws", "main", depth=None)
    job = run(machine, ws, {"command": "images", "repo": "deploy", "path": "apps/checkout-api apps/web"})
    assert job.success and "image reference(s)" in job.summary, job.log
    assert "promoter images --repo deploy apps/checkout-api apps/web --output json" in job.log
    log = job.steps[-1].stdout
    listed = json.loads(log[log.index("\n[") + 1 :])
    files = {r["file"] for r in listed}
    assert "apps/checkout-api/overlays/dev/kustomization.yaml" in files
    assert any(f.startswith("apps/web/") for f in files), files
    # bump's path input means the same: relative to repo.
    job = run(
        machine,
        ws,
        {
            "command": "bump",
            "repo": "deploy",
            "path": "apps/checkout-api/overlays/dev",
            "image": NEW_IMAGE,
            "dry-run": "true",
        },
    )
    assert job.success and job.outputs["changed"] == "true", job.log
    assert json.loads(job.outputs["changed-files"]) == [f"deploy/{DEV}"] and git(ws, "status", "--porcelain") == ""


def test_the_driver_knows_exactly_the_declared_inputs() -> None:
    driver = _driver()
    action = __import__("yaml").safe_load((ROOT / "action.yml").read_text())
    assert set(action["inputs"]) == driver.KNOWN


def test_an_unknown_input_fails_the_step_before_promoter_runs(machine, tmp_path: Path) -> None:
    origin = origin_with_pr(tmp_path)
    ws = checkout(origin, tmp_path / "ws", "main", depth=None)
    job = run(
        machine, ws, {"command": "bump", "app": "checkout-api", "env": "dev", "image": NEW_IMAGE, "dry_run": "true"}
    )
    assert job.warnings == ["Unexpected input(s) 'dry_run'"]  # the runner only warns; the action refuses
    assert not job.success and job.outputs["exit-code"] == "2"
    errors = [a.message for a in job.annotations if a.kind == "error"]
    assert len(errors) == 1 and "did you mean 'dry-run'?" in errors[0], errors
    assert "promoter bump" not in job.log and git(ws, "status", "--porcelain") == ""


def test_the_environment_is_installed_once_and_restored_from_the_cache(machine, tmp_path: Path) -> None:
    runner, _ = machine
    keys = [p.name for p in runner.cache_store.iterdir()]
    assert len(keys) == 1 and keys[0].startswith("promoter-venv-Linux-X64-py3.13.")
    origin = origin_with_pr(tmp_path)
    ws = checkout(origin, tmp_path / "ws", "main", depth=None)
    job = run(machine, ws, {"command": "status"})
    assert job.success and job.steps[2].outputs == {"cache-hit": "true"}
    # Every package in the cached environment is pinned by the constraints file the action ships.
    venv = runner.temp / "promoter-venv"
    frozen = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "freeze", "--all"], capture_output=True, text=True, check=True
    ).stdout
    pins = {
        line.split("==")[0].lower().replace("_", "-")
        for line in (ROOT / "action" / "constraints.txt").read_text().splitlines()
        if line and not line.startswith("#")
    }
    installed = {line.split("==")[0].split(" @ ")[0].lower().replace("_", "-") for line in frozen.splitlines() if line}
    assert installed - pins - {"pip", "setuptools", "gitops-promoter"} == set()
