"""`promoter promote` and `promoter status` on real git histories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import git, invoke, make_repo

API = "ghcr.io/acme/api"
D1 = "sha256:" + "1a" * 32
D2 = "sha256:" + "2b" * 32
# image_exists off: these images are in no registry (tests/registry judges that gate for real).
CONFIG = """\
environments:
  - name: dev
    gates: {image_exists: false}
  - name: stage
    gates: {promotion_order: true, image_exists: false}
  - name: prod
    gates: {promotion_order: true, digest_required: true, image_exists: false}
apps:
  api:
    image: ghcr.io/acme/api
    path: apps/{app}/{env}
"""


def kust(tag: str, digest: str) -> str:
    return f"images:\n  - name: {API}  # the api\n    newTag: '{tag}'\n    digest: {digest}\n"


def path(env: str) -> str:
    return f"apps/api/{env}/kustomization.yaml"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """dev runs 1.2 (a newer build), stage and prod run 1.1."""
    r = make_repo(
        tmp_path / "gitops", {".promoter.yaml": CONFIG, **{path(e): kust("1.1", D1) for e in ("dev", "stage", "prod")}}
    )
    (r / path("dev")).write_text(kust("1.2", D2))
    git(r, "commit", "-qam", "dev gets 1.2")
    return r


def test_promote_carries_the_exact_image_of_the_previous_env(repo: Path) -> None:
    r = invoke("promote", "--repo", str(repo), "--app", "api", "--from", "dev")
    assert r.exit_code == 0, r.stderr
    assert (repo / path("stage")).read_text() == kust("1.2", D2)
    assert (repo / path("prod")).read_text() == kust("1.1", D1)  # only the next environment


def test_promote_reads_the_source_env_from_git_not_the_working_tree(repo: Path) -> None:
    # An uncommitted edit in dev is not what dev runs: promote takes the committed state.
    (repo / path("dev")).write_text(kust("9.9", D1))
    r = invoke("promote", "--repo", str(repo), "--app", "api", "--from", "dev", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["image"] == f"{API}:1.2@{D2}"


def test_promote_is_judged_by_the_target_envs_gates(repo: Path) -> None:
    # prod takes only what stage runs or ran: 1.2 has never been in stage.
    r = invoke("promote", "--repo", str(repo), "--app", "api", "--from", "dev", "--to", "prod")
    assert r.exit_code == 3
    assert "gate-promotion-order" in r.stderr
    assert (repo / path("prod")).read_text() == kust("1.1", D1)


@pytest.mark.parametrize(
    ("args", "want"),
    [
        (["--from", "prod"], "prod is the last environment"),
        (
            ["--from", "stage", "--to", "dev"],
            f"roll it back: `promoter rollback --app api --env dev --image {API}:1.1@{D1}",
        ),
        (["--from", "qa"], "unknown environment 'qa'"),
    ],
)
def test_promote_bad_input_is_one_line_exit_2(repo: Path, args: list[str], want: str) -> None:
    r = invoke("promote", "--repo", str(repo), "--app", "api", *args)
    assert r.exit_code == 2 and want in r.stderr and r.stderr.count("\n") == 1


def test_status_shows_what_runs_where_and_what_is_pending(repo: Path) -> None:
    r = invoke("status", "--repo", str(repo), "-o", "json")
    assert r.exit_code == 0, r.stderr
    rows = {row["env"]: row for row in json.loads(r.stdout)}
    assert (rows["dev"]["tag"], rows["dev"]["digest"]) == ("1.2", D2)
    assert (rows["stage"]["tag"], rows["prod"]["tag"]) == ("1.1", "1.1")
    assert rows["stage"]["pending_from"] == "dev" and rows["prod"]["pending_from"] is None
    head = git(repo, "rev-parse", "HEAD").strip()
    assert rows["dev"]["commit"] == head and rows["dev"]["file"] == path("dev")
    text = invoke("status", "--repo", str(repo)).stdout
    assert "differs from dev" in text and "1.2" in text


def test_status_reads_the_working_tree_with_ref_dash(repo: Path) -> None:
    (repo / path("stage")).write_text(kust("1.2", D2))
    rows = {
        row["env"]: row for row in json.loads(invoke("status", "--repo", str(repo), "--ref", "-", "-o", "json").stdout)
    }
    assert rows["stage"]["tag"] == "1.2" and rows["stage"]["commit"] is None and rows["stage"]["pending_from"] is None


def test_promote_from_the_last_env_names_the_command_that_promotes_into_it(repo: Path) -> None:
    r = invoke("promote", "--repo", str(repo), "--app", "api", "--from", "prod")
    assert r.exit_code == 2
    assert f"to promote into prod: `promoter promote --app api --from stage --repo {repo}`" in r.stderr
    assert "--to ENV" not in r.stderr  # there is no later environment to name


@pytest.mark.parametrize("command", ["promote", "status"])
def test_a_bad_ref_is_exit_2_naming_the_ref_flag(repo: Path, command: str) -> None:
    extra = ["--from", "dev"] if command == "promote" else []
    r = invoke(command, "--repo", str(repo), "--app", "api", *extra, "--ref", "no-such-branch")
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.startswith("promoter: error: --ref no-such-branch: no such commit") and "--base" not in r.stderr


def test_status_outside_git_is_an_error_not_a_table_note(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / ".promoter.yaml").write_text(CONFIG)
    (folder / path("dev")).parent.mkdir(parents=True)
    (folder / path("dev")).write_text(kust("1.1", D1))
    # Wherever the temporary folder is, git must not find a work tree above it.
    r = invoke("status", "--repo", str(folder), env={"GIT_CEILING_DIRECTORIES": str(tmp_path)})
    assert r.exit_code == 2 and r.stdout == ""
    assert "not inside a git repository" in r.stderr
    assert f"`promoter status --ref - --repo {folder}` reads the working tree" in r.stderr
    ok = invoke("status", "--repo", str(folder), "--ref", "-")
    assert ok.exit_code == 0, ok.stderr


def test_status_with_an_unreadable_env_prints_the_table_and_exits_2(repo: Path) -> None:
    (repo / ".promoter.yaml").write_text(
        CONFIG.replace("    path: apps/{app}/{env}\n", "    path: apps/{app}/{env}\n    paths: {prod: ../elsewhere}\n")
    )
    git(repo, "commit", "-qam", "prod lives outside")
    r = invoke("status", "--repo", str(repo))
    assert r.exit_code == 2
    assert "unreadable (see below)" in r.stdout and "1.2" in r.stdout  # the rows that could be read are shown
    assert "promoter: error: api in prod:" in r.stderr and "leaves the repository" in r.stderr
