"""Shapes real charts pin images in, each bumped through the CLI to the exact bytes a maintainer would write,
and, where a chart is there, rendered with the Helm SDK to the image the chart will run."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import invoke, make_repo

DIGEST = "sha256:" + "ab" * 32


def bump(repo: Path, image: str, *args: str) -> tuple[int, str, str]:
    r = invoke("bump", "--repo", str(repo), "--image", image, *args)
    return r.exit_code, r.stdout, r.stderr


def images(repo: Path, *args: str) -> list[dict]:
    r = invoke("images", "--repo", str(repo), "--output", "json", *args)
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def render_images(chart: Path) -> list[str]:
    """Every container image the chart renders to (Helm SDK in process; no helm binary)."""
    try:
        import helm_python as helm
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("helm-python-sdk is not installed (pip install -e '.[test]')", pytrace=False)
        pytest.skip("helm-python-sdk is not installed")
    import yaml

    out = []
    for text in helm.Chart.load(str(chart)).render(name="r", namespace="default").values():
        for obj in yaml.safe_load_all(text):
            if isinstance(obj, dict) and obj.get("kind") == "Deployment":
                out += [c["image"] for c in obj["spec"]["template"]["spec"]["containers"]]
    return sorted(out)


CHART = "apiVersion: v2\nname: {name}\nversion: 1.0.0\n"
DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
        - name: {name}
          image: {image}
"""


# ---- sibling tag keys ----------------------------------------------------------------------------------
SIBLING = """# redis exporter, as bitnami-style charts write it
exporter:
  enabled: true
  image: ghcr.io/oliver006/redis_exporter   # the chart appends :tag
  tag: v1.75.0
"""


def test_sibling_tag_key_takes_the_tag_and_the_image_string_stays(tmp_path: Path):
    repo = make_repo(
        tmp_path / "r",
        {
            "chart/Chart.yaml": CHART.format(name="redis"),
            "chart/values.yaml": SIBLING,
            "chart/templates/deployment.yaml": DEPLOYMENT.format(
                name="exporter", image='"{{ .Values.exporter.image }}:{{ .Values.exporter.tag }}"'
            ),
        },
    )
    assert render_images(repo / "chart") == ["ghcr.io/oliver006/redis_exporter:v1.75.0"]
    code, _, err = bump(repo, f"ghcr.io/oliver006/redis_exporter:v1.87.0@{DIGEST}", "--path", "chart")
    assert code == 0, err
    assert (repo / "chart/values.yaml").read_text() == SIBLING.replace("v1.75.0", "v1.87.0")
    assert "digest not pinned" in err
    assert render_images(repo / "chart") == ["ghcr.io/oliver006/redis_exporter:v1.87.0"]


def test_sibling_image_tag_and_digest_keys(tmp_path: Path):
    text = 'image: "docker.io/bitnami/postgresql"\nimageTag: "15.4.0"\nimageDigest: ""\n'
    repo = make_repo(tmp_path / "r", {"values.yaml": text})
    (ref,) = images(repo)
    assert (ref["image"], ref["tag"]) == ("docker.io/bitnami/postgresql:15.4.0", "15.4.0")
    code, _, err = bump(repo, f"docker.io/bitnami/postgresql:16.1.0@{DIGEST}", "--path", ".")
    assert code == 0, err
    want = f'image: "docker.io/bitnami/postgresql"\nimageTag: "16.1.0"\nimageDigest: "{DIGEST}"\n'
    assert (repo / "values.yaml").read_text() == want


def test_version_beside_an_image_is_its_tag_only_when_it_looks_like_one(tmp_path: Path):
    repo = make_repo(
        tmp_path / "r",
        {
            "values.yaml": "a:\n  image: ghcr.io/acme/a\n  version: 2.10\nb:\n  image: ghcr.io/acme/b\n  version: latest\n"
        },
    )
    found = {r["yaml_path"]: r for r in images(repo)}
    assert found["a.image"]["tag"] == "2.10"  # as written: not the float 2.1
    assert found["b.image"]["tag"] is None
    code, _, err = bump(repo, "ghcr.io/acme/a:2.11", "--path", "values.yaml")
    assert code == 0, err
    assert (repo / "values.yaml").read_text().startswith("a:\n  image: ghcr.io/acme/a\n  version: 2.11\n")


