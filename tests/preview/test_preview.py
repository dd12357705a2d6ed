"""The rendered-object preview of a bump: real kustomize on a copy of the example, before and after."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from promoter.config.loader import load_config
from promoter.edit.plan import plan_bump
from promoter.flows.preview import preview
from promoter.model.image import ImageRef
from tests.conftest import EXAMPLES

D = "sha256:" + "9c" * 32


@pytest.fixture
def example(tmp_path: Path) -> Path:
    dst = tmp_path / "gitops"
    shutil.copytree(EXAMPLES, dst)
    return dst


@pytest.mark.needs("kustomize")  # renders overlays (kubectl kustomize)
def test_preview_diffs_only_the_changed_objects_of_the_affected_overlay(example: Path) -> None:
    config = load_config(example)
    before = (example / "apps/checkout-api/overlays/dev/kustomization.yaml").read_text()
    cs = plan_bump(
        example, config, ImageRef.parse(f"ghcr.io/acme/checkout-api:1.4.3@{D}"), app="checkout-api", env="dev"
    )
    p = preview(example, config, cs, "dev")
    assert p.targets == ["apps/checkout-api/overlays/dev"]
    # one object changes (the Deployment); the Service renders the same and is not in the diff
    assert p.diff.count("+++ head/") == 1 and "Deployment checkout-dev/checkout-api" in p.diff
    assert f"+      - image: ghcr.io/acme/checkout-api:1.4.3@{D}" in p.diff
    assert "-      - image: ghcr.io/acme/checkout-api:1.4.2@sha256:3f2a9c" in p.diff
    # the checkout itself is only read
    assert (example / "apps/checkout-api/overlays/dev/kustomization.yaml").read_text() == before
    # the head render was validated and the policy pack ran on it (the dev debug patch warns)
    assert not p.checks.failed
    assert any(f.rule == "readonly-root-filesystem" for f in p.checks.findings)
    assert any(s.kind == "resource" for s in p.checks.subjects)


@pytest.mark.needs("kustomize")  # renders overlays (kubectl kustomize)
def test_preview_reports_a_change_that_breaks_the_render(example: Path) -> None:
    config = load_config(example)
    cs = plan_bump(
        example, config, ImageRef.parse(f"ghcr.io/acme/checkout-api:1.4.3@{D}"), app="checkout-api", env="prod"
    )
    # Break the prod overlay in the head only: the preview must say so, not crash or pass.
    fc = cs.files["apps/checkout-api/overlays/prod/kustomization.yaml"]
    fc.new_text = fc.new_text.replace("replicas.yaml", "missing.yaml")
    p = preview(example, config, cs, "prod")
    assert p.checks.failed
    assert any(f.rule == "render-failed" for f in p.checks.findings)


def test_an_empty_changeset_renders_nothing(example: Path) -> None:
    config = load_config(example)
    cs = plan_bump(
        example,
        config,
        ImageRef.parse(
            "ghcr.io/acme/checkout-api:1.4.2@sha256:3f2a9c1d5be4e0a7c8b6f1e2d3c4b5a69788766554433221100ffeeddccbbaa9"
        ),
        app="checkout-api",
        env="dev",
    )
    assert cs.empty
    p = preview(example, config, cs, "dev")
    assert p.diff == "" and p.targets == [] and not p.checks.findings


WIDGET_SCHEMA = """{
  "type": "object",
  "required": ["spec"],
  "properties": {"spec": {"type": "object", "required": ["size"], "properties": {"size": {"type": "integer"}}}}
}
"""
GADGET_CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.example.com
spec:
  group: example.com
  names: {kind: Gadget, plural: gadgets, singular: gadget}
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
              required: [color]
              properties:
                color: {type: string}
"""


def test_preview_reads_what_the_repository_provides_from_the_checkout_not_the_partial_copy(example: Path) -> None:
    """Repository-relative inputs of the checks (schema_dirs, CRDs defined in another folder, policy
    folders) are not among the files the affected targets read: the head copy lacks them, yet the
    head's objects must be checked with them, exactly as `check` does."""
    overlay = example / "apps/checkout-api/overlays/dev"
    (overlay / "widget.yaml").write_text(
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  size: 3\n"
    )
    (overlay / "gadget.yaml").write_text(
        "apiVersion: example.com/v1\nkind: Gadget\nmetadata:\n  name: g\nspec:\n  color: blue\n"
    )
    kust = overlay / "kustomization.yaml"
    kust.write_text(kust.read_text().replace("  - ../../base\n", "  - ../../base\n  - widget.yaml\n  - gadget.yaml\n"))
    (example / "schemas/example.com").mkdir(parents=True)
    (example / "schemas/example.com/widget_v1.json").write_text(WIDGET_SCHEMA)
    (example / "platform/crds").mkdir(parents=True)
    (example / "platform/crds/gadget.yaml").write_text(GADGET_CRD)
    (example / "policy").mkdir()
    (example / "policy/names.rego").write_text(
        'package main\n\nimport rego.v1\n\ndeny contains msg if {\n  input.kind == "Gadget"\n'
        '  msg := sprintf("gadget %s seen by the repository policy", [input.metadata.name])\n}\n'
    )
    cfg = example / ".promoter.yaml"
    cfg.write_text(
        cfg.read_text().replace(
            'validation:\n  kubernetes_version: "1.32"\n',
            'validation:\n  kubernetes_version: "1.32"\n  strict_missing: true\n  schema_dirs: [schemas]\n',
        )
        + "\n"
    )
    text = cfg.read_text().replace("policies:\n", "policies:\n  paths: [policy]\n", 1)
    cfg.write_text(text)
    config = load_config(example)
    cs = plan_bump(
        example, config, ImageRef.parse(f"ghcr.io/acme/checkout-api:1.4.3@{D}"), app="checkout-api", env="dev"
    )
    p = preview(example, config, cs, "dev")
    by_rule = {f.rule for f in p.checks.findings}
    # Both custom resources found their schema (a missing one is an error under strict_missing) ...
    assert not any("schema" in (f.rule or "") and f.blocking for f in p.checks.findings), [
        (f.rule, f.message) for f in p.checks.findings
    ]
    checked = {s.id: s.status.value for s in p.checks.subjects if s.kind == "resource"}
    assert [v for k, v in checked.items() if "Widget" in k] == ["passed"], checked
    assert [v for k, v in checked.items() if "Gadget" in k] == ["passed"], checked
    # ... and the repository's own policy folder judged the head.
    assert any("seen by the repository policy" in f.message for f in p.checks.findings), by_rule
    # A Widget the catalog schema refuses is caught in the head too (the schema really was read).
    (overlay / "widget.yaml").write_text(
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  size: big\n"
    )
    p = preview(example, config, cs, "dev")
    assert p.checks.failed
    assert any("size" in f.message and f.blocking for f in p.checks.findings)
