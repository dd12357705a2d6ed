"""Locate: every reference style is found, with file, line, column, YAML path, repository, tag and digest."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from promoter.locate.scan import extract, markers, scan
from promoter.yamlio.document import YamlDoc

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64


def refs(text: str, file: str = "values.yaml", defaults: object = None) -> list[dict]:
    doc = YamlDoc.from_text(textwrap.dedent(text), file)
    return [r.to_dict() | {"kind": r.kind} for r in extract(doc, defaults)]


def brief(text: str, file: str = "values.yaml", defaults: object = None) -> list[tuple]:
    return [
        (r["line"], r["yaml_path"], r["style"], r["repository"], r["tag"], r["digest"])
        for r in refs(text, file, defaults)
    ]


# ---- kustomize ---------------------------------------------------------------------------------
KUSTOMIZATION = f"""\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [../../base]
images:
  - name: ghcr.io/acme/api
    newTag: "1.4.2"
  - name: nginx
    newName: registry.example.com/mirror/nginx
    newTag: 1.25
    digest: {D1}
  - name: redis
    digest: {D2}
  - name: postgres
    newName: ghcr.io/acme/postgres
"""


def test_kustomize_images_entries_with_newname_and_digest():
    assert brief(KUSTOMIZATION, "overlays/dev/kustomization.yaml") == [
        (5, "images[0]", "kustomize-images", "ghcr.io/acme/api", "1.4.2", None),
        (7, "images[1]", "kustomize-images", "registry.example.com/mirror/nginx", "1.25", D1),
        (11, "images[2]", "kustomize-images", "docker.io/library/redis", None, D2),
        (13, "images[3]", "kustomize-images", "ghcr.io/acme/postgres", None, None),
    ]


@pytest.mark.parametrize("name", ["kustomization.yaml", "kustomization.yml", "Kustomization", "x/kustomization.yaml"])
def test_kustomization_recognised_by_file_name_without_apiversion(name):
    text = "images:\n- name: nginx\n  newTag: '1.0'\n"
    assert brief(text, name) == [(2, "images[0]", "kustomize-images", "docker.io/library/nginx", "1.0", None)]


def test_kustomize_component_by_kind():
    text = "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nimages:\n- name: nginx\n  newTag: '1'\n"
    assert [r[2] for r in brief(text, "components/x/comp.yaml")] == ["kustomize-images"]


def test_images_list_in_an_unrelated_file_is_not_a_kustomization():
    assert brief("images:\n- name: nginx\n  newTag: '1'\n", "notes.yaml") == []


def test_flux_kustomization_spec_images():
    text = """\
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: apps, namespace: flux-system}
    spec:
      path: ./apps
      images:
        - name: ghcr.io/acme/api
          newTag: 2.0.0
    """
    assert brief(text, "clusters/dev/apps.yaml") == [
        (7, "spec.images[0]", "flux-kustomization-images", "ghcr.io/acme/api", "2.0.0", None)
    ]


# ---- containers --------------------------------------------------------------------------------
POD_SPEC = """\
      initContainers:
        - name: migrate
          image: ghcr.io/acme/migrate:1.0
      containers:
        - name: app
          image: "ghcr.io/acme/api:1.0"
        - name: sidecar
          image: 'envoyproxy/envoy:v1.30@{D1}'
      ephemeralContainers:
        - name: debug
          image: busybox
