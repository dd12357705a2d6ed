"""The kubeconform wrapper against a fake binary replaying real kubeconform v0.7.0 output."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from promoter.model.errors import ToolError, UsageError
from promoter.model.finding import Status
from promoter.validate import ValidateOptions, validate
from promoter.validate.kubeconform import (
    _result,
    parse_output,
    split_message,
    write_inputs,
)
from promoter.validate.schemas import SchemaSource, resolve_version
from promoter.yamlio.manifests import load_manifests


def reference_resources(ref: Path) -> list:
    out = []
    for name in ("app.yaml", "extra.yaml"):
        resources, problems = load_manifests((ref / "inputs" / name).read_text(), "apps/shop", file=f"apps/shop/{name}")
        assert problems == []
        out += resources
    return out


def by_id(result) -> dict:
    return {s.id: s for s in result.subjects}


def options(tmp_path: Path, **kw) -> ValidateOptions:
    return ValidateOptions(kubernetes_version="1.32", repo=tmp_path, validator="kubeconform", **kw)


def test_strict_missing_replay_maps_every_status(tmp_path, fake_kubeconform, kubeconform_reference):
    resources = reference_resources(kubeconform_reference)
    result = validate(resources, options(tmp_path, strict_missing=True))

    argv = json.loads(fake_kubeconform.read_text())
    assert argv[:3] == ["-strict", "-kubernetes-version", "1.32.0"]
    template = argv[argv.index("-schema-location") + 1]
    assert template.endswith(
        "/{{.NormalizedKubernetesVersion}}-standalone{{.StrictSuffix}}/{{.ResourceKind}}{{.KindSuffix}}.json"
    )
    assert argv[argv.index("-output") + 1] == "json" and "-summary" in argv and "-verbose" in argv
    assert "-ignore-missing-schemas" not in argv
    assert result.stats["validator"] == "kubeconform"

    subjects = by_id(result)
    assert subjects["apps/v1/Deployment/shop/web"].status is Status.PASSED
    assert subjects["v1/Secret/-/db"].status is Status.PASSED
    assert subjects["v1/ConfigMap/-/cfg"].status is Status.PASSED
    assert subjects["v1/Service/shop/web"].status is Status.FAILED
    assert subjects["apps/v1/Deployment/-/worker"].status is Status.FAILED
    assert subjects["cert-manager.io/v1/Certificate/-/tls"].status is Status.ERROR

    service = next(f for f in result.findings if f.subject == "v1/Service/shop/web")
    assert service.rule == "schema" and service.source == "kubeconform"
    assert service.message == "Service shop/web: /spec/ports/0/port: got string, want integer"
    assert str(service.location) == "apps/shop/app.yaml:18"
    assert service.target == "apps/shop"
    worker = next(f for f in result.findings if f.subject == "apps/v1/Deployment/-/worker")
    assert worker.evidence["pointer"] == "/spec/template/spec/containers/0/imagePullPolicyy"
    assert "imagePullPolicyy" in worker.message
    missing = next(f for f in result.findings if f.subject == "cert-manager.io/v1/Certificate/-/tls")
    assert missing.rule == "schema-missing" and str(missing.location) == "apps/shop/extra.yaml:18"


def test_same_verdicts_as_builtin(tmp_path, fake_kubeconform, kubeconform_reference):
    resources = reference_resources(kubeconform_reference)
    ours = validate(resources, ValidateOptions(kubernetes_version="1.32", repo=tmp_path, strict_missing=True))
    theirs = validate(resources, options(tmp_path, strict_missing=True))
    assert {s.id: s.status for s in ours.subjects} == {s.id: s.status for s in theirs.subjects}
    pointers = lambda r: sorted((f.subject, f.evidence.get("pointer")) for f in r.findings)  # noqa: E731
    assert pointers(ours) == pointers(theirs)


def test_ignore_missing_schemas_and_skip(tmp_path, fake_kubeconform, kubeconform_reference):
    resources = reference_resources(kubeconform_reference)
    result = validate(resources, options(tmp_path, skip_kinds=["Secret"]))
    argv = json.loads(fake_kubeconform.read_text())
    assert "-ignore-missing-schemas" in argv
    assert argv[argv.index("-skip") + 1] == "Secret"
    subjects = by_id(result)
    cert = subjects["cert-manager.io/v1/Certificate/-/tls"]
    assert cert.status is Status.SKIPPED and "no schema for Certificate" in cert.reason
    secret = subjects["v1/Secret/-/db"]
    assert secret.status is Status.SKIPPED and "skip_kinds" in secret.reason
    assert not any(f.rule == "schema-missing" for f in result.findings)
    assert sorted(f.subject for f in result.findings) == ["apps/v1/Deployment/-/worker", "v1/Service/shop/web"]


def test_output_that_is_not_json_is_a_tool_error(tmp_path, fake_kubeconform, kubeconform_reference, monkeypatch):
    monkeypatch.setenv("FAKE_KUBECONFORM_RECORDING", "output_text_summary_verbose.out")
    with pytest.raises(ToolError) as info:
        validate(reference_resources(kubeconform_reference), options(tmp_path, strict_missing=True))
    assert info.value.exit_code == 1
    assert "not JSON" in str(info.value)
    assert "extra.yaml - Certificate tls failed validation" in str(info.value)
    assert "\n" not in str(info.value)


def test_crash_is_a_tool_error(tmp_path, fake_kubeconform, kubeconform_reference, monkeypatch):
    monkeypatch.setenv("FAKE_KUBECONFORM_CRASH", "1")
    with pytest.raises(ToolError, match=r"^kubeconform failed \(exit 2\): panic: runtime error"):
        validate(reference_resources(kubeconform_reference), options(tmp_path))


def test_rejected_version_is_reported_in_one_line(fake_kubeconform, kubeconform_reference):
    # What the real binary does with `-kubernetes-version 1.32`: the wrapper always passes x.y.z.
    proc = subprocess.run(["kubeconform", "-kubernetes-version", "1.32", "x.yaml"], capture_output=True, text=True)
    with pytest.raises(ToolError, match='invalid value "1.32" for flag -kubernetes-version'):
        parse_output(proc.stdout, proc.returncode, proc.stderr)


def test_missing_binary_is_a_usage_error(tmp_path, no_kubeconform, kubeconform_reference):
    with pytest.raises(UsageError) as info:
        validate(reference_resources(kubeconform_reference), options(tmp_path))
    assert info.value.exit_code == 2
    assert "kubeconform" in str(info.value) and "--validator builtin" in str(info.value)


def test_auto_uses_builtin_without_kubeconform(tmp_path, no_kubeconform, kubeconform_reference):
    result = validate(
        reference_resources(kubeconform_reference),
        ValidateOptions(kubernetes_version="1.32", repo=tmp_path, validator="auto"),
    )
    assert result.stats["validator"] == "builtin"
    assert {f.source for f in result.findings} == {"schema"}


def test_auto_prefers_kubeconform_on_path(tmp_path, fake_kubeconform, kubeconform_reference):
    result = validate(
        reference_resources(kubeconform_reference),
        ValidateOptions(kubernetes_version="1.32.0", repo=tmp_path, validator="auto", strict_missing=True),
    )
    assert result.stats["validator"] == "kubeconform"


def test_non_verbose_recording_and_unknown_files(tmp_path, kubeconform_reference):
    """output_json_summary.out lists only failures, and a file-level error (broken.yaml) of no resource."""
    resources = reference_resources(kubeconform_reference)
    body = (kubeconform_reference / "output_json_summary.out").read_text().rsplit("exit=", 1)[0]
    records = parse_output(body, 1)
    folder = tmp_path / "in"
    folder.mkdir()
    mapping = write_inputs(folder, resources)
    # The recording names the original files; map them onto the file the wrapper wrote.
    (written,) = {k[0] for k in mapping}
    for rec in records:
        if rec["filename"] != "broken.yaml":
            rec["filename"] = written
    source = SchemaSource(resolve_version("1.32"))
    result = _result(resources, resources, [], records, mapping, source, True, [])
    subjects = by_id(result)
    assert subjects["v1/Service/shop/web"].status is Status.FAILED
    # Not listed without -verbose: an error, never a silent pass.
    assert subjects["v1/Secret/-/db"].status is Status.ERROR
    broken = [f for f in result.findings if "broken.yaml" in f.message]
    assert len(broken) == 1 and "did not find expected ',' or ']'" in broken[0].message


def test_write_inputs_never_puts_two_same_named_resources_in_one_file(tmp_path):
    from promoter.model.resource import Resource

    objs = [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": ns}} for ns in ("x", "y", "z")
    ]
    mapping = write_inputs(tmp_path, [Resource(o, "t") for o in objs])
    assert sorted(mapping.values()) == [0, 1, 2]
    assert len({k[0] for k in mapping}) == 3


@pytest.mark.parametrize(
    "msg, pointer, detail",
    [
        (
            "problem validating schema. Check JSON formatting: jsonschema validation failed with "
            "'file:///schemas/v1.32.0-standalone-strict/service-v1.json#' - at '/spec/ports/0/port': got string, want integer",
            "/spec/ports/0/port",
            "got string, want integer",
        ),
        ("could not find schema for Certificate", None, "could not find schema for Certificate"),
    ],
)
def test_split_message(msg, pointer, detail):
    assert split_message(msg) == (pointer, detail)


def test_fake_refuses_a_schema_folder_without_the_needed_files(
    tmp_path, fake_kubeconform, kubeconform_reference, monkeypatch
):
    """The fake checks what the real binary needs: here the folder is empty, so it cannot validate offline."""
    import promoter.validate.kubeconform as wrapper

    def empty_folder(directory, source, kinds):
        directory.mkdir(parents=True)
        return str(
            directory
            / "{{.NormalizedKubernetesVersion}}-standalone{{.StrictSuffix}}/{{.ResourceKind}}{{.KindSuffix}}.json"
        ), {}

    monkeypatch.setattr(wrapper, "write_kubeconform_folder", empty_folder)
    with pytest.raises(ToolError, match="recorded as validated but no schema file"):
        validate(reference_resources(kubeconform_reference), options(tmp_path, strict_missing=True))


# ---- the same wrapper against the real kubeconform v0.7.0 binary (shared/tools; required under CI) --------------


def test_real_binary_maps_every_status(tmp_path, real_kubeconform, kubeconform_reference):
    resources = reference_resources(kubeconform_reference)
    result = validate(resources, options(tmp_path, strict_missing=True))
    assert result.stats["validator"] == "kubeconform"
    subjects = by_id(result)
    assert {k: s.status for k, s in subjects.items()} == {
        "apps/v1/Deployment/shop/web": Status.PASSED,
        "v1/Secret/-/db": Status.PASSED,
        "v1/ConfigMap/-/cfg": Status.PASSED,
        "v1/Service/shop/web": Status.FAILED,
        "apps/v1/Deployment/-/worker": Status.FAILED,
        "cert-manager.io/v1/Certificate/-/tls": Status.ERROR,
    }
    service = next(f for f in result.findings if f.subject == "v1/Service/shop/web")
    assert service.message == "Service shop/web: /spec/ports/0/port: got string, want integer"
    assert str(service.location) == "apps/shop/app.yaml:18" and service.source == "kubeconform"
    worker = next(f for f in result.findings if f.subject == "apps/v1/Deployment/-/worker")
    assert worker.evidence["pointer"] == "/spec/template/spec/containers/0/imagePullPolicyy"
    missing = next(f for f in result.findings if f.subject == "cert-manager.io/v1/Certificate/-/tls")
    assert missing.rule == "schema-missing" and str(missing.location) == "apps/shop/extra.yaml:18"


def test_real_binary_gives_the_builtin_verdicts_and_pointers(tmp_path, real_kubeconform, kubeconform_reference):
    resources = reference_resources(kubeconform_reference)
    for strict_missing in (False, True):
        ours = validate(
            resources, ValidateOptions(kubernetes_version="1.32", repo=tmp_path, strict_missing=strict_missing)
        )
        theirs = validate(resources, options(tmp_path, strict_missing=strict_missing))
        assert {s.id: s.status for s in ours.subjects} == {s.id: s.status for s in theirs.subjects}
        pointers = lambda r: sorted((f.subject, f.evidence.get("pointer")) for f in r.findings)  # noqa: E731
        assert pointers(ours) == pointers(theirs)


def test_real_binary_skips_kinds_and_missing_schemas(tmp_path, real_kubeconform, kubeconform_reference):
    result = validate(reference_resources(kubeconform_reference), options(tmp_path, skip_kinds=["Secret"]))
    subjects = by_id(result)
    assert subjects["cert-manager.io/v1/Certificate/-/tls"].status is Status.SKIPPED
    assert subjects["v1/Secret/-/db"].status is Status.SKIPPED and "skip_kinds" in subjects["v1/Secret/-/db"].reason
    assert sorted(f.subject for f in result.findings) == ["apps/v1/Deployment/-/worker", "v1/Service/shop/web"]


def test_real_binary_on_many_resources_matches_builtin(tmp_path, real_kubeconform):
    # More than one input file's worth, with names repeated across namespaces: the wrapper's mapping holds.
    text = "".join(
        f"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i % 7}, namespace: ns{i}}}\ndata: {{k: {v}}}\n"
        for i, v in enumerate(["ok", 1, "ok", True, "ok"] * 30)
    )
    resources, problems = load_manifests(text, "t", file="t.yaml")
    assert problems == [] and len(resources) == 150
    ours = validate(resources, ValidateOptions(kubernetes_version="1.32", repo=tmp_path))
    theirs = validate(resources, options(tmp_path))
    assert [s.status for s in ours.subjects] == [s.status for s in theirs.subjects]
    assert sum(s.status is Status.FAILED for s in theirs.subjects) == 60
