"""Findings at the line that set the field (issue 9): a patch written inside a kustomization (JSON6902
ops, strategic merge) is pointed at by its op's line in the kustomization, not the base it patched."""

from __future__ import annotations

import json
from pathlib import Path

from promoter.model.errors import EXIT_FINDINGS

K = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
CONFIG = "version: 1\nenvironments: [{name: dev}]\napps: {}\n"
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
          securityContext: {runAsNonRoot: true}
          ports:
            - containerPort: 8080
"""
JSON6902 = (
    K
    + """\
resources:
  - ../../base
patches:
  - target: {kind: Deployment}
    patch: |-
      - op: add
        path: /spec/template/spec/containers/0/securityContext/privileged
        value: true
  - target:
      kind: Deployment
      name: api
    patch: |-
      - op: replace
        path: /spec/template/spec/containers/0/ports/0/containerPort
        value: "oops"
"""
)


def repo_with(tree, overlay: str, extra: dict[str, str] | None = None) -> Path:
    return tree(
        {
            ".promoter.yaml": CONFIG,
            "app/base/kustomization.yaml": K + "resources: [deploy.yaml]\n",
            "app/base/deploy.yaml": DEPLOY,
            "app/overlays/dev/kustomization.yaml": overlay,
            **(extra or {}),
        }
    )


def located(run_cli, repo: Path) -> dict[str, tuple[str, int | None]]:
    res = run_cli("check", "--repo", str(repo), "--all", "-o", "json")
    assert res.exit_code == EXIT_FINDINGS, res.stdout + res.stderr
    data = json.loads(res.stdout)
    assert not [f for f in data["findings"] if f["rule"] == "render-failed"], data["findings"]
    return {f["rule"]: (f["location"]["file"], f["location"]["line"]) for f in data["findings"]}


def line_of(text: str, needle: str, after: str = "") -> int:
    start = text.index(after) if after else 0
    return text[: text.index(needle, start)].count("\n") + 1


def test_an_inline_json6902_op_is_the_line_of_its_finding(run_cli, tree) -> None:
    where = located(run_cli, repo_with(tree, JSON6902))
    kfile = "app/overlays/dev/kustomization.yaml"
    # the op's value line inside the block, not app/base/deploy.yaml (which sets neither field)
    assert where["schema"] == (kfile, line_of(JSON6902, 'value: "oops"'))
    assert where["privileged"] == (kfile, line_of(JSON6902, "value: true"))
    # a finding about a field no patch set keeps the object's own location
    assert where["probes"] == ("app/base/deploy.yaml", 1)


def test_an_inline_op_setting_an_ancestor_points_at_the_key_inside_its_value(run_cli, tree) -> None:
    overlay = K + (
        "resources: [../../base]\npatchesJson6902:\n  - target: {group: apps, version: v1, kind: Deployment, name: api}\n"
        "    patch: |-\n      - op: replace\n        path: /spec/template/spec/containers/0/securityContext\n"
        "        value:\n          runAsNonRoot: true\n          privileged: true\n"
    )
    where = located(run_cli, repo_with(tree, overlay))
    assert where["privileged"] == ("app/overlays/dev/kustomization.yaml", line_of(overlay, "privileged: true"))


def test_an_inline_strategic_merge_patch_is_the_line_of_its_finding(run_cli, tree) -> None:
    overlay = K + (
        "resources: [../../base]\npatches:\n  - patch: |-\n      apiVersion: apps/v1\n      kind: Deployment\n"
        "      metadata:\n        name: api\n      spec:\n        replicas: three\n"
    )
    where = located(run_cli, repo_with(tree, overlay))
    assert where["schema"] == ("app/overlays/dev/kustomization.yaml", line_of(overlay, "replicas: three"))


def test_a_patch_file_applied_after_the_inline_op_keeps_its_line(run_cli, tree) -> None:
    overlay = K + (
        "resources: [../../base]\npatches:\n  - target: {kind: Deployment}\n    patch: |-\n      - op: replace\n"
        "        path: /spec/replicas\n        value: one\n  - path: replicas.yaml\n"
    )
    patch = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  replicas: three\n"
    where = located(run_cli, repo_with(tree, overlay, {"app/overlays/dev/replicas.yaml": patch}))
    assert where["schema"] == ("app/overlays/dev/replicas.yaml", 6)  # the last writer, not the inline op


def test_an_inline_op_on_another_object_does_not_claim_the_finding(run_cli, tree) -> None:
    overlay = K + (
        "resources: [../../base]\npatches:\n  - target: {kind: Deployment, name: worker}\n    patch: |-\n"
        "      - op: add\n        path: /spec/template/spec/containers/0/securityContext/privileged\n"
        "        value: true\n"
    )
    base = DEPLOY.replace("{runAsNonRoot: true}", "{runAsNonRoot: true, privileged: true}")
    repo = repo_with(tree, overlay, {"app/base/deploy.yaml": base})
    # the base sets it (and the policy finding now names its line); the op targets another Deployment
    assert located(run_cli, repo)["privileged"] == ("app/base/deploy.yaml", line_of(base, "privileged: true"))


# ---- Helm: the values entry or Argo parameter that set the field ---------------------------------------

APP = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: web-dev
spec:
  source:
    path: apps/web/chart
    helm:
      valueFiles: [../env/values-dev.yaml]
      parameters:
        - name: image.pullPolicy
          value: Sometimes
  destination: {namespace: web}
"""