def test_the_sibling_key_list_is_configurable(tmp_path: Path):
    repo = make_repo(
        tmp_path / "r",
        {
            ".promoter.yaml": "environments: [{name: dev}]\nlocate: {tag_keys: [release]}\n",
            "values.yaml": "image: ghcr.io/acme/a\nrelease: '3'\n",
        },
    )
    (ref,) = images(repo)
    assert ref["tag"] == "3"
    code, _, err = bump(repo, "ghcr.io/acme/a:4", "--path", "values.yaml")
    assert code == 0, err
    assert (repo / "values.yaml").read_text() == "image: ghcr.io/acme/a\nrelease: '4'\n"


# ---- anchors and aliases -------------------------------------------------------------------------------
ANCHORED = """api:
  image:
    repository: ghcr.io/acme/api
    tag: &release 1.4.0
worker:
  image:
    repository: ghcr.io/acme/api
    tag: *release
"""


def test_every_alias_is_listed_with_its_anchor_and_a_bump_in_scope_writes_the_anchor_once(tmp_path: Path):
    repo = make_repo(tmp_path / "r", {"values.yaml": ANCHORED})
    refs = images(repo)
    assert [(r["yaml_path"], r["line"], r["tag"], r["alias_of"]) for r in refs] == [
        ("api.image", 3, "1.4.0", None),
        ("worker.image", 7, "1.4.0", {"line": 4, "column": 10, "yaml_path": "api.image.tag"}),
    ]
    code, _, err = bump(repo, "ghcr.io/acme/api:1.5.0", "--path", "values.yaml")
    assert code == 0, err
    assert (repo / "values.yaml").read_text() == ANCHORED.replace("&release 1.4.0", "&release 1.5.0")


def test_an_anchor_shared_with_another_image_is_refused_naming_both_places(tmp_path: Path):
    text = ANCHORED.replace(
        "worker:\n  image:\n    repository: ghcr.io/acme/api", "worker:\n  image:\n    repository: ghcr.io/acme/worker"
    )
    repo = make_repo(tmp_path / "r", {"values.yaml": text})
    code, out, err = bump(repo, "ghcr.io/acme/api:1.5.0", "--path", "values.yaml")
    assert code == 2 and out == ""
    assert "values.yaml:4" in err and "api.image.tag" in err and "values.yaml:8 (worker.image.tag)" in err
    assert "replace the alias with a copy" in err
    assert (repo / "values.yaml").read_text() == text


def test_an_aliased_block_out_of_an_explicit_target_is_refused(tmp_path: Path):
    text = "dev: &base\n  image:\n    repository: ghcr.io/acme/api\n    tag: '1'\nprod: *base\n"
    config = (
        "environments: [{name: dev, gates: {image_exists: false}}, {name: prod}]\n"
        "apps:\n  api:\n    image: ghcr.io/acme/api\n"
        "    targets: {dev: [{file: values.yaml, key: dev.image}], prod: [{file: values.yaml, key: prod.image}]}\n"
    )
    repo = make_repo(tmp_path / "r", {"values.yaml": text, ".promoter.yaml": config})
    assert [(r["yaml_path"], r["line"], r["alias_of"]) for r in images(repo)] == [
        ("dev.image", 3, None),
        ("prod.image", 5, {"line": 1, "column": 6, "yaml_path": "dev"}),
    ]
    code, _, err = bump(repo, "ghcr.io/acme/api:2", "--app", "api", "--env", "dev")
    assert code == 2 and "values.yaml:5 (prod)" in err, err
    assert (repo / "values.yaml").read_text() == text


# ---- versioned lists: ambiguity --------------------------------------------------------------------------
VERSIONS = """# one image per supported NATS version
versions:
  - version: "2.11"
    image: nats:2.11.1-alpine
  - version: "2.10"
    image: nats:2.10.26-alpine
"""


def test_references_pinning_different_values_are_ambiguous_until_chosen(tmp_path: Path):
    repo = make_repo(tmp_path / "r", {"values.yaml": VERSIONS})
    code, out, err = bump(repo, "nats:2.11.3-alpine", "--path", "values.yaml")
    assert code == 2 and out == ""
    assert "pin 2 different values" in err and "versions[0].image = nats:2.11.1-alpine" in err
    assert "--all-matches" in err and "explicit target" in err
    assert (repo / "values.yaml").read_text() == VERSIONS
    code, _, err = bump(repo, "nats:2.11.3-alpine", "--path", "values.yaml", "--all-matches")
    assert code == 0, err
    assert (repo / "values.yaml").read_text() == VERSIONS.replace("2.11.1-alpine", "2.11.3-alpine").replace(
        "2.10.26-alpine", "2.11.3-alpine"
    )


