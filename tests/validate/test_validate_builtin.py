"""The built-in validator, the manifest loader and the `validate` entry point."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promoter.config.loader import load_config
from promoter.model.errors import ConfigError
from promoter.model.finding import Location, Status
from promoter.model.resource import Resource
from promoter.validate import ValidateOptions, validate
from promoter.validate.batch import validate_files, validate_items
from promoter.validate.builtin import validate_resources
from promoter.validate.schemas import SchemaSource, resolve_version
from promoter.yamlio.manifests import load_manifests
from tests.conftest import make_repo

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from bench_validate import app_yaml  # noqa: E402

from .test_validate_schemas import CERT_CRD  # noqa: E402

MANIFEST = """\
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  ports:
  - port: x
---
# a comment before the object
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx
        imagePullPolicyy: Always
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, creationTimestamp: 2024-01-01}
data: {a: b}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: tls}
spec: {secretName: tls}
"""


@pytest.fixture(scope="module")
def source() -> SchemaSource:
    return SchemaSource(resolve_version("1.32"))


def load(text: str = MANIFEST, file: str = "apps/web/all.yaml") -> list[Resource]:
    resources, problems = load_manifests(text, "apps/web", file=file)
    assert problems == []
    return resources


def test_findings_carry_pointer_location_subject_and_target(source):
    result = validate_resources(load(), source)
    status = {s.id: s.status for s in result.subjects}
    assert status == {
        "v1/Service/shop/web": Status.FAILED,
        "apps/v1/Deployment/-/web": Status.FAILED,
        "v1/ConfigMap/-/cfg": Status.PASSED,
        "cert-manager.io/v1/Certificate/-/tls": Status.SKIPPED,
    }
    service, deployment = result.findings
    assert service.message == 'Service shop/web: /spec/ports/0/port: "x" is not of type "integer"'
    assert (service.rule, service.severity.value, service.source) == ("schema", "error", "schema")
    assert (service.subject, service.target, str(service.location)) == (
        "v1/Service/shop/web",
        "apps/web",
        "apps/web/all.yaml:1",
    )
    assert deployment.evidence["pointer"] == "/spec/template/spec/containers/0/imagePullPolicyy"
    assert "imagePullPolicyy" in deployment.message
    assert str(deployment.location) == "apps/web/all.yaml:11"
    skipped = result.subjects[3]
    assert "no schema for Certificate" in skipped.reason
    assert result.stats["resources_invalid"] == 2


def test_strict_missing_makes_a_missing_schema_an_error(source):
    result = validate_resources(load(), source, strict_missing=True)
    missing = [f for f in result.findings if f.rule == "schema-missing"]
    assert len(missing) == 1 and missing[0].subject == "cert-manager.io/v1/Certificate/-/tls"
    assert result.subjects[3].status is Status.ERROR


def test_skip_kinds(source):
    result = validate_resources(load(), source, skip_kinds=["Service"])
    assert result.subjects[0].status is Status.SKIPPED and "skip_kinds" in result.subjects[0].reason
    assert [f.subject for f in result.findings] == ["apps/v1/Deployment/-/web"]


def test_non_strict_accepts_unknown_fields():
    result = validate_resources(load(), SchemaSource(resolve_version("1.32"), strict=False))
    assert [f.subject for f in result.findings] == ["v1/Service/shop/web"]


def test_object_without_kind(source):
    result = validate_resources(
        [Resource({"apiVersion": "v1", "metadata": {"name": "x"}}, "t", Location("f.yaml", 3))], source
    )
    (f,) = result.findings
    assert f.message.endswith("object has no kind: not a Kubernetes object") and str(f.location) == "f.yaml:3"
    assert "render.exclude" in (f.help or "")
    assert result.subjects[0].status is Status.ERROR


def test_yaml_only_values_are_converted_like_kubernetes(source):
    # An integer key and a date value cannot reach JSON Schema as they are.
    r = Resource({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {1: "a"}}, "t")
    assert validate_resources([r], source).findings == []
    bad = Resource({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": 1}}, "t")
    assert validate_resources([bad], source).findings[0].evidence["pointer"] == "/data/a"


def test_crd_among_resources_and_in_repository(tmp_path):
    cert = "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: tls}\nspec: {secretName: tls, secretname: typo}\n"
    opts = ValidateOptions(kubernetes_version="1.32", repo=tmp_path / "empty")
    with_crd = validate(load(CERT_CRD + "---\n" + cert), opts)
    (f,) = [f for f in with_crd.findings if f.subject == "cert-manager.io/v1/Certificate/-/tls"]
    assert "secretname" in f.message and f.evidence["schema"] == "CRD certificates.cert-manager.io"

    repo = make_repo(tmp_path / "repo", {"crds/cert.yaml": CERT_CRD})
    in_repo = validate(load(cert), ValidateOptions(kubernetes_version="1.32", repo=repo))
    assert [s.status for s in in_repo.subjects] == [Status.FAILED]


def test_catalog_folder_from_config(tmp_path):
    repo = make_repo(
        tmp_path / "repo",
        {
            ".promoter.yaml": "version: 1\nenvironments: [{name: dev}]\nvalidation:\n  kubernetes_version: '1.31'\n  schema_dirs: [schemas]\n",
            "schemas/example.com/widget_v1.json": json.dumps(
                {
                    "type": "object",
                    "properties": {"spec": {"type": "object", "properties": {"size": {"type": "integer"}}}},
                }
            ),
        },
    )
    opts = ValidateOptions.from_config(load_config(repo), repo)
    assert opts.kubernetes_version == "1.31" and opts.schema_dirs == [repo / "schemas"]
    widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: big}\n"
    result = validate(load(widget), opts)
    (f,) = result.findings
    assert f.message == 'Widget w: /spec/size: "big" is not of type "integer"'
    assert result.stats["kubernetes_version"] == "1.31.0"


def test_from_config_overrides_and_missing_folder(tmp_path):
    repo = make_repo(
        tmp_path / "repo",
        {".promoter.yaml": "version: 1\nenvironments: [{name: dev}]\nvalidation: {schema_dirs: [nope]}\n"},
    )
    opts = ValidateOptions.from_config(load_config(repo), repo, validator="builtin", strict_missing=True, strict=None)
    assert opts.strict_missing is True and opts.strict is True
    with pytest.raises(ConfigError, match="schema folder nope does not exist"):
        validate([], opts)


def test_inexact_version_is_noted(tmp_path):
    result = validate(load(), ValidateOptions(kubernetes_version="1.32.4", repo=tmp_path))
    notes = [f for f in result.findings if f.rule == "schema-version"]
    assert len(notes) == 1 and notes[0].severity.value == "info" and "1.32.0" in notes[0].message


def test_same_verdicts_as_plain_jsonschema(source):
    """The baseline: python-jsonschema with the same standalone schemas, on a generated sample."""
    text = "---\n".join(app_yaml(i, broken=i % 3 == 0) for i in range(9))
    resources = load(text, "rendered.yaml")
    ours = validate_resources(resources, source)
    baseline = {}
    for r in resources:
        schema = source.lookup(r.api_version, r.kind).schema
        baseline[r.id] = jsonschema.Draft202012Validator(schema).is_valid(r.obj)
    assert {s.id: s.status is Status.PASSED for s in ours.subjects} == baseline
    assert sum(not ok for ok in baseline.values()) == 3


def test_batch_gives_the_same_result_with_processes(tmp_path, source):
    paths = []
    for i in range(40):
        p = tmp_path / f"app-{i:02d}.yaml"
        p.write_text(app_yaml(i, broken=i % 7 == 0) + ("---\nbad: [\n" if i == 5 else ""))
        paths.append(p)
    one = validate_files(paths, source, jobs=1, repo=tmp_path)
    two = validate_files(paths, source, jobs=2, repo=tmp_path)
    assert [s.to_dict() for s in one.subjects] == [s.to_dict() for s in two.subjects]
    assert [f.to_dict() for f in one.findings] == [f.to_dict() for f in two.findings]
    assert len(one.subjects) == 240
    # The pool was waited for: no manager thread is left for Python 3.11's exit handler to race
    # ("OSError: [Errno 9] Bad file descriptor" printed after the report).
    import threading
    from concurrent.futures import process

    assert not [t for t in threading.enumerate() if isinstance(t, process._ExecutorManagerThread)]
    yaml_errors = [f for f in one.findings if f.rule == "yaml"]
    bad_line = paths[5].read_text().splitlines().index("bad: [") + 1
    assert [str(f.location) for f in yaml_errors] == [f"app-05.yaml:{bad_line}"]
    assert validate_items([("kind: [", "overlay", None)], source).findings[0].location.file == "overlay"


class TestLoader:
    def test_document_lines_and_comments(self):
        resources = load()
        assert [r.location.line for r in resources] == [1, 11, 25, 30]

    def test_timestamps_stay_strings(self):
        (cm,) = load("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {when: 2024-01-01}\n")
        assert cm.obj["data"]["when"] == "2024-01-01"

    def test_broken_document_does_not_hide_the_others(self):
        text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\nkind: [\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n"
        resources, problems = load_manifests(text, "t", file="m.yaml")
        assert [r.name for r in resources] == ["a", "b"]
        assert [r.location.line for r in resources] == [1, 7]
        (p,) = problems
        assert p.rule == "yaml" and str(p.location) == "m.yaml:5"

    def test_rendered_output_locates_at_the_target(self):
        resources, problems = load_manifests(
            "kind: [\n", "apps/x/overlays/dev", location=Location("apps/x/overlays/dev/kustomization.yaml")
        )
        assert problems[0].location.file == "apps/x/overlays/dev/kustomization.yaml"
        assert "of the rendered output" in problems[0].message

    def test_merge_keys_anchors_and_lists(self):
        text = "base: &b {x: 1}\napiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}, data: {<<: *b}}\n"
        (r,) = load(text)
        assert r.name == "a" and r.obj["data"] == {"x": 1}

    def test_template_left_in_a_file_is_a_yaml_finding(self):
        # `{{ .Values.x }}` parses as a mapping used as a key: PyYAML's "unhashable key", not a crash.
        resources, problems = load_manifests(
            "kind: ConfigMap\nmetadata:\n  name: {{ .Values.name }}\n", "t", file="t.yaml"
        )
        assert resources == [] and "invalid map key" in problems[0].message and problems[0].location.file == "t.yaml"

    def test_non_mapping_document(self):
        resources, problems = load_manifests("- a\n- b\n", "t", file="x.yaml")
        assert resources == [] and problems[0].message.startswith("a Kubernetes object must be a mapping")


TRICKY = [
    "yes",
    "No",
    "on",
    "OFF",
    "~",
    "null",
    "Null",
    "0x1F",
    "0o17",
    "017",
    "1_000",
    "1:30",
    "-1:30:00",
    ".inf",
    "-.Inf",
    ".nan",
    "1e3",
    "1.5e-3",
    "+12",
    "2024-01-01",
    "2024-01-01T10:00:00Z",
    "true",
    "False",
    "=",
    "<<x",
    "0",
    "-0",
    "3.",
    "abc",
]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(TRICKY), min_size=1, max_size=12), st.integers(0, 2))
def test_fast_loader_reads_plain_scalars_like_pyyaml(tokens, layout):
    import yaml as pyyaml

    from promoter.yamlio.manifests import ManifestLoader, _fast_documents

    if layout == 0:
        text = "v: [" + ", ".join(tokens) + "]\n"
    elif layout == 1:
        text = "".join(f"k{i}: {t}\n" for i, t in enumerate(tokens))
    else:
        text = "---\n".join(f"- {t}\n" for t in tokens)
    expected = list(pyyaml.load_all(text, Loader=ManifestLoader))
    got = [obj for _, obj in _fast_documents(text)]
    assert repr(got) == repr(expected)  # repr: nan != nan, and 1 == True would hide a wrong type


@settings(max_examples=40, deadline=None)
@given(
    st.recursive(
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.floats(allow_nan=False),
            st.text(max_size=8),
            st.sampled_from(TRICKY),
        ),
        lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=6), kids, max_size=4),
        max_leaves=20,
    )
)
def test_fast_loader_round_trips_dumped_data(data):
    import yaml as pyyaml

    from promoter.yamlio.manifests import ManifestLoader, _fast_documents, _Unusual

    # Dumped by PyYAML, read as kubectl reads it (`0O0` is an integer there): the fast path and the
    # careful loader must agree on every value and type.
    text = pyyaml.safe_dump({"root": data}, default_flow_style=False)
    careful = list(pyyaml.load_all(text, Loader=ManifestLoader))
    try:
        fast = [obj for _, obj in _fast_documents(text)]
    except _Unusual:
        # A key go-yaml reads as no string (`0E0:` is the float 0) is the careful reader's alone: it
        # makes it JSON's string key.
        stack: list = list(careful)
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                assert all(isinstance(k, str) for k in node), node
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
        return
    assert repr(fast) == repr(careful)


def test_a_killed_validating_process_is_an_error_not_a_hang() -> None:
    """A forked child killed mid-share (what the out-of-memory killer does) ends the batch with one
    ToolError at once; run in a subprocess with a time-out because the old pool waited forever."""
    import subprocess
    import textwrap

    script = textwrap.dedent(
        """
        import os, signal, sys
        from promoter.model.errors import ToolError
        from promoter.validate import batch
        from promoter.validate.schemas import SchemaSource, resolve_version

        parent, run = os.getpid(), batch._run

        def killer(start, stop):
            if os.getpid() != parent:
                os.kill(os.getpid(), signal.SIGKILL)
            return run(start, stop)

        batch._run = killer
        items = [("apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: c%d}\\n" % i, "t%d" % i, None) for i in range(64)]
        try:
            batch.validate_items(items, SchemaSource(resolve_version("1.32.0")), jobs=2)
        except ToolError as exc:
            print(exc)
            sys.exit(7)
        sys.exit(0)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 7, out.stderr
    assert "a process validating manifests died" in out.stdout
