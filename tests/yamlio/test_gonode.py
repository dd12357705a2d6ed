"""Gonode: every YAML value becomes the JSON value kubectl and kubeconform read from it, or an error
finding at its line; never a Python value JSON cannot carry (a `!!set` crashed `check`, issue 9 audit).
Verdicts against the real kubeconform: tests/validate/test_kubeconform_parity.py."""

from __future__ import annotations

import json
import marshal
from pathlib import Path

import pytest

from promoter.validate.batch import validate_files
from promoter.validate.schemas import SchemaSource, resolve_version
from promoter.yamlio.gonode import go_float32_text
from promoter.yamlio.manifests import load_manifests

HEAD = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: f}\n"


def data(body: str) -> object:
    (res,), problems = load_manifests(HEAD + body, "t", file="f.yaml")
    assert problems == []
    value = res.obj["data"]
    json.dumps(res.obj, allow_nan=False)  # JSON data all the way down
    marshal.dumps(res.obj)  # what forked readers send back (render/folders.py)
    return value


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("data: !!set {a, b}\n", {"a": None, "b": None}),
        ("data: !!omap [{a: x}, {b: y}]\n", [{"a": "x"}, {"b": True}]),
        ("data: !!pairs [{a: x}, {a: z}]\n", [{"a": "x"}, {"a": "z"}]),
        ("data: {a: !!python/tuple [x]}\n", {"a": ["x"]}),
        ("data: !foo {a: !bar x, b: !!python/str y, c: !!merge z}\n", {"a": "x", "b": "y", "c": "z"}),
        (
            "data:\n  a: !!binary aGVsbG8=\n  b: !!binary /w==\n  c: !!binary |\n    aGVs\n    bG8=\n",
            {"a": "hello", "b": "\ufffd", "c": "hello"},
        ),
        ("data: {a: !!binary 4oI=}\n", {"a": "\ufffd\ufffd"}),  # a cut sequence: one U+FFFD a byte, as Go's JSON
        (
            "data: {a: !!timestamp 2024-01-02, b: !!timestamp 2024-1-2 3:04:05.5, c: 2024-01-02T03:04:05Z}\n",
            {"a": "2024-01-02", "b": "2024-1-2 3:04:05.5", "c": "2024-01-02T03:04:05Z"},
        ),
        (
            "data: {a: !!int '5', b: !!float 1, c: !!bool yes, d: !!null '', e: !!str 5}\n",
            {"a": 5, "b": 1, "c": True, "d": None, "e": "5"},
        ),
        (
            "data: {1: a, 0x10: b, true: c, n: d, 1.5: e, 1e20: f, -0.0: g, .inf: h, .nan: i, 9223372036854775807: j}\n",
            {
                "1": "a",
                "16": "b",
                "true": "c",
                "false": "d",
                "1.5": "e",
                "1e+20": "f",
                "-0": "g",
                ".inf": "h",
                ".nan": "i",
                "9223372036854775807": "j",
            },
        ),
        ("data: {1: a, true: b}\n", {"1": "a", "true": "b"}),  # 1 == True in Python, not in JSON
        ("base: &b {x: '1'}\ndata: {<<: [*b, {k: '2'}], z: '3'}\n", {"x": "1", "k": "2", "z": "3"}),
        ("data: {'<<': {a: x}}\n", {"<<": {"a": "x"}}),  # a quoted `<<` is a key, not a merge
    ],
)
def test_values_are_the_json_kubernetes_reads(body: str, expected: object) -> None:
    assert data(body) == expected


@pytest.mark.parametrize(
    ("body", "line", "words"),
    [
        ("data:\n  ~: x\n", 5, "a null key has no JSON form"),
        ("data:\n  18446744073709551615: x\n", 5, "beyond a 64-bit integer"),
        ("data:\n  ? [a]\n  : x\n", 5, "invalid map key"),
        ("data:\n  a: !!int abc\n", 5, "cannot decode !!str `abc` as a !!int"),
        ("data:\n  a: !!int 1.5\n", 5, "cannot decode !!float `1.5` as a !!int"),
        ("data:\n  a: !!bool 5\n", 5, "cannot decode !!int `5` as a !!bool"),
        ("data:\n  a: !!null x\n", 5, "cannot decode !!str `x` as a !!null"),
        ("data:\n  a: !!float 1e400\n", 5, "cannot decode !!str `1e400` as a !!float"),
        ("data:\n  a: !!timestamp 2024-02-30\n", 5, "as a !!timestamp"),
        ("data:\n  a: !!timestamp 5\n", 5, "cannot decode !!int `5` as a !!timestamp"),
        ("data:\n  a: !!binary 'aGk'\n", 5, "invalid base64"),
        ("data:\n  <<: x\n", 5, "a merge (<<) takes a mapping or a list of mappings"),
        ("data:\n  <<: [x]\n", 5, "a merge (<<) takes a mapping"),
        ('data:\n  a: "1"\n  <<: {a: "2"}\n', 6, "duplicate key 'a'"),
        ('data:\n  <<: {a: "2"}\n  a: "1"\n', 6, "duplicate key 'a'"),
        ('data:\n  <<: [{a: "1"}, {a: "2"}]\n', 5, "duplicate key 'a'"),
        ('data:\n  1: x\n  "1": y\n', 6, "duplicate key '1'"),
        ("data:\n  3.0: x\n  3: y\n", 6, "duplicate key '3'"),
        ("data: &r\n  <<: *r\n", 4, ""),
    ],
)
def test_what_kubernetes_cannot_read_is_an_error_at_its_line(body: str, line: int, words: str) -> None:
    resources, problems = load_manifests(HEAD + body + "---\n" + HEAD, "t", file="f.yaml")
    assert len(resources) == 1  # the next document is still read
    (p,) = problems
    assert p.location is not None and (p.location.file, p.location.line) == ("f.yaml", line)
    assert words in p.message, p.message


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1e20, "1e+20"),
        (1.23456789, "1.2345679"),
        (0.1, "0.1"),
        (1e-5, "1e-05"),
        (0.0001, "0.0001"),
        (1234567.0, "1.234567e+06"),
        (123456.0, "123456"),
        (3.0, "3"),
        (-0.0, "-0"),
        (-2.5, "-2.5"),
        (1e39, ".inf"),  # beyond float32
        (float("-inf"), "-.inf"),
        (float("nan"), ".nan"),
    ],
)
def test_float_keys_as_go_formats_a_float32(value: float, text: str) -> None:
    assert go_float32_text(value) == text


def test_validating_in_processes_reads_them_too(tmp_path: Path) -> None:
    # validate/batch.py forks above 32 files: a `!!set` there crashed the whole batch.
    paths = []
    for i in range(40):
        p = tmp_path / f"f{i:02d}.yaml"
        p.write_text(HEAD + ("data: !!set {a, b}\n" if i % 2 else "data: {~: x}\n"))
        paths.append(p)
    source = SchemaSource(version=resolve_version("1.32"), strict=True, schema_dirs=[])
    one = validate_files(paths, source, jobs=1, repo=tmp_path)
    two = validate_files(paths, source, jobs=2, repo=tmp_path)
    assert [f.to_dict() for f in one.findings] == [f.to_dict() for f in two.findings]
    assert sorted(f.location.file for f in one.findings if f.location) == [f"f{i:02d}.yaml" for i in range(0, 40, 2)]
