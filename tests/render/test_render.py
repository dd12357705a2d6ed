"""Rendering with the real `kubectl kustomize`, a faithful fake `helm`, and plain folders; output mapped to sources."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from promoter.config.loader import load_config
from promoter.model.finding import Severity, Status
from promoter.render.diagnostics import kustomize_error
from promoter.render.graph import build_graph
from promoter.render.renderer import Renderer

K = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
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
SERVICE = "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\nspec:\n  ports:\n    - port: 80\n"

APP = {
    "base/kustomization.yaml": K + "resources:\n  - app.yaml\n",
    # two documents in one file: the Service's line is 17, after the marker
    "base/app.yaml": "# the app\n" + DEPLOY + "---\n" + SERVICE,
    "dev/kustomization.yaml": K + "namePrefix: dev-\nnamespace: dev\nresources:\n  - ../base\n"
    "patches:\n  - path: replicas.yaml\nconfigMapGenerator:\n  - name: settings\n    literals: [A=1]\n",
    "dev/replicas.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  replicas: 2\n",
}

needs_kustomize = pytest.mark.needs("kustomize")  # skips with the reason when absent; fails under CI


def render_one(repo: Path, target_id: str, **kw):
    graph = build_graph(repo, kw.pop("config", None))
    renderer = Renderer(repo, charts={t.path for t in graph.targets if t.kind == "helm"}, **kw)
    return renderer.render(graph.get(target_id))


@needs_kustomize
def test_overlay_renders_and_each_object_points_at_its_source(tree) -> None:
    out = render_one(tree(APP), "dev")
    assert out.subject is not None and out.subject.status is Status.PASSED and out.findings == []
    by_kind = {r.kind: r for r in out.resources}
    assert sorted(by_kind) == ["ConfigMap", "Deployment", "Service"]
    assert by_kind["Deployment"].name == "dev-api" and by_kind["Deployment"].obj["spec"]["replicas"] == 2
    assert str(by_kind["Deployment"].location) == "base/app.yaml:2"
    assert str(by_kind["Service"].location) == "base/app.yaml:17"
    # generated objects have no manifest: they point at the overlay that generates them
    assert by_kind["ConfigMap"].location is not None and by_kind["ConfigMap"].location.file == "dev/kustomization.yaml"
    assert all(r.target == "dev" for r in out.resources)


@needs_kustomize
def test_object_only_in_a_patch_points_at_the_patch(tree) -> None:
    files = {
        "o/kustomization.yaml": K + "resources:\n  - gen.yaml\npatchesStrategicMerge:\n  - fix.yaml\n",
        # the resource is named differently in the source than any patch; the patch names the renamed one
        "o/gen.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata: {x: '1'}\n",
        "o/fix.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata: {y: '2'}\n",
    }
    out = render_one(tree(files), "o")
    (r,) = out.resources
    assert r.obj["data"] == {"x": "1", "y": "2"}
    # kustomize's deprecation warning is kept, as a note at the deprecated field
    assert [(f.rule, f.severity, str(f.location)) for f in out.findings] == [
        ("render-warning", Severity.INFO, "o/kustomization.yaml:5")
    ]
    assert "patchesStrategicMerge" in out.findings[0].message
    assert str(r.location) == "o/gen.yaml:1"  # the defining manifest wins over the patch


@needs_kustomize
def test_missing_resource_is_a_finding_at_the_line_naming_it(tree) -> None:
    files = {**APP, "base/kustomization.yaml": K + "resources:\n  - app.yaml\n  - gone.yaml\n"}
    repo = tree(files)
    out = render_one(repo, "dev")
    assert out.subject is not None and out.subject.status is Status.FAILED and out.resources == []
    (f,) = out.findings
    assert (f.rule, f.severity, f.target) == ("render-failed", Severity.ERROR, "dev")
    assert str(f.location) == "base/kustomization.yaml:5"
    assert "base/gone.yaml" in f.message and "run.go" not in f.message
    assert str(repo) not in f.message  # paths are repo-relative, the same on every machine


@needs_kustomize
def test_resource_that_does_not_parse_points_at_that_file(tree) -> None:
    files = {**APP, "base/app.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\n  bad: [\n"}
    out = render_one(tree(files), "dev")
    (f,) = out.findings
    assert f.rule == "render-failed" and f.location is not None
    assert f.location.file == "base/app.yaml" and f.location.line is not None


@needs_kustomize
def test_invalid_kustomization_field_points_at_the_kustomization(tree) -> None:
    files = {**APP, "dev/kustomization.yaml": K + "resources:\n  - ../base\nimages: 3\n"}
    out = render_one(tree(files), "dev")
    (f,) = out.findings
    assert f.rule == "render-failed" and f.location is not None and f.location.file == "dev/kustomization.yaml"
    assert "images" in f.message


def test_kustomization_that_does_not_parse_is_not_run(tree) -> None:
    files = {**APP, "dev/kustomization.yaml": K + "resources: [../base\n"}
    # kustomize=False: proves no subprocess is needed to report it
    out = render_one(tree(files), "dev", kustomize=False)
    (f,) = out.findings
    assert (f.rule, str(f.location)) == ("yaml", "dev/kustomization.yaml:4")
    assert out.subject is not None and out.subject.status is Status.ERROR


def test_remote_base_is_reported_not_fetched(tree) -> None:
    files = {"o/kustomization.yaml": K + "resources:\n  - github.com/acme/x//base?ref=v1\n"}
    out = render_one(tree(files), "o", kustomize=["/nonexistent/kustomize-must-not-run"])
    (f,) = out.findings
    assert f.rule == "remote-not-fetched" and f.severity is Severity.WARNING
    assert str(f.location) == "o/kustomization.yaml:4" and "github.com/acme/x//base?ref=v1" in f.message
    assert out.subject is not None and out.subject.status is Status.SKIPPED


def test_no_kustomize_on_path_is_a_skip_with_reason(tree) -> None:
    out = render_one(tree(APP), "dev", kustomize=None)
    (f,) = out.findings
    assert f.rule == "render-skipped" and "kubectl" in f.message
    assert out.subject is not None and out.subject.status is Status.SKIPPED and out.subject.reason


def test_chart_without_helm_is_skipped_with_the_reason(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[2] / "examples"
    out = render_one(repo, "apps/web/chart@dev", helm=None, config=load_config(repo))
    (f,) = out.findings
    assert (f.rule, f.severity) == ("render-skipped", Severity.WARNING)
    assert (
        "helm is not on PATH" in f.message and f.location is not None and f.location.file == "apps/web/chart/Chart.yaml"
    )
    assert (
        out.subject is not None and out.subject.status is Status.SKIPPED and out.subject.reason == "helm is not on PATH"
    )
    assert out.resources == []


FAKE_HELM = """#!/bin/sh
# A fake `helm`: records its arguments, prints what `helm template` prints (Source comments, --- markers).
printf '%s\\n' "$@" > "$HELM_ARGS_FILE"
cat <<'YAML'
---
# Source: web/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: web-dev-web
spec:
  ports:
    - port: 80
