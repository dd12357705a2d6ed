"""`promoter bump` through the CLI on real git repositories: results, JSON fields, and every bad input."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import EXAMPLES, git, invoke, make_repo, registry_gate_off

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
API = "ghcr.io/acme/checkout-api"
DEV_KUST = "apps/checkout-api/overlays/dev/kustomization.yaml"


def tree_hash(repo: Path) -> str:
    """Hash of every file's path, bytes and mode outside .git (what 'no file changed' means)."""
    h = hashlib.sha256()
    for p in sorted(repo.rglob("*")):
        if ".git" in p.relative_to(repo).parts or not p.is_file():
            continue
        h.update(str(p.relative_to(repo)).encode() + b"\0" + oct(p.stat().st_mode).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def _without_gates(config_text: str) -> str:
    """The example config minus its promotion gates: these tests are about the edit, not the gates."""
    data = yaml.safe_load(config_text)
    for env in data["environments"]:
        env.pop("gates", None)
    return registry_gate_off(yaml.safe_dump(data, sort_keys=False))


@pytest.fixture(scope="module")
def example_files() -> dict[str, str]:
    return {str(p.relative_to(EXAMPLES)): p.read_text() for p in EXAMPLES.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def example_template(tmp_path_factory: pytest.TempPathFactory, example_files: dict[str, str]) -> Path:
    files = dict(example_files)
    files[".promoter.yaml"] = _without_gates(files[".promoter.yaml"])
    return make_repo(tmp_path_factory.mktemp("template") / "gitops", files)


@pytest.fixture
def example(example_template: Path, tmp_path: Path) -> Path:
    """A fresh copy of examples/ (gates removed) as a committed git repository."""
    dst = tmp_path / "gitops"
    shutil.copytree(example_template, dst, symlinks=True)
    return dst


@pytest.fixture
def gated_example(example_files: dict[str, str], tmp_path: Path) -> Path:
    """examples/ as shipped, its history gates included, committed now (the registry gate off: see registry_gate_off)."""
    files = dict(example_files)
    files[".promoter.yaml"] = registry_gate_off(files[".promoter.yaml"])
    return make_repo(tmp_path / "gated", files)


def bump(repo: Path, *args: str):
    return invoke("bump", "--repo", str(repo), *args)


# ---- results -----------------------------------------------------------------------------------
def test_app_env_bump_writes_only_the_value_bytes(example: Path):
    old = (example / DEV_KUST).read_text()
    r = bump(example, "--image", f"{API}:1.5.0@{D1}", "--app", "checkout-api", "--env", "dev")
    assert r.exit_code == 0, r.stderr
    new = (example / DEV_KUST).read_text()
    assert new == old.replace('"1.4.2"', '"1.5.0"').replace(
        "sha256:3f2a9c1d5be4e0a7c8b6f1e2d3c4b5a69788766554433221100ffeeddccbbaa9", D1
    )
    # git sees exactly one changed file; stage and prod are untouched
    assert git(example, "status", "--porcelain").split() == ["M", DEV_KUST]
    assert '+    newTag: "1.5.0" # set by promoter' in r.stdout  # the diff
    assert "changed 2 value(s) in 1 file(s)" in r.stderr


def test_second_bump_says_no_change_and_exits_0(example: Path):
    args = ("--image", f"{API}:1.5.0@{D1}", "--app", "checkout-api", "--env", "stage")
    assert bump(example, *args).exit_code == 0
    h = tree_hash(example)
    again = bump(example, *args)
    assert again.exit_code == 0
    assert again.stdout == ""
    assert again.stderr.startswith("no change: 1 reference(s) already at")
    assert tree_hash(example) == h


def test_helm_app_env_values_over_chart_defaults(example: Path):
    r = bump(example, "--image", "ghcr.io/acme/web:2.9.0", "--app", "web", "--env", "prod")
    assert r.exit_code == 0, r.stderr
    assert git(example, "status", "--porcelain").split() == ["M", "apps/web/env/values-prod.yaml"]
    assert "  tag: '2.9.0'   # promoted by promoter\n" in (example / "apps/web/env/values-prod.yaml").read_text()


def test_docker_hub_style_image_name_matches_app_image(example: Path):
    r = bump(example, "--image", "ghcr.io/acme/checkout-api:1.6", "--app", "checkout-api", "--env", "prod")
    assert r.exit_code == 0 and "newTag" in r.stdout


def test_tag_option_beside_a_digest_only_image(example: Path):
    r = bump(example, "--image", f"{API}@{D1}", "--tag", "1.7.0", "--app", "checkout-api", "--env", "dev", "--dry-run")
    assert r.exit_code == 0
    assert '+    newTag: "1.7.0" # set by promoter' in r.stdout and f"+    digest: {D1}" in r.stdout
    r = bump(example, "--image", f"{API}:1.6@{D1}", "--tag", "1.7.0", "--app", "checkout-api", "--env", "dev")
    assert r.exit_code == 2 and "contradicts" in r.stderr


def test_path_without_config(tmp_path: Path):
    repo = make_repo(
        tmp_path / "r",
        {
            "deploy/app.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  template:\n    spec:\n"
            "      containers:\n        - name: a\n          image: nginx:1.25  # web\n",
            "other/values.yaml": "image: nginx:1.25\n",
        },
    )
    r = bump(repo, "--image", "docker.io/library/nginx:1.26", "--path", "deploy")
    assert r.exit_code == 0, r.stderr
    assert (repo / "deploy/app.yaml").read_text().endswith("image: nginx:1.26  # web\n")
    assert (repo / "other/values.yaml").read_text() == "image: nginx:1.25\n"


def test_dry_run_writes_nothing(example: Path):
    h = tree_hash(example)
    r = bump(example, "--image", f"{API}:9.9.9", "--app", "checkout-api", "--env", "prod", "--dry-run")
    assert r.exit_code == 0
    assert '-    newTag: "1.4.1" # set by promoter' in r.stdout and '+    newTag: "9.9.9" # set by promoter' in r.stdout
    assert "would change" in r.stderr
    assert tree_hash(example) == h


def test_json_output_fields(example: Path):
    r = bump(
        example, "--image", f"{API}@{D1}", "--app", "checkout-api", "--env", "dev", "--output", "json", "--dry-run"
    )
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert (
        out["image"] == f"{API}@{D1}" and out["dry_run"] is True and out["written"] is False and out["changed"] is True
    )
    assert out["files"] == [DEV_KUST]
    by_path = {c["yaml_path"]: c for c in out["changes"]}
    assert set(by_path) == {"images[0].newTag", "images[0].digest"}
    for c in out["changes"]:
        assert {"file", "line", "yaml_path", "old", "new", "style"} <= set(c)
        assert c["file"] == DEV_KUST and c["style"] == "kustomize-images"
    assert (
        by_path["images[0].newTag"]["old"],
        by_path["images[0].newTag"]["new"],
        by_path["images[0].newTag"]["line"],
    ) == ("1.4.2", None, 8)
    assert by_path["images[0].digest"]["new"] == D1 and by_path["images[0].digest"]["line"] == 9
    assert out["diff"].startswith(f"--- a/{DEV_KUST}")


def test_warnings_go_to_stderr_and_json(example: Path):
    # the web chart's env values have a digest key; a repository block elsewhere without one warns
    repo = example
    (repo / "apps/web/env/values-dev.yaml").write_text("image:\n  repository: acme/web\n  tag: '1'\n")
    r = bump(repo, "--image", f"ghcr.io/acme/web:2@{D1}", "--app", "web", "--env", "dev", "--output", "json")
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert len(out["warnings"]) == 1 and "digest not pinned" in out["warnings"][0]
    assert "promoter: warning:" in r.stderr


# ---- gates ---------------------------------------------------------------------------------------
def test_a_blocking_gate_writes_nothing_and_exits_3(gated_example: Path):
    h = tree_hash(gated_example)
    r = bump(gated_example, "--image", f"{API}:1.5.0@{D1}", "--app", "checkout-api", "--env", "prod")
    assert r.exit_code == 3, r.stderr
    assert tree_hash(gated_example) == h
    assert "gate-promotion-order" in r.stderr and "how to proceed:" in r.stderr
    assert "blocked by" in r.stderr and "Traceback" not in r.stderr


def test_gate_results_are_in_the_json_output(gated_example: Path):
    r = bump(gated_example, "--image", f"{API}:1.5.0", "--app", "checkout-api", "--env", "prod", "--output", "json")
    assert r.exit_code == 3
    out = json.loads(r.stdout)
    assert out["blocked"] is True and out["written"] is False
    rules = {f["rule"] for f in out["gates"]["findings"]}
    assert {"gate-digest-required", "gate-promotion-order"} <= rules


def test_an_env_without_gates_is_written(gated_example: Path):
    r = bump(gated_example, "--image", f"{API}:1.5.0@{D1}", "--app", "checkout-api", "--env", "dev")
    assert r.exit_code == 0, r.stderr
    assert D1 in (gated_example / DEV_KUST).read_text()


# ---- bad input: one line, exit 2, nothing changed ---------------------------------------------
def _bad(repo: Path, *args: str, want: str) -> str:
    h = tree_hash(repo)
    r = bump(repo, *args)
    assert r.exit_code == 2, (r.exit_code, r.stdout, r.stderr)
    assert r.stdout == ""
    assert r.stderr.startswith("promoter: error: ") and r.stderr.count("\n") == 1, r.stderr
    assert "Traceback" not in r.stderr
    assert want in r.stderr, r.stderr
    assert tree_hash(repo) == h
    return r.stderr


@pytest.mark.parametrize(
    ("image", "want"),
    [
        ("ghcr.io/acme/Checkout-api:1", "must be lowercase"),
        (f"{API}@sha256:abc", "must have 64 hex characters, got 3"),
        (f"{API}:1;rm -rf /", "whitespace"),
        (f"{API}:1;x", "shell metacharacter(s) ;"),
        (f"{API}:1\nx", "newline"),
        (API, "neither tag nor digest"),
    ],
)
def test_malformed_image(example: Path, image, want):
    _bad(example, "--image", image, "--app", "checkout-api", "--env", "dev", want=want)


def test_unknown_app_and_env(example: Path):
    _bad(
        example,
        "--image",
        f"{API}:1",
        "--app",
        "nope",
        "--env",
        "dev",
        want="unknown app 'nope' (known: checkout-api, web)",
    )
    _bad(
        example,
        "--image",
        f"{API}:1",
        "--app",
        "checkout-api",
        "--env",
        "qa",
        want="unknown environment 'qa' (known: dev, stage, prod)",
    )
    _bad(
        example,
        "--image",
        "ghcr.io/acme/web:1",
        "--app",
        "checkout-api",
        "--env",
        "dev",
        want="is not app checkout-api's image",
    )


def test_scope_must_be_given_one_way(example: Path):
    _bad(example, "--image", f"{API}:1", want="--app APP --env ENV")
    _bad(example, "--image", f"{API}:1", "--app", "checkout-api", "--env", "dev", "--path", "apps", want="not both")


def test_app_env_needs_a_config(tmp_path: Path):
    repo = make_repo(tmp_path / "r", {"values.yaml": "image: nginx:1\n"})
    err = _bad(repo, "--image", "nginx:2", "--app", "web", "--env", "dev", want="--path DIR needs none")
    assert f"`promoter init --repo {repo}` proposes one" in err


def test_paths_outside_the_repository(example: Path, tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "values.yaml").write_text(f"image: {API}:1\n")
    (example / "escape").symlink_to(outside)
    (example / "escape.yaml").symlink_to(outside / "values.yaml")
    _bad(example, "--image", f"{API}:2", "--path", "../outside", want="leaves the repository")
    _bad(example, "--image", f"{API}:2", "--path", "apps/../../outside", want="leaves the repository")
    _bad(example, "--image", f"{API}:2", "--path", str(outside), want="leaves the repository")
    _bad(example, "--image", f"{API}:2", "--path", "escape", want="resolves outside the repository (a symlink")
    _bad(example, "--image", f"{API}:2", "--path", "escape.yaml", want="resolves outside the repository")
    _bad(example, "--image", f"{API}:2", "--path", "does/not/exist", want="does not exist")
    assert (outside / "values.yaml").read_text() == f"image: {API}:1\n"


def test_config_path_outside_the_repository(example: Path):
    cfg = example / ".promoter.yaml"
    cfg.write_text(cfg.read_text().replace("dev: apps/web/env/values-dev.yaml", "dev: ../../etc/passwd"))
    git(example, "commit", "-qam", "escape")
    _bad(example, "--image", "ghcr.io/acme/web:1", "--app", "web", "--env", "dev", want="leaves the repository")


def test_yaml_that_does_not_parse_names_file_and_line(example: Path):
    text = (example / DEV_KUST).read_text()
    (example / DEV_KUST).write_text(text + "extra: [\n")
    line = len(text.splitlines()) + 1  # the unclosed flow sequence
    err = _bad(example, "--image", f"{API}:2", "--app", "checkout-api", "--env", "dev", want=f"{DEV_KUST}:{line}:")
    assert "does not parse" in err


def test_duplicate_keys(example: Path):
    text = (
        (example / DEV_KUST)
        .read_text()
        .replace("namespace: checkout-dev\n", "namespace: checkout-dev\nnamespace: again\n")
    )
    (example / DEV_KUST).write_text(text)
    _bad(
        example,
        "--image",
        f"{API}:2",
        "--app",
        "checkout-api",
        "--env",
        "dev",
        want=f"{DEV_KUST}:4:1: duplicate key namespace",
    )


def test_no_reference_found_says_where_and_what_it_found_instead(example: Path):
    err = _bad(
        example,
        "--image",
        f"{API}:2",
        "--path",
        "apps/web",
        want="no reference to ghcr.io/acme/checkout-api in apps/web (5 YAML file(s))",
    )
    # The images it does pin, not the names of promoter's internal reference styles.
    assert "it pins other images: " in err and "ghcr.io/acme/web (apps/web/chart/values.yaml:6)" in err
    assert "kustomize-images" not in err and "argocd-helm-parameters" not in err


def test_ambiguous_matches_are_listed_with_how_to_choose(tmp_path: Path):
    app = (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: x}\nspec:\n  source:\n    helm:\n"
        "      parameters:\n        - name: api.image.tag\n          value: '1'\n        - name: worker.image.tag\n          value: '1'\n"
    )
    repo = make_repo(tmp_path / "r", {"apps/x.yaml": app})
    err = _bad(repo, "--image", f"{API}:2", "--path", "apps", want="ambiguous")
    assert "apps/x.yaml:9 spec.source.helm.parameters[name=api.image.*]" in err
    assert "apps/x.yaml:11 spec.source.helm.parameters[name=worker.image.*]" in err
    assert "explicit target" in err and "targets" in err


def test_digest_only_into_a_helm_block_without_digest_key(tmp_path: Path):
    repo = make_repo(tmp_path / "r", {"values.yaml": "image:\n  repository: ghcr.io/acme/web\n  tag: '1'\n"})
    _bad(repo, "--image", f"ghcr.io/acme/web@{D1}", "--path", "values.yaml", want="--image repo:tag@digest")


def test_explicit_target_picks_the_ambiguous_value(tmp_path: Path):
    app = (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: x}\nspec:\n  source:\n    helm:\n"
        "      parameters:\n        - name: api.image.tag\n          value: '1'\n        - name: worker.image.tag\n          value: '1'\n"
    )
    config = (
        "environments: [{name: dev, gates: {image_exists: false}}]\napps:\n  api:\n    image: ghcr.io/acme/checkout-api\n    targets:\n      dev:\n"
        "        - file: apps/x.yaml\n          key: spec.source.helm.parameters[0].value\n"
    )
    repo = make_repo(tmp_path / "r", {"apps/x.yaml": app, ".promoter.yaml": config})
    r = bump(repo, "--image", f"{API}:2", "--app", "api", "--env", "dev")
    assert r.exit_code == 0, r.stderr
    assert (repo / "apps/x.yaml").read_text() == app.replace("value: '1'", "value: '2'", 1)


