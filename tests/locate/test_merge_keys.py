"""`images` lists every reference that takes its image block or its tag through a merge key (`<<: *name`),
each at its own YAML path, with `alias_of` naming the anchored mapping it shares."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import invoke, make_repo

# b and c take their tag from `common`; d aliases the whole `blk`, e merges it.
MERGED = """common: &c
  tag: v1
b:
  image:
    <<: *c
    repository: ghcr.io/acme/b
c:
  image:
    repository: ghcr.io/acme/c
    <<: *c
blk: &blk
  image:
    repository: ghcr.io/acme/d
    tag: v2
d: *blk
e:
  <<: *blk
"""


def images(repo: Path) -> list[dict]:
    r = invoke("images", "--repo", str(repo), "--output", "json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def test_references_sharing_a_merged_tag_or_block_are_each_listed_with_the_anchor_they_share(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"values.yaml": MERGED})
    common = {"line": 1, "column": 9, "yaml_path": "common"}
    blk = {"line": 11, "column": 6, "yaml_path": "blk"}
    assert [(r["yaml_path"], r["line"], r["image"], r["alias_of"]) for r in images(repo)] == [
        ("b.image", 6, "ghcr.io/acme/b:v1", common),
        ("c.image", 9, "ghcr.io/acme/c:v1", common),
        ("blk.image", 13, "ghcr.io/acme/d:v2", None),
        ("d.image", 15, "ghcr.io/acme/d:v2", blk),
        # Placed at the `*blk` that brings the block in: e writes no `image` key of its own.
        ("e.image", 17, "ghcr.io/acme/d:v2", blk),
    ]


def test_a_block_merged_whole_from_a_list_of_anchors_is_placed_at_its_own_merge(tmp_path: Path) -> None:
    text = "a: &a\n  tag: v1\nb: &b\n  repository: ghcr.io/acme/x\nimg:\n  <<: [*b, *a]\nimg2:\n  <<: [*b, *a]\n"
    repo = make_repo(tmp_path / "r", {"values.yaml": text})
    refs = images(repo)
    assert [(r["yaml_path"], r["line"], r["image"]) for r in refs] == [
        ("img", 6, "ghcr.io/acme/x:v1"),
        ("img2", 8, "ghcr.io/acme/x:v1"),
    ]
    assert all(r["alias_of"] is not None for r in refs)


def test_a_key_written_in_the_merging_mapping_is_its_own(tmp_path: Path) -> None:
    text = "base: &base\n  repository: ghcr.io/acme/x\n  tag: v1\nother:\n  <<: *base\n  tag: v9\n"
    repo = make_repo(tmp_path / "r", {"values.yaml": text})
    assert [(r["yaml_path"], r["line"], r["image"], r["alias_of"]) for r in images(repo)] == [
        ("base", 2, "ghcr.io/acme/x:v1", None),
        # Its repository comes from the merge (placed there), but the tag a bump edits is its own: nothing shared.
        ("other", 5, "ghcr.io/acme/x:v9", None),
    ]