---
# Source: web/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-dev-web
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: ghcr.io/acme/web:2.8.0}]
YAML
"""


def fake_helm(tmp_path: Path, script: str = FAKE_HELM) -> Path:
    helm = tmp_path / "bin" / "helm"
    helm.parent.mkdir(parents=True, exist_ok=True)
    helm.write_text(script)
    helm.chmod(helm.stat().st_mode | stat.S_IXUSR)
    return helm


def test_chart_is_rendered_by_helm_with_the_env_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = Path(__file__).resolve().parents[2] / "examples"
    helm = fake_helm(tmp_path)
    args_file = tmp_path / "args"
    monkeypatch.setenv("HELM_ARGS_FILE", str(args_file))
    monkeypatch.setenv("PATH", f"{helm.parent}{os.pathsep}{os.environ['PATH']}")
    out = render_one(repo, "apps/web/chart@dev", config=load_config(repo))  # helm found on PATH
    assert out.subject is not None and out.subject.status is Status.PASSED, out.findings
    assert args_file.read_text().split("\n")[:-1] == [
        "template",
        "web",
        "apps/web/chart",
        "--values",
        "apps/web/env/values-dev.yaml",
    ]
    locs = {r.kind: str(r.location) for r in out.resources}
    assert locs == {
        "Service": "apps/web/chart/templates/service.yaml",
        "Deployment": "apps/web/chart/templates/deployment.yaml",
    }
    assert {r.env for r in out.resources} == {"dev"}


def test_helm_failure_is_a_render_failed_finding(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[2] / "examples"
    helm = fake_helm(
        tmp_path,
        "#!/bin/sh\necho 'Error: template: web/templates/x.yaml:3: function \"nope\" not defined' >&2\nexit 1\n",
    )
    out = render_one(repo, "apps/web/chart@prod", helm=str(helm), config=load_config(repo))
    (f,) = out.findings
    assert f.rule == "render-failed" and 'function "nope" not defined' in f.message
    assert f.location is not None and f.location.file == "apps/web/chart/Chart.yaml"


# A fake `helm` that prints one ConfigMap holding its arguments and the last values file it was given.
ECHO_HELM = (
    '#!/bin/sh\nlast=\'\'; for a in "$@"; do last="$a"; done\n'
    'printf \'apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: x}\\ndata: {args: "%s", last: "%s"}\\n\' '
    '"$*" "$(cat "$last" | tr \'"\' "\'")"\n'
)
HELMRELEASE = (
    "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: api, namespace: shop}\n"
    "spec:\n  chart: {spec: {chart: charts/api, sourceRef: {kind: GitRepository, name: x}}}\n"
    "  valuesFiles: [env/prod.yaml]\n  values: {a: 3}\n"
)
CHART = {
    "charts/api/Chart.yaml": "apiVersion: v2\nname: api\nversion: 0.1.0\n",
    "charts/api/values.yaml": "a: 1\n",
    "env/prod.yaml": "a: 2\n",
}


def test_helmrelease_chart_in_the_repo_is_rendered_inside_its_target(tree, tmp_path: Path) -> None:
    helm = fake_helm(tmp_path, ECHO_HELM)
    out = render_one(tree({**CHART, "clusters/prod/rel.yaml": HELMRELEASE}), "clusters/prod", helm=str(helm))
    assert [r.kind for r in out.resources] == ["HelmRelease"] and out.findings == []
    (chart,) = out.nested
    assert chart.subject is not None and chart.subject.status is Status.PASSED
    assert chart.subject.id == "render:clusters/prod#HelmRelease/api" and chart.subject.target == "clusters/prod"
    (r,) = chart.resources
    assert r.target == "clusters/prod"
    args = r.obj["data"]["args"].split()
    assert args[:6] == ["template", "api", "charts/api", "--namespace", "shop", "--values"]
    # the values files first, the HelmRelease's inline values last (they win, as in Flux)
    assert args[6] == "env/prod.yaml" and args[7] == "--values" and args[8].endswith("inline-values.yaml")
    assert r.obj["data"]["last"] == "{'a': 3}"


@needs_kustomize
def test_overlay_values_patch_reaches_the_chart_render(tree, tmp_path: Path) -> None:
    files = {
        **CHART,
        "base/kustomization.yaml": K + "resources: [rel.yaml]\n",
        "base/rel.yaml": HELMRELEASE,
        "prod/kustomization.yaml": K + "resources: [../base]\npatches:\n  - path: values.yaml\n",
        "prod/values.yaml": "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: api, namespace: shop}\n"
        "spec:\n  values: {a: 4}\n",
    }
    out = render_one(tree(files), "prod", helm=str(fake_helm(tmp_path, ECHO_HELM)))
    (chart,) = out.nested
    assert chart.resources[0].obj["data"]["last"] == "{'a': 4}"  # the patched values, not the base's


def test_plain_folder_objects_point_at_file_and_line(tree) -> None:
    files = {"clusters/prod/a.yaml": SERVICE + "---\n" + SERVICE.replace("name: api", "name: b")}
    out = render_one(tree(files), "clusters/prod")
    assert [str(r.location) for r in out.resources] == ["clusters/prod/a.yaml:1", "clusters/prod/a.yaml:9"]


def test_plain_file_that_does_not_parse_is_a_finding_with_its_line(tree) -> None:
    files = {
        "clusters/prod/a.yaml": SERVICE,
        "clusters/prod/b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [x\n",
    }
    out = render_one(tree(files), "clusters/prod")
    (f,) = out.findings
    assert f.severity is Severity.ERROR and f.location is not None and f.location.file == "clusters/prod/b.yaml"
    assert f.location.line == 5 or f.location.line == 4
    assert [r.name for r in out.resources] == ["api"]
    assert out.subject is not None and out.subject.status is Status.FAILED


def test_remote_chart_of_a_helmrelease_is_a_note(tree) -> None:
    files = {
        "clusters/prod/rel.yaml": "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: podinfo}\n"
        "spec:\n  chart: {spec: {chart: podinfo, sourceRef: {kind: HelmRepository, name: podinfo}}}\n"
    }
    out = render_one(tree(files), "clusters/prod")
    (f,) = out.findings
    assert (f.rule, f.severity, str(f.location)) == ("remote-not-fetched", Severity.INFO, "clusters/prod/rel.yaml:1")
    assert "podinfo from HelmRepository podinfo" in f.message


def test_kubectl_log_framing_is_removed() -> None:
    stderr = (
        'E1127 03:45:30.609498    7574 run.go:72] "command failed" err="invalid Kustomization: yaml: line 3: '
        'did not find expected node content in /repo/x/kustomization.yaml"\n'
    )
    assert (
        kustomize_error(stderr, Path("/repo"))
        == "invalid Kustomization: yaml: line 3: did not find expected node content in x/kustomization.yaml"
    )
    multi = 'E1127 1:2:3.4 1 run.go:72] "command failed" err=<\n\ttrouble configuring\n\tpath: p.yaml\n >\n'
    assert kustomize_error(multi, Path("/repo")) == "trouble configuring path: p.yaml"
    assert kustomize_error("Error: accumulating resources: boom\n", Path("/repo")) == "accumulating resources: boom"


@needs_kustomize
def test_fields_map_to_the_line_that_wrote_them(tree) -> None:
    from promoter.render.sources import field_location

    repo = tree(APP)
    out = render_one(repo, "dev")
    (deploy,) = [r for r in out.resources if r.kind == "Deployment"]
    origins = out.origins[deploy.id]
    assert [str(o) for o in origins] == ["base/app.yaml:2", "dev/replicas.yaml:1"]
    assert str(field_location(repo, origins, "/spec/replicas")) == "dev/replicas.yaml:6"  # only the patch sets it
    assert str(field_location(repo, origins, "/spec/template/spec/containers/0/image")) == "base/app.yaml:15"
    # set by a transformer (namespace): the deepest key the manifest has on that path
    assert str(field_location(repo, origins, "/metadata/namespace")) == "base/app.yaml:4"
    assert field_location(repo, origins, "") is None


def test_missing_values_file_fails_even_without_helm(tree) -> None:
    files = {
        "c/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n",
        "a.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: c}\n"
        "spec:\n  source: {path: c, helm: {valueFiles: [values-gone.yaml]}}\n",
    }
    out = render_one(tree(files), ".", helm=None)
    (chart,) = out.nested
    (f,) = chart.findings
    assert f.rule == "render-failed" and "c/values-gone.yaml does not exist" in f.message
    assert str(f.location) == "a.yaml:1" and f.target == "."


def test_chart_with_a_remote_dependency_not_vendored_is_reported_not_fetched(tree) -> None:
    files = {
        "c/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\ndependencies:\n"
        "  - name: redis\n    version: 1.2.3\n    repository: https://charts.example.com\n"
    }
    out = render_one(tree(files), "c", helm="/nonexistent/helm-must-not-run")
    (f,) = out.findings
    assert (f.rule, f.severity, str(f.location)) == ("remote-not-fetched", Severity.WARNING, "c/Chart.yaml:7")
    assert "redis 1.2.3 from https://charts.example.com" in f.message
    assert out.subject is not None and out.subject.status is Status.SKIPPED


@needs_kustomize
def test_a_file_is_parsed_once_for_all_the_fields_looked_up_in_it(tree, monkeypatch) -> None:
    from promoter.render.sources import field_location
    from promoter.yamlio import document as yamldoc

    repo = tree(APP)
    out = render_one(repo, "dev")
    (deploy,) = [r for r in out.resources if r.kind == "Deployment"]
    loads: list[str] = []
    real = yamldoc.YamlDoc.load.__func__
    monkeypatch.setattr(
        yamldoc.YamlDoc, "load", classmethod(lambda cls, f, rel: loads.append(rel) or real(cls, f, rel))
    )
    parsed: dict = {}
    pointers = ["/spec/replicas", "/spec/template/spec/containers/0/image", "/metadata/namespace"]
    got = [str(field_location(repo, out.origins[deploy.id], p, parsed)) for p in pointers]
    assert got == ["dev/replicas.yaml:6", "base/app.yaml:15", "base/app.yaml:4"]
    assert sorted(loads) == ["base/app.yaml", "dev/replicas.yaml"]