def findings(run_cli, repo: Path, *args: str) -> list[dict]:
    res = run_cli("check", "--repo", str(repo), "--all", *args, "-o", "json")
    assert res.exit_code == EXIT_FINDINGS, res.stdout + res.stderr
    return json.loads(res.stdout)["findings"]


def test_a_rendered_field_a_values_entry_set_points_at_the_entry(run_cli, example_repo: Path) -> None:
    values = example_repo / "apps/web/env/values-dev.yaml"
    values.write_text(values.read_text() + "resources:\n  limits:\n    memory: [1, 2]\n")
    (f,) = [f for f in findings(run_cli, example_repo, "--env", "dev") if f["rule"] == "schema"]
    # not the template (which has no line for it): the values entry
    assert (f["location"]["file"], f["location"]["line"]) == (
        "apps/web/env/values-dev.yaml",
        line_of(values.read_text(), "memory: [1, 2]"),
    )


def test_a_values_schema_refusal_points_at_the_argo_parameter_or_values_entry(run_cli, example_repo: Path) -> None:
    (example_repo / "apps/web/app.yaml").write_text(APP)
    (f,) = [f for f in findings(run_cli, example_repo) if f["rule"] == "render-failed"]
    assert "/image/pullPolicy" in f["message"]
    assert (f["location"]["file"], f["location"]["line"]) == ("apps/web/app.yaml", line_of(APP, "value: Sometimes"))
    # without the parameter, set in the values file: that line
    app = APP.replace("      parameters:\n        - name: image.pullPolicy\n          value: Sometimes\n", "")
    (example_repo / "apps/web/app.yaml").write_text(app)
    values = example_repo / "apps/web/env/values-dev.yaml"
    text = values.read_text().replace('  digest: ""', '  digest: ""\n  pullPolicy: Sometimes')
    values.write_text(text)
    failed = [f for f in findings(run_cli, example_repo) if f["rule"] == "render-failed"]
    assert failed and all(
        (f["location"]["file"], f["location"]["line"]) == ("apps/web/env/values-dev.yaml", line_of(text, "pullPolicy"))
        for f in failed
    ), failed


def test_a_legacy_inline_patches_strategic_merge_entry_is_the_line_of_its_finding(run_cli, tree) -> None:
    overlay = K + (
        "resources: [../../base]\npatchesStrategicMerge:\n  - |-\n    apiVersion: apps/v1\n    kind: Deployment\n"
        "    metadata:\n      name: api\n    spec:\n      replicas: three\n"
    )
    where = located(run_cli, repo_with(tree, overlay))
    assert where["schema"] == ("app/overlays/dev/kustomization.yaml", line_of(overlay, "replicas: three"))
