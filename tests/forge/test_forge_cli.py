"""`promoter bump … --pr` through the real CLI against both fake forges, on the bundled example repository."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fakeforge import FakeForge
from forgeworld import REPO, TOKEN, git, invoke, make_repo, registry_gate_off

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
OVERLAY = "apps/checkout-api/overlays/dev/kustomization.yaml"
DIGEST_1 = "sha256:" + "1" * 64
DIGEST_2 = "sha256:" + "2" * 64
IMAGE_1 = f"ghcr.io/acme/checkout-api:1.5.0@{DIGEST_1}"
IMAGE_2 = f"ghcr.io/acme/checkout-api:1.5.1@{DIGEST_2}"


@pytest.fixture(params=["github", "gitlab"])
def cli_world(request: pytest.FixtureRequest, fake: FakeForge, tmp_path: Path):
    files = {p.relative_to(EXAMPLES).as_posix(): p.read_text() for p in EXAMPLES.rglob("*") if p.is_file()}
    # The example's images are fictional: the registry gate is off here (tests/registry runs
    # bump --pr with it on, against a real registry and this fake forge).
    files[".promoter.yaml"] = registry_gate_off(files[".promoter.yaml"])
    local = make_repo(tmp_path / "local", files)
    fake.create_repo(REPO, source=local)
    kind = request.param
    url = fake.github_url if kind == "github" else fake.gitlab_url
    env = {"GITHUB_TOKEN": TOKEN} if kind == "github" else {"GITLAB_TOKEN": TOKEN}
    flags = ["--pr", "--forge", kind, "--forge-url", url, "--forge-repo", REPO]
    return fake, local, env, flags


def bump(local: Path, image: str, flags: list[str], env: dict[str, str], *extra: str):
    args = [
        "bump",
        "--repo",
        str(local),
        "--app",
        "checkout-api",
        "--env",
        "dev",
        "--image",
        image,
        *flags,
        *extra,
    ]
    return invoke(*args, env=env)


@pytest.mark.needs("kustomize")  # renders overlays (kubectl kustomize)
def test_bump_pr_opens_then_noop_then_updates(cli_world, tmp_path: Path) -> None:
    fake, local, env, flags = cli_world
    store = fake.repo(REPO).store
    fake.reset_log()
    first = bump(local, IMAGE_1, flags, env, "-o", "json")
    counts = [len(fake.log)]
    assert first.exit_code == 0, first.stderr
    pr = json.loads(first.stdout)["pull_request"]
    assert pr["operation"] == "created" and pr["branch"] == "promoter/dev/checkout-api"
    # The body carries the rendered objects that change (real kustomize, base vs head) and their checks.
    body = fake.repo(REPO).pulls[pr["number"]].body
    assert "Rendered objects" in body and "Deployment checkout-dev/checkout-api" in body
    assert IMAGE_1.split("@")[1] in body
    # Byte-exact: the branch holds what a local bump writes, and the local checkout is untouched.
    assert git(local, "status", "--porcelain") == ""
    copy = tmp_path / "copy"
    shutil.copytree(local, copy)
    assert (
        invoke(
            "bump",
            "--repo",
            str(copy),
            "--app",
            "checkout-api",
            "--env",
            "dev",
            "--image",
            IMAGE_1,
        ).exit_code
        == 0
    )
    assert store.read_file(pr["branch"], OVERLAY) == (copy / OVERLAY).read_bytes()
    assert store.changed_paths("main", pr["branch"]) == [OVERLAY]

    fake.reset_log()
    again = bump(local, IMAGE_1, flags, env)
    counts.append(len(fake.log))
    assert again.exit_code == 0 and "operation: none" in again.stdout
    fake.reset_log()
    newer = bump(local, IMAGE_2, flags, env, "-o", "json")
    counts.append(len(fake.log))
    updated = json.loads(newer.stdout)["pull_request"]
    assert updated["operation"] == "updated" and updated["number"] == pr["number"]
    assert DIGEST_2 in store.read_file(pr["branch"], OVERLAY).decode()  # type: ignore[union-attr]
    assert len(fake.repo(REPO).pulls) == 1
    # API economy through the CLI: created <= 6, no-op <= 2, updated <= 7 requests (status and
    # approvers included; see test_forge_economy.py).
    assert counts[0] <= 6 and counts[1] <= 2 and counts[2] <= 7, counts


def test_bump_pr_errors_are_one_line_without_the_token(cli_world) -> None:
    fake, local, _env, flags = cli_world
    fake.add_token("ghp_readonlyCLItoken0123456789abcdef", write=False)
    token_var = "GITHUB_TOKEN" if "github" in flags else "GITLAB_TOKEN"
    fake.echo_token_in_errors = True
    res = bump(local, IMAGE_1, flags, {token_var: "ghp_readonlyCLItoken0123456789abcdef"})
    assert res.exit_code == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("promoter: error: the token cannot write")
    assert "ghp_readonlyCLItoken0123456789abcdef" not in res.stderr + res.stdout
    assert fake.repo(REPO).store.branches() == ["main"]


def test_without_a_repository_named_the_checkouts_origin_remote_is_the_target(cli_world) -> None:
    """A config from `promoter init` names no forge.repository, and the README's quick start passes none:
    the GitOps checkout's own origin remote names it (credentials in its URL stay out of every output).
    GITHUB_REPOSITORY / CI_PROJECT_PATH are not used: they name the repository running CI, often an app's."""
    fake, local, env, flags = cli_world
    kind, url = flags[2], flags[4]
    host = url.split("://", 1)[1].split("/", 1)[0]
    config = local / ".promoter.yaml"
    text = config.read_text()
    assert "  repository: acme/gitops\n" in text
    config.write_text(text.replace("  repository: acme/gitops\n", ""))  # as `promoter init` writes it: none
    git(local, "commit", "-qam", "no forge.repository")
    secret = "glpat-InTheCloneUrl0123456789"
    git(local, "remote", "add", "origin", f"http://ci-token:{secret}@{host}/{REPO}.git")
    no_repo = flags[:-2]  # without --forge-repo
    env = {**env, "GITHUB_REPOSITORY": "acme/app-repo", "CI_PROJECT_PATH": "acme/app-repo"}
    r = bump(local, IMAGE_1, no_repo, env, "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["pull_request"]["operation"] == "created"
    assert len(fake.repo(REPO).pulls) == 1 and secret not in r.stdout + r.stderr
    # An origin on another host is not this forge's repository: one line, both hosts named, no guess.
    git(local, "remote", "set-url", "origin", f"https://{secret}@elsewhere.example.com/acme/gitops.git")
    r = bump(local, IMAGE_2, no_repo, env)
    assert r.exit_code == 2 and "no target repository" in r.stderr, (r.stdout, r.stderr)
    assert "elsewhere.example.com" in r.stderr and host.split(":")[0] in r.stderr and secret not in r.stderr
    assert kind in ("github", "gitlab")


MERGE = r"PUT .*/(pulls|merge_requests)/\d+/merge$"


def test_bump_pr_auto_merge_not_done_is_a_note_saying_so(cli_world) -> None:
    """A 200 to the merge whose body says it did not merge: the forge's documented refusal, a note (exit 0)."""
    fake, local, env, flags = cli_world
    body = {"merged": False, "message": "Pull Request is not mergeable", "state": "opened"}
    fake.answer_next(MERGE, {**body, "merge_when_pipeline_succeeds": False}, content_type="application/json")
    res = bump(local, IMAGE_1, flags, env, "--auto-merge")
    assert res.exit_code == 0, res.stderr
    (pr,) = fake.repo(REPO).pulls.values()
    assert pr.state == "open" and not pr.auto_merge
    assert "note: merged" not in res.stdout and "note: auto-merge enabled" not in res.stdout
    assert ("note: not merged" if "github" in flags else "note: auto-merge not set") in res.stdout, res.stdout


def test_bump_pr_auto_merge_unexpected_answer_is_exit_1_naming_the_open_request(cli_world) -> None:
    fake, local, env, flags = cli_world
    fake.answer_next(MERGE, "<html><head><title>Sign in</title></head><body>proxy</body></html>")
    res = bump(local, IMAGE_1, flags, env, "--auto-merge")
    assert res.exit_code == 1
    (line,) = res.stderr.strip().splitlines()
    (pr,) = fake.repo(REPO).pulls.values()
    assert line.startswith("promoter: error: unexpected answer from Git") and "an HTML page: 'Sign in'" in line
    assert " is open at http" in line and f"/{pr.number}, not merged by promoter" in line
    assert pr.state == "open"
