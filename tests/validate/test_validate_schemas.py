"""The offline schema source: packaged versions, standalone bundles, kubeconform folders, CRDs, catalogs."""

from __future__ import annotations

import json

import jsonschema
import pytest

from promoter.model.errors import ConfigError, UsageError
from promoter.validate.schemas import (
    SchemaSource,
    builtin_schema,
    crd_schemas,
    find_crds,
    kubeconform_filename,
    resolve_version,
    shipped_versions,
    write_kubeconform_folder,
)
from tests.conftest import make_repo

CERT_CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: certificates.cert-manager.io
spec:
  group: cert-manager.io
  names: {kind: Certificate, plural: certificates}
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
            required: [secretName]
            properties:
              secretName: {type: string}
              duration: {type: string, nullable: true}
              port: {x-kubernetes-int-or-string: true}
              extra:
                type: object
                x-kubernetes-preserve-unknown-fields: true
"""


def refs(node, out=None):
    out = [] if out is None else out
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                out.append(v)
            else:
                refs(v, out)
    elif isinstance(node, list):
        for v in node:
            refs(v, out)
    return out


@pytest.mark.parametrize(
    "configured, version, exact",
    [
        ("1.32", "1.32.0", True),
        ("1.32.0", "1.32.0", True),
        ("v1.32", "1.32.0", True),
        ("1.32.7", "1.32.0", False),
        ("1.25", "1.25.0", True),
    ],
)
def test_resolve_version(configured, version, exact):
    got = resolve_version(configured)
    assert (got.version, got.exact) == (version, exact)
    assert (got.note is None) == exact
    if not exact:
        assert "1.32.7" in got.note and "1.32.0" in got.note


@pytest.mark.parametrize("configured", ["1.12", "2.0", "latest", "1.99.0"])
def test_unsupported_version_names_the_range(configured):
    lo, hi = shipped_versions()[0], shipped_versions()[-1]
    with pytest.raises(ConfigError) as info:
        resolve_version(configured)
    assert f"{lo[0]}.{lo[1]}–{hi[0]}.{hi[1]}" in str(info.value)
    assert info.value.exit_code == 2


def test_standalone_bundle_is_self_contained_and_valid():
    schema = builtin_schema("1.32.0", True, "apps/v1", "Deployment")
    found = refs(schema)
    assert found and all(r.startswith("#/$defs/") for r in found)
    assert {r[len("#/$defs/") :] for r in found} <= set(schema["$defs"])
    assert "$id" not in schema
    validator = jsonschema.Draft202012Validator(schema)
    jsonschema.Draft202012Validator.check_schema(schema)
    good = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "x"},
        "spec": {
            "selector": {"matchLabels": {"a": "b"}},
            "template": {"spec": {"containers": [{"name": "c", "image": "i"}]}},
        },
    }
    assert validator.is_valid(good)
    bad = json.loads(json.dumps(good))
    bad["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    assert not validator.is_valid(bad)


def test_non_strict_schema_allows_unknown_fields():
    schema = builtin_schema("1.32.0", False, "v1", "ConfigMap")
    assert jsonschema.Draft202012Validator(schema).is_valid({"apiVersion": "v1", "kind": "ConfigMap", "extra": 1})
    strict = builtin_schema("1.32.0", True, "v1", "ConfigMap")
    assert not jsonschema.Draft202012Validator(strict).is_valid({"apiVersion": "v1", "kind": "ConfigMap", "extra": 1})


def test_sub_objects_and_unknown_kinds_have_no_schema():
    assert builtin_schema("1.32.0", True, "apps/v1", "DeploymentSpec") is None
    assert builtin_schema("1.32.0", True, "example.com/v1", "Widget") is None


@pytest.mark.parametrize(
    "api_version, kind, name",
    [
        ("apps/v1", "Deployment", "deployment-apps-v1.json"),
        ("v1", "Service", "service-v1.json"),
        ("networking.k8s.io/v1", "Ingress", "ingress-networking-v1.json"),
        ("cert-manager.io/v1", "Certificate", "certificate-cert-manager-v1.json"),
    ],
)
def test_kubeconform_filename(api_version, kind, name):
    assert kubeconform_filename(api_version, kind) == name


def test_kubeconform_folder_layout(tmp_path):
    source = SchemaSource(resolve_version("1.32"))
    source.add_crds([__import__("yaml").safe_load(CERT_CRD)])
    kinds = [
        ("apps/v1", "Deployment"),
        ("v1", "Service"),
        ("cert-manager.io/v1", "Certificate"),
        ("example.com/v1", "Widget"),
    ]
    template, written = write_kubeconform_folder(tmp_path, source, kinds)
    assert (
        template
        == f"{tmp_path}/{{{{.NormalizedKubernetesVersion}}}}-standalone{{{{.StrictSuffix}}}}/{{{{.ResourceKind}}}}{{{{.KindSuffix}}}}.json"
    )
    folder = tmp_path / "v1.32.0-standalone-strict"
    assert sorted(p.name for p in folder.iterdir()) == [
        "certificate-cert-manager-v1.json",
        "deployment-apps-v1.json",
        "service-v1.json",
    ]
    assert ("example.com/v1", "Widget") not in written
    for p in folder.iterdir():
        schema = json.loads(p.read_text())
        assert all(r.startswith("#/$defs/") for r in refs(schema)), p.name


def test_crd_schema_is_strict_except_where_preserved():
    import yaml

    schemas = crd_schemas(yaml.safe_load(CERT_CRD), strict=True)
    schema = schemas[("cert-manager.io/v1", "Certificate")]
    v = jsonschema.Draft202012Validator(schema)
    base = {"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": {"name": "t"}}
    assert v.is_valid(
        {**base, "spec": {"secretName": "s", "duration": None, "port": "https", "extra": {"anything": [1]}}}
    )
    assert v.is_valid({**base, "spec": {"secretName": "s", "port": 443}})
    assert not v.is_valid({**base, "spec": {"secretName": "s", "secretname": "typo"}})
    assert not v.is_valid({**base, "spec": {}})
    assert not v.is_valid({**base, "spec": {"secretName": "s", "port": 1.5}})
    lax = crd_schemas(yaml.safe_load(CERT_CRD), strict=False)[("cert-manager.io/v1", "Certificate")]
    assert jsonschema.Draft202012Validator(lax).is_valid({**base, "spec": {"secretName": "s", "secretname": "typo"}})


def test_find_crds_in_repository(tmp_path):
    repo = make_repo(
        tmp_path / "repo",
        {
            "crds/cert-manager.yaml": "---\n" + CERT_CRD,
            "apps/a.yaml": "kind: ConfigMap\n",
            "apps/broken.yaml": "kind: CustomResourceDefinition\n: [\n",
            ".hidden/crd.yaml": CERT_CRD,
        },
    )
    found = find_crds(repo)
    assert [c["metadata"]["name"] for c in found] == ["certificates.cert-manager.io"]


def test_catalog_folder(tmp_path):
    catalog = tmp_path / "catalog"
    (catalog / "monitoring.coreos.com").mkdir(parents=True)
    (catalog / "monitoring.coreos.com" / "servicemonitor_v1.json").write_text(
        json.dumps({"type": "object", "required": ["spec"], "properties": {"spec": {"type": "object"}}})
    )
    source = SchemaSource(resolve_version("1.32"), schema_dirs=[catalog], repo=tmp_path)
    hit = source.lookup("monitoring.coreos.com/v1", "ServiceMonitor")
    assert hit is not None and hit.origin == "catalog/monitoring.coreos.com/servicemonitor_v1.json"
    assert source.lookup("monitoring.coreos.com/v1", "PodMonitor") is None


def test_missing_schema_folder_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="schema folder schemas/crds does not exist") as info:
        SchemaSource(resolve_version("1.32"), schema_dirs=[tmp_path / "schemas/crds"], repo=tmp_path)
    assert info.value.exit_code == 2


def test_broken_catalog_file_names_the_file(tmp_path):
    (tmp_path / "cat/example.com").mkdir(parents=True)
    (tmp_path / "cat/example.com/widget_v1.json").write_text("{nope")
    source = SchemaSource(resolve_version("1.32"), schema_dirs=[tmp_path / "cat"], repo=tmp_path)
    with pytest.raises(UsageError, match="cat/example.com/widget_v1.json: not a readable JSON schema"):
        source.lookup("example.com/v1", "Widget")
