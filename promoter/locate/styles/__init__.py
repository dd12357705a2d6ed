"""Reference styles: one module per layout, each answering `extract(doc) -> list[Reference]` and
naming the styles it reports in `NAMES`.

A new layout is a new module added to STYLES; nothing else moves (as Renovate's managers).
"""

from __future__ import annotations

from promoter.locate.styles import argocd, container, flux, helm, kustomize
from promoter.locate.styles.base import Document

# Order matters only for reporting; every style looks at every document and claims its own.
STYLES = (kustomize, container, helm, flux, argocd)
STYLE_NAMES: tuple[str, ...] = tuple(name for style in STYLES for name in style.NAMES)

__all__ = ["STYLES", "STYLE_NAMES", "Document"]