# ---- name + tag blocks, global registries, git repositories -------------------------------------------
def test_name_and_tag_block(tmp_path: Path):
    text = "image:\n  name: quay.io/opstree/druid-exporter\n  tag: v0.11\n  pullPolicy: IfNotPresent\n"
    repo = make_repo(tmp_path / "r", {"values.yaml": text})
    (ref,) = images(repo)
    assert ref["image"] == "quay.io/opstree/druid-exporter:v0.11"
    code, _, err = bump(repo, "quay.io/opstree/druid-exporter:v0.12", "--path", "values.yaml")
    assert code == 0, err
    assert (repo / "values.yaml").read_text() == text.replace("v0.11", "v0.12")


GLOBAL = """global:
  imageRegistry: registry.example.com
web:
  image:
    repository: acme/web
    tag: "1.0"
proxy:
  image:
    registry: docker.io
    repository: library/nginx
    tag: "1.27"
"""


def test_a_global_registry_names_blocks_that_name_none(tmp_path: Path):
    repo = make_repo(
        tmp_path / "r",
        {
            "chart/Chart.yaml": CHART.format(name="web"),
            "chart/values.yaml": GLOBAL,
            "chart/templates/web.yaml": DEPLOYMENT.format(
                name="web",
                image='"{{ .Values.global.imageRegistry }}/{{ .Values.web.image.repository }}:{{ .Values.web.image.tag }}"',
            ),
        },
    )
    refs = {r["yaml_path"]: r for r in images(repo)}
    assert refs["web.image"]["image"] == "registry.example.com/acme/web:1.0"
    assert refs["web.image"]["repository"] == "registry.example.com/acme/web"
    assert refs["proxy.image"]["image"] == "docker.io/library/nginx:1.27"  # its own registry wins
    text = invoke("images", "--repo", str(repo)).stdout
    assert "registry.example.com/acme/web:1.0" in text  # text and JSON name it alike
    code, _, err = bump(repo, "registry.example.com/acme/web:1.1", "--path", "chart")
    assert code == 0, err
    assert (repo / "chart/values.yaml").read_text() == GLOBAL.replace('"1.0"', '"1.1"')
    assert render_images(repo / "chart") == ["registry.example.com/acme/web:1.1"]


def test_global_image_registry_form(tmp_path: Path):
    text = "global:\n  image:\n    registry: mirror.example.com\nimage:\n  repository: acme/web\n  tag: '1'\n"
    repo = make_repo(tmp_path / "r", {"values.yaml": text})
    (ref,) = images(repo)
    assert ref["image"] == "mirror.example.com/acme/web:1"


def test_a_git_repository_block_is_not_an_image(tmp_path: Path):
    text = (
        "source:\n  repository: https://github.com/acme/charts\n  tag: v1.2.0\n"
        "mirror:\n  repository: github.com/acme/charts.git\n  tag: v1.2.0\n"
        "image:\n  repository: ghcr.io/acme/web\n  tag: '1'\n"
    )
    repo = make_repo(tmp_path / "r", {"values.yaml": text})
    assert [r["yaml_path"] for r in images(repo)] == ["image"]


# ---- subchart overrides in an umbrella chart -----------------------------------------------------------
UMBRELLA = """# umbrella chart
grafana:
  adminUser: admin
  image:
    tag: 10.4.1   # pinned by us
"""