"""


def _workload(kind: str, api: str, prefix: list[str]) -> tuple[str, str]:
    """A manifest of `kind` whose pod spec sits under `prefix` (e.g. spec.template.spec)."""
    lines = [f"apiVersion: {api}", f"kind: {kind}", "metadata:", "  name: x"]
    indent = ""
    for p in prefix:
        lines.append(f"{indent}{p}:")
        indent += "  "
    body = textwrap.indent(textwrap.dedent(POD_SPEC.format(D1=D1)), indent)
    return "\n".join(lines) + "\n" + body, ".".join(prefix)


@pytest.mark.parametrize(
    ("kind", "api", "prefix"),
    [
        ("Pod", "v1", ["spec"]),
        ("Deployment", "apps/v1", ["spec", "template", "spec"]),
        ("StatefulSet", "apps/v1", ["spec", "template", "spec"]),
        ("DaemonSet", "apps/v1", ["spec", "template", "spec"]),
        ("ReplicaSet", "apps/v1", ["spec", "template", "spec"]),
        ("Job", "batch/v1", ["spec", "template", "spec"]),
        ("CronJob", "batch/v1", ["spec", "jobTemplate", "spec", "template", "spec"]),
    ],
)
def test_container_images_in_every_workload_kind(kind, api, prefix):
    text, base = _workload(kind, api, prefix)
    found = refs(text, "manifests/app.yaml")
    assert [(r["yaml_path"], r["repository"], r["tag"], r["digest"]) for r in found] == [
        (f"{base}.initContainers[0].image", "ghcr.io/acme/migrate", "1.0", None),
        (f"{base}.containers[0].image", "ghcr.io/acme/api", "1.0", None),
        (f"{base}.containers[1].image", "docker.io/envoyproxy/envoy", "v1.30", D1),
        (f"{base}.ephemeralContainers[0].image", "docker.io/library/busybox", None, None),
    ]
    assert {r["style"] for r in found} == {"container"}
    # line and column point at the value itself (its opening quote when quoted)
    lines = text.splitlines()
    written = ["ghcr.io/acme/migrate:1.0", '"ghcr.io/acme/api:1.0"', f"'envoyproxy/envoy:v1.30@{D1}'", "busybox"]
    assert [lines[r["line"] - 1][r["column"] - 1 :] for r in found] == written


def test_strategic_merge_patch_and_multi_document_file():
    text = """\
    # patch: only what changes
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: api
    spec:
      template:
        spec:
          containers:
            - name: api
              image: docker.io/acme/api:3.0
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: c}
    data:
      image: not-a-container-field:1
    ---
    apiVersion: batch/v1
    kind: Job
    metadata: {name: j}
    spec:
      template:
        spec:
          containers: [{name: j, image: "busybox:1.36"}]
    """
    assert brief(text, "envs/qa/version.yml") == [
        (11, "spec.template.spec.containers[0].image", "container", "docker.io/acme/api", "3.0", None),
        (25, "spec.template.spec.containers[0].image", "container", "docker.io/library/busybox", "1.36", None),
    ]
    found = refs(text, "envs/qa/version.yml")
    line = textwrap.dedent(text).splitlines()[24]
    assert found[1]["column"] == line.index('"busybox') + 1


def test_container_line_and_column_point_at_the_value():
    text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image:   nginx:1\n"
    (r,) = refs(text, "pod.yaml")
    assert (r["line"], r["column"]) == (7, 14)
    assert text.splitlines()[6][13:] == "nginx:1"


# ---- helm values -------------------------------------------------------------------------------
VALUES = f"""\
image:
  registry: ghcr.io
  repository: acme/web
  tag: "2.8.0"
  digest: ""
api:
  image:
    repository: quay.io/acme/api
    tag: 1.4
worker:
  image: ghcr.io/acme/worker:0.9
metrics:
  sidecarImage: prom/statsd-exporter:v0.26.0
exporter:
  image:
    repository: prom/node-exporter
    sha: "{D1[7:]}"
chart:
  repository: https://charts.example.com
ingress:
  annotations: {{}}
