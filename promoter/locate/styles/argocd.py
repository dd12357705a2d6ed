"""Argo CD `Application`: helm.valuesObject, helm.parameters (`*.image.tag`) and kustomize.images."""

from __future__ import annotations

from typing import Any

from promoter.locate.styles.base import Document, located, slot, string_ref, text
from promoter.locate.styles.helm import values_refs
from promoter.model.image import try_parse
from promoter.model.reference import Reference
from promoter.yamlio.document import format_path

VALUES_STYLE = "argocd-helm-values"
PARAMS_STYLE = "argocd-helm-parameters"
KUSTOMIZE_STYLE = "argocd-kustomize-images"
NAMES = (VALUES_STYLE, PARAMS_STYLE, KUSTOMIZE_STYLE)  # the style names this module reports


def extract(doc: Document) -> list[Reference]:
    root = doc.root
    if doc.kind != "Application" or not doc.api_version.startswith("argoproj.io") or not isinstance(root, dict):
        return []
    spec = root.get("spec")
    if not isinstance(spec, dict):
        return []
    sources: list[tuple[tuple[Any, ...], Any]] = []
    if isinstance(spec.get("source"), dict):
        sources.append((("spec", "source"), spec["source"]))
    if isinstance(spec.get("sources"), list):
        sources.extend((("spec", "sources", i), s) for i, s in enumerate(spec["sources"]) if isinstance(s, dict))
    out: list[Reference] = []
    for path, source in sources:
        helm = source.get("helm")
        if isinstance(helm, dict):
            if isinstance(helm.get("valuesObject"), dict):
                out.extend(values_refs(doc, helm["valuesObject"], path + ("helm", "valuesObject"), VALUES_STYLE))
            if isinstance(helm.get("parameters"), list):
                out.extend(_parameters(doc, helm["parameters"], path + ("helm", "parameters")))
        kust = source.get("kustomize")
        if isinstance(kust, dict) and isinstance(kust.get("images"), list):
            out.extend(_kustomize_images(doc, kust["images"], path + ("kustomize", "images")))
    return out


def _parameters(doc: Document, params: list[Any], path: tuple[Any, ...]) -> list[Reference]:
    """Group `X.repository` / `X.registry` / `X.tag` / `X.digest` parameters by prefix X."""
    groups: dict[str, dict[str, int]] = {}
    for i, p in enumerate(params):
        if not isinstance(p, dict) or not isinstance(p.get("name"), str) or "value" not in p:
            continue
        prefix, _, leaf = p["name"].rpartition(".")
        if leaf in ("repository", "registry", "tag", "digest"):
            groups.setdefault(prefix, {})[leaf] = i
    out: list[Reference] = []
    for prefix, idx in groups.items():
        if "tag" not in idx and "digest" not in idx:
            continue
        registry = params[idx["registry"]]["value"] if "registry" in idx else None
        repository = params[idx["repository"]]["value"] if "repository" in idx else None
        ref = None
        if text(repository):
            ref = try_parse(f"{text(registry)}/{text(repository)}" if text(registry) else text(repository))
        first = params[idx["tag"] if "tag" in idx else idx["digest"]]
        out.append(
            located(
                doc,
                first,
                "value",
                path + (idx.get("tag", idx.get("digest")), "value"),
                PARAMS_STYLE,
                "tag",
                ref,
                yaml_path=format_path(path) + f"[name={prefix}.*]",
                tag=text(params[idx["tag"]]["value"]) if "tag" in idx else None,
                digest=text(params[idx["digest"]]["value"]) if "digest" in idx else None,
                slots={leaf: slot(params[i], "value") for leaf, i in idx.items() if leaf in ("tag", "digest")},
            )
        )
    return out


def _kustomize_images(doc: Document, images: list[Any], path: tuple[Any, ...]) -> list[Reference]:
    """Entries are `[alias=]repo[:tag][@digest]` strings; the alias form keeps its `alias=` prefix."""
    refs = (string_ref(doc, images, i, path + (i,), KUSTOMIZE_STYLE, alias=True) for i in range(len(images)))
    return [r for r in refs if r is not None]
