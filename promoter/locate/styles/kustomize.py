"""Kustomize `images:` entries (name/newName/newTag/digest) in kustomizations and Flux Kustomizations."""

from __future__ import annotations

from typing import Any

from promoter.locate.styles.base import (
    KUSTOMIZATION_FILE,
    Document,
    hint_for,
    located,
    slot,
    text,
)
from promoter.model.image import try_parse
from promoter.model.reference import Reference

STYLE = "kustomize-images"
FLUX_STYLE = "flux-kustomization-images"
NAMES = (STYLE, FLUX_STYLE)  # the style names this module reports


def extract(doc: Document) -> list[Reference]:
    root = doc.root
    if not isinstance(root, dict):
        return []
    if doc.kind == "Kustomization" and doc.api_version.startswith("kustomize.toolkit.fluxcd.io"):
        spec = root.get("spec")
        if isinstance(spec, dict) and isinstance(spec.get("images"), list):
            return entries(doc, spec["images"], ("spec", "images"), FLUX_STYLE)
        return []
    is_kustomization = bool(KUSTOMIZATION_FILE.search(doc.file)) or (
        doc.kind in ("Kustomization", "Component") and doc.api_version.startswith("kustomize.config.k8s.io")
    )
    if is_kustomization and isinstance(root.get("images"), list):
        return entries(doc, root["images"], ("images",), STYLE)
    return []


def entries(doc: Document, images: list[Any], path: tuple[Any, ...], style: str) -> list[Reference]:
    out: list[Reference] = []
    for i, entry in enumerate(images):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        target = entry.get("newName") if isinstance(entry.get("newName"), str) else entry["name"]
        ref = try_parse(target)
        if ref is None:
            continue
        slots = {k: slot(entry, k) for k in ("name", "newName", "newTag", "digest") if k in entry}
        out.append(
            located(
                doc,
                entry,
                "name",
                path + (i,),
                style,
                "kustomize",
                ref,
                tag=text(entry.get("newTag")),
                digest=text(entry.get("digest")),
                slots=slots,
                mapping=entry,
                hint=hint_for(doc, *slots.values()),
            )
        )
    return out
