"""Plain folders validated in the processes that read them (render/folders.py `judge`): the same
report, finding for finding and subject for subject, as validating every object in one process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promoter.config.loader import load_config
from promoter.flows.check import check_targets, select_targets
from promoter.render.settings import RenderSettings
from promoter.validate import ValidateOptions

CONFIG = "version: 1\nenvironments:\n  - name: dev\npolicies:\n  builtin: false\nvalidation:\n  skip_kinds: [PodDisruptionBudget]\n"

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
        - name: app
          image: registry.example.com/{name}@sha256:{digest}
"""
SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  selector: {{app: {name}}}
  ports:
    - port: 80
"""
CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: {type: integer}
"""


def _repo(root: Path) -> Path:
    files: dict[str, str] = {".promoter.yaml": CONFIG}
    digest = "a" * 64
    for i in range(80):  # enough files to be read in processes (MIN_PARALLEL_FILES)
        replicas = '"three"' if i % 17 == 3 else str(i % 4 + 1)  # a schema error, pointed at its line
        files[f"apps/a{i:02d}/deploy.yaml"] = "# owned by team x\n\n" + DEPLOY.format(
            name=f"a{i}", replicas=replicas, digest=digest
        )
        files[f"apps/a{i:02d}/service.yaml"] = SERVICE.format(name=f"a{i}") + (
            "  bogus: 1\n" if i % 23 == 5 else ""  # strict schemas: an unknown field
        )
    files["apps/a07/pdb.yaml"] = "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: p}\nspec: {}\n"
    files["apps/a08/broken.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [\n"
    files["apps/a09/nokind.yaml"] = "apiVersion: v1\nmetadata: {name: x}\n"
    files["crds/widget.yaml"] = CRD
    files["apps/a10/widget.yaml"] = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: big}\n"
    files["apps/a11/release.yaml"] = (
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: r}\n"
        "spec:\n  chart:\n    spec: {chart: podinfo, sourceRef: {kind: HelmRepository, name: podinfo}}\n"
    )
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def _report(run_cli, repo: Path, jobs: str, *scope: str) -> dict:
    res = run_cli("check", "--repo", str(repo), *(scope or ("--all",)), "--jobs", jobs, "--output", "json")
    assert res.stdout.strip(), res.stderr
    data = json.loads(res.stdout)
    for key in [k for k in data["stats"] if "seconds" in k]:
        del data["stats"][key]
    return data


def test_the_report_is_the_same_as_validating_in_one_process(run_cli, tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    one, two = _report(run_cli, repo, "1"), _report(run_cli, repo, "2")
    assert two == one
    # What the comparison covers: each kind of verdict is in it.
    rules = {(f["rule"], f["location"]["file"] if f["location"] else None) for f in one["findings"]}
    assert ("schema", "apps/a03/deploy.yaml") in rules and ("schema", "apps/a05/service.yaml") in rules
    assert ("schema", "apps/a10/widget.yaml") in rules  # a custom resource, its schema from the repository's CRD
    assert ("yaml", "apps/a08/broken.yaml") in rules and ("schema", "apps/a09/nokind.yaml") in rules
    assert any(f["rule"] == "remote-not-fetched" for f in one["findings"])
    replicas = next(f for f in one["findings"] if f["location"]["file"] == "apps/a03/deploy.yaml")
    assert replicas["location"]["line"] == 8  # the `replicas:` line, not the object's first
    skipped = {s["id"]: s["reason"] for s in one["subjects"] if s["status"] == "skipped"}
    assert "skip_kinds" in skipped["policy/v1/PodDisruptionBudget/-/p"]
    assert one["stats"]["resources"] == 80 * 2 + 5


@pytest.mark.parametrize("jobs", [2])
def test_folders_of_built_in_kinds_are_judged_where_read(tmp_path: Path, jobs: int) -> None:
    repo = _repo(tmp_path).resolve()
    config = load_config(repo, repo / ".promoter.yaml")
    selection = select_targets(repo, config, base=None, all_=True)
    _, outcome = check_targets(
        repo,
        config,
        selection.targets,
        selection.graph,
        settings=RenderSettings.from_config(config),
        validate_options=ValidateOptions.from_config(config, repo),
        policy_dirs=[],
        env=None,
        jobs=jobs,
    )
    judged = {r.target.id for r in outcome.rendered if r.judged is not None}
    carried = {r.target.id for r in outcome.rendered if r.resources}
    assert "apps/a00" in judged and "apps/a03" in judged  # built-in kinds only: judged where read
    # Objects needed here come back: a CRD, a custom resource, a HelmRelease the renderer reads further.
    assert {"crds", "apps/a10", "apps/a11"} <= carried and not judged & carried
    assert outcome.resources == 80 * 2 + 5


def test_with_a_base_new_and_existing_are_the_same_as_in_one_process(run_cli, tmp_path: Path) -> None:
    """`check --base`: the base is checked by the same pipeline; every finding's new/existing mark, and
    the whole report, are the same whether folders are judged where read or in one process."""
    from tests.conftest import git, make_repo

    repo = _repo(make_repo(tmp_path / "repo"))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    # The change: one more broken Deployment, one fixed, a whole changed folder of 80 files' worth.
    for i in range(80):
        deploy = repo / f"apps/a{i:02d}/deploy.yaml"
        text = deploy.read_text()
        deploy.write_text(text.replace("replicas: 1", 'replicas: "one"') if i == 4 else text + "# touched\n")
    (repo / "apps/a03/deploy.yaml").write_text((repo / "apps/a03/deploy.yaml").read_text().replace('"three"', "3"))

    one, two = _report(run_cli, repo, "1", "--base", "main"), _report(run_cli, repo, "2", "--base", "main")
    assert two == one
    marks = {(f["location"]["file"], f.get("baseline")) for f in one["findings"] if f["rule"] == "schema"}
    assert ("apps/a04/deploy.yaml", "new") in marks and ("apps/a20/deploy.yaml", "existing") in marks
    assert not any(file == "apps/a03/deploy.yaml" for file, _ in marks)  # fixed by the change
