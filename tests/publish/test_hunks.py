"""Rebuilding a head text from the base text and a forge's diff hunks, checked against real `git diff` output."""

from __future__ import annotations

import subprocess
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from promoter.publish.hunks import apply_hunks, blob_sha


def git_hunks(tmp: Path, old: str, new: str) -> str:
    """What both forges put in a compare answer: `git diff` from the first `@@`."""
    a, b = tmp / "a", tmp / "b"
    a.write_bytes(old.encode())
    b.write_bytes(new.encode())
    out = subprocess.run(
        ["git", "diff", "--no-index", "--no-color", str(a), str(b)], capture_output=True, check=False
    ).stdout.decode()
    at = out.find("\n@@")
    return out[at + 1 :] if at >= 0 else ""


LINES = st.lists(st.sampled_from(["a", "b", "image: x:1", "", "  - name: ü", "c\r"]), max_size=30)


@settings(max_examples=60, deadline=None)
@given(old=LINES, new=LINES, old_eol=st.booleans(), new_eol=st.booleans())
def test_git_hunks_rebuild_the_head_exactly(tmp_path_factory, old, new, old_eol, new_eol) -> None:
    tmp = tmp_path_factory.mktemp("h")
    before = "\n".join(old) + ("\n" if old and old_eol else "")
    after = "\n".join(new) + ("\n" if new and new_eol else "")
    patch = git_hunks(tmp, before, after)
    if before == after:
        assert patch == ""
        return
    assert apply_hunks(before, patch) == after


def test_hunks_that_do_not_fit_the_base_are_refused(tmp_path: Path) -> None:
    patch = git_hunks(tmp_path, "a\nb\nc\n", "a\nB\nc\n")
    assert apply_hunks("a\nb\nc\n", patch) == "a\nB\nc\n"
    assert apply_hunks("a\nX\nc\n", patch) is None  # the base moved: read the file instead
    assert apply_hunks("a\nb\nc\n", "not a patch") is None
    assert apply_hunks("a\n", "") is None


def test_blob_sha_is_gits() -> None:
    out = subprocess.run(["git", "hash-object", "--stdin"], input="ü\r\n".encode(), capture_output=True, check=True)
    assert blob_sha("ü\r\n") == out.stdout.decode().strip()
