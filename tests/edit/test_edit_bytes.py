"""Byte-exactness: only the changed value's bytes differ; everything around them stays as written."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import yaml
from ruamel.yaml import YAML

from promoter.model.changeset import ChangeSet, FileChange, WriteError, atomic_write
from promoter.model.errors import UsageError

D1 = "sha256:" + "1" * 64


@pytest.mark.parametrize(
    ("old", "image", "new"),
    [
        # comments everywhere, including on the value's line and between keys
        (
            "# head\nimage:  # the image\n  # repo\n  repository: nginx  # r\n  tag: v1   # t\n# tail\n",
            "nginx:v2",
            "# head\nimage:  # the image\n  # repo\n  repository: nginx  # r\n  tag: v2   # t\n# tail\n",
        ),
        # quoting styles kept
        ("image:\n  repository: nginx\n  tag: 'v1'\n", "nginx:v2", "image:\n  repository: nginx\n  tag: 'v2'\n"),
        ('image:\n  repository: nginx\n  tag: "v1"\n', "nginx:v2", 'image:\n  repository: nginx\n  tag: "v2"\n'),
        ("image: 'nginx:1'\n", "nginx:2", "image: 'nginx:2'\n"),
        ('image: "nginx:1"\n', "nginx:2", 'image: "nginx:2"\n'),
        # 4-space indentation, key order (tag before repository), blank lines
        (
            "\n\nimage:\n\n    tag: v1\n\n    repository: nginx\n\n\nother: 1\n",
            "nginx:v2",
            "\n\nimage:\n\n    tag: v2\n\n    repository: nginx\n\n\nother: 1\n",
        ),
        # flow mapping, spacing inside kept
        ("image: { repository: nginx ,  tag: v1 }\n", "nginx:v2", "image: { repository: nginx ,  tag: v2 }\n"),
        (
            "image: {repository: nginx, tag: v1, pullPolicy: Always}\n",
            "nginx:v2",
            "image: {repository: nginx, tag: v2, pullPolicy: Always}\n",
        ),
        # flow mapping over several lines
        (
            "image: {\n  repository: nginx,\n  tag: v1\n}\n",
            "nginx:v2",
            "image: {\n  repository: nginx,\n  tag: v2\n}\n",
        ),
        # anchors and aliases stay; the anchored value changes once
        (
            "image: &img\n  repository: nginx\n  tag: v1\nsidecar:\n  image: *img\n",
            "nginx:v2",
            "image: &img\n  repository: nginx\n  tag: v2\nsidecar:\n  image: *img\n",
        ),
        ("a:\n  image: &i nginx:1\nb:\n  image: *i\n", "nginx:2", "a:\n  image: &i nginx:2\nb:\n  image: *i\n"),
        (
            "defaults: &d\n  repository: nginx\n  tag: v1\nimage:\n  <<: *d\n",
            "nginx:v2",
            "defaults: &d\n  repository: nginx\n  tag: v2\nimage:\n  <<: *d\n",
        ),
        # document markers, several documents
        (
            "%YAML 1.2\n---\nimage: nginx:1\n...\n---\nimage: nginx:1\n...\n",
            "nginx:2",
            "%YAML 1.2\n---\nimage: nginx:2\n...\n---\nimage: nginx:2\n...\n",
        ),
        # BOM and CRLF kept
        (
            "\ufeffimage:\r\n  repository: nginx\r\n  tag: v1 # c\r\n",
            "nginx:v2",
            "\ufeffimage:\r\n  repository: nginx\r\n  tag: v2 # c\r\n",
        ),
        # no newline at end of file
        ("image: nginx:1", "nginx:2", "image: nginx:2"),
        # tag: with a null value
        (
            "image:\n  repository: nginx\n  tag:\n  pullPolicy: Always\n",
            "nginx:v2",
            "image:\n  repository: nginx\n  tag: v2\n  pullPolicy: Always\n",
        ),
        (
            "image:\n  repository: nginx\n  tag: ~ # none yet\n",
            "nginx:v2",
            "image:\n  repository: nginx\n  tag: v2 # none yet\n",
        ),
        ("image:\n  repository: nginx\n  tag: null\n", "nginx:v2", "image:\n  repository: nginx\n  tag: v2\n"),
        ("image:\n  repository: nginx\n  tag:\r\n", "nginx:v2", "image:\n  repository: nginx\n  tag: v2\r\n"),
        # numeric tags: kept plain when they read back the same, quoted when they would not
        ("image:\n  repository: nginx\n  tag: 1.4\n", "nginx:1.5", "image:\n  repository: nginx\n  tag: 1.5\n"),
        ("image:\n  repository: nginx\n  tag: 1.4\n", "nginx:1.10", 'image:\n  repository: nginx\n  tag: "1.10"\n'),
        ("image:\n  repository: nginx\n  tag: 7\n", "nginx:08", 'image:\n  repository: nginx\n  tag: "08"\n'),
        ("image:\n  repository: nginx\n  tag: v1\n", "nginx:1.10", 'image:\n  repository: nginx\n  tag: "1.10"\n'),
        ("image:\n  repository: nginx\n  tag:\n", "nginx:2", 'image:\n  repository: nginx\n  tag: "2"\n'),
        # escapes inside quotes
        ("image:\n  repository: nginx\n  tag: 'it''s'\n", "nginx:v2", "image:\n  repository: nginx\n  tag: 'v2'\n"),
    ],
)
def test_only_the_value_bytes_change(bump, old, image, new):
    b = bump(old, image)
    assert b.new == new
    # and a second bump with the same image changes nothing
    again = bump(b.new, image)
    assert again.edit.ops == [] and again.new == b.new


@pytest.mark.parametrize("tag", ["true", "yes", "on", "null", "1e3", "0x1F", "010", "1_000", "1.10", "0.0", "2024"])
def test_new_tags_that_would_read_as_non_strings_are_quoted(bump, tag):
    b = bump("image:\n  repository: nginx\n  tag: v1\n", f"nginx:{tag}")
    value = b.new.splitlines()[2].split(": ", 1)[1]
    assert value == f'"{tag}"'
    assert yaml.safe_load(b.new)["image"]["tag"] == tag  # YAML 1.1 (PyYAML, Helm's go-yaml)
    assert YAML(typ="safe", pure=True).load(b.new)["image"]["tag"] == tag  # YAML 1.2


def test_indentless_and_nested_sequences(bump):
    old = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: nginx:1\n"
        "  - name: b\n    image:    nginx:1    # spaced\n"
    )
    b = bump(old, "nginx:2", "pod.yaml")
    assert b.new == old.replace("nginx:1", "nginx:2")


def test_a_block_scalar_image_is_refused_not_reflowed(bump):
    old = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: >-\n      nginx:1\n"
    with pytest.raises(UsageError, match="byte-exact"):
        bump(old, "nginx:2", "pod.yaml")


def test_verification_refuses_an_edit_that_does_not_read_back(bump, monkeypatch):
    """A wrong byte-level edit never reaches the disk: the re-parse catches it."""
    import promoter.edit.editor as edit

    real = edit.format_scalar
    monkeypatch.setattr(
        edit, "format_scalar", lambda v, style, **kw: ("v2: broken", "plain") if v == "v2" else real(v, style, **kw)
    )
    with pytest.raises(UsageError, match="nothing was written"):
        bump("image:\n  repository: nginx\n  tag: v1\n", "nginx:v2")


# ---- atomic write ------------------------------------------------------------------------------
def test_atomic_write_keeps_file_mode_and_leaves_no_temp(tmp_path: Path):
    f = tmp_path / "values.yaml"
    f.write_text("image: nginx:1\n")
    f.chmod(0o640)
    inode_before = f.stat().st_ino
    atomic_write(f, "image: nginx:2\n")
    assert f.read_text() == "image: nginx:2\n"
    assert stat.S_IMODE(f.stat().st_mode) == 0o640
    assert f.stat().st_ino != inode_before  # replaced by rename, not rewritten in place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["values.yaml"]


def test_atomic_write_failure_leaves_original_and_no_temp(tmp_path: Path, monkeypatch):
    f = tmp_path / "values.yaml"
    f.write_text("image: nginx:1\n")

    def boom(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(WriteError, match=r"^cannot write values.yaml: No space left on device$"):
        atomic_write(f, "image: nginx:2\n", shown="values.yaml")
    assert f.read_text() == "image: nginx:1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["values.yaml"]


def test_changeset_writes_bytes_exactly_bom_and_crlf(tmp_path: Path):
    f = tmp_path / "values.yaml"
    f.write_bytes("\ufeffimage: nginx:1\r\n".encode())
    cs = ChangeSet(
        files={"values.yaml": FileChange("values.yaml", "\ufeffimage: nginx:1\r\n", "\ufeffimage: nginx:2\r\n")}
    )
    cs.write(tmp_path)
    assert f.read_bytes() == "\ufeffimage: nginx:2\r\n".encode()


def test_change_reports_the_line_of_a_null_value_not_the_next_node(bump):
    b = bump("image:\n  repository: nginx\n  tag:\n\n\nother: 1\n", "nginx:2")
    assert [(c.line, c.yaml_path, c.old, c.new) for c in b.edit.changes] == [(3, "image.tag", None, "2")]
