"""Discovery reads the files its walk found regular by their real path, without resolving it again; whatever
is no longer a regular file by then (a link or a FIFO swapped in, a file grown too big) is left to the
checked reader, which names it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from promoter.yamlio import files
from promoter.yamlio.files import read_walked


def test_a_regular_file_is_read(tmp_path: Path) -> None:
    f = tmp_path / "a.yaml"
    f.write_bytes(b"kind: ConfigMap\n")
    assert read_walked(str(f)) == b"kind: ConfigMap\n"


def test_a_link_swapped_in_is_not_followed(tmp_path: Path) -> None:
    secret = tmp_path / "outside.txt"
    secret.write_text("token")
    link = tmp_path / "a.yaml"
    link.symlink_to(secret)
    assert read_walked(str(link)) is None


def test_a_fifo_swapped_in_is_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "a.yaml"
    os.mkfifo(fifo)
    assert read_walked(str(fifo)) is None  # returns at once: opened without blocking, then refused


def test_too_big_and_gone_are_left_to_the_checked_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "a.yaml"
    f.write_bytes(b"x" * 100)
    monkeypatch.setattr(files, "MAX_BYTES", 50)
    assert read_walked(str(f)) is None
    assert read_walked(str(tmp_path / "gone.yaml")) is None


def test_a_file_that_grew_since_its_stat_is_read_up_to_the_cap(tmp_path: Path) -> None:
    """read_capped reads the size fstat gave, then on: what was appended meanwhile is not lost, and the
    cap still holds (one byte over it is how callers see 'too large')."""
    from io import BytesIO

    from promoter.yamlio.files import read_capped

    assert read_capped(BytesIO(b"abcdef"), 3, 100) == b"abcdef"  # grew from 3 to 6 bytes
    assert read_capped(BytesIO(b"abcdef"), 6, 100) == b"abcdef"
    assert read_capped(BytesIO(b"abcdef"), 6, 4) == b"abcde"  # cap 4: 5 bytes say "too large"
    assert read_capped(BytesIO(b"abcdef"), 2, 4) == b"abcde"
    assert read_capped(BytesIO(b""), 0, 4) == b""
