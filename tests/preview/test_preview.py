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