"""


def test_helm_values_blocks_strings_and_nested_components():
    assert brief(VALUES, "charts/web/values.yaml") == [
        (3, "image", "helm-values", "ghcr.io/acme/web", "2.8.0", None),
        (8, "api.image", "helm-values", "quay.io/acme/api", "1.4", None),
        (11, "worker.image", "helm-values", "ghcr.io/acme/worker", "0.9", None),
        (13, "metrics.sidecarImage", "helm-values", "docker.io/prom/statsd-exporter", "v0.26.0", None),
        (16, "exporter.image", "helm-values", "docker.io/prom/node-exporter", None, D1),
    ]
    kinds = [r["kind"] for r in refs(VALUES, "charts/web/values.yaml")]
    assert kinds == ["block", "block", "string", "string", "block"]


def test_helm_values_only_in_values_files():
    assert brief(VALUES, "charts/web/config.yaml") == []
    assert len(brief(VALUES, "values-prod.yml")) == 5


def test_values_file_with_its_own_top_level_kind_key_is_still_values():
    # charts that choose Deployment or DaemonSet (prometheus-snmp-exporter) have `kind:` in values
    text = "kind: DaemonSet\nimage:\n  repository: quay.io/prometheus/snmp-exporter\n  tag: ''\n"
    assert brief(text, "values.yaml") == [(3, "image", "helm-values", "quay.io/prometheus/snmp-exporter", None, None)]


def test_env_values_file_over_chart_defaults():
    defaults = yaml.safe_load("image:\n  registry: ghcr.io\n  repository: acme/web\n  tag: '1.0'\n  digest: ''\n")
    env = "replicaCount: 2\nimage:\n  tag: '2.0'\n"
    assert brief(env, "env/values-prod.yaml") == []  # alone, the repository is unknown
    assert brief(env, "env/values-prod.yaml", defaults) == [
        (3, "image", "helm-values", "ghcr.io/acme/web", "2.0", None)
    ]
    # the env file names the repository but not the registry: the chart's registry applies
    env2 = "image:\n  repository: acme/web\n  tag: '2.0'\n"
    assert brief(env2, "env/values-prod.yaml", defaults)[0][3] == "ghcr.io/acme/web"


def test_helm_block_in_flow_style_and_null_tag():
    text = "image: {repository: nginx, tag: ~}\nother:\n  image:\n    repository: redis\n    tag:\n"
    assert brief(text) == [
        (1, "image", "helm-values", "docker.io/library/nginx", None, None),
        (4, "other.image", "helm-values", "docker.io/library/redis", None, None),
    ]


def test_anchors_and_aliases_give_one_reference_per_value():
    text = "image: &img\n  repository: nginx\n  tag: '1'\nsidecar:\n  image: *img\na:\n  image: &s redis:7\nb:\n  image: *s\n"
    assert [(r[0], r[1]) for r in brief(text)] == [(2, "image"), (7, "a.image")]


# ---- flux --------------------------------------------------------------------------------------
def test_flux_helmrelease_spec_values():
    text = """\
    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    metadata: {name: podinfo}
    spec:
      chart: {spec: {chart: podinfo}}
      values:
        redis:
          enabled: true
          repository: public.ecr.aws/docker/library/redis
          tag: 7.2.4
        image: ghcr.io/stefanprodan/podinfo:6.5.0
    """
    assert brief(text, "apps/podinfo/release.yaml") == [
        (9, "spec.values.redis", "flux-helmrelease", "public.ecr.aws/docker/library/redis", "7.2.4", None),
        (11, "spec.values.image", "flux-helmrelease", "ghcr.io/stefanprodan/podinfo", "6.5.0", None),
    ]


def test_flux_image_policy_markers_are_hints_never_required():
    marked = """\
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: api}
    spec:
      template:
        spec:
          containers:
            - name: api
              image: ghcr.io/acme/api:1.0 # {"$imagepolicy": "flux-system:api"}
            - name: side
              image: ghcr.io/acme/side:1.0
    """
    found = refs(marked, "deploy.yaml")
    assert [(r["style"], r["hint"]) for r in found] == [("container", "flux-system:api"), ("container", None)]
    # a marker on a value no style knows makes it a reference of its own
    other = (
        'settings:\n  current: ghcr.io/acme/api:1.0 # {"$imagepolicy": "flux-system:api"}\n  plain: ghcr.io/acme/x:1\n'
    )
    assert brief(other, "settings.yaml") == [(2, "settings.current", "flux-marker", "ghcr.io/acme/api", "1.0", None)]
    # tag/name markers on a Helm block are hints on the block
    hr = 'image:\n  repository: ghcr.io/acme/api # {"$imagepolicy": "ns:p:name"}\n  tag: "1" # {"$imagepolicy": "ns:p:tag"}\n'
    (r,) = refs(hr)
    assert (r["style"], r["hint"]) == ("helm-values", "ns:p:name")


def test_markers_parser():
    text = 'a: 1\nb: x # {"$imagepolicy": "flux-system:app"}\nc: y #{"$imagepolicy":"ns:p:tag"}\n'
    assert markers(text) == {1: "flux-system:app", 2: "ns:p:tag"}
    assert markers("no markers here") == {}


# ---- argo cd -----------------------------------------------------------------------------------
APPLICATION = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: web, namespace: argocd}
spec:
  source:
    repoURL: https://example.com/charts.git
    helm:
      valuesObject:
        image:
          repository: ghcr.io/acme/web
          tag: "1.0"
      parameters:
        - name: api.image.repository
          value: ghcr.io/acme/api
        - name: api.image.tag
          value: "1.1"
        - name: worker.image.tag
          value: "0.3"
        - name: replicaCount
          value: "2"
  sources:
    - repoURL: https://example.com/k.git
      kustomize:
        images:
          - ghcr.io/acme/batch:2.0
          - legacy=ghcr.io/acme/new-batch:2.1
"""


