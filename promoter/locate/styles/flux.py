"""Flux: `HelmRelease` spec.values (Helm rules), and image-policy marker comments as hints or whole-image markers."""

from __future__ import annotations

from promoter.locate.styles.base import Document, position, string_ref, walk_maps
from promoter.locate.styles.helm import values_refs
from promoter.model.reference import Reference

STYLE = "flux-helmrelease"
MARKER_STYLE = "flux-marker"
NAMES = (STYLE, MARKER_STYLE)  # the style names this module reports


def extract(doc: Document) -> list[Reference]:
    out: list[Reference] = []
    root = doc.root
    if doc.kind == "HelmRelease" and isinstance(root, dict):
        spec = root.get("spec")
        if isinstance(spec, dict) and isinstance(spec.get("values"), dict):
            out.extend(values_refs(doc, spec["values"], ("spec", "values"), STYLE))
    if doc.markers:
        out.extend(_marked(doc, {(r.line, r.column) for r in out}))
    return out


def _marked(doc: Document, seen: set[tuple[int, int]]) -> list[Reference]:
    """Whole-image markers (`image: x:1 # {"$imagepolicy": "ns:policy"}`) other styles did not claim."""
    out: list[Reference] = []
    for path, node in walk_maps(doc.root):
        for key, value in node.items():
            if not isinstance(value, str):
                continue
            line, col = position(node, key)
            marker = doc.markers.get(line)
            if marker is None or marker.count(":") > 1 or (line + 1, col + 1) in seen:
                continue
            ref = string_ref(doc, node, key, path + (key,), MARKER_STYLE)
            if ref is not None:
                out.append(ref)
    return out
