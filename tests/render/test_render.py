"""Rendering with the packaged kubectl (kustomize), Helm's SDK in process (and a helm binary when configured),
and plain folders; output mapped to sources."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from promoter.config.loader import load_config
from promoter.model.finding import Severity, Status
from promoter.render.diagnostics import kustomize_error
from promoter.render.graph import build_graph
from promoter.render.renderer import Renderer
from promoter.render.settings import RenderSettings
from promoter.render.tools import Tool, helm_tool

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

MUST_NOT_RUN = Tool("kustomize", "test", ("/nonexistent/kustomize-must-not-run", "kustomize"))


def render_one(repo: Path, target_id: str, **kw):
    config = kw.pop("config", None)
    graph = build_graph(repo, config)
    settings = kw.pop("settings", None) or RenderSettings.from_config(config)
    renderer = Renderer(repo, settings, charts={t.path for t in graph.targets if t.kind == "helm"}, **kw)
    return renderer.render(graph.get(target_id))


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


def test_resource_that_does_not_parse_points_at_that_file(tree) -> None:
    files = {**APP, "base/app.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\n  bad: [\n"}
    out = render_one(tree(files), "dev")
    (f,) = out.findings
    assert f.rule == "render-failed" and f.location is not None
    assert f.location.file == "base/app.yaml" and f.location.line is not None


def test_invalid_kustomization_field_points_at_the_kustomization(tree) -> None:
    files = {**APP, "dev/kustomization.yaml": K + "resources:\n  - ../base\nimages: 3\n"}
    out = render_one(tree(files), "dev")
    (f,) = out.findings
    assert f.rule == "render-failed" and f.location is not None and f.location.file == "dev/kustomization.yaml"
    assert "images" in f.message


def test_kustomization_that_does_not_parse_is_not_run(tree) -> None:
    files = {**APP, "dev/kustomization.yaml": K + "resources: [../base\n"}
    # a kustomize that cannot run: proves no subprocess is needed to report it
    out = render_one(tree(files), "dev", kustomize=MUST_NOT_RUN)
    (f,) = out.findings
    assert (f.rule, str(f.location)) == ("yaml", "dev/kustomization.yaml:4")
    assert out.subject is not None and out.subject.status is Status.ERROR


def test_remote_base_is_an_error_not_fetched(tree) -> None:
    files = {"dev/kustomization.yaml": K + "resources:\n  - github.com/acme/x//base?ref=v1\n"}
    out = render_one(tree(files), "dev", kustomize=MUST_NOT_RUN)
    (f,) = out.findings
    assert f.rule == "remote-not-fetched" and f.severity is Severity.ERROR
    assert str(f.location) == "dev/kustomization.yaml:4" and "github.com/acme/x//base?ref=v1" in f.message
    assert "render.severity" in (f.help or "")  # says how to proceed
    assert out.subject is not None and out.subject.status is Status.ERROR


def test_remote_base_lowered_to_a_warning_in_one_environment(tree) -> None:
    files = {
        "dev/kustomization.yaml": K + "resources:\n  - github.com/acme/x//base?ref=v1\n",
        "prod/kustomization.yaml": K + "resources:\n  - github.com/acme/x//base?ref=v1\n",
    }
    from promoter.config.model import Config, Environment

    config = Config(file=None, environments=[Environment("dev", 0), Environment("prod", 1)], apps={})
    config.raw = {"render": {"severity": {"remote-not-fetched": {"dev": "warning"}}}}
    repo = tree(files)
    dev = render_one(repo, "dev", kustomize=MUST_NOT_RUN, config=config)
    prod = render_one(repo, "prod", kustomize=MUST_NOT_RUN, config=config)
    assert [f.severity for f in dev.findings] == [Severity.WARNING] and dev.subject.status is Status.SKIPPED
    assert [f.severity for f in prod.findings] == [Severity.ERROR] and prod.subject.status is Status.ERROR


def test_no_kustomize_is_an_error_saying_how_to_proceed(tree) -> None:
    missing = Tool(
        "kustomize", "path", missing="render.kustomize is `path`, but neither kustomize nor kubectl is on PATH"
    )
    out = render_one(tree(APP), "dev", kustomize=missing)
    (f,) = out.findings
    assert (f.rule, f.severity) == ("render-tool-missing", Severity.ERROR) and "kubectl" in f.message
    assert out.subject is not None and out.subject.status is Status.ERROR and out.subject.reason


def test_chart_without_helm_is_an_error_with_the_reason() -> None:
    repo = Path(__file__).resolve().parents[2] / "examples"
    missing = Tool("helm", "path", missing="render.helm is `path`, but helm is not on PATH")
    out = render_one(repo, "apps/web/chart@dev", helm=missing, config=load_config(repo))
    (f,) = out.findings
    assert (f.rule, f.severity) == ("render-tool-missing", Severity.ERROR)
    assert "helm is not on PATH" in f.message and f.location is not None
    assert f.location.file == "apps/web/chart/Chart.yaml"
    assert out.subject is not None and out.subject.status is Status.ERROR
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


def test_chart_is_rendered_in_process_with_the_env_values() -> None:
    repo = Path(__file__).resolve().parents[2] / "examples"
    out = render_one(repo, "apps/web/chart@prod", config=load_config(repo))  # the packaged Helm SDK
    assert out.subject is not None and out.subject.status is Status.PASSED, out.findings
    assert out.tool == "helm"
    by_kind = {r.kind: r for r in out.resources}
    locs = {k: str(r.location) for k, r in by_kind.items()}
    assert locs == {
        "Service": "apps/web/chart/templates/service.yaml",
        "Deployment": "apps/web/chart/templates/deployment.yaml",
    }
    deploy = by_kind["Deployment"].obj
    assert deploy["spec"]["replicas"] == 3  # values-prod.yaml over the chart's 1
    assert deploy["spec"]["template"]["spec"]["containers"][0]["image"] == (
        "ghcr.io/acme/web:2.7.0@sha256:5d1f3b8a9c0e2f4a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c"
    )
    assert deploy["metadata"]["name"] == "web-web"  # release name: the app
    assert {r.env for r in out.resources} == {"prod"}


def test_chart_is_rendered_by_a_configured_helm_binary(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[2] / "examples"
    helm = fake_helm(tmp_path)
    args_file = tmp_path / "args"
    os.environ["HELM_ARGS_FILE"] = str(args_file)
    try:
        out = render_one(repo, "apps/web/chart@dev", helm=helm_tool(str(helm)), config=load_config(repo))
    finally:
        del os.environ["HELM_ARGS_FILE"]
    assert out.subject is not None and out.subject.status is Status.PASSED, out.findings
    args = args_file.read_text().split("\n")[:-1]
    assert args[:3] == ["template", "web", "apps/web/chart"] or args[:2] == ["template", "web"]
    assert args[-2] == "--values" and args[-1].endswith("values.json")  # the merged values, one file
    assert {r.kind: str(r.location) for r in out.resources} == {
        "Service": "apps/web/chart/templates/service.yaml",
        "Deployment": "apps/web/chart/templates/deployment.yaml",
    }


BROKEN_CHART = {
    "c/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n",
    "c/values.yaml": "a: 1\n",
    "c/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  a: {{ .Values.nope.deeper }}\n",
}


def test_helm_failure_is_a_render_failed_finding_at_the_template_line(tree) -> None:
    out = render_one(tree(BROKEN_CHART), "c")
    (f,) = out.findings
    assert f.rule == "render-failed" and "nil pointer" in f.message
    assert str(f.location) == "c/templates/cm.yaml:5"
    assert out.subject is not None and out.subject.status is Status.FAILED


ECHO_CHART = {
    "charts/api/Chart.yaml": "apiVersion: v2\nname: api\nversion: 0.1.0\n",
    "charts/api/values.yaml": "a: 1\nb: chart\nc: chart\nd: chart\n",
    # every value the chart sees, as one ConfigMap, so a test reads what Helm was given
    "charts/api/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ .Release.Name }}, "
    "namespace: {{ .Release.Namespace }}}\ndata:\n{{- range $k, $v := .Values }}\n  {{ $k }}: {{ $v | toJson | quote }}\n{{- end }}\n",
    "env/prod.yaml": "a: 2\nb: file\n",
}
CHART = ECHO_CHART
HELMRELEASE = (
    "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: api, namespace: shop}\n"
    "spec:\n  chart: {spec: {chart: charts/api, sourceRef: {kind: GitRepository, name: x}, valuesFiles: [env/prod.yaml]}}\n"
    "  valuesFrom:\n    - {kind: ConfigMap, name: api-values}\n    - {kind: Secret, name: api-secret, valuesKey: v, targetPath: d}\n"
    "  values: {a: 3}\n"
)
VALUES_CM = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: api-values, namespace: shop}\n"
    "data:\n  values.yaml: |\n    b: from-configmap\n    c: from-configmap\n"
)
VALUES_SECRET = (
    "apiVersion: v1\nkind: Secret\nmetadata: {name: api-secret, namespace: shop}\nstringData: {v: secret-d}\n"
)


def test_helmrelease_chart_in_the_repo_is_rendered_with_the_values_it_declares(tree) -> None:
    files = {**ECHO_CHART, "clusters/prod/rel.yaml": HELMRELEASE + "---\n" + VALUES_CM + "---\n" + VALUES_SECRET}
    out = render_one(tree(files), "clusters/prod")
    assert sorted(r.kind for r in out.resources) == ["ConfigMap", "HelmRelease", "Secret"] and out.findings == []
    (chart,) = out.nested
    assert chart.subject is not None and chart.subject.status is Status.PASSED, chart.findings
    assert chart.subject.id == "render:clusters/prod#HelmRelease/api" and chart.subject.target == "clusters/prod"
    (r,) = chart.resources
    assert r.target == "clusters/prod" and r.namespace == "shop" and r.name == "api"
    # Flux's order: chart values < valuesFiles < valuesFrom (in order) < spec.values
    assert r.obj["data"] == {"a": "3", "b": '"from-configmap"', "c": '"from-configmap"', "d": '"secret-d"'}


def test_valuesfrom_object_not_in_the_repository_is_an_error(tree) -> None:
    out = render_one(tree({**ECHO_CHART, "clusters/prod/rel.yaml": HELMRELEASE}), "clusters/prod")
    (chart,) = out.nested
    rules = sorted(f.rule for f in chart.findings)
    assert rules == ["values-not-found", "values-not-found"]
    assert all(
        f.severity is Severity.ERROR and "ConfigMap api-values" in chart.findings[0].message for f in chart.findings
    )
    assert chart.subject is not None and chart.subject.status is Status.ERROR and chart.resources == []


ARGO_APP = (
    "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: api}\nspec:\n"
    "  destination: {namespace: apps}\n  source:\n    path: charts/api\n    helm:\n"
    "      valueFiles: [../../env/prod.yaml]\n      valuesObject: {a: 5, c: object}\n"
    "      parameters:\n        - {name: d, value: '7'}\n        - {name: c, value: 'x,y', forceString: true}\n"
)


def test_argocd_application_chart_gets_value_files_values_object_and_parameters(tree) -> None:
    out = render_one(tree({**ECHO_CHART, "apps/api.yaml": ARGO_APP}), "apps")
    (chart,) = out.nested
    assert chart.subject is not None and chart.subject.status is Status.PASSED, chart.findings
    (r,) = chart.resources
    assert r.namespace == "apps"
    # Argo CD's order: valueFiles < valuesObject < parameters (--set; forceString: --set-string)
    assert r.obj["data"] == {"a": "5", "b": '"file"', "c": '"x,y"', "d": "7"}


def test_argocd_value_file_from_another_source_is_not_fetched(tree) -> None:
    app = ARGO_APP.replace("valueFiles: [../../env/prod.yaml]", "valueFiles: [$values/env/prod.yaml]")
    out = render_one(tree({**ECHO_CHART, "apps/api.yaml": app}), "apps")
    (chart,) = out.nested
    (f,) = chart.findings
    assert f.rule == "remote-not-fetched" and f.severity is Severity.ERROR and "$values/env/prod.yaml" in f.message


def test_overlay_values_patch_reaches_the_chart_render(tree) -> None:
    files = {
        **ECHO_CHART,
        "base/kustomization.yaml": K + "resources: [rel.yaml]\n",
        "base/rel.yaml": HELMRELEASE.replace(
            "  valuesFrom:\n    - {kind: ConfigMap, name: api-values}\n    - {kind: Secret, name: api-secret, valuesKey: v, targetPath: d}\n",
            "",
        ),
        "prod/kustomization.yaml": K + "resources: [../base]\npatches:\n  - path: values.yaml\n",
        "prod/values.yaml": "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: api, namespace: shop}\n"
        "spec:\n  values: {a: 4}\n",
    }
    out = render_one(tree(files), "prod")
    (chart,) = out.nested
    assert chart.resources[0].obj["data"]["a"] == "4"  # the patched values, not the base's


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


def test_remote_chart_of_a_helmrelease_is_an_error(tree) -> None:
    files = {
        "clusters/prod/rel.yaml": "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: podinfo}\n"
        "spec:\n  chart: {spec: {chart: podinfo, sourceRef: {kind: HelmRepository, name: podinfo}}}\n"
    }
    out = render_one(tree(files), "clusters/prod")
    (f,) = out.findings
    assert (f.rule, f.severity, str(f.location)) == ("remote-not-fetched", Severity.ERROR, "clusters/prod/rel.yaml:1")
    assert "podinfo from HelmRepository podinfo" in f.message and "render.severity" in (f.help or "")


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
    out = render_one(tree(files), ".", helm=Tool("helm", "path", missing="no helm"))
    (chart,) = out.nested
    (f,) = chart.findings
    assert f.rule == "render-failed" and "c/values-gone.yaml does not exist" in f.message
    assert str(f.location) == "a.yaml:1" and f.target == "."


def test_chart_with_a_remote_dependency_not_vendored_is_reported_not_fetched(tree) -> None:
    files = {
        "c/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\ndependencies:\n"
        "  - name: redis\n    version: 1.2.3\n    repository: https://charts.example.com\n"
    }
    out = render_one(tree(files), "c", helm=Tool("helm", "test", ("/nonexistent/helm-must-not-run",)))
    (f,) = out.findings
    assert (f.rule, f.severity, str(f.location)) == ("remote-not-fetched", Severity.ERROR, "c/Chart.yaml:7")
    assert "redis 1.2.3 from https://charts.example.com" in f.message and "helm dependency build" in (f.help or "")
    assert out.subject is not None and out.subject.status is Status.ERROR


def test_a_file_is_parsed_once_for_all_the_fields_looked_up_in_it(tree, monkeypatch) -> None:
    from promoter.render.sources import field_location
    from promoter.yamlio import document as yamldoc

    repo = tree(APP)
    out = render_one(repo, "dev")
    (deploy,) = [r for r in out.resources if r.kind == "Deployment"]
    loads: list[str] = []
    real = yamldoc.YamlDoc.read_file.__func__
    monkeypatch.setattr(
        yamldoc.YamlDoc, "read_file", classmethod(lambda cls, f, rel: loads.append(rel) or real(cls, f, rel))
    )
    parsed: dict = {}
    pointers = ["/spec/replicas", "/spec/template/spec/containers/0/image", "/metadata/namespace"]
    got = [str(field_location(repo, out.origins[deploy.id], p, parsed)) for p in pointers]
    assert got == ["dev/replicas.yaml:6", "base/app.yaml:15", "base/app.yaml:4"]
    assert sorted(loads) == ["base/app.yaml", "dev/replicas.yaml"]


def test_chart_with_vendored_dependencies_renders_offline(tree, tmp_path: Path) -> None:
    import helm_python

    sub = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: '{{ .Chart.Name }}-{{ .Release.Name }}'}\n"
    lib = tmp_path / "lib"
    (lib / "templates").mkdir(parents=True)
    (lib / "Chart.yaml").write_text("apiVersion: v2\nname: lib\nversion: 0.1.0\n")
    (lib / "templates/cm.yaml").write_text(sub)
    repo = tree(
        {
            "c/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\ndependencies:\n"
            "  - {name: sub, version: 0.1.0, repository: https://charts.example.invalid}\n"
            "  - {name: lib, version: 0.1.0, repository: oci://registry.example.invalid/charts}\n",
            "c/charts/sub/Chart.yaml": "apiVersion: v2\nname: sub\nversion: 0.1.0\n",
            "c/charts/sub/templates/cm.yaml": sub,
        }
    )
    helm_python.package(lib, destination=repo / "c/charts")  # vendored as `helm dependency build` leaves it
    out = render_one(repo, "c")
    assert out.subject is not None and out.subject.status is Status.PASSED, out.findings
    assert sorted((r.name, str(r.location)) for r in out.resources) == [
        ("lib-c", "c/charts/lib-0.1.0.tgz"),
        ("sub-c", "c/charts/sub/templates/cm.yaml"),
    ]
