"""The corpus overlays (written by others) render with real kustomize, map back to their sources, and validate."""

from __future__ import annotations

from pathlib import Path

import pytest

from promoter.model.finding import Severity, Status
from promoter.render.graph import build_graph
from promoter.render.renderer import Renderer

pytestmark = [pytest.mark.corpus]

EXPECTED = {
    "gitops/kargo-simple": ["env/dev", "env/prod", "env/staging"],
    "gitops/gitops-environment-promotion": [
        "envs/integration-gpu",
        "envs/integration-non-gpu",
        "envs/load-gpu",
        "envs/load-non-gpu",
        "envs/prod-asia",
        "envs/prod-eu",
        "envs/prod-us",
        "envs/qa",
        "envs/staging-asia",
        "envs/staging-eu",
        "envs/staging-us",
    ],
    "gitops/flux2-kustomize-helm-example": [
        "apps/production",
        "apps/staging",
        "clusters/production",
        "clusters/staging",
        "infrastructure/configs",
        "infrastructure/controllers",
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_targets_render_and_validate(corpus: Path, name: str) -> None:
    from promoter.validate import ValidateOptions, validate

    repo = corpus / name
    graph = build_graph(repo)
    assert sorted(t.id for t in graph.targets) == EXPECTED[name]
    renderer = Renderer(repo, charts={t.path for t in graph.targets if t.kind == "helm"})
    outs = renderer.render_all(graph.targets)
    for out in outs:
        assert out.subject is not None and out.subject.status is Status.PASSED, (out.target.id, out.findings)
        assert out.resources, out.target.id
        # remote charts (HelmRepository) cannot be rendered offline: errors, never a silent pass
        assert not [f for f in out.findings if f.severity is not Severity.INFO and f.rule != "remote-not-fetched"]
        for r in out.resources:
            # every object maps back to a real source file of this repository (not just the overlay)
            assert r.location is not None and (repo / r.location.file).is_file(), (r.id, r.location)
    resources = [r for out in outs for r in out.resources]
    result = validate(resources, ValidateOptions(repo=repo))
    assert not [f for f in result.findings if f.severity is Severity.ERROR], result.findings
    assert {s.id for s in result.subjects if s.kind == "resource"} >= {
        r.id for r in resources if r.kind == "Deployment"
    }


def test_kargo_overlay_objects_come_from_the_base_files(corpus: Path) -> None:
    repo = corpus / "gitops/kargo-simple"
    out = Renderer(repo).render(build_graph(repo).get("env/prod"))
    locs = {r.kind: str(r.location) for r in out.resources}
    assert locs == {
        "Namespace": "base/guestbook-ns.yaml:1",
        "Deployment": "base/guestbook-deploy.yaml:1",
        "Service": "base/guestbook-svc.yaml:1",
    }
    (deploy,) = [r for r in out.resources if r.kind == "Deployment"]
    assert deploy.namespace == "guestbook-simple-prod"
    assert deploy.obj["spec"]["template"]["spec"]["containers"][0]["image"] == "ghcr.io/akuity/guestbook:v0.0.1"


def test_environment_promotion_patch_wins_for_objects_it_alone_names(corpus: Path) -> None:
    repo = corpus / "gitops/gitops-environment-promotion"
    out = Renderer(repo).render(build_graph(repo).get("envs/prod-eu"))
    names = sorted(r.name for r in out.resources)
    assert all(n.startswith("prod-eu-") for n in names)  # namePrefix applied, still matched to the base
    assert all(r.location is not None and r.location.file.startswith("base/") for r in out.resources)


def test_flux_remote_charts_are_errors_at_the_helmrelease(corpus: Path) -> None:
    repo = corpus / "gitops/flux2-kustomize-helm-example"
    out = Renderer(repo).render(build_graph(repo).get("infrastructure/controllers"))
    notes = sorted((f.rule, f.severity.value, str(f.location)) for f in out.findings)
    assert notes == [
        ("remote-not-fetched", "error", "infrastructure/controllers/cert-manager.yaml:23"),
        ("remote-not-fetched", "error", "infrastructure/controllers/envoy-gateway.yaml:23"),
    ]