def test_argocd_application_values_parameters_and_kustomize_images():
    assert brief(APPLICATION, "apps/web.yaml") == [
        (10, "spec.source.helm.valuesObject.image", "argocd-helm-values", "ghcr.io/acme/web", "1.0", None),
        (
            16,
            "spec.source.helm.parameters[name=api.image.*]",
            "argocd-helm-parameters",
            "ghcr.io/acme/api",
            "1.1",
            None,
        ),
        (18, "spec.source.helm.parameters[name=worker.image.*]", "argocd-helm-parameters", None, "0.3", None),
        (25, "spec.sources[0].kustomize.images[0]", "argocd-kustomize-images", "ghcr.io/acme/batch", "2.0", None),
        (26, "spec.sources[0].kustomize.images[1]", "argocd-kustomize-images", "ghcr.io/acme/new-batch", "2.1", None),
    ]


def test_non_argocd_application_kind_is_ignored():
    text = APPLICATION.replace("argoproj.io/v1alpha1", "app.k8s.io/v1beta1")
    assert brief(text, "apps/web.yaml") == []


# ---- scanning files ----------------------------------------------------------------------------
def test_scan_walks_folders_skips_chart_templates_and_filters_by_image(tmp_path: Path):
    (tmp_path / "chart/templates").mkdir(parents=True)
    (tmp_path / "chart/Chart.yaml").write_text("name: c\nversion: 0.1.0\n")
    (tmp_path / "chart/values.yaml").write_text("image:\n  repository: nginx\n  tag: '1'\n")
    (tmp_path / "chart/templates/d.yaml").write_text("image: {{ .Values.image.repository }}\n")
    (tmp_path / "k").mkdir()
    (tmp_path / "k/kustomization.yaml").write_text("images:\n- name: ghcr.io/acme/api\n  newTag: '2'\n")
    (tmp_path / "k/README.md").write_text("image: nginx:1\n")
    result = scan(tmp_path, [tmp_path])
    assert [(r.file, r.repository) for r in result.references] == [
        ("chart/values.yaml", "docker.io/library/nginx"),
        ("k/kustomization.yaml", "ghcr.io/acme/api"),
    ]
    assert "chart/templates/d.yaml" not in result.scanned
    from promoter.model.image import ImageRef

    only = scan(tmp_path, [tmp_path], image=ImageRef.parse("docker.io/library/nginx"))
    assert [r.file for r in only.references] == ["chart/values.yaml"]


def test_scan_never_follows_a_symlink_out_of_the_repository(tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "values.yaml").write_text("image: nginx:1\n")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "values.yaml").symlink_to(outside / "values.yaml")
    assert scan(repo, [repo]).references == []


def test_scan_keep_going_collects_parse_errors(tmp_path: Path):
    (tmp_path / "values.yaml").write_text("image: nginx:1\n")
    (tmp_path / "bad-values.yaml").write_text("image: [unclosed\n")
    result = scan(tmp_path, [tmp_path], keep_going=True)
    assert [r.file for r in result.references] == ["values.yaml"]
    assert len(result.errors) == 1 and "bad-values.yaml:" in str(result.errors[0])
