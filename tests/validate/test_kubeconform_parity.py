"""Verdict parity with the real kubeconform v0.7.0 on a crafted set of plain manifest files (tests/validate/parity/).

The same files go through promoter's plain-folder reading (a manifest folder, as `check --all` reads it)
and the builtin validator, and through the real kubeconform binary with the same packaged schemas; every
file must get the same verdict in both modes (missing schemas skipped, and missing schemas errors).
Deliberate differences are listed in DIFFERENCES with their reason (docs/kubeconform.md) and must
really differ, so a list that went stale fails too.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from promoter.model.finding import Severity
from promoter.render.graph import build_graph
from promoter.render.renderer import Renderer
from promoter.validate import ValidateOptions, validate
from promoter.validate.schemas import SchemaSource, resolve_version, write_kubeconform_folder
from promoter.yamlio.manifests import load_manifests

PARITY = Path(__file__).resolve().parent / "parity"
FOLDER = "manifests"

# file -> why promoter's verdict differs from kubeconform's on purpose (also in docs/kubeconform.md)
DIFFERENCES: dict[str, str] = {
    "101-keys-with-one-json-text.yaml": '`1:` and `"1":` are one JSON key: kubeconform (and kubectl) keep '
    "either value at random (Go map order); promoter reports a duplicate key",
    "102-anchor-defined-twice.yaml": "an anchor defined twice: go-yaml uses the last definition; libyaml's "
    "composer (PyYAML) refuses the document, and promoter reports it rather than guess",
    "104-non-specific-tag.yaml": '`! true` (the non-specific tag): go-yaml reads the string "true", libyaml '
    "resolves it as if untagged (the boolean) and tells PyYAML no difference; so promoter reads a boolean",
}


def test_the_crafted_set_is_big_enough() -> None:
    files = sorted(p.name for p in PARITY.glob("*.yaml"))
    assert len(files) >= 60
    for words in ("wrong-type", "unknown-field", "missing-required", "int-or-string", "null", "list", "empty"):
        assert any(words in f for f in files), words
    for words in ("removed-api", "yaml11", "bom", "duplicate", "not-an-object", "utf16"):
        assert any(words in f for f in files), words


def kubeconform_verdicts(binary: Path, repo: Path, strict_missing: bool, kinds: set[tuple[str, str]]) -> dict[str, str]:
    return {f: verdict for f, (verdict, _) in kubeconform_results(binary, repo, strict_missing, kinds).items()}


def kubeconform_results(
    binary: Path, repo: Path, strict_missing: bool, kinds: set[tuple[str, str]]
) -> dict[str, tuple[str, str]]:
    """(verdict, messages) of each file."""
    source = SchemaSource(version=resolve_version("1.32"), strict=True, schema_dirs=[], repo=repo)
    template, _ = write_kubeconform_folder(repo.parent / "schemas", source, kinds)
    files = sorted(p.name for p in (repo / FOLDER).glob("*.yaml"))
    args = [str(binary), "-strict", "-kubernetes-version", "1.32.0", "-schema-location", template]
    args += ["-output", "json", "-summary", "-verbose", "-n", "2"]
    if not strict_missing:
        args.append("-ignore-missing-schemas")
    proc = subprocess.run([*args, *files], cwd=repo / FOLDER, capture_output=True, text=True, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr
    results = dict.fromkeys(files, ("pass", ""))
    for rec in json.loads(proc.stdout)["resources"] or []:
        if rec["status"] in ("statusInvalid", "statusError"):
            name = Path(rec["filename"]).name
            results[name] = ("fail", (results[name][1] + "\n" + rec["msg"]).strip())
    return results


def promoter_verdicts(repo: Path, strict_missing: bool) -> tuple[dict[str, str], set[tuple[str, str]]]:
    graph = build_graph(repo)
    (target,) = graph.targets
    assert target.kind == "plain" and target.id == FOLDER
    out = Renderer(repo).render(target)
    result = validate(
        out.resources, ValidateOptions(repo=repo, kubernetes_version="1.32", strict_missing=strict_missing)
    )
    verdicts = {Path(f).name: "pass" for f in target.manifests}
    for f in [*out.findings, *result.findings]:
        if f.severity is Severity.ERROR:
            assert f.location is not None, f
            verdicts[Path(f.location.file).name] = "fail"
    kinds = {(r.api_version, r.kind) for r in out.resources if r.api_version and r.kind}
    return verdicts, kinds


@pytest.mark.parametrize("strict_missing", [False, True], ids=["ignore-missing-schemas", "strict-missing"])
def test_same_verdict_as_kubeconform_on_every_file(kubeconform_binary: Path, tmp_path: Path, strict_missing) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(PARITY, repo / FOLDER)
    ours, kinds = promoter_verdicts(repo, strict_missing)
    theirs = kubeconform_verdicts(kubeconform_binary, repo, strict_missing, kinds)
    assert set(ours) == set(theirs)  # every file read by both: none skipped
    differ = {f: (ours[f], theirs[f]) for f in ours if ours[f] != theirs[f]}
    assert differ.keys() == DIFFERENCES.keys(), differ
    # the set is not trivially all-pass or all-fail
    assert 15 < sum(v == "fail" for v in theirs.values()) < len(theirs) - 15


def test_kubeconform_and_promoter_read_yaml_1_1_numbers_alike(kubeconform_binary: Path, tmp_path: Path) -> None:
    # The cases that differed before promoter read plain manifests as kubectl does (issue 9).
    repo = tmp_path / "repo"
    shutil.copytree(PARITY, repo / FOLDER)
    ours, _ = promoter_verdicts(repo, False)
    expected = {
        "yaml11-0o644-int-field": "pass",
        "yaml11-0o644-string-field": "fail",
        "yaml11-1e3-replicas": "pass",
        "yaml11-sexagesimal-string-field": "pass",
        "yaml11-sexagesimal-replicas": "fail",
        "duplicate-data-key": "fail",
        "not-an-object-values-file": "fail",
        "bom-invalid": "fail",
        "bom-valid": "pass",
    }
    got = {name.split("-", 1)[1].removesuffix(".yaml"): v for name, v in ours.items()}
    assert {k: got[k] for k in expected} == expected


def test_tags_and_keys_read_as_kubeconform_reads_them(kubeconform_binary: Path, tmp_path: Path) -> None:
    # YAML values that are no JSON (issue 9 audit): a `!!set` crashed check; null keys and keys a merge
    # set again passed. Each is now the JSON value kubeconform sees, or an error at the line it names.
    repo = tmp_path / "repo"
    shutil.copytree(PARITY, repo / FOLDER)
    ours, kinds = promoter_verdicts(repo, False)
    theirs = kubeconform_results(kubeconform_binary, repo, False, kinds)
    expected = {
        "null-key": "fail",
        "merge-sets-a-key-again": "fail",
        "merge-list-sets-a-key-twice": "fail",
        "merge-override-of-an-anchor": "fail",
        "set-tag": "pass",
        "omap-tag": "fail",
        "python-tuple-tag": "fail",
        "custom-tags-are-text": "pass",
        "binary-not-base64": "fail",
        "binary-not-utf8": "pass",
        "timestamp-tag-date": "pass",
        "timestamp-tag-not-a-date": "fail",
        "int-tag-on-text": "fail",
        "int-tag-beyond-int64": "fail",
        "number-and-boolean-keys": "pass",
        "key-beyond-int64": "fail",
        "list-as-key": "fail",
        "anchor-contains-itself": "fail",
    }
    got = {name.split("-", 1)[1].removesuffix(".yaml"): v for name, v in ours.items()}
    kc = {name.split("-", 1)[1].removesuffix(".yaml"): v for name, (v, _) in theirs.items()}
    assert {k: got[k] for k in expected} == expected == {k: kc[k] for k in expected}
    # A key set again through a merge: the line kubeconform names ("line 7: key "a" already set in map").
    graph = build_graph(repo)
    (target,) = graph.targets
    out = Renderer(repo).render(target)
    lines = {Path(f.location.file).name: f.location.line for f in out.findings if f.location is not None}
    for name in ("79-merge-sets-a-key-again.yaml", "80-merge-list-sets-a-key-twice.yaml"):
        (line,) = re.findall(r"line (\d+): key \"a\" already set in map", theirs[name][1])
        assert lines[name] == int(line), name
    assert "unsupported map key" in theirs["78-null-key.yaml"][1] and lines["78-null-key.yaml"] == 6


def test_float_keys_are_spelled_as_kubeconform_spells_them(kubeconform_binary: Path, tmp_path: Path) -> None:
    # sigs.k8s.io/yaml writes a float key as Go formats a float32; strict validation names unknown keys.
    keys = ["1e20", "1.23456789", "0.1", "1e-5", "1234567.0", ".5", "3.0", "-0.0", "1e3", "123456.7", "0.0001"]
    repo = tmp_path / "repo"
    (repo / FOLDER).mkdir(parents=True)
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: f}\n" + "".join(f"{k}: x\n" for k in keys)
    (repo / FOLDER / "keys.yaml").write_text(text)
    ours, kinds = promoter_verdicts(repo, False)
    theirs = kubeconform_results(kubeconform_binary, repo, False, kinds)
    (message,) = re.findall(r"additional properties (.*) not allowed", theirs["keys.yaml"][1])
    (resource,), _ = load_manifests(text, FOLDER, file="keys.yaml")
    assert sorted(re.findall(r"'([^']*)'", message)) == sorted(k for k in resource.obj if k not in KNOWN)
    assert ours == {"keys.yaml": "fail"}


KNOWN = {"apiVersion", "kind", "metadata"}
