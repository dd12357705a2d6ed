"""`promoter init` on layouts it never saw: a podinfo-like repository (images pinned only in shared
bases, a chart with an env values file) and the real-world corpus, each followed by the first bump."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from promoter.config.loader import load_config
from tests.conftest import git, invoke, make_repo, registry_gate_off

PODINFO = "ghcr.io/example/podinfo"


def deployment(name: str, image: str) -> str:
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
        - name: {name}
          image: {image}  # the build
          ports:
            - containerPort: 9898
"""


def overlay(env: str) -> str:
    return f"""\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: {env}
resources:
  - ../../bases/backend
  - ../../bases/frontend
  - ../../bases/cache
"""


# The layout of stefanprodan/podinfo's deploy/ and charts/ folders, written here (not copied): every
# overlay builds the same bases, and only the bases pin the images.
PODINFO_LIKE = {
    "deploy/bases/backend/kustomization.yaml": "resources:\n  - deployment.yaml\n",
    "deploy/bases/backend/deployment.yaml": deployment("backend", f"{PODINFO}:6.14.1"),
    "deploy/bases/frontend/kustomization.yaml": "resources:\n  - deployment.yaml\n",
    "deploy/bases/frontend/deployment.yaml": deployment("frontend", f"{PODINFO}:6.14.1"),
    "deploy/bases/cache/kustomization.yaml": "resources:\n  - deployment.yaml\n",
    "deploy/bases/cache/deployment.yaml": deployment("cache", "docker.io/redis:8.8.0"),
    **{f"deploy/overlays/{env}/kustomization.yaml": overlay(env) for env in ("dev", "staging", "production")},
    "charts/podinfo/Chart.yaml": "apiVersion: v2\nname: podinfo\nversion: 6.14.1\n",
    "charts/podinfo/values.yaml": f"replicaCount: 1\nimage:\n  repository: {PODINFO}\n  tag: 6.14.1\n",
    "charts/podinfo/values-prod.yaml": "replicaCount: 2\n",
    "charts/podinfo/templates/deployment.yaml": "image: {{ .Values.image.repository }}\n",
}


def corpus_repo(corpus: Path, folder: str, dest: Path) -> Path:
    """A corpus folder as a fresh git repository (the corpus itself is never written)."""
    src = corpus / folder
    files = {
        p.relative_to(src).as_posix(): p.read_text() for p in src.rglob("*") if p.is_file() and ".git" not in p.parts
    }
    return make_repo(dest, files)


def gates_off(repo: Path) -> None:
    """The written config with the registry gate off: these images are in no registry the tests reach."""
    cfg = repo / ".promoter.yaml"
    cfg.write_text(registry_gate_off(cfg.read_text()))


def first_bumps(repo: Path) -> list[tuple[str, str]]:
    """Bump every app in every environment to a new tag, as a new user's first bump: (app, env) done."""
    config = load_config(repo)
    done = []
    for name, app in config.apps.items():
        for env in config.environments:
            if app.location(env.name, config.default_path) is None:
                continue
            r = invoke("bump", "--repo", str(repo), "--app", name, "--env", env.name, "--image", f"{app.image}:9.9.9")
            assert r.exit_code == 0, f"{name} in {env.name}: {r.stderr}"
            assert "9.9.9" in r.stdout, r.stdout
            done.append((name, env.name))
    return done


@pytest.fixture
def podinfo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "podinfo", PODINFO_LIKE)


# ---- a podinfo-like layout ------------------------------------------------------------------------
def test_init_proposes_and_explains_without_writing(podinfo: Path) -> None:
    before = {p: p.read_bytes() for p in podinfo.rglob("*") if p.is_file() and ".git" not in p.parts}
    r = invoke("init", "--repo", str(podinfo))
    assert r.exit_code == 0, r.stderr
    assert {p: p.read_bytes() for p in podinfo.rglob("*") if p.is_file() and ".git" not in p.parts} == before
    assert "--- /dev/null\n+++ b/.promoter.yaml\n" in r.stdout
    proposal = json.loads(invoke("init", "--repo", str(podinfo), "-o", "json").stdout)
    assert "+" + proposal["config"].splitlines()[0] in r.stdout  # the diff is the same proposal
    data = yaml.safe_load(proposal["config"])
    assert [e["name"] for e in data["environments"]] == ["dev", "staging", "production"]
    assert data["apps"]["podinfo"] == {"image": PODINFO, "path": "deploy/overlays/{env}"}
    assert data["apps"]["redis"]["image"] == "docker.io/redis"
    assert data["apps"]["podinfo-charts"] == {
        "image": PODINFO,
        "chart": "charts/podinfo",
        "paths": {"production": "charts/podinfo/values-prod.yaml"},
    }
    # Each guess is explained: where the environments come from, and that the bases pin the image.
    assert "environment production (spelled prod, production): a prod environment" in r.stderr
    assert "dev reads it only from deploy/bases/backend/deployment.yaml:14" in r.stderr
    # The fix, as a diff: an images: entry in each overlay (and the tag in the chart's env values file).
    assert "+++ b/deploy/overlays/dev/kustomization.yaml" in r.stdout
    assert '+images:\n+  - name: ghcr.io/example/podinfo\n+    newTag: "6.14.1"\n' in r.stdout
    assert "+++ b/charts/podinfo/values-prod.yaml" in r.stdout and '+  tag: "6.14.1"' in r.stdout
    assert f"`promoter init --repo {podinfo} --write` writes it" in r.stderr
    assert "checked: a bump of each app in each environment finds its image (7 checked)" in r.stderr


