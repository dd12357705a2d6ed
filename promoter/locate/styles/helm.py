"""Helm values: image blocks (registry/repository/tag/digest|sha) and `image: repo:tag` strings."""

from __future__ import annotations

from typing import Any

from promoter.locate.styles.base import (
    Document,
    hint_for,
    located,
    repository_of,
    slot,
    string_ref,
    text,
    walk_maps,
)
from promoter.model.reference import Reference

STYLE = "helm-values"
NAMES = (STYLE,)  # the style names this module reports
BLOCK_KEYS = ("tag", "digest", "sha", "registry")


def extract(doc: Document) -> list[Reference]:
    if not (doc.is_values_file or (doc.defaults is not None and not doc.is_manifest)):
        return []
    return values_refs(doc, doc.root, (), STYLE, defaults=doc.defaults)


def values_refs(doc: Document, root: Any, base: tuple[Any, ...], style: str, defaults: Any = None) -> list[Reference]:
    """Image references in a Helm values tree rooted at `root` (path prefix `base`)."""
    out: list[Reference] = []
    for path, node in walk_maps(root, base):
        block = block_reference(doc, node, path, style, _at(defaults, path[len(base) :]))
        if block is not None:
            out.append(block)
        for key, value in node.items():
            if isinstance(value, str) and _image_key(key):
                ref = string_ref(doc, node, key, path + (key,), style)
                # Any `*Image` key pins an image when it carries a tag, a digest or a registry host;
                # a bare word under such a key (`pullImage: true`-like settings) is not a reference.
                if ref is not None and (key == "image" or ref.tag or ref.digest or ref.names_registry):
                    out.append(ref)
    return out


def _image_key(key: Any) -> bool:
    return isinstance(key, str) and (key == "image" or key.endswith("Image") or key.endswith("_image"))


def _at(tree: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        if isinstance(tree, dict) and p in tree or isinstance(tree, list) and isinstance(p, int) and p < len(tree):
            tree = tree[p]
        else:
            return None
    return tree if isinstance(tree, dict) else None


def block_reference(
    doc: Document, node: Any, path: tuple[Any, ...], style: str, defaults: Any = None
) -> Reference | None:
    dflt = defaults if isinstance(defaults, dict) else {}
    repository = node.get("repository", dflt.get("repository"))
    if not isinstance(repository, str):
        return None
    if doc.only is not None and not repository.endswith(doc.only_tail or ""):
        return None
    owner = path[-1] if path else ""
    if "repository" not in node and not any(k in node for k in ("tag", "digest", "sha")):
        return None
    if not (any(k in node for k in BLOCK_KEYS) or (isinstance(owner, str) and "image" in owner.lower())):
        return None
    ref = repository_of(node["registry"] if "registry" in node else dflt.get("registry"), repository)
    if ref is None or (doc.only is not None and ref.repository != doc.only):
        return None
    digest = text(node.get("digest"))
    if digest is None and text(node.get("sha")):
        digest = f"sha256:{text(node.get('sha'))}"
    slots = {k: slot(node, k) for k in ("registry", "repository", "tag", "digest", "sha") if k in node}
    first = "repository" if "repository" in node else next(k for k in ("tag", "digest", "sha") if k in node)
    return located(
        doc,
        node,
        first,
        path,
        style,
        "block",
        ref,
        tag=text(node.get("tag")),
        digest=digest,
        slots=slots,
        mapping=node,
        anchor_key=first,
        hint=hint_for(doc, *slots.values()),
    )