def test_no_temp_file_is_left_after_a_write(example: Path):
    assert bump(example, "--image", f"{API}:3", "--app", "checkout-api", "--env", "dev").exit_code == 0
    leftovers = [p for p in example.rglob("*.tmp")] + [p for p in example.rglob(".kustomization.yaml.*")]
    assert leftovers == []


def test_file_mode_is_kept(example: Path):
    f = example / DEV_KUST
    f.chmod(0o600)
    assert bump(example, "--image", f"{API}:3", "--app", "checkout-api", "--env", "dev").exit_code == 0
    assert f.stat().st_mode & 0o777 == 0o600


# ---- the real console script, once -------------------------------------------------------------
def test_console_script_dry_run_on_the_example(example: Path):
    exe = shutil.which("promoter")
    if exe is None:
        # The README's test command installs it; only a bare `pytest` in an uninstalled tree lacks it.
        msg = "the promoter console script is not installed (pip install -e '.[test]')"
        if os.environ.get("CI"):
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    h = tree_hash(example)
    out = subprocess.run(
        [
            exe,
            "bump",
            "--repo",
            str(example),
            "--image",
            f"{API}:1.5.0@{D1}",
            "--app",
            "checkout-api",
            "--env",
            "dev",
            "--dry-run",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"--- a/{DEV_KUST}\n+++ b/{DEV_KUST}\n")
    assert tree_hash(example) == h
    bad = subprocess.run(
        [exe, "bump", "--repo", str(example), "--image", "Bad:1", "--path", "apps"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr


TARGET_CONFIG = "environments: [{name: dev, gates: {image_exists: false}}]\napps:\n  web:\n    image: ghcr.io/acme/web\n    targets:\n      dev:\n        - {file: env/dev.yaml, key: KEY}\n"
TARGET_VALUES = 'web:\n  image:\n    tag: "1.0"  # c\n    digest: ""\n'


@pytest.mark.parametrize("key", ["web.image.tag", "web.image"])
def test_explicit_target_lone_tag_or_block_without_repository(tmp_path: Path, key):
    repo = make_repo(
        tmp_path / "r", {".promoter.yaml": TARGET_CONFIG.replace("KEY", key), "env/dev.yaml": TARGET_VALUES}
    )
    r = bump(repo, "--image", f"ghcr.io/acme/web:1.1@{D1}", "--app", "web", "--env", "dev", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert (repo / "env/dev.yaml").read_text() == f'web:\n  image:\n    tag: "1.1"  # c\n    digest: "{D1}"\n'
    changes = json.loads(r.stdout)["changes"]
    assert [(c["line"], c["yaml_path"], c["style"]) for c in changes] == [
        (3, "web.image.tag", "explicit"),
        (4, "web.image.digest", "explicit"),
    ]


def test_explicit_target_that_is_not_there(tmp_path: Path):
    repo = make_repo(
        tmp_path / "r",
        {".promoter.yaml": TARGET_CONFIG.replace("KEY", "web.image.nope"), "env/dev.yaml": TARGET_VALUES},
    )
    _bad(
        repo,
        "--image",
        "ghcr.io/acme/web:1.1",
        "--app",
        "web",
        "--env",
        "dev",
        want="env/dev.yaml: key 'web.image.nope' not found",
    )
    (repo / ".promoter.yaml").write_text(TARGET_CONFIG.replace("KEY", "x").replace("env/dev.yaml", "env/gone.yaml"))
    _bad(
        repo,
        "--image",
        "ghcr.io/acme/web:1.1",
        "--app",
        "web",
        "--env",
        "dev",
        want="file 'env/gone.yaml' does not exist",
    )


def test_digest_required_refuses_a_helm_block_that_cannot_hold_the_digest(example: Path):
    # prod takes digests only; its values block has no digest key: the tag alone would deploy there
    repo = example
    config = repo / ".promoter.yaml"
    data = yaml.safe_load(config.read_text())
    prod = next(e for e in data["environments"] if e["name"] == "prod")
    prod.setdefault("gates", {})["digest_required"] = True
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    (repo / "apps/web/env/values-prod.yaml").write_text("image:\n  repository: acme/web\n  tag: '1'\n")
    h = tree_hash(repo)
    r = bump(repo, "--image", f"ghcr.io/acme/web:2@{D1}", "--app", "web", "--env", "prod")
    assert r.exit_code == 3, r.stderr
    assert tree_hash(repo) == h  # never a tag alone: nothing written
    assert "gate digest_required" in r.stdout + r.stderr
    assert "apps/web/env/values-prod.yaml:2" in r.stdout + r.stderr  # the place that cannot hold it
    assert "add a `digest:` key" in r.stdout + r.stderr and "targets.prod" in r.stdout + r.stderr
    # an environment without the gate takes the tag, with the warning, as before
    (repo / "apps/web/env/values-dev.yaml").write_text("image:\n  repository: acme/web\n  tag: '1'\n")
    r = bump(repo, "--image", f"ghcr.io/acme/web:2@{D1}", "--app", "web", "--env", "dev")
    assert r.exit_code == 0 and "digest not pinned" in r.stderr
    # with a digest key the same prod bump pins it
    (repo / "apps/web/env/values-prod.yaml").write_text("image:\n  repository: acme/web\n  tag: '1'\n  digest: ''\n")
    r = bump(repo, "--image", f"ghcr.io/acme/web:2@{D1}", "--app", "web", "--env", "prod")
    assert r.exit_code == 0, r.stdout + r.stderr
    assert D1 in (repo / "apps/web/env/values-prod.yaml").read_text()
