"""Sources: map rendered objects and their fields back to the manifest or patch line that wrote them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from promoter.model.errors import UsageError
from promoter.model.finding import Location
from promoter.model.resource import Resource


def _match(r: Resource, index: dict[tuple[str, str], list[Resource]]) -> Location | None:
    """The source of a rendered object: same kind and name, or a name kustomize prefixed/suffixed."""
    found = index.get((r.kind, r.name))
    if not found:
        # namePrefix / nameSuffix: the longest source name inside the rendered name wins.
        names = [(len(n), k) for k in index if k[0] == r.kind and (n := k[1]) and n in r.name]
        if not names:
            return None
        found = index[max(names)[1]]
    for s in found:
        if s.namespace and s.namespace == r.namespace:
            return s.location
    return found[0].location


def _matches(r: Resource, index: dict[tuple[str, str], list[Resource]]) -> list[Location]:
    """Every patch document naming this object (same kind; its name, or a name inside the prefixed one)."""
    out: list[Location] = []
    for (kind, name), docs in index.items():
        if kind == r.kind and name and (name == r.name or name in r.name):
            out.extend(d.location for d in docs if d.location is not None)
    return out


def field_location(
    repo: Path, origins: list[Location], pointer: str, parsed: dict[str, list[Any]] | None = None
) -> Location | None:
    """The line that wrote the field at JSON `pointer`: the last patch that sets it, else the manifest's
    deepest existing key on that path. `origins` is a Rendered.origins entry (manifest first, then patches).

    `parsed` (file -> its documents, read with libyaml's marks) is shared by the caller across findings:
    a file with many findings is read once, not once per finding."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]] if pointer else []
    if not parts:
        return None
    parsed = {} if parsed is None else parsed
    for i, loc in enumerate(reversed(origins)):
        manifest = i == len(origins) - 1
        root = _document_at(repo, loc, parsed)
        if root is None:
            continue
        line = _line_of_pointer(root, parts, full=not manifest)
        if line is not None:
            return Location(loc.file, line)
    return None


def _document_at(repo: Path, loc: Location, parsed: dict[str, list[Any]]) -> Any:
    """The document of `loc.file` starting at `loc.line`, read with libyaml's marks (it knows each
    key's line; about a millisecond a file, where the round-trip reader took a hundred)."""
    from promoter.yamlio.document import YamlDoc, node_start

    if loc.file not in parsed:
        try:
            parsed[loc.file] = YamlDoc.read_file(repo / loc.file, loc.file).docs
        except UsageError:  # unreadable or unparsable (YamlDoc says so this way): the object keeps its own location
            parsed[loc.file] = []
    best = None
    for d in parsed[loc.file]:
        start = node_start(d)
        if start is None:
            continue
        if loc.line is None or start[0] + 1 <= loc.line:
            best = d
    return best


def _line_of_pointer(root: Any, parts: list[str], *, full: bool) -> int | None:
    from promoter.yamlio.document import key_pos

    node, line, depth = root, None, 0
    for part in parts:
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            key: Any = int(part)
        elif isinstance(node, dict) and part in node:
            key = part
        else:
            break
        pos = key_pos(node, key)
        if pos is None:
            break
        line, node, depth = pos[0] + 1, node[key], depth + 1
    if full and depth < len(parts):
        return None
    return line


# ---- images: the entry that set an image, not the base line the transformer rewrote ---------------

_IMAGE_FIELD = re.compile(r"^(?P<pod>.*)/(?:containers|initContainers|ephemeralContainers)/(?P<i>\d+)/image$")


def is_image_pointer(pointer: str) -> bool:
    return bool(_IMAGE_FIELD.match(pointer))


def _split_image(image: str) -> tuple[str, str | None, str | None]:
    """(name, tag, digest) of an image reference, as kustomize's images transformer compares them."""
    name, _, digest = image.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    tag = None
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
    return name, tag, digest or None


def image_entry_location(repo: Path, kustomizations: list[str], image: str) -> Location | None:
    """The `images:` entry of a kustomization (outermost first) that produced `image`: the line of its
    digest, newTag or newName, whichever set the value; None when no entry did (the manifest did)."""
    from promoter.yamlio.document import YamlDoc, key_pos

    name, tag, digest = _split_image(image)
    for file in kustomizations:
        try:
            docs = YamlDoc.read_file(repo / file, file).docs
        except UsageError:
            continue
        root = docs[0] if docs else None
        entries = root.get("images") if isinstance(root, dict) else None
        if not isinstance(entries, list):
            continue
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            new_name = str(entry.get("newName") or entry.get("name") or "")
            if new_name != name:
                continue
            for key, value in (("digest", digest), ("newTag", tag), ("newName", name)):
                if key in entry and str(entry[key]) == str(value) and (pos := key_pos(entry, key)) is not None:
                    return Location(file, pos[0] + 1)
    return None


def values_entry_location(repo: Path, values_files: list[str], image: str) -> Location | None:
    """The values entry (last file first) whose tag or digest the chart put into `image`: a mapping
    with a `tag` (or `digest`) key holding the image's tag (digest)."""
    from promoter.yamlio.document import YamlDoc, key_pos

    _, tag, digest = _split_image(image)
    wanted = [(k, v) for k, v in (("digest", digest), ("tag", tag)) if v]
    if not wanted:
        return None
    for file in reversed(values_files):
        try:
            docs = YamlDoc.read_file(repo / file, file).docs
        except UsageError:
            continue
        stack = list(docs[:1])
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                for key, value in wanted:
                    if key in node and str(node[key]) == value and (pos := key_pos(node, key)) is not None:
                        return Location(file, pos[0] + 1)
                stack.extend(v for v in node.values() if isinstance(v, (dict, list)))
            elif isinstance(node, list):
                stack.extend(v for v in node if isinstance(v, (dict, list)))
    return None