def test_init_write_then_the_first_bump_succeeds(podinfo: Path) -> None:
    r = invoke("init", "--repo", str(podinfo), "--write")
    assert r.exit_code == 0, r.stderr
    assert "wrote .promoter.yaml and 4 pinned file(s)" in r.stderr
    text = (podinfo / "deploy/overlays/staging/kustomization.yaml").read_text()
    assert text == overlay("staging") + 'images:\n  - name: ghcr.io/example/podinfo\n    newTag: "6.14.1"\n' + (
        '  - name: docker.io/redis\n    newTag: "8.8.0"\n'
    )
    gates_off(podinfo)
    git(podinfo, "add", "-A")
    git(podinfo, "commit", "-qm", "promoter init")
    done = first_bumps(podinfo)
    assert ("podinfo", "dev") in done and ("podinfo-charts", "production") in done and len(done) == 7
    # A bump of one environment changed that environment only; the shared bases are as they were.
    changed = git(podinfo, "diff", "--name-only").split()
    assert "deploy/bases/backend/deployment.yaml" not in changed
    assert sorted(changed) == [
        "charts/podinfo/values-prod.yaml",
        *(f"deploy/overlays/{e}/kustomization.yaml" for e in ("dev", "production", "staging")),
    ]


@pytest.mark.needs("kustomize")
def test_the_pins_init_adds_change_no_rendered_object(podinfo: Path) -> None:
    from promoter.render.tools import kustomize_tool

    kustomize = kustomize_tool().argv
    assert kustomize

    def render(env: str) -> str:
        out = subprocess.run([*kustomize, f"deploy/overlays/{env}"], cwd=podinfo, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        return out.stdout

    before = {env: render(env) for env in ("dev", "staging", "production")}
    assert invoke("init", "--repo", str(podinfo), "--write").exit_code == 0
    assert {env: render(env) for env in ("dev", "staging", "production")} == before


def test_without_init_the_bump_names_the_shared_base_and_the_fix(podinfo: Path) -> None:
    (podinfo / ".promoter.yaml").write_text(
        registry_gate_off(
            "environments: [{name: dev}, {name: staging}]\n"
            f"apps:\n  podinfo:\n    image: {PODINFO}\n    path: deploy/overlays/{{env}}\n"
        )
    )
    r = invoke("bump", "--repo", str(podinfo), "--app", "podinfo", "--env", "dev", "--image", f"{PODINFO}:6.15.0")
    assert r.exit_code == 2 and r.stderr.count("\n") == 1
    assert (
        "It is pinned in deploy/bases/backend/deployment.yaml:14, deploy/bases/frontend/deployment.yaml:14" in r.stderr
    )
    assert 'add an images: entry (name: ghcr.io/example/podinfo, newTag: "6.14.1")' in r.stderr
    assert "to deploy/overlays/dev/kustomization.yaml" in r.stderr
    assert f"`promoter init --repo {podinfo}` shows that change for every environment" in r.stderr
    assert f"`promoter init --repo {podinfo} --write` makes it" in r.stderr
    assert "kustomize-images, container" not in r.stderr  # no list of internal style names


def test_init_never_overwrites_a_config(podinfo: Path) -> None:
    (podinfo / ".promoter.yaml").write_text("environments: [{name: dev}]\n")
    r = invoke("init", "--repo", str(podinfo))
    assert r.exit_code == 0 and ".promoter.yaml exists already" in r.stderr
    r = invoke("init", "--repo", str(podinfo), "--write")
    assert r.exit_code == 2 and "init never overwrites it" in r.stderr
    assert (podinfo / ".promoter.yaml").read_text() == "environments: [{name: dev}]\n"
    assert "kustomization.yaml" not in git(podinfo, "status", "--porcelain")
    other = podinfo / "proposal.yaml"
    r = invoke("init", "--repo", str(podinfo), "--config", str(other), "--write")
    assert r.exit_code == 0, r.stderr
    assert load_config(podinfo, other).apps["podinfo"].image == PODINFO


def test_init_in_a_repository_without_environments_is_exit_2(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"app/deployment.yaml": deployment("web", "nginx:1.27")})
    r = invoke("init", "--repo", str(repo))
    assert r.exit_code == 2 and r.stderr.count("\n") == 1
    assert "found no image pinned for an environment promoter recognises (1 image reference(s)" in r.stderr


