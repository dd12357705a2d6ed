"""Reference: one place where an image is pinned, with the YAML slots that hold its parts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from promoter.model.image import ImageRef, split_registry


@dataclass
class Slot:
    """A scalar in a round-trip document: `parent[key]`. `flow` is true inside `{}`/`[]`."""

    parent: Any
    key: Any
    flow: bool = False

    @property
    def value(self) -> Any:
        return self.parent[self.key]


@dataclass
class Reference:
    """An image reference found in a file.

    kind says how it is edited:
      - "string": one scalar holding `repo[:tag][@digest]` (slot "image");
      - "kustomize": a kustomize images entry (slots "name", "newName", "newTag", "digest");
      - "block": a Helm-style mapping (slots "registry", "repository", "tag", "digest" or "sha");
      - "tag": a lone tag scalar whose repository is known from elsewhere (Argo CD parameters,
        explicit targets, Flux markers): slots "tag" and maybe "digest";
      - "split": an untagged image string (slot "image", kept) whose tag is a sibling key (slot "tag")
        and maybe its digest too (slot "digest").
    """

    file: str
    line: int
    column: int
    yaml_path: str
    style: str
    kind: str
    repository: str | None  # full normalised repository, registry included
    written: str | None  # the repository as written in the file
    tag: str | None
    digest: str | None
    slots: dict[str, Slot] = field(default_factory=dict)
    mapping: Any = None  # the mapping keys may be added to (kustomize entry, helm block)
    anchor_key: str | None = None  # the key new keys are inserted after
    hint: str | None = None  # a Flux image-policy marker on this value, when present
    prefix: str = ""  # text kept before the image in a string slot (Argo CD's `alias=`)
    path_parts: tuple[Any, ...] = ()
    doc_index: int = 0  # which YAML document of the file `path_parts` starts from
    # When this reference is (or goes through) an alias `*name`: the anchored value's place,
    # {"line", "column", "yaml_path"} in the same file.
    alias_of: dict[str, Any] | None = None
    # Keys the chart's own values.yaml declares at this block's path (a key there may be added here).
    declared: tuple[str, ...] = ()

    @property
    def names_registry(self) -> bool:
        """Whether the file writes a registry host in front of the repository (`ghcr.io/acme/app`)."""
        return self.written is not None and split_registry(self.written)[0] is not None

    def matches(self, image: ImageRef) -> bool:
        return self.repository is not None and self.repository == image.repository

    @property
    def current(self) -> str:
        """The image as pinned here, named as `images` prints it in text and JSON alike."""
        out = self.written or "?"
        if self.tag:
            out += f":{self.tag}"
        if self.digest:
            out += f"@{self.digest}"
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "yaml_path": self.yaml_path,
            "style": self.style,
            "repository": self.repository,
            "tag": self.tag,
            "digest": self.digest,
            "hint": self.hint,
            "image": self.current,
            "alias_of": self.alias_of,
        }
