"""`promoter bump` on values shared through merge keys (`<<: *name`): a value one reference shares with a place
out of the bump is refused (exit 2, both places named, nothing written); a merged value every place of which
is in the bump is written once, where it is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import invoke, make_repo
from tests.locate.test_merge_keys import MERGED


def bump(repo: Path, image: str, *args: str) -> tuple[int, str, str]:
    r = invoke("bump", "--repo", str(repo), "--image", image, "--path", "values.yaml", *args)
    return r.exit_code, r.stdout, r.stderr


@pytest.mark.parametrize("extra", [(), ("--all-matches",)])
def test_a_tag_merged_into_two_images_is_refused_naming_the_other_one(tmp_path: Path, extra: tuple[str, ...]) -> None:
    repo = make_repo(tmp_path / "r", {"values.yaml": MERGED})
    code, out, err = bump(repo, "ghcr.io/acme/c:v2", *extra)
    assert code == 2 and out == "", err
    assert "values.yaml:1: the value anchored there (&c, common)" in err
    assert "values.yaml:5 (b.image, through <<: *c)" in err
    assert "write the key (tag) in b.image itself" in err
    assert (repo / "values.yaml").read_text() == MERGED
    code, _, err = bump(repo, "ghcr.io/acme/b:v2", *extra)
    assert code == 2 and "values.yaml:10 (c.image, through <<: *c)" in err, err
    assert (repo / "values.yaml").read_text() == MERGED


@pytest.mark.parametrize("extra", [(), ("--all-matches",)])
def test_a_block_aliased_and_merged_is_written_once_where_it_is_written(tmp_path: Path, extra: tuple[str, ...]) -> None:
    repo = make_repo(tmp_path / "r", {"values.yaml": MERGED})
    code, _, err = bump(repo, "ghcr.io/acme/d:v3", *extra)
    assert code == 0, err
    assert "values.yaml:14: blk.image.tag [helm-values] v2 -> v3" in err and "changed 1 value(s)" in err
    assert (repo / "values.yaml").read_text() == MERGED.replace("tag: v2", "tag: v3")


def test_an_anchored_tag_merged_into_another_image_is_refused(tmp_path: Path) -> None:
    # `other` runs acme/y with the tag of acme/x: bumping x must not move y.
    text = "base: &base\n  repository: ghcr.io/acme/x\n  tag: v1\nother:\n  <<: *base\n  repository: ghcr.io/acme/y\n"
    repo = make_repo(tmp_path / "r", {"values.yaml": text})
    code, out, err = bump(repo, "ghcr.io/acme/x:v2", "--all-matches")
    assert code == 2 and out == "", err
    assert "values.yaml:1: the value anchored there (&base, base)" in err
    assert "values.yaml:5 (other, through <<: *base)" in err
    assert (repo / "values.yaml").read_text() == text


def test_a_merging_mapping_that_writes_the_tag_itself_does_not_share_it(tmp_path: Path) -> None:
    text = "base: &base\n  repository: ghcr.io/acme/x\n  tag: v1\nother:\n  <<: *base\n  repository: ghcr.io/acme/y\n  tag: v9\n"
    repo = make_repo(tmp_path / "r", {"values.yaml": text})
    code, _, err = bump(repo, "ghcr.io/acme/x:v2")
    assert code == 0, err
    assert (repo / "values.yaml").read_text() == text.replace("tag: v1", "tag: v2")


def test_one_image_merged_whole_into_another_key_is_bumped_once(tmp_path: Path) -> None:
    text = "defaults: &d\n  repository: nginx\n  tag: v1\nimage:\n  <<: *d\n"
    repo = make_repo(tmp_path / "r", {"values.yaml": text})
    code, _, err = bump(repo, "nginx:v2")
    assert code == 0, err
    assert "changed 1 value(s)" in err
    assert (repo / "values.yaml").read_text() == text.replace("tag: v1", "tag: v2")


def test_a_tag_only_a_merge_key_reaches_is_refused_when_its_anchor_is_no_reference(tmp_path: Path) -> None:
    text = "a: &a\n  tag: v1\nb: &b\n  repository: ghcr.io/acme/x\nimg:\n  <<: [*b, *a]\n"
    repo = make_repo(tmp_path / "r", {"values.yaml": text})
    code, out, err = bump(repo, "ghcr.io/acme/x:v2", "--all-matches")
    assert code == 2 and out == "", err
    assert "reaches the value anchored there (&a, a) only through the merge key <<: *a" in err
    assert (repo / "values.yaml").read_text() == text
