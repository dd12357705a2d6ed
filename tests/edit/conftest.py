"""Helpers for edit tests: bump a text in memory the way `promoter bump` does, file by file."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from promoter.edit.editor import FileEdit
from promoter.edit.rules import plan_reference
from promoter.locate.scan import extract
from promoter.model.image import ImageRef
from promoter.yamlio.document import YamlDoc

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64


@dataclass
class Bumped:
    old: str
    new: str
    edit: FileEdit
    matched: int

    @property
    def warnings(self) -> list[str]:
        return self.edit.warnings


def bump_text(text: str, image: str, file: str = "values.yaml", defaults: Any = None, reader: str = "c") -> Bumped:
    """Set every reference to `image`'s repository in `text` (named `file`) to `image`.

    `reader`: "c" (libyaml's marks, what bump uses) or "rt" (the round-trip loader, for files libyaml refuses)."""
    doc = YamlDoc.read(text, file) if reader == "c" else YamlDoc.from_text(text, file)
    ref = ImageRef.parse(image)
    fe = FileEdit(doc)
    matched = [r for r in extract(doc, defaults) if r.matches(ref)]
    assert matched, f"no reference to {ref.repository} in the test text"
    for r in matched:
        plan_reference(fe, r, ref)
    new = fe.apply() if fe.ops else doc.full_text()
    return Bumped(text, new, fe, len(matched))


@pytest.fixture(params=["c", "rt"])
def bump(request: pytest.FixtureRequest) -> Callable[..., Bumped]:
    """Every edit test runs on both readers: each must give the same bytes."""
    return lambda *a, **kw: bump_text(*a, **kw, reader=request.param)
