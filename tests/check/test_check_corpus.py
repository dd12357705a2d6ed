"""`promoter check --all` on the real-world corpus and the example (PROMOTER_CORPUS): every Kustomize and
in-repository Helm target renders with the packaged tools, and nothing that was not rendered or read
passes: each such target carries an error finding (issue 9, done when)."""

from __future__ import annotations

from pathlib import Path

import pytest

from promoter.config.loader import load_config
from promoter.flows.check import run_check
from promoter.model.finding import Severity, Status

pytestmark = pytest.mark.corpus

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
REPOS = [
    "gitops/kargo-simple",
    "gitops/gitops-environment-promotion",
    "gitops/flux2-kustomize-helm-example",
    "gitops/argocd-example-apps",
]
# Targets that need something outside the repository (a chart dependency from a chart repository):
# not rendered offline, and therefore errors, never passes.
REMOTE = {"gitops/argocd-example-apps": {"helm-dependency", "helm-dependency@nomaria"}}


def check_all(repo: Path):
    return run_check(repo, load_config(repo), base=None, all_=True)


@pytest.mark.parametrize("name", REPOS)
def test_every_target_of_the_corpus_renders_or_fails_closed(corpus: Path, name: str) -> None:
    repo = corpus / name
    result = check_all(repo)
    renders = {s.target: s for s in result.subjects if s.kind == "render" and "#" not in s.id}
    assert set(renders) == set(result.targets)
    for target, subject in renders.items():
        if target in REMOTE.get(name, set()):
            assert subject.status is Status.ERROR
            assert any(
                f.rule == "remote-not-fetched" and f.severity is Severity.ERROR and target in f.targets
                for f in result.findings
            )
        else:
            assert subject.status is Status.PASSED, (target, subject.reason)
    assert "kubectl v1." in result.stats["tools"]["kustomize"] and "packaged" in result.stats["tools"]["kustomize"]
    # nothing was left unchecked without an error saying so
    for s in result.subjects:
        if s.status in (Status.SKIPPED, Status.ERROR) and s.kind == "render":
            assert result.failed
    # every rendered object was validated (a subject of its own)
    assert result.stats["resources"] == sum(1 for s in result.subjects if s.kind == "resource")


def test_in_repository_charts_of_the_corpus_render_in_process(corpus: Path) -> None:
    result = check_all(corpus / "gitops/argocd-example-apps")
    rendered = {s.target for s in result.subjects if s.kind == "render" and s.status is Status.PASSED}
    # charts (with their values-<env>.yaml), the app-of-apps chart, and the kustomize and plain apps
    assert rendered == {
        "apps",
        "blue-green",
        "guestbook",
        "helm-guestbook",
        "helm-guestbook@production",
        "kustomize-guestbook",
        "sock-shop",
    }
    assert result.stats["tools"]["helm"].startswith("Helm SDK v4")
    kinds = {s.id.split("/")[-3] for s in result.subjects if s.kind == "resource" and s.location}
    assert "Deployment" in kinds


def test_flux_helmreleases_with_remote_charts_fail_closed(corpus: Path) -> None:
    result = check_all(corpus / "gitops/flux2-kustomize-helm-example")
    remote = sorted(f.location.file for f in result.findings if f.rule == "remote-not-fetched" and f.location)
    assert remote == [
        "apps/base/podinfo/release.yaml",
        "infrastructure/controllers/cert-manager.yaml",
        "infrastructure/controllers/envoy-gateway.yaml",
    ]
    assert result.failed


def test_the_example_renders_everything_and_passes() -> None:
    result = check_all(EXAMPLES)
    assert not result.failed, [f for f in result.findings if f.blocking]
    assert result.stats["rendered"] == result.stats["targets"] == 6
    assert set(result.stats["tools"]) == {"kustomize", "helm"}
