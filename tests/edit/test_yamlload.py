"""PyYAML made total: values its resolver mistakes for numbers or dates stay strings, nothing crashes."""

from __future__ import annotations

from pathlib import Path

import pytest

from promoter.yamlio.loader import load, load_all
from tests.conftest import invoke, make_repo


@pytest.mark.parametrize("text", ["0x_", "0b_", "0b__", "2024-13-01", "2024-02-30"])
def test_values_pyyaml_cannot_build_are_strings(text: str) -> None:
    assert load(f"v: {text}\n") == {"v": text}
    assert load_all(f"a: {text}\n---\nb: 1\n") == [{"a": text}, {"b": 1}]


def test_ordinary_values_keep_their_types() -> None:
    assert load("a: 0x1f\nb: 12\nc: 2024-01-02\nd: '0x_'\n") == {
        "a": 31,
        "b": 12,
        "c": __import__("datetime").date(2024, 1, 2),
        "d": "0x_",
    }


def test_check_does_not_crash_on_such_a_value(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "r",
        {
            "cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: 0x_\n  b: 2024-13-01\n",
            "kustomization.yaml": "resources:\n  - cm.yaml\n",
        },
    )
    r = invoke("check", "--repo", str(repo), "--all")
    assert r.exit_code == 0, r.stderr
    assert "internal error" not in r.stderr


def test_bump_to_such_a_tag_quotes_it(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"values.yaml": "image:\n  repository: ghcr.io/a/b\n  tag: 08  # old\n"})
    r = invoke("bump", "--repo", str(repo), "--path", "values.yaml", "--image", "ghcr.io/a/b:0x_")
    assert r.exit_code == 0, r.stderr
    assert (repo / "values.yaml").read_text() == 'image:\n  repository: ghcr.io/a/b\n  tag: "0x_"  # old\n'


@pytest.mark.parametrize("text", ["0x_", "0b_", "0o_", "2024-13-01"])
def test_the_round_trip_reader_keeps_them_as_strings_too(text: str) -> None:
    from promoter.yamlio.document import YamlDoc

    doc = YamlDoc.from_text(f"image: {{repository: ghcr.io/a/b, tag: {text}}}\nother: {text}\n", "values.yaml")
    assert doc.docs[0]["image"]["tag"] == text and doc.docs[0]["other"] == text


def test_bump_from_such_a_tag_in_a_flow_mapping(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"values.yaml": "image: {repository: ghcr.io/a/b, tag: 0b_}\n"})
    r = invoke("bump", "--repo", str(repo), "--path", "values.yaml", "--image", "ghcr.io/a/b:0")
    assert r.exit_code == 0, r.stderr
    assert (repo / "values.yaml").read_text() == 'image: {repository: ghcr.io/a/b, tag: "0"}\n'
