"""Findings located once, and the new-findings gate (issue 9): a finding reached through several overlays is
reported once at the line that set the field; with --base every finding is new or existing, and only new
ones fail the check unless --fail-on any."""

from __future__ import annotations

import json
from pathlib import Path

from promoter.model.errors import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE

K = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
CONFIG = "version: 1\nenvironments: [{name: dev}, {name: stage}, {name: prod}]\napps: {}\n"
DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 2
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:1.0.0
"""
SHARED = (
    K
    + "resources:\n  - ../base\nimages:\n  - name: ghcr.io/acme/api\n    newTag: latest\npatches:\n  - path: replicas.yaml\n"
)
REPLICAS = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  replicas: three\n"
ENVS = ("dev", "stage", "prod")


def three_overlays() -> dict[str, str]:
    files = {
        ".promoter.yaml": CONFIG,
        "base/kustomization.yaml": K + "resources: [deployment.yaml]\n",
        "base/deployment.yaml": DEPLOY,
        "shared/kustomization.yaml": SHARED,
        "shared/replicas.yaml": REPLICAS,
    }
    for env in ENVS:
        files[f"envs/{env}/kustomization.yaml"] = K + f"namespace: {env}\nresources:\n  - ../../shared\n"
    return files


def check(run_cli, repo: Path, *args: str) -> tuple[int, dict]:
    res = run_cli("check", "--repo", str(repo), *args, "-o", "json")
    assert res.stdout.strip(), res.stderr
    return res.exit_code, json.loads(res.stdout)


def test_a_finding_reached_through_three_overlays_is_reported_once_at_the_overlays_line(run_cli, tree) -> None:
    repo = tree(three_overlays())
    code, data = check(run_cli, repo, "--all")
    assert code == EXIT_FINDINGS
    schema = [f for f in data["findings"] if f["rule"] == "schema"]
    (f,) = schema  # once, not once per overlay
    assert (f["location"]["file"], f["location"]["line"]) == ("shared/replicas.yaml", 6)  # the patch line
    assert f["targets"] == ["envs/dev", "envs/prod", "envs/stage"] and f["envs"] == ["dev", "stage", "prod"]
    latest = [f for f in data["findings"] if f["rule"] == "image-latest"]
    (img,) = latest
    # the image comes from the shared overlay's images: entry, not the base's image: line
    assert (img["location"]["file"], img["location"]["line"]) == ("shared/kustomization.yaml", 7)
    assert len(img["targets"]) == 3
    text = run_cli("check", "--repo", str(repo), "--all").stdout
    assert text.count("shared/replicas.yaml:6: error schema:") == 1
    assert "    in dev, stage, prod; 3 targets: envs/dev, envs/prod, envs/stage" in text
    # the report ends with one line per environment
    assert [line.split(":")[0] for line in text.rstrip().splitlines()[-3:]] == list(ENVS)
    assert text.rstrip().splitlines()[-1].startswith("prod: FAIL: ")


def test_existing_error_passes_with_fail_on_new_and_fails_with_fail_on_any(run_cli, new_repo, git_cmd) -> None:
    files = three_overlays()
    files["shared/kustomization.yaml"] = SHARED.replace("newTag: latest", "newTag: '1.0.1'")
    repo = new_repo(files)  # main already has the replicas error
    git_cmd(repo, "checkout", "-q", "-b", "change")
    # a change that adds no finding, and moves the bad line (a comment above it): still the same finding
    (repo / "envs/dev/kustomization.yaml").write_text(
        K + "namespace: dev\ncommonLabels: {team: a}\nresources:\n  - ../../shared\n"
    )
    (repo / "shared/replicas.yaml").write_text("# replicas for every env\n" + REPLICAS)
    git_cmd(repo, "commit", "-qam", "label dev")

    code, data = check(run_cli, repo, "--base", "main")
    assert code == EXIT_OK, data["findings"]
    (f,) = [f for f in data["findings"] if f["rule"] == "schema"]
    assert f["baseline"] == "existing" and f["location"]["line"] == 7
    assert data["fail_on"] == "new" and data["passed"] is True

    code, data = check(run_cli, repo, "--base", "main", "--fail-on", "any")
    assert code == EXIT_FINDINGS and data["passed"] is False

    # reports keep the mark: SARIF baselineState, JUnit and text
    res = run_cli("check", "--repo", str(repo), "--base", "main", "-o", "sarif", "-o", "junit=-", "-o", "text=-")
    assert '"baselineState": "unchanged"' in res.stdout
    assert "error [existing] schema" in res.stdout  # text (and JUnit's lines)
    assert "already on the base, not blocking with --fail-on new)" in res.stdout and "\nPASS (" in res.stdout


def test_a_new_error_fails_with_fail_on_new(run_cli, new_repo, git_cmd) -> None:
    files = three_overlays()
    files["shared/replicas.yaml"] = REPLICAS.replace("three", "3")
    files["shared/kustomization.yaml"] = SHARED.replace("newTag: latest", "newTag: '1.0.1'")
    repo = new_repo(files)
    (repo / "envs/dev/kustomization.yaml").write_text(
        K + "namespace: dev\nresources:\n  - ../../shared\npatches:\n  - path: bad.yaml\n"
    )
    (repo / "envs/dev/bad.yaml").write_text(REPLICAS.replace("three", "'4'"))
    code, data = check(run_cli, repo, "--base", "main")
    assert code == EXIT_FINDINGS
    (f,) = [f for f in data["findings"] if f["rule"] == "schema"]
    assert f["baseline"] == "new" and f["location"]["file"] == "envs/dev/bad.yaml" and f["targets"] == ["envs/dev"]
    sarif = json.loads(run_cli("check", "--repo", str(repo), "--base", "main", "-o", "sarif").stdout)
    result = next(r for r in sarif["runs"][0]["results"] if r["ruleId"] == "schema")
    assert result["baselineState"] == "new" and result["partialFingerprints"]["promoterFinding/v1"]


def test_a_new_overlay_reaching_an_old_error_is_new_there(run_cli, new_repo, git_cmd) -> None:
    files = three_overlays()
    files["shared/kustomization.yaml"] = SHARED.replace("newTag: latest", "newTag: '1.0.1'")
    repo = new_repo(files)
    (repo / "envs/qa").mkdir()
    (repo / "envs/qa/kustomization.yaml").write_text(K + "namespace: qa\nresources:\n  - ../../shared\n")
    code, data = check(run_cli, repo, "--base", "main")
    # qa did not exist at the base: the broken Deployment reaches a new place, so it is new there
    assert code == EXIT_FINDINGS
    (f,) = [f for f in data["findings"] if f["rule"] == "schema"]
    assert f["baseline"] == "new" and f["targets"] == ["envs/qa"]


def test_fingerprints_ignore_lines_and_messages(run_cli, tree) -> None:
    repo = tree(three_overlays())
    _, before = check(run_cli, repo, "--all")
    (repo / "shared/replicas.yaml").write_text("# moved down\n\n" + REPLICAS)
    _, after = check(run_cli, repo, "--all")
    fp = lambda d: sorted(f["fingerprint"] for f in d["findings"])  # noqa: E731
    assert fp(before) == fp(after)
    assert [f["location"]["line"] for f in after["findings"] if f["rule"] == "schema"] == [8]


def test_fail_on_new_needs_a_base(run_cli, tree) -> None:
    res = run_cli("check", "--repo", str(tree(three_overlays())), "--all", "--fail-on", "new")
    assert res.exit_code == EXIT_USAGE and "--fail-on new needs --base" in res.stderr


def test_an_image_finding_in_helm_output_points_at_the_values_entry(run_cli, example_repo: Path) -> None:
    values = example_repo / "apps/web/env/values-dev.yaml"
    values.write_text(values.read_text().replace('tag: "2.8.0"', "tag: latest"))
    code, data = check(run_cli, example_repo, "--all", "--env", "dev")
    (f,) = [f for f in data["findings"] if f["rule"] == "image-latest" and f["targets"] == ["apps/web/chart@dev"]]
    line = next(n for n, t in enumerate(values.read_text().splitlines(), 1) if "tag: latest" in t)
    # not the template's image: line, but the values entry that set the tag
    assert (f["location"]["file"], f["location"]["line"]) == ("apps/web/env/values-dev.yaml", line)
    assert f["envs"] == ["dev"]


CHART = "apiVersion: v2\nname: web\nversion: 0.1.0\n"
CHART_DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
"""


