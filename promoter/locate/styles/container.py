"""Container `image:` fields in manifests and strategic-merge patches (any kind with a pod template)."""

from __future__ import annotations

from promoter.locate.styles.base import Document, string_ref, walk_maps
from promoter.model.reference import Reference

STYLE = "container"
NAMES = (STYLE,)  # the style names this module reports
CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
# Kinds handled by other styles even though they hold container-looking lists.
OTHER_STYLES = {"Kustomization", "HelmRelease", "Application", "ApplicationSet", "Component"}


def extract(doc: Document) -> list[Reference]:
    # A manifest or patch names its kind; values files and kustomizations are other styles.
    if not doc.is_manifest or doc.kind in OTHER_STYLES:
        return []
    out: list[Reference] = []
    for path, node in walk_maps(doc.root):
        for key in CONTAINER_LISTS:
            items = node.get(key)
            if not isinstance(items, list):
                continue
            for i, c in enumerate(items):
                if isinstance(c, dict) and "image" in c:
                    ref = string_ref(doc, c, "image", path + (key, i, "image"), STYLE)
                    if ref is not None:
                        out.append(ref)
    return out
