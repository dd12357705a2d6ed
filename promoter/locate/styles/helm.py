"""Helm values: image blocks (registry/repository|name/tag/digest|sha), `image: repo:tag` strings, and
untagged `image: repo` strings whose tag sits in a sibling key (`tag`, `imageTag`, `version`, …)."""

from __future__ import annotations

import re
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
    walk_maps_naming,
)
from promoter.model.image import _TAG_RE, split_registry
from promoter.model.reference import Reference
from promoter.yamlio.marked import MarkedMap

STYLE = "helm-values"
NAMES = (STYLE,)  # the style names this module reports
BLOCK_KEYS = ("tag", "digest", "sha", "registry")
# A chart's git source (`repository: https://github.com/…`, `git@…`, `….git`) is not an image.
_GIT = re.compile(r"://|^git@|\.git$|^(github\.com|gitlab\.com|bitbucket\.org)/")


def extract(doc: Document) -> list[Reference]:
    if not (doc.is_values_file or (doc.defaults is not None and not doc.is_manifest)):
        return []
    return values_refs(doc, doc.root, (), STYLE, defaults=doc.defaults)


def global_registry(values: Any) -> str | None:
    """`global.imageRegistry` or `global.image.registry` of a values tree, when set and not empty."""
    g = values.get("global") if isinstance(values, dict) else None
    if not isinstance(g, dict):
        return None
    reg = g.get("imageRegistry")
    if not text(reg) and isinstance(g.get("image"), dict):
        reg = g["image"].get("registry")
    return text(reg) if isinstance(reg, str) else None


def values_refs(doc: Document, root: Any, base: tuple[Any, ...], style: str, defaults: Any = None) -> list[Reference]:
    """Image references in a Helm values tree rooted at `root` (path prefix `base`)."""
    out: list[Reference] = []
    if doc.global_registry is None:
        doc.global_registry = global_registry(root) or global_registry(defaults)
    # A bump's scan of a big file (doc.prune_text set: see base.prunable) walks only what can name
    # its repository; chart defaults can supply the name from elsewhere, so they keep the whole walk.
    pruned = (
        doc.prune_text is not None
        and doc.only_tail
        and defaults is None
        and isinstance(root, MarkedMap)
        and not root.merges
        and len(root.marks) == len(root)
    )
    maps = walk_maps_naming(root, base, doc.prune_text, doc.only_tail) if pruned else walk_maps(root, base)  # type: ignore[arg-type]
    for path, node in maps:
        block = block_reference(doc, node, path, style, _at(defaults, path[len(base) :]))
        if block is not None:
            out.append(block)
        for key, value in node.items():
            if isinstance(value, str) and _image_key(key):
                split = _split_reference(doc, node, key, path, style)
                if split is not None:
                    out.append(split)
                    continue
                ref = string_ref(doc, node, key, path + (key,), style)
                # Any `*Image` key pins an image when it carries a tag, a digest or a registry host;
                # a bare word under such a key (`pullImage: true`-like settings) is not a reference.
                if ref is not None and (key == "image" or ref.tag or ref.digest or ref.names_registry):
                    out.append(ref)
    return out


def _image_key(key: Any) -> bool:
    return isinstance(key, str) and (key == "image" or key.endswith("Image") or key.endswith("_image"))


def _looks_like_tag(value: Any) -> bool:
    """A `version:` beside an image is its tag when it reads like one (`2.10`, `v1.4.2`), not `latest-ish` words."""
    s = text(value)
    return s is not None and bool(_TAG_RE.match(s)) and any(c.isdigit() for c in s)


def _split_reference(doc: Document, node: Any, key: str, path: tuple[Any, ...], style: str) -> Reference | None:
    """`image: repo` (no tag, no digest) beside a tag key the chart appends (`{{ .image }}:{{ .tag }}`)."""
    value = node[key]
    if ":" in value.rpartition("/")[2] or "@" in value:
        return None
    keys = doc.siblings
    prefix = key[: -len("Image")] if key.endswith("Image") else key[: -len("_image")] if key.endswith("_image") else ""
    tag_keys = [k for k in (*keys.tag_keys, f"{key}Tag", f"{key}_tag", f"{prefix}Tag" if prefix else "") if k]
    tag_key = next((k for k in tag_keys if k in node and k != key and _scalar(node[k])), None)
    if tag_key is None or (tag_key == "version" and not _looks_like_tag(node[tag_key])):
        return None
    ref = string_ref(doc, node, key, path + (key,), style)
    if ref is None:
        return None
    digest_keys = [*keys.digest_keys, f"{key}Digest", f"{key}_digest"]
    digest_key = next((k for k in digest_keys if k in node and _scalar(node[k])), None)
    ref.kind = "split"
    ref.tag = text(node[tag_key])
    ref.slots["tag"] = slot(node, tag_key)
    if digest_key is not None:
        ref.digest = text(node[digest_key])
        ref.slots["digest"] = slot(node, digest_key)
    ref.mapping = node
    return ref


def _scalar(value: Any) -> bool:
    return not isinstance(value, (dict, list, bool))


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
    owner = path[-1] if path else ""
    image_owner = isinstance(owner, str) and "image" in owner.lower()
    name_key = "repository"
    repository = node.get("repository", dflt.get("repository"))
    if not isinstance(repository, str) and image_owner:
        # `image: {name: repo, tag: v1}`: the name is the repository.
        name_key = "name"
        repository = node.get("name", dflt.get("name"))
    if not isinstance(repository, str) or _GIT.search(repository):
        return None
    if doc.only is not None and not repository.endswith(doc.only_tail or ""):
        return None
    if name_key not in node and not any(k in node for k in ("tag", "digest", "sha")):
        return None
    if name_key == "name" and not any(k in node or k in dflt for k in ("tag", "digest", "sha")):
        return None
    if not (any(k in node for k in BLOCK_KEYS) or image_owner):
        return None
    registry = node["registry"] if "registry" in node else dflt.get("registry")
    if not text(registry) and doc.global_registry and split_registry(repository)[0] is None:
        registry = doc.global_registry  # the chart's global registry, for blocks that name none
    ref = repository_of(registry, repository)
    if ref is None or (doc.only is not None and ref.repository != doc.only):
        return None
    digest = text(node.get("digest"))
    if digest is None and text(node.get("sha")):
        digest = f"sha256:{text(node.get('sha'))}"
    slots = {k: slot(node, k) for k in ("registry", name_key, "tag", "digest", "sha") if k in node}
    first = name_key if name_key in node else next(k for k in ("tag", "digest", "sha") if k in node)
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
        declared=tuple(str(k) for k in dflt),
    )