def test_a_target_not_checked_at_head_blocks_though_the_base_failed_the_same_way(run_cli, new_repo, git_cmd) -> None:
    """The base's "not rendered" (a remote base check does not fetch; a values file with a duplicate key) is
    no excuse for the change: what the change does to that target is unseen, so it blocks (fail closed)."""
    files = {
        ".promoter.yaml": CONFIG,
        "base/kustomization.yaml": K + "resources: [deployment.yaml]\n",
        "base/deployment.yaml": DEPLOY,
        "envs/dev/kustomization.yaml": K
        + "resources:\n  - ../../base\n  - https://github.com/acme/shared//monitoring?ref=v1\n",
        "charts/web/Chart.yaml": CHART,
        "charts/web/templates/deployment.yaml": CHART_DEPLOY,
        "charts/web/values.yaml": "replicaCount: 1\nimage:\n  repository: ghcr.io/acme/web\n  tag: '1.0'\n",
        "charts/web/values-dev.yaml": "replicaCount: 1\nreplicaCount: 2\n",  # duplicate key: not rendered on main
    }
    repo = new_repo(files)
    code, data = check(run_cli, repo, "--all")
    assert code == EXIT_FINDINGS and data["stats"]["not_rendered"] >= 2, data["findings"]
    git_cmd(repo, "checkout", "-q", "-b", "change")
    (repo / "envs/dev/kustomization.yaml").write_text(
        files["envs/dev/kustomization.yaml"]
        + "patches:\n  - target: {kind: Deployment}\n    patch: |-\n      - op: add\n"
        + "        path: /spec/template/spec/hostNetwork\n        value: true\n"
    )
    (repo / "charts/web/values-dev.yaml").write_text("replicaCount: 1\nreplicaCount: -5\nimage: {tag: latest}\n")
    git_cmd(repo, "commit", "-qam", "a change nobody checked")
    code, data = check(run_cli, repo, "--base", "main")
    assert code == EXIT_FINDINGS and data["passed"] is False, data["findings"]
    unseen = {"envs/dev/kustomization.yaml", "charts/web/values-dev.yaml"}
    blind = [f for f in data["findings"] if f["severity"] == "error" and f["location"]["file"] in unseen]
    assert {f["location"]["file"] for f in blind} == unseen and all(f["baseline"] == "new" for f in blind), blind
    # What was checked keeps its mark: the chart's default render failed the same way on main.
    assert any(f["baseline"] == "existing" for f in data["findings"] if f["location"]["file"] not in unseen)


def test_a_values_file_that_does_not_parse_is_reported_once(run_cli, example_repo: Path) -> None:
    """The render and the values.schema.json check both read the env values file: one problem, one finding."""
    values = example_repo / "apps/web/env/values-dev.yaml"
    values.write_text(values.read_text() + "replicaCount: 1\nreplicaCount: 2\n")
    code, data = check(run_cli, example_repo, "--all", "--env", "dev")
    assert code == EXIT_FINDINGS
    dup = [f for f in data["findings"] if "duplicate key" in f["message"]]
    assert len(dup) == 1 and dup[0]["rule"] == "duplicate-key", dup
    assert dup[0]["location"]["file"] == "apps/web/env/values-dev.yaml"
