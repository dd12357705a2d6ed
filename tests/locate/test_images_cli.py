"""`promoter images` through the CLI: JSON fields, --image filter, text output, paths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, invoke

FIELDS = {"file", "line", "column", "yaml_path", "style", "repository", "tag", "digest"}


def test_json_lists_every_reference_of_the_example_with_its_fields():
    r = invoke("images", str(EXAMPLES), "--repo", str(EXAMPLES), "--output", "json")
    assert r.exit_code == 0, r.stderr
    refs = json.loads(r.stdout)
    for ref in refs:
        assert set(ref) >= FIELDS
    got = {(x["file"], x["style"], x["repository"]) for x in refs}
    assert ("apps/checkout-api/overlays/dev/kustomization.yaml", "kustomize-images", "ghcr.io/acme/checkout-api") in got
    assert ("apps/checkout-api/base/deployment.yaml", "container", "ghcr.io/acme/checkout-api") in got
    assert ("apps/web/chart/values.yaml", "helm-values", "ghcr.io/acme/web") in got
    dev = next(x for x in refs if x["file"] == "apps/checkout-api/overlays/dev/kustomization.yaml")
    assert (dev["line"], dev["column"], dev["yaml_path"], dev["tag"]) == (7, 11, "images[0]", "1.4.2")
    assert dev["digest"].startswith("sha256:3f2a9c1d")
    assert not any("templates/" in x["file"] for x in refs)  # chart templates are Go templates, not YAML


def test_image_filter_normalises_docker_hub_names(tmp_path: Path):
    (tmp_path / "values.yaml").write_text(
        "a:\n  image: nginx:1\nb:\n  image: docker.io/library/nginx:2\nc:\n  image: bitnami/nginx:3\n"
    )
    r = invoke(
        "images", str(tmp_path), "--repo", str(tmp_path), "--image", "index.docker.io/library/nginx", "-o", "json"
    )
    assert [x["tag"] for x in json.loads(r.stdout)] == ["1", "2"]


def test_text_output_and_summary(tmp_path: Path):
    (tmp_path / "values.yaml").write_text("image: nginx:1\n")
    r = invoke("images", str(tmp_path), "--repo", str(tmp_path))
    assert r.exit_code == 0
    assert r.stdout == "values.yaml:1:8\thelm-values\timage\tnginx:1\n"
    assert "1 reference(s) in 1 of 1 YAML file(s)" in r.stderr


def test_unparsable_files_are_errors_that_do_not_hide_the_rest(tmp_path: Path):
    """Fail closed: the list is incomplete, so the exit code says so (2), and stderr names each file."""
    (tmp_path / "values.yaml").write_text("image: nginx:1\n")
    (tmp_path / "broken-values.yaml").write_text("image: nginx:1\nimage: nginx:2\n")
    r = invoke("images", str(tmp_path), "--repo", str(tmp_path), "-o", "json")
    assert r.exit_code == 2
    assert [x["file"] for x in json.loads(r.stdout)] == ["values.yaml"]
    assert (
        "promoter: error: broken-values.yaml:2:1: duplicate key image (not read: its references are not listed)"
        in r.stderr
    )


def test_the_config_is_not_a_scanned_file_and_the_count_follows_image(tmp_path: Path):
    (tmp_path / ".promoter.yaml").write_text(
        "environments: [{name: dev}]\napps:\n  web:\n    image: nginx\n    path: '{env}'\n"
    )
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "values.yaml").write_text("image: nginx:1\nsidecar:\n  image: busybox:1\n")
    (tmp_path / "dev" / "values-other.yaml").write_text("image: busybox:2\n")
    r = invoke("images", str(tmp_path), "--repo", str(tmp_path))
    assert r.exit_code == 0, r.stderr
    assert "3 reference(s) in 2 of 2 YAML file(s)" in r.stderr  # .promoter.yaml is not counted
    r = invoke("images", str(tmp_path), "--repo", str(tmp_path), "--image", "busybox")
    assert "2 reference(s) to busybox in 2 of 2 YAML file(s)" in r.stderr
    r = invoke("images", str(tmp_path), "--repo", str(tmp_path), "--image", "nginx")
    assert "1 reference(s) to nginx in 1 of 2 YAML file(s)" in r.stderr


def test_image_with_a_tag_lists_only_that_tag(tmp_path: Path):
    """`--image repo:tag` used to drop the tag silently; it now narrows the list to the references pinning it."""
    (tmp_path / "values-a.yaml").write_text("image: busybox:1\n")
    (tmp_path / "values-b.yaml").write_text("image: busybox:2\n")
    r = invoke("images", str(tmp_path), "--repo", str(tmp_path), "--image", "busybox:2")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == "values-b.yaml:1:8\thelm-values\timage\tbusybox:2\n"
    assert "1 reference(s) to busybox:2 in 1 of 2 YAML file(s)" in r.stderr


def test_images_takes_config_like_every_command(tmp_path: Path):
    """--config names the config whose charts' values.yaml fill in env values files."""
    (tmp_path / "chart").mkdir()
    (tmp_path / "chart" / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 0.1.0\n")
    (tmp_path / "chart" / "values.yaml").write_text("image:\n  repository: ghcr.io/acme/web\n  tag: '1.0'\n")
    (tmp_path / "values-dev.yaml").write_text("image:\n  tag: '1.1'\n")
    (tmp_path / "promoter.yaml").write_text(
        "environments: [{name: dev}]\napps:\n  web:\n    image: ghcr.io/acme/web\n    chart: chart\n"
        "    paths: {dev: values-dev.yaml}\n"
    )
    plain = invoke("images", str(tmp_path / "values-dev.yaml"), "--repo", str(tmp_path))
    assert plain.stdout == ""  # a lone tag: nothing says whose
    r = invoke(
        "images",
        str(tmp_path / "values-dev.yaml"),
        "--repo",
        str(tmp_path),
        "--config",
        str(tmp_path / "promoter.yaml"),
    )
    assert r.exit_code == 0, r.stderr
    assert "ghcr.io/acme/web:1.1" in r.stdout


def test_bad_arguments_exit_2(tmp_path: Path):
    r = invoke("images", str(tmp_path / "missing"), "--repo", str(tmp_path))
    assert r.exit_code == 2 and "does not exist" in r.stderr and r.stderr.count("\n") == 1
    r = invoke("images", str(tmp_path), "--repo", str(tmp_path), "--image", "Bad Image")
    assert r.exit_code == 2 and "whitespace" in r.stderr
    r = invoke("images", "--repo", str(tmp_path / "nowhere"))
    assert (r.exit_code, r.stdout) == (
        2,
        "",
    ) and r.stderr == f"promoter: error: --repo {tmp_path / 'nowhere'} is not a folder\n"


def test_bad_flags_are_one_line_naming_the_flag_and_the_help_to_read(tmp_path: Path):
    # click's own three-line usage block is folded into the one-line shape of every other error.
    r = invoke("images", "--bogus")
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == "promoter: error: No such option '--bogus'. (see 'promoter images --help')\n"
    r = invoke("images", str(tmp_path), "--output", "xml")
    assert r.exit_code == 2 and r.stderr.count("\n") == 1 and "'xml' is not one of 'text', 'json'" in r.stderr


def test_default_root_is_the_current_folder_or_the_git_tree_of_a_path_outside_it(tmp_path: Path, monkeypatch):
    from tests.conftest import make_repo

    other = make_repo(tmp_path / "other", {"apps/values.yaml": "image: nginx:1\n"})
    here = tmp_path / "here"
    here.mkdir()
    (here / "values.yaml").write_text("image: redis:7\n")
    monkeypatch.chdir(here)
    inside = json.loads(invoke("images", "-o", "json").stdout)
    assert [(x["file"], x["repository"]) for x in inside] == [("values.yaml", "docker.io/library/redis")]
    outside = json.loads(invoke("images", "../other/apps", "-o", "json").stdout)
    assert [x["file"] for x in outside] == ["apps/values.yaml"]  # relative to the git tree it lives in
    (other / ".git").rename(other / ".git-away")
    bare = json.loads(invoke("images", "../other/apps", "-o", "json").stdout)
    assert [x["file"] for x in bare] == ["values.yaml"]  # no git tree: relative to the folder given


def test_env_values_files_are_read_over_their_chart_with_a_config(tmp_path) -> None:
    """examples/: env values files name `acme/web`; the registry (ghcr.io) is in the chart's values.yaml."""
    import json
    import shutil

    from tests.conftest import EXAMPLES, invoke

    repo = tmp_path / "gitops"
    shutil.copytree(EXAMPLES, repo)
    out = invoke("images", "--repo", str(repo), "--image", "ghcr.io/acme/web", "-o", "json")
    assert out.exit_code == 0, out.stderr
    files = sorted(r["file"] for r in json.loads(out.stdout))
    assert files == [
        "apps/web/chart/values.yaml",
        "apps/web/env/values-dev.yaml",
        "apps/web/env/values-prod.yaml",
        "apps/web/env/values-stage.yaml",
    ]
    # without the config the same files say docker.io (nothing tells the registry)
    (repo / ".promoter.yaml").unlink()
    out = invoke("images", "--repo", str(repo), "-o", "json")
    repos = {r["file"]: r["repository"] for r in json.loads(out.stdout)}
    assert repos["apps/web/env/values-dev.yaml"] == "docker.io/acme/web"


def test_an_untagged_image_key_with_a_registry_is_listed_and_bumped(tmp_path: Path):
    """`sidecarImage: ghcr.io/acme/helper` (a registry, no tag) once crashed images and bump with AttributeError."""
    values = tmp_path / "values.yaml"
    values.write_text("sidecarImage: ghcr.io/acme/helper  # pinned later\nflagImage: plain-word\n")
    r = invoke("images", str(tmp_path), "--repo", str(tmp_path), "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert [(x["yaml_path"], x["repository"], x["tag"]) for x in json.loads(r.stdout)] == [
        ("sidecarImage", "ghcr.io/acme/helper", None)
    ]
    r = invoke("bump", "--repo", str(tmp_path), "--path", ".", "--image", "ghcr.io/acme/helper:1.2.0")
    assert r.exit_code == 0, r.stderr
    assert values.read_text() == "sidecarImage: ghcr.io/acme/helper:1.2.0  # pinned later\nflagImage: plain-word\n"


@pytest.mark.parametrize(
    "text",
    [
        "image:\n" + "".join("  " * i + "a:\n" for i in range(1, 400)),  # block mappings
        "image: " + "[" * 400 + "]" * 400 + "\n",  # flow sequences: no indentation at all
        "image:\n" + "".join("  " * i + "- \n" for i in range(1, 400)),  # block sequences
        # A `*` anywhere sends the file to the event reader, which measures nesting as it builds.
        "# a * in a comment\nimage:\n" + "".join("  " * i + "a:\n" for i in range(1, 400)),
        # No part is deep in the text; an alias puts a 150-level anchor 100 levels down: 250 for any
        # walker. A later, shallow alias of the same anchor made the old check see only 151.
        "base: &b\n"
        + "".join("  " * i + "a:\n" for i in range(1, 150))
        + "  " * 150
        + "x: 1\nuse:\n"
        + "".join("  " * i + "b:\n" for i in range(1, 100))
        + "  " * 100
        + "c: *b\nshallow: *b\nimage: nginx:1\n",
    ],
    ids=["block-maps", "flow", "block-seqs", "event-reader", "alias-deepened"],
)
def test_yaml_nesting_hundreds_deep_is_refused_in_one_line_not_a_crash(tmp_path: Path, text: str):
    (tmp_path / "values.yaml").write_text(text)
    r = invoke("images", str(tmp_path), "--repo", str(tmp_path))
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr
    assert "values.yaml: YAML nests too deep to read" in r.stderr
    r = invoke("bump", "--repo", str(tmp_path), "--path", ".", "--image", "nginx:2")
    assert r.exit_code == 2 and "internal error" not in r.stderr, r.stderr


def test_symlinks_leading_out_are_named_as_skipped_not_left_out_silently(tmp_path, monkeypatch) -> None:
    """`/dev/zero`, `/proc/self/environ` or another checkout behind a YAML-named link: never read, and said
    (a listing that silently leaves a file out looks complete)."""
    from tests.conftest import invoke, make_repo

    repo = make_repo(
        tmp_path / "r",
        {"apps/api/dev/values.yaml": "api:\n  image:\n    repository: ghcr.io/acme/api\n    tag: '1.0.0'\n"},
    )
    (tmp_path / "other.yaml").write_text("image: ghcr.io/acme/other:1\n")
    (repo / "apps/api/dev/zero.yaml").symlink_to("/dev/zero")
    (repo / "apps/api/dev/other.yaml").symlink_to(tmp_path / "other.yaml")
    monkeypatch.chdir(repo)
    r = invoke("images")
    assert r.exit_code == 0, r.stderr
    assert "ghcr.io/acme/api:1.0.0" in r.stdout and "acme/other" not in r.stdout
    for name in ("apps/api/dev/zero.yaml", "apps/api/dev/other.yaml"):
        assert f"warning: skipped {name}: a symlink to a path outside the repository" in r.stderr, r.stderr