def test_shared_pins_of_two_versions_are_explained_not_merged(podinfo: Path) -> None:
    (podinfo / "deploy/bases/frontend/deployment.yaml").write_text(deployment("frontend", f"{PODINFO}:6.13.0"))
    r = invoke("init", "--repo", str(podinfo), "-o", "json")
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert not any(f["app"] == "podinfo" for f in out["fixes"])
    assert any("the shared files pin 2 versions" in p and p.startswith("podinfo in dev") for p in out["problems"])
    assert [c for c in out["checks"] if c["app"] == "podinfo" and not c["ok"]]


def test_json_output_names_every_place_and_image_left_out(podinfo: Path) -> None:
    (podinfo / "tools/job.yaml").parent.mkdir()
    (podinfo / "tools/job.yaml").write_text(deployment("job", "busybox:1.36"))
    out = json.loads(invoke("init", "--repo", str(podinfo), "-o", "json").stdout)
    assert out["written"] is False and out["config_file"] == ".promoter.yaml"
    podinfo_app = next(a for a in out["apps"] if a["name"] == "podinfo")
    assert podinfo_app["environments"]["dev"]["location"] == "deploy/overlays/dev"
    assert podinfo_app["environments"]["dev"]["pinned_in"] == []
    assert "deploy/bases/backend/deployment.yaml:14" in podinfo_app["environments"]["dev"]["shared_pins"]
    assert out["unplaced"] == {"docker.io/library/busybox": ["tools/job.yaml:14"]}


# ---- repositories the project never saw -----------------------------------------------------------
CORPUS = {
    # folder: (environments in order, {app: path or paths}, files the pins change)
    "gitops/kargo-simple": (["dev", "staging", "prod"], {"guestbook": "env/{env}"}, []),
    "gitops/gitops-environment-promotion": (
        [
            "integration-gpu",
            "integration-non-gpu",
            "load-gpu",
            "load-non-gpu",
            "qa",
            "staging-asia",
            "staging-eu",
            "staging-us",
            "prod-asia",
            "prod-eu",
            "prod-us",
        ],
        {"simple-env-app": "envs/{env}"},
        [],
    ),
    "gitops/flux2-kustomize-helm-example": (
        ["staging", "production"],
        {"redis": "apps/{env}"},
        ["apps/production/podinfo-values.yaml", "apps/staging/podinfo-values.yaml"],
    ),
    "gitops/argocd-example-apps": (
        ["production"],
        {"gb-frontend": "helm-guestbook/values-{env}.yaml"},
        ["helm-guestbook/values-production.yaml"],
    ),
}


@pytest.mark.corpus
@pytest.mark.parametrize("folder", sorted(CORPUS))
def test_init_on_a_repository_never_seen_then_the_first_bump(corpus: Path, tmp_path: Path, folder: str) -> None:
    envs, apps, pinned = CORPUS[folder]
    repo = corpus_repo(corpus, folder, tmp_path / "repo")
    r = invoke("init", "--repo", str(repo), "--write")
    assert r.exit_code == 0, r.stderr
    assert "would fail" not in r.stderr and "checked: a bump of each app" in r.stderr
    config = load_config(repo)
    assert [e.name for e in config.environments] == envs
    assert {name: a.path for name, a in config.apps.items()} == apps
    assert sorted(git(repo, "status", "--porcelain", "--untracked-files=no").split()[1::2]) == pinned
    gates_off(repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "promoter init")
    assert len(first_bumps(repo)) == len(envs) * len(apps)


@pytest.mark.corpus
def test_the_corpus_itself_is_never_written(corpus: Path) -> None:
    """init reads in place without --write: the shared corpus stays as it is."""
    src = corpus / "gitops/kargo-simple"
    before = {p: p.read_bytes() for p in src.rglob("*") if p.is_file()}
    assert invoke("init", "--repo", str(src)).exit_code == 0
    assert {p: p.read_bytes() for p in src.rglob("*") if p.is_file()} == before
    assert shutil.which("git")  # the corpus repos above are real git repositories


def test_without_init_a_chart_env_file_bump_names_the_key_to_set(podinfo: Path) -> None:
    (podinfo / ".promoter.yaml").write_text(
        registry_gate_off(
            "environments: [{name: prod}]\n"
            f"apps:\n  web:\n    image: {PODINFO}\n    chart: charts/podinfo\n"
            "    paths: {prod: charts/podinfo/values-prod.yaml}\n"
        )
    )
    r = invoke("bump", "--repo", str(podinfo), "--app", "web", "--env", "prod", "--image", f"{PODINFO}:6.15.0")
    assert r.exit_code == 2 and r.stderr.count("\n") == 1
    assert "It is pinned only in the chart's charts/podinfo/values.yaml:3" in r.stderr
    assert "set image.tag in charts/podinfo/values-prod.yaml" in r.stderr
    assert invoke("init", "--repo", str(podinfo), "--config", str(podinfo / "p.yaml"), "--write").exit_code == 0
    r = invoke("bump", "--repo", str(podinfo), "--app", "web", "--env", "prod", "--image", f"{PODINFO}:6.15.0")
    assert r.exit_code == 0, r.stderr
    assert (podinfo / "charts/podinfo/values-prod.yaml").read_text() == 'replicaCount: 2\nimage:\n  tag: "6.15.0"\n'