@pytest.mark.parametrize("vendored", ["folder", "tgz"])
def test_a_subchart_override_knows_its_repository_from_the_vendored_chart(tmp_path: Path, vendored: str):
    sub = {
        "Chart.yaml": CHART.format(name="grafana"),
        "values.yaml": "image:\n  registry: docker.io\n  repository: grafana/grafana\n  tag: ''\nadminUser: x\n",
        "templates/deployment.yaml": DEPLOYMENT.format(
            name="grafana",
            image='"{{ .Values.image.registry }}/{{ .Values.image.repository }}:{{ .Values.image.tag }}"',
        ),
    }
    files = {
        "platform/Chart.yaml": CHART.format(name="platform")
        + "dependencies:\n  - name: grafana\n    version: 1.0.0\n    repository: https://grafana.github.io/helm-charts\n",
        "platform/values.yaml": UMBRELLA,
    }
    if vendored == "folder":
        files.update({f"platform/charts/grafana/{k}": v for k, v in sub.items()})
    repo = make_repo(tmp_path / "r", files)
    if vendored == "tgz":
        import io
        import tarfile

        (repo / "platform/charts").mkdir()
        with tarfile.open(repo / "platform/charts/grafana-1.0.0.tgz", "w:gz") as tar:
            for name, body in sub.items():
                data = body.encode()
                info = tarfile.TarInfo(f"grafana/{name}")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    (ref,) = [r for r in images(repo, "platform/values.yaml")]
    assert (ref["yaml_path"], ref["image"]) == ("grafana.image", "docker.io/grafana/grafana:10.4.1")
    assert render_images(repo / "platform") == ["docker.io/grafana/grafana:10.4.1"]
    code, _, err = bump(repo, "docker.io/grafana/grafana:11.0.0", "--path", "platform/values.yaml")
    assert code == 0, err
    assert (repo / "platform/values.yaml").read_text() == UMBRELLA.replace("10.4.1", "11.0.0")
    assert render_images(repo / "platform") == ["docker.io/grafana/grafana:11.0.0"]


# ---- keys: a missing tag key ---------------------------------------------------------------------------
def test_a_missing_tag_key_is_added_only_where_the_chart_declares_it_with_a_warning(tmp_path: Path):
    repo = make_repo(
        tmp_path / "r",
        {
            "chart/Chart.yaml": CHART.format(name="web"),
            "chart/values.yaml": "image:\n  repository: ghcr.io/acme/web\n  tag: ''\n",
            "chart/values-prod.yaml": "image:\n  repository: ghcr.io/acme/web\n",
            "plain/values.yaml": "image:\n  repository: ghcr.io/acme/web\n",
        },
    )
    code, _, err = bump(repo, "ghcr.io/acme/web:2", "--path", "chart/values-prod.yaml")
    assert code == 0, err
    assert (repo / "chart/values-prod.yaml").read_text() == 'image:\n  repository: ghcr.io/acme/web\n  tag: "2"\n'
    assert "warning: chart/values-prod.yaml:2 (image): tag key added" in err
    code, _, err = bump(repo, "ghcr.io/acme/web:2", "--path", "plain/values.yaml")
    assert code == 2 and "will not invent one" in err
    assert (repo / "plain/values.yaml").read_text() == "image:\n  repository: ghcr.io/acme/web\n"


# ---- a digest that cannot be written, where digests are required ---------------------------------------
def test_digest_required_blocks_a_split_reference_without_a_digest_key(tmp_path: Path):
    config = (
        # image_exists off: the image is in no registry (tests/registry judges that gate for real).
        "environments: [{name: prod, gates: {digest_required: true, image_exists: false}}]\n"
        "apps:\n  exporter:\n    image: ghcr.io/oliver006/redis_exporter\n    paths: {prod: values.yaml}\n"
    )
    repo = make_repo(tmp_path / "r", {".promoter.yaml": config, "values.yaml": SIBLING})
    code, _, err = bump(
        repo, f"ghcr.io/oliver006/redis_exporter:v1.87.0@{DIGEST}", "--app", "exporter", "--env", "prod"
    )
    assert code == 3, err
    assert "gate-digest-required" in err and "values.yaml:4 (exporter.image) cannot hold the digest" in err
    assert (repo / "values.yaml").read_text() == SIBLING


def test_a_kustomization_images_entry_over_a_placeholder_manifest_is_not_ambiguous(tmp_path: Path):
    kust = 'resources:\n  - deployment.yaml\nimages:\n  - name: ghcr.io/acme/api\n    newTag: "1.0.0"\n'
    deploy = DEPLOYMENT.format(name="api", image="ghcr.io/acme/api:0.0.0  # placeholder")
    repo = make_repo(tmp_path / "r", {"dev/kustomization.yaml": kust, "dev/deployment.yaml": deploy})
    code, _, err = bump(repo, "ghcr.io/acme/api:1.1.0", "--path", "dev")
    assert code == 0, err
    assert (repo / "dev/kustomization.yaml").read_text() == kust.replace("1.0.0", "1.1.0")
