"""PATH arguments: one rule for every command (relative to --repo or the current folder, absolute inside,
`..` normalised while it stays inside, empty refused)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promoter.locate.paths import resolve_arg
from promoter.model.errors import UsageError
from tests.conftest import git, invoke, make_repo

VALUES = "image:\n  repository: ghcr.io/acme/web\n  tag: '1'\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", {"apps/web/values.yaml": VALUES, "apps/api/values.yaml": VALUES})


@pytest.mark.parametrize(
    "given",
    ["apps/web", "./apps/web", "apps/api/../web", "apps/web/", "apps//web", "./apps/./web/../web"],
)
def test_relative_paths_are_normalised(repo: Path, given: str):
    assert resolve_arg(repo, given) == "apps/web"


def test_absolute_paths_inside_the_repository_are_accepted(repo: Path):
    assert resolve_arg(repo, str(repo / "apps/web")) == "apps/web"
    assert resolve_arg(repo, str(repo)) == "."
    assert resolve_arg(repo, str(repo / "apps/api/../web")) == "apps/web"


@pytest.mark.parametrize("given", ["", " ", "\t"])
def test_empty_or_blank_is_refused(repo: Path, given: str):
    with pytest.raises(UsageError, match="is empty"):
        resolve_arg(repo, given)


@pytest.mark.parametrize("given", ["..", "../repo2", "apps/../../x", "/etc"])
def test_paths_that_leave_the_repository_are_refused(repo: Path, given: str):
    with pytest.raises(UsageError, match="leaves the repository"):
        resolve_arg(repo, given)


def _bump(repo: Path, path: str, *, cwd: Path | None = None, monkeypatch: pytest.MonkeyPatch | None = None):
    if cwd is not None and monkeypatch is not None:
        monkeypatch.chdir(cwd)
    return invoke("bump", "--repo", str(repo), "--image", "ghcr.io/acme/web:2", "--path", path, "--dry-run")


@pytest.mark.parametrize("given", ["apps/web", "./apps/web/../web", "ABS"])
def test_bump_takes_absolute_and_dotdot_paths_inside(repo: Path, given: str):
    r = _bump(repo, str(repo / "apps/web") if given == "ABS" else given)
    assert r.exit_code == 0, r.stderr
    assert "apps/web/values.yaml" in r.stdout and "apps/api" not in r.stdout


@pytest.mark.parametrize("given", ["", "  "])
def test_bump_with_an_empty_path_is_exit_2_and_changes_nothing(repo: Path, given: str):
    before = (repo / "apps/web/values.yaml").read_text()
    r = invoke("bump", "--repo", str(repo), "--image", "ghcr.io/acme/web:2", "--path", given)
    assert r.exit_code == 2 and "--path is empty" in r.stderr, r.stderr
    assert (repo / "apps/web/values.yaml").read_text() == before


def test_images_with_repo_resolves_paths_from_the_repository_like_bump(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "apps/web").mkdir(parents=True)  # a same-named folder in the current one must not be read
    monkeypatch.chdir(elsewhere)
    r = invoke("images", "--repo", str(repo), "apps/web", "--output", "json")
    assert r.exit_code == 0, r.stderr
    assert [x["file"] for x in json.loads(r.stdout)] == ["apps/web/values.yaml"]
    r = invoke("images", "--repo", str(repo), str(repo / "apps/api/../web"), "--output", "json")
    assert [x["file"] for x in json.loads(r.stdout)] == ["apps/web/values.yaml"]
    for bad, want in (("", "PATH is empty"), ("../x", "leaves the repository"), (str(tmp_path), "leaves")):
        r = invoke("images", "--repo", str(repo), bad)
        assert r.exit_code == 2 and want in r.stderr, (bad, r.stderr)


def test_images_without_repo_resolves_from_the_current_folder(repo: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(repo / "apps")
    r = invoke("images", "web", "--output", "json")
    assert r.exit_code == 0, r.stderr
    # Without --repo the repository is the current folder: files are named from it.
    assert [x["file"] for x in json.loads(r.stdout)] == ["web/values.yaml"]


@pytest.mark.parametrize("path", ["apps/web/env/values-dev.yaml", "apps/web/env", "ABS"])
def test_bump_by_path_reads_an_env_values_file_over_its_configured_chart(example_repo: Path, path: str):
    """The bundled web app's env values say `repository: acme/web`; the chart's values.yaml (configured as
    apps.web.chart) says `registry: ghcr.io`. By --path, as by --app/--env and `images`, that is ghcr.io/acme/web:
    the real image is found, and an image of another registry is refused, not written over it."""
    target = str(example_repo / "apps/web/env/values-dev.yaml") if path == "ABS" else path
    seen = invoke("images", "--repo", str(example_repo), "apps/web/env/values-dev.yaml", "--output", "json")
    assert [x["image"] for x in json.loads(seen.stdout)] == ["ghcr.io/acme/web:2.8.0"], seen.stderr
    flags = ("--repo", str(example_repo), "--path", target, "--dry-run")
    right = invoke("bump", "--image", "ghcr.io/acme/web:2.9.0", *flags)
    if path == "apps/web/env":  # three files, three values: the one-value rule still holds
        assert right.exit_code == 2 and "ambiguous: 3 references to ghcr.io/acme/web" in right.stderr, right.stderr
    else:
        assert right.exit_code == 0, right.stderr
        assert '+  tag: "2.9.0"' in right.stdout
    wrong = invoke("bump", "--image", "docker.io/acme/web:2.9.0", *flags)
    assert wrong.exit_code == 2, wrong.stdout
    assert "no reference to docker.io/acme/web" in wrong.stderr and "ghcr.io/acme/web" in wrong.stderr
    before = git(example_repo, "status", "--porcelain")
    assert before == "", before  # dry runs: nothing written


def test_a_symlink_leading_out_is_refused_by_images_as_by_bump(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """One rule, symlinks included: `out` written inside the current folder is a path of this repository,
    and its link to a folder outside is refused (it was listed as if the user had asked for that tree)."""
    (tmp_path / "o").mkdir()
    (tmp_path / "o/values.yaml").write_text(VALUES)
    repo = make_repo(tmp_path / "r", {"apps/web/values.yaml": VALUES})
    (repo / "out").symlink_to("../o")
    monkeypatch.chdir(repo)
    for args in (("images", "out"), ("images", "--repo", ".", "out")):
        r = invoke(*args)
        assert r.exit_code == 2 and "'out' resolves outside the repository" in r.stderr, (args, r.stderr)
    r = invoke("bump", "--path", "out", "--image", "ghcr.io/acme/web:2", "--dry-run")
    assert r.exit_code == 2 and "resolves outside the repository" in r.stderr, r.stderr
    listed = invoke("images", "../o", "--output", "json")  # a tree outside, asked for by name: listed
    assert listed.exit_code == 0 and [x["file"] for x in json.loads(listed.stdout)] == ["values.yaml"], listed.stderr
