"""The contract every style answers, and the helpers they share to build References from nodes."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from promoter.model.errors import UsageError
from promoter.model.image import ImageRef, try_parse
from promoter.model.reference import Reference, Slot
from promoter.yamlio.document import format_path, is_flow, key_line, node_start

VALUES_FILE = re.compile(r"(^|/)values[^/]*\.ya?ml$")
KUSTOMIZATION_FILE = re.compile(r"(^|/)(kustomization\.ya?ml|Kustomization)$")


# Scalar keys a chart combines with an untagged `image: repo` string beside them (`{{ .image }}:{{ .tag }}`).
# `version` counts only when its value looks like a tag. `.promoter.yaml` `locate.tag_keys` / `digest_keys` replace them.
TAG_KEYS = ("tag", "imageTag", "image_tag", "version")
DIGEST_KEYS = ("digest", "imageDigest", "image_digest")


@dataclass(frozen=True)
class Siblings:
    """The sibling keys that split an image string: where its tag and digest are written."""

    tag_keys: tuple[str, ...] = TAG_KEYS
    digest_keys: tuple[str, ...] = DIGEST_KEYS

    @classmethod
    def from_config(cls, raw: dict[str, Any] | None) -> Siblings:
        section = (raw or {}).get("locate") or {}
        return cls(
            tuple(section.get("tag_keys", TAG_KEYS)),
            tuple(section.get("digest_keys", DIGEST_KEYS)),
        )


DEFAULT_SIBLINGS = Siblings()


@dataclass
class Document:
    """One YAML document of a file, as the styles see it."""

    file: str  # repo-relative path
    index: int
    root: Any
    markers: dict[int, str]  # 0-based line -> Flux image-policy marker
    # The chart's own values.yaml when this document is an environment's values file layered
    # over it: keys the environment does not repeat (registry, repository) come from there.
    defaults: Any = None
    # A bump's repository (normalised): references to others need not be built (a 50 MB values file
    # holds tens of thousands); references whose repository is unknown still are.
    only: str | None = None
    siblings: Siblings = DEFAULT_SIBLINGS
    # `global.imageRegistry` / `global.image.registry` of this values tree (or of the chart's values
    # it layers over): the registry of image blocks that name none.
    global_registry: str | None = None
    # The file's text when a walk for `only` may skip what cannot name it (see `prunable`).
    prune_text: str | None = None

    @property
    def only_tail(self) -> str | None:
        """The last path component of `only`: a written repository that does not end with it cannot be it."""
        return self.only.rsplit("/", 1)[-1] if self.only else None

    def __post_init__(self) -> None:
        root = self.root
        kind = root.get("kind") if isinstance(root, dict) else None
        self.kind: str | None = kind if isinstance(kind, str) else None
        self.api_version: str = str(root.get("apiVersion") or "") if isinstance(root, dict) else ""

    @property
    def is_manifest(self) -> bool:
        """A Kubernetes object (or patch of one): it names both apiVersion and kind.

        A values file may have a top-level `kind:` of its own (charts that choose between a
        Deployment and a DaemonSet do), so `kind` alone does not make a manifest.
        """
        return self.kind is not None and bool(self.api_version)

    @property
    def is_values_file(self) -> bool:
        return bool(VALUES_FILE.search(self.file)) and not self.is_manifest


def slot(parent: Any, key: Any) -> Slot:
    return Slot(parent=parent, key=key, flow=is_flow(parent))


def position(parent: Any, key: Any) -> tuple[int, int]:
    pos = key_line(parent, key)
    if pos is None:
        return node_start(parent) or (0, 0)
    return pos


def text(value: Any) -> str | None:
    """A scalar as the string a tool would read (`1.4` → "1.4"), None for empty/absent."""
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool):
        return None
    s = str(value)
    return s or None


def hint_for(doc: Document, *slots: Slot) -> str | None:
    for s in slots:
        line, _ = position(s.parent, s.key)
        if line in doc.markers:
            return doc.markers[line]
    return None


def located(
    doc: Document,
    parent: Any,
    key: Any,
    path: tuple[Any, ...],
    style: str,
    kind: str,
    ref: ImageRef | None,
    *,
    yaml_path: str | None = None,
    **fields: Any,
) -> Reference:
    """A Reference at `parent[key]`: the place, style and repository fields every style fills alike."""
    line, col = position(parent, key)
    return Reference(
        file=doc.file,
        line=line + 1,
        column=col + 1,
        yaml_path=format_path(path) if yaml_path is None else yaml_path,
        style=style,
        kind=kind,
        repository=ref.repository if ref else None,
        written=ref.name if ref else None,
        path_parts=path,
        doc_index=doc.index,
        **fields,
    )


def string_ref(
    doc: Document, parent: Any, key: Any, path: tuple[Any, ...], style: str, *, alias: bool = False
) -> Reference | None:
    """A Reference for a scalar holding a whole image string; with `alias`, written `[alias=]image`
    (Argo CD's kustomize.images), the `alias=` prefix kept as it is."""
    value = parent[key]
    if not isinstance(value, str):
        return None
    prefix, _, image = value.rpartition("=") if alias else ("", "", value)
    if doc.only_tail is not None and doc.only_tail not in image:
        return None
    ref = try_parse(image)
    if ref is None or (doc.only is not None and ref.repository != doc.only):
        return None
    s = slot(parent, key)
    return located(
        doc,
        parent,
        key,
        path,
        style,
        "string",
        ref,
        tag=ref.tag,
        digest=ref.digest,
        slots={"image": s},
        hint=hint_for(doc, s),
        prefix=prefix + "=" if prefix else "",
    )


# Aliases share subtrees, so a walk may meet one mapping at many paths; a file that multiplies them
# past this (the "billion laughs" shape) is refused rather than walked for ever.
MAX_WALK = 5_000_000


# A bump of a big values file walks only what can name its image (a 50 MB file holds a million
# mappings); below this size the whole walk costs milliseconds and stays the one way.
PRUNE_MIN_BYTES = 1_000_000


def prunable(text: str, reader: str, aliased: bool) -> bool:
    """Whether a walk for one repository may skip the subtrees whose text does not name it.

    Sound only where every reference's repository is written, whole, inside its own subtree: read
    by the marked reader (offsets), no anchors or aliases (an alias brings text from elsewhere), no
    backslash (a double-quoted escape or line continuation can spell a name the text does not hold
    whole). Chart defaults supplying a repository are checked by the walk itself."""
    return len(text) >= PRUNE_MIN_BYTES and reader == "c" and not aliased and "\\" not in text


def walk_maps_naming(node: Any, path: tuple[Any, ...], text: str, name: str) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """walk_maps(node, path), less the subtrees under node's keys whose text span (from the key to the
    next key of node, the last one to the end of the text) does not contain `name`: node itself is
    always there (its own keys may pin an image). `node` must be a marked mapping without merges."""
    hits: list[int] = []
    i = text.find(name)
    while i >= 0:
        hits.append(i)
        i = text.find(name, i + 1)
    starts = sorted((mark[0], n) for n, (key, mark) in enumerate(node.marks.items()))
    keys = list(node.marks)
    out: list[tuple[tuple[Any, ...], Any]] = [(path, node)]
    for n, (start, k) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(text)
        j = bisect.bisect_left(hits, start)
        if j < len(hits) and hits[j] < end:
            key = keys[k]
            value = node[key]
            if isinstance(value, (dict, list)):
                _collect(value, path + (key,), out)
    return iter(out)


def walk_maps(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every mapping under node (itself included), with its path, in document order."""
    out: list[tuple[tuple[Any, ...], Any]] = []
    _collect(node, path, out)
    return iter(out)


def _collect(node: Any, path: tuple[Any, ...], out: list[tuple[tuple[Any, ...], Any]]) -> None:
    if isinstance(node, dict):  # MarkedMap and CommentedMap are dicts
        out.append((path, node))
        if len(out) > MAX_WALK:
            raise UsageError(f"more than {MAX_WALK:,} mappings to walk (aliases nested in aliases?)")
        for k, v in node.items():
            if isinstance(v, (dict, list)):
                _collect(v, path + (k,), out)
    elif isinstance(node, list):  # MarkedSeq and CommentedSeq are lists
        for i, v in enumerate(node):
            if isinstance(v, (dict, list)):
                _collect(v, path + (i,), out)


def repository_of(registry: Any, repository: Any) -> ImageRef | None:
    reg = text(registry)
    repo = text(repository)
    if repo is None:
        return None
    ref = try_parse(f"{reg}/{repo}" if reg else repo)
    if ref is None or ref.tag or ref.digest:
        return None
    return ref
