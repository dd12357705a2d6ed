"""Targets: the reference at an explicit (file, dotted key) place that discovery cannot decide."""

from __future__ import annotations

import re
from typing import Any

from promoter.locate.scan import ParsedFile
from promoter.locate.styles.base import Document, located, slot, text
from promoter.model.errors import UsageError
from promoter.model.image import ImageRef
from promoter.model.reference import Reference


def target_reference(pf: ParsedFile, key: str, image: ImageRef) -> Reference:
    """The reference at an explicit (file, dotted key) target."""
    doc = pf.doc
    parts = _split_key(key)
    where = f"{doc.path}: key {key!r}"
    for r in pf.references:
        if r.path_parts == tuple(parts):
            return r
    # Walk to the node ourselves: a value discovery does not recognise (a lone tag, an odd key).
    for i, root in enumerate(doc.docs):
        node: Any = root
        parent: Any = None
        ok = True
        for p in parts:
            try:
                parent, node = node, node[p]
            except (KeyError, IndexError, TypeError):
                ok = False
                break
        if not ok or parent is None:
            continue
        d = Document(file=doc.path, index=i, root=root, markers={})
        here = tuple(parts)
        if isinstance(node, dict):
            from promoter.locate.styles.helm import block_reference

            # The target says this mapping is the app's image: its repository may be left to the chart.
            block = block_reference(d, node, here, "explicit", {"repository": image.name})
            if block is not None:
                return block
            raise UsageError(f"{where}: the mapping there has no `repository` key")
        if not isinstance(node, str) or not any(c in node for c in ":/@"):
            # A lone tag (e.g. image.tag): its repository is the app's, by configuration.
            slots = {"tag": slot(parent, parts[-1])}
            if isinstance(parent, dict) and "digest" in parent:
                slots["digest"] = slot(parent, "digest")
            return located(
                d,
                parent,
                parts[-1],
                here,
                "explicit",
                "tag",
                image,
                tag=text(node),
                digest=text(parent.get("digest")) if isinstance(parent, dict) else None,
                slots=slots,
            )
        from promoter.model.image import try_parse

        cur = try_parse(node)
        if cur is None:
            raise UsageError(f"{where}: value {node!r} is not an image reference")
        if not cur.same_repository(image):
            raise UsageError(f"{where}: holds {cur.repository}, not {image.repository}")
        return located(
            d,
            parent,
            parts[-1],
            here,
            "explicit",
            "string",
            cur,
            tag=cur.tag,
            digest=cur.digest,
            slots={"image": slot(parent, parts[-1])},
        )
    raise UsageError(f"{where} not found")


def _split_key(key: str) -> list[Any]:
    parts: list[Any] = []
    for m in re.finditer(r"([^.\[\]]+)|\[(\d+)\]", key):
        parts.append(int(m.group(2)) if m.group(2) is not None else m.group(1))
    return parts
