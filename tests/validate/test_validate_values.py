"""Helm values: effective values (Helm merge rules) against values.schema.json, located at file and line."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from promoter.model.errors import UsageError
from promoter.model.finding import Status
from promoter.validate import validate_values
from tests.conftest import EXAMPLES, make_repo

SCHEMA = {
    "$schema": "https://json-schema.org/draft-07/schema#",
    "type": "object",
    "required": ["image", "replicaCount"],
    "properties": {
        "replicaCount": {"type": "integer", "minimum": 1},
        "image": {
            "type": "object",
            "required": ["repository", "tag"],
            "additionalProperties": False,
            "properties": {
                "repository": {"type": "string"},
                "tag": {"type": "string"},
                "pullPolicy": {"enum": ["Always", "IfNotPresent"]},
            },
        },
        "ports": {"type": "array", "items": {"type": "integer"}},
    },
}

CHART_VALUES = """\
replicaCount: 1
image:
  repository: acme/web
  tag: "1.0.0"
  pullPolicy: IfNotPresent
ports: [80]
"""


def chart_repo(tmp_path: Path, files: dict[str, str], schema: dict | None = None) -> Path:
    base = {
        "chart/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
        "chart/values.yaml": CHART_VALUES,
        "chart/values.schema.json": json.dumps(schema or SCHEMA, indent=2),
    }
    return make_repo(tmp_path / "repo", {**base, **files})


def test_valid_values_pass(tmp_path):
    repo = chart_repo(tmp_path, {"env/prod.yaml": "replicaCount: 3\nimage:\n  tag: '2.0.0'\n"})
    result = validate_values(repo / "chart", [repo / "env/prod.yaml"], repo)
    assert result.findings == []
    assert result.subjects[0].kind == "values" and result.subjects[0].status is Status.PASSED


def test_error_points_at_the_last_file_that_set_the_value(tmp_path):
    repo = chart_repo(
        tmp_path,
        {
            "env/common.yaml": "image:\n  tag: 5\n",
            "env/prod.yaml": "# prod\nreplicaCount: 2\nimage:\n  pullPolicy: Sometimes\n  tag: 7\n",
        },
    )
    result = validate_values(repo / "chart", [repo / "env/common.yaml", repo / "env/prod.yaml"], repo)
    got = {f.message: str(f.location) for f in result.findings}
    assert got == {
        "image.pullPolicy: 'Sometimes' is not one of ['Always', 'IfNotPresent']": "env/prod.yaml:4",
        "image.tag: 7 is not of type 'string'": "env/prod.yaml:5",
    }
    assert {f.rule for f in result.findings} == {"values-schema"}
    assert result.subjects[0].status is Status.FAILED


def test_value_from_an_earlier_file_is_located_there(tmp_path):
    repo = chart_repo(tmp_path, {"env/common.yaml": "image:\n  tag: 5\n", "env/prod.yaml": "replicaCount: 0\n"})
    result = validate_values(repo / "chart", [repo / "env/common.yaml", repo / "env/prod.yaml"], repo)
    got = sorted((f.message, str(f.location)) for f in result.findings)
    assert got == [
        ("image.tag: 5 is not of type 'string'", "env/common.yaml:2"),
        ("replicaCount: 0 is less than the minimum of 1", "env/prod.yaml:1"),
    ]


def test_lists_replace_and_items_are_located(tmp_path):
    repo = chart_repo(tmp_path, {"env/prod.yaml": "ports:\n  - 8080\n  - http\n"})
    result = validate_values(repo / "chart", [repo / "env/prod.yaml"], repo)
    assert [(f.message, str(f.location)) for f in result.findings] == [
        ("ports[1]: 'http' is not of type 'integer'", "env/prod.yaml:3")
    ]


def test_null_deletes_a_default_and_required_points_at_the_parent(tmp_path):
    repo = chart_repo(tmp_path, {"env/prod.yaml": "image:\n  tag: null\n"})
    result = validate_values(repo / "chart", [repo / "env/prod.yaml"], repo)
    assert [(f.message, str(f.location)) for f in result.findings] == [
        ("image: 'tag' is a required property", "env/prod.yaml:1")
    ]


def test_unknown_key_points_at_the_key(tmp_path):
    repo = chart_repo(tmp_path, {"env/prod.yaml": "image:\n  tag: '1'\n  tga: '2'\n"})
    result = validate_values(repo / "chart", [repo / "env/prod.yaml"], repo)
    (f,) = result.findings
    assert f.message.startswith("image.tga: unknown key 'tga'")
    assert str(f.location) == "env/prod.yaml:3"


def test_values_file_that_is_not_a_mapping(tmp_path):
    repo = chart_repo(tmp_path, {"env/prod.yaml": "- replicaCount: 3\n"})
    result = validate_values(repo / "chart", [repo / "env/prod.yaml"], repo)
    (f,) = result.findings
    assert f.rule == "values-file" and f.message == "env/prod.yaml: values must be a mapping, found a list"
    assert f.location.file == "env/prod.yaml"
    assert result.subjects[0].status is Status.ERROR


def test_values_file_that_does_not_parse(tmp_path):
    repo = chart_repo(tmp_path, {"env/prod.yaml": "image:\n  tag: [1\n"})
    result = validate_values(repo / "chart", [repo / "env/prod.yaml"], repo)
    (f,) = result.findings
    assert f.rule == "yaml" and f.location.file == "env/prod.yaml" and f.location.line
    assert "env/prod.yaml" in f.message


def test_missing_values_file_is_a_usage_error(tmp_path):
    repo = chart_repo(tmp_path, {})
    with pytest.raises(UsageError, match="values file env/nope.yaml does not exist"):
        validate_values(repo / "chart", [repo / "env/nope.yaml"], repo)


def test_chart_without_schema_is_skipped(tmp_path):
    repo = make_repo(
        tmp_path / "repo",
        {"chart/Chart.yaml": "apiVersion: v2\nname: x\nversion: 1.0.0\n", "chart/values.yaml": "a: 1\n"},
    )
    result = validate_values(repo / "chart", [], repo)
    assert result.findings == [] and result.subjects[0].status is Status.SKIPPED
    assert "values.schema.json" in result.subjects[0].reason


@pytest.mark.parametrize(
    "draft",
    ["https://json-schema.org/draft/2019-09/schema", "https://json-schema.org/draft/2020-12/schema"],
)
def test_newer_drafts_are_honoured(tmp_path, draft):
    # dependentRequired exists since 2019-09; draft 7 would ignore it.
    schema = {"$schema": draft, "type": "object", "dependentRequired": {"tls": ["host"]}}
    repo = chart_repo(tmp_path, {"env/prod.yaml": "tls: true\n"}, schema=schema)
    result = validate_values(repo / "chart", [repo / "env/prod.yaml"], repo)
    assert [f.message for f in result.findings] == ["(top level): 'host' is a dependency of 'tls'"]


def test_broken_schema_file_is_a_finding(tmp_path):
    repo = chart_repo(tmp_path, {})
    (repo / "chart/values.schema.json").write_text('{"type": "object",\n "properties": }')
    result = validate_values(repo / "chart", [], repo)
    (f,) = result.findings
    assert f.location.file == "chart/values.schema.json" and f.location.line == 2


def test_example_chart_every_env_passes(tmp_path):
    repo = tmp_path / "example"
    shutil.copytree(EXAMPLES, repo)
    for env in ("dev", "stage", "prod"):
        result = validate_values(repo / "apps/web/chart", [repo / f"apps/web/env/values-{env}.yaml"], repo)
        assert result.findings == [], env


def test_example_chart_bad_digest_points_at_env_file(tmp_path):
    repo = tmp_path / "example"
    shutil.copytree(EXAMPLES, repo)
    prod = repo / "apps/web/env/values-prod.yaml"
    text = prod.read_text()
    prod.write_text(re.sub(r'digest: "[^"]*"', "digest: sha256:nothex", text))
    line = next(i for i, t in enumerate(prod.read_text().splitlines(), 1) if "digest:" in t)
    result = validate_values(repo / "apps/web/chart", [prod], repo)
    (f,) = result.findings
    assert f.message.startswith("image.digest: 'sha256:nothex' does not match")
    assert (f.location.file, f.location.line) == ("apps/web/env/values-prod.yaml", line)


def test_anchored_booleans_stay_booleans(tmp_path):
    schema = {"type": "object", "properties": {"a": {"type": "boolean"}, "b": {"type": "boolean"}}}
    repo = chart_repo(tmp_path, {"env/prod.yaml": "a: &on true\nb: *on\n"}, schema=schema)
    assert validate_values(repo / "chart", [repo / "env/prod.yaml"], repo).findings == []


def test_tagged_collections_are_what_helm_reads(tmp_path):
    # go-yaml ignores a collection's tag: a `!!set` is a mapping of nulls (it read as a Python set, "not
    # of type 'object'"), an `!!omap` a list of mappings, `!!binary` its decoded text.
    schema = {
        "type": "object",
        "properties": {"s": {"type": "object"}, "o": {"type": "array"}, "b": {"type": "string", "const": "hi"}},
    }
    repo = chart_repo(tmp_path, {"env/prod.yaml": "s: !!set {x, y}\no: !!omap [{x: 1}]\nb: !!binary aGk=\n"}, schema)
    assert validate_values(repo / "chart", [repo / "env/prod.yaml"], repo).findings == []
    repo = chart_repo(tmp_path / "2", {"env/prod.yaml": "o: !!set {x}\n"}, schema)
    (f,) = validate_values(repo / "chart", [repo / "env/prod.yaml"], repo).findings
    assert str(f.location) == "env/prod.yaml:1" and "not of type 'array'" in f.message
