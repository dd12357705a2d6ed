"""Sources: map rendered objects and their fields back to the manifest or patch line that wrote them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from promoter.locate.bases import kustomization_file
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


# ---- inline patches: the kustomization line of the op (or patch key) that set a field ----------------


def _rel(base: str, ref: str) -> str | None:
    import posixpath

    joined = posixpath.normpath(posixpath.join(base, ref)) if base not in ("", ".") else posixpath.normpath(ref)
    if joined == ".." or joined.startswith("../") or posixpath.isabs(joined):
        return None
    return joined


def _read_kustomization(repo: Path, file: str, cache: dict[str, Any]) -> Any:
    """(text, root) of a kustomization read with marks; None when it cannot be read."""
    from promoter.yamlio.document import YamlDoc

    if file not in cache:
        try:
            doc = YamlDoc.read_file(repo / file, file)
            root = doc.docs[0] if doc.docs else None
            cache[file] = (doc.text, root) if isinstance(root, dict) and doc.reader == "c" else None
        except UsageError:
            cache[file] = None
    return cache[file]


def _writers(repo: Path, own: str, cache: dict[str, Any]) -> list[tuple[str, str, Any, Any]]:
    """Every patch of `own` and the kustomizations it pulls in, in the order kustomize applies them
    (bases before the overlay): ("file", path, None, None) or ("inline", kustomization, container, key),
    where container[key] is the patch text."""
    import posixpath

    out: list[tuple[str, str, Any, Any]] = []
    seen: set[str] = set()

    def visit(file: str, depth: int) -> None:
        if file in seen or depth > 50:
            return
        seen.add(file)
        read = _read_kustomization(repo, file, cache)
        if read is None:
            return
        _, root = read
        d = posixpath.dirname(file)
        for key in ("resources", "bases", "components"):
            refs = root.get(key)
            for ref in refs if isinstance(refs, list) else []:
                p = _rel(d, ref.strip()) if isinstance(ref, str) and "\n" not in ref else None
                if p is not None and (repo / p).is_dir() and (sub := kustomization_file(repo, p)) is not None:
                    visit(sub, depth + 1)
        smp = root.get("patchesStrategicMerge")
        for i, item in enumerate(smp if isinstance(smp, list) else []):
            if isinstance(item, str) and "\n" in item:
                out.append(("inline", file, smp, i))
            elif isinstance(item, str) and (p := _rel(d, item.strip())) is not None:
                out.append(("file", p, None, None))
        for key in ("patches", "patchesJson6902"):
            items = root.get(key)
            for item in items if isinstance(items, list) else []:
                if not isinstance(item, dict):
                    continue
                if isinstance(item.get("patch"), str):
                    out.append(("inline", file, item, "patch"))
                elif isinstance(item.get("path"), str) and (p := _rel(d, item["path"].strip())) is not None:
                    out.append(("file", p, None, None))

    visit(own, 0)
    return out


def _selects(target: Any, obj: dict[str, Any]) -> bool:
    """Whether a patch's `target:` selects the rendered object; unsure (a selector this does not
    evaluate) counts as no: a finding keeps its location rather than point at a patch that may not apply."""
    if target is None:
        return True
    if not isinstance(target, dict):
        return False
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    assert isinstance(meta, dict)
    api = str(obj.get("apiVersion") or "")
    group, _, version = api.rpartition("/")
    checks = {
        "kind": str(obj.get("kind") or ""),
        "group": group,
        "version": version,
        "namespace": str(meta.get("namespace") or ""),
    }
    for key, have in checks.items():
        want = target.get(key)
        if want is not None and str(want) != have and not _regex_match(str(want), have):
            if key == "namespace" and not have:
                continue  # the overlay may set the namespace after patching
            return False
    name = target.get("name")
    if name is not None:
        have = str(meta.get("name") or "")
        # kustomize matches the name before a prefix/suffix of an outer overlay: the source name inside it.
        if str(name) != have and str(name) not in have and not _regex_match(str(name), have):
            return False
    for key, field_ in (("labelSelector", "labels"), ("annotationSelector", "annotations")):
        sel = target.get(key)
        if sel is None:
            continue
        have_map = meta.get(field_) if isinstance(meta.get(field_), dict) else {}
        assert isinstance(have_map, dict)
        for term in str(sel).split(","):
            k, eq, v = term.strip().partition("=")
            if not eq or any(c in k + v for c in "!()<> ") or not k:
                return False  # not a plain k=v selector: unsure
            if str(have_map.get(k.strip())) != v.lstrip("="):
                return False
    return True


def _regex_match(pattern: str, text: str) -> bool:
    if not any(c in pattern for c in "*.[]()+?|^$\\"):
        return False
    try:
        return re.fullmatch(pattern, text) is not None
    except re.error:
        return False


def _parts(pointer: str) -> list[str]:
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]] if pointer else []


def _resolve_dash(op_parts: list[str], parts: list[str], obj: Any) -> list[str] | None:
    """An op path with `-` (append) as the pointer's index when it appended the last item; else None."""
    out: list[str] = []
    node = obj
    for i, p in enumerate(op_parts):
        if p == "-":
            if not isinstance(node, list) or i >= len(parts) or parts[i] != str(len(node) - 1):
                return None
            p = parts[i]
        out.append(p)
        if isinstance(node, list) and p.isdigit() and int(p) < len(node):
            node = node[int(p)]
        elif isinstance(node, dict):
            node = node.get(p)
        else:
            node = None
    return out


def _inline_line(text: str, container: Any, key: Any, offset: int | None) -> int:
    """The file line of line `offset` inside the patch text container[key]: a literal block's (`|`) lines
    are the file's lines from the one after its indicator; any other style, the line of its key (item)."""
    from promoter.yamlio.document import key_pos, value_span

    kpos = key_pos(container, key)
    base = kpos[0] + 1 if kpos is not None else 1
    span = value_span(container, key)
    if offset is None or span is None:
        return base
    start = span[0]
    if text[start : start + 1] == "|":
        return text.count("\n", 0, start) + 2 + offset
    return base


def _inline_sets(
    patch: str, obj: dict[str, Any], parts: list[str], *, file: str, own_target: Any
) -> tuple[bool, int | None]:
    """(sets the field, its 0-based line inside the patch text) for one inline patch."""
    from promoter.yamlio.document import YamlDoc, key_pos

    try:
        docs = YamlDoc.read(patch, file).docs
    except UsageError:
        return False, None
    if len(docs) == 1 and isinstance(docs[0], list):  # JSON6902 ops
        if not _selects(own_target, obj) or own_target is None:
            return False, None
        ops = docs[0]
        for i in reversed(range(len(ops))):
            op = ops[i]
            if not isinstance(op, dict) or op.get("op") not in ("add", "replace", "copy", "move"):
                continue
            path = op.get("path")
            if not isinstance(path, str):
                continue
            op_parts = _resolve_dash(_parts(path), parts, obj)
            if op_parts is None or parts[: len(op_parts)] != op_parts:
                continue
            rest = parts[len(op_parts) :]
            value = op.get("value")
            if rest and op.get("op") in ("add", "replace"):
                # an ancestor: it set the field only if its value holds the rest of the path
                inner = _line_of_pointer(value, rest, full=True) if isinstance(value, (dict, list)) else None
                if inner is None:
                    continue
                return True, inner - 1
            if not rest and op.get("op") in ("add", "replace") and (pos := key_pos(op, "value")) is not None:
                return True, pos[0]
            pos = key_pos(ops, i)
            return True, pos[0] if pos is not None else None
        return False, None
    for doc in reversed(docs):  # strategic merge: the object(s) it names, or its target's
        if not isinstance(doc, dict):
            continue
        if own_target is not None:
            if not _selects(own_target, obj):
                continue
        else:
            meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
            name = str(meta.get("name") or "") if isinstance(meta, dict) else ""
            have = str((obj.get("metadata") or {}).get("name") or "")
            if doc.get("kind") != obj.get("kind") or not name or name not in have:
                continue
        line = _line_of_pointer(doc, parts, full=True)
        if line is not None:
            return True, line - 1
    return False, None


def inline_patch_location(
    repo: Path, own: str, obj: dict[str, Any], pointer: str, found: Location | None, cache: dict[str, Any]
) -> Location | None:
    """The kustomization line of the inline patch (JSON6902 op, or strategic-merge patch written in the
    kustomization) that last set the field at `pointer` of the rendered `obj`, when no patch file applied
    after it set the field too (`found`: what `field_location` gave from manifests and patch files).
    None when no inline patch sets it: the caller keeps `found`."""
    parts = _parts(pointer)
    if not parts:
        return None
    writers = _writers(repo, own, cache)
    for idx in reversed(range(len(writers))):
        kind, file, container, key = writers[idx]
        if kind == "file":
            if found is not None and found.file == file:
                return None  # a patch file applied later set it: field_location's answer stands
            continue
        patch = container[key]
        target = container.get("target") if isinstance(container, dict) else None
        sets, offset = _inline_sets(patch, obj, parts, file=file, own_target=target)
        if sets:
            read = _read_kustomization(repo, file, cache)
            if read is None:
                return None
            return Location(file, _inline_line(read[0], container, key, offset))
    return None


# ---- Helm values: the values entry (or Argo parameter) that set a rendered field or a values path -------


def _same(a: Any, b: Any) -> bool:
    """Equal as Helm writes them: a bool as true/false, a number or string by its text."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)) or a is None or b is None:
        return False

    def text(x: Any) -> str:
        return str(x).lower() if isinstance(x, bool) else str(x)

    return text(a) == text(b)


def _param_path(name: str) -> list[str] | None:
    """An Argo parameter's name as a values path; None for names with escapes or list indices."""
    if not name or "\\" in name or "[" in name:
        return None
    return name.split(".")


def _get(node: Any, path: list[str]) -> tuple[bool, Any]:
    for p in path:
        if isinstance(node, dict) and p in node:
            node = node[p]
        else:
            return False, None
    return True, node


def _entries(node: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Every (key path, value) of a values mapping, mappings only (Helm values paths)."""
    out: list[tuple[tuple[str, ...], Any]] = []
    if isinstance(node, dict):
        for k, v in node.items():
            p = (*path, str(k))
            out.append((p, v))
            out.extend(_entries(v, p))
    return out


def _parameter_line(repo: Path, origin: Location, name: str) -> Location | None:
    """The line of the `value` of the Argo Application parameter `name` (the Application at `origin`)."""
    from promoter.yamlio.document import YamlDoc, key_pos

    try:
        docs = YamlDoc.read_file(repo / origin.file, origin.file).docs
    except UsageError:
        return None
    root = _document_at(repo, origin, {origin.file: docs})
    spec = root.get("spec") if isinstance(root, dict) else None
    if not isinstance(spec, dict):
        return None
    sources = [spec["source"]] if isinstance(spec.get("source"), dict) else list(spec.get("sources") or [])
    for src in sources:
        helm = src.get("helm") if isinstance(src, dict) else None
        params = helm.get("parameters") if isinstance(helm, dict) else None
        for i, p in enumerate(params if isinstance(params, list) else []):
            if isinstance(p, dict) and str(p.get("name")) == name:
                pos = key_pos(p, "value") if "value" in p else key_pos(params, i)
                if pos is not None:
                    return Location(origin.file, pos[0] + 1)
    return None


def _values_docs(repo: Path, files: list[str]) -> list[tuple[str, Any]]:
    """(file, root mapping read with marks) of each values file that reads, in Helm's order."""
    from promoter.yamlio.document import YamlDoc

    out: list[tuple[str, Any]] = []
    for file in files:
        try:
            docs = YamlDoc.read_file(repo / file, file).docs
        except UsageError:
            continue
        if docs and isinstance(docs[0], dict):
            out.append((file, docs[0]))
    return out


def values_path_location(
    repo: Path,
    files: list[str],
    path: list[str],
    *,
    parameters: list[tuple[str, str, bool]],
    origin: Location | None,
    unknown: bool,
) -> Location | None:
    """Where the values path (`image.pullPolicy` as ["image", "pullPolicy"]) was last set: an Argo
    parameter's line, else the last values file that sets it. `unknown`: values this cannot locate
    (inline values, Flux valuesFrom) come later in Helm's order: then only a parameter is claimed."""
    if not path:
        return None
    for name, _, _ in reversed(parameters):
        if _param_path(name) == path:
            return _parameter_line(repo, origin, name) if origin is not None else None
    if unknown:
        return None
    for file, root in reversed(_values_docs(repo, files)):
        line = _line_of_pointer(root, path, full=True)
        if line is not None:
            return Location(file, line)
    return None


def values_field_location(
    repo: Path,
    files: list[str],
    obj: dict[str, Any],
    pointer: str,
    *,
    parameters: list[tuple[str, str, bool]],
    origin: Location | None,
    unknown: Any,
) -> Location | None:
    """The values entry a rendered field's value came from, as far as it can be told from outside the
    templates: an entry whose key path ends the field's path (`resources.limits.memory` for
    `…/resources/limits/memory`, at least the field and its parent) holding the value the field has, set by
    no later source to anything else. The longest such key path wins, then the latest source. `unknown`:
    values this cannot read (inline values, Flux valuesFrom); an entry they may override is not claimed."""
    parts = _parts(pointer)
    found, value = _get_any(obj, parts)
    if not parts or not found:
        return None
    # Sources in Helm's order, each as (plain values, locate(path) -> Location | None).
    sources: list[tuple[dict[str, Any], Any]] = []
    for file, root in _values_docs(repo, files):
        sources.append((root, lambda p, file=file, root=root: _at(file, root, p)))
    for name, text, _ in parameters:
        p = _param_path(name)
        if p is None:
            continue
        entry: dict[str, Any] = {}
        node = entry
        for seg in p[:-1]:
            node = node.setdefault(seg, {})
        node[p[-1]] = text
        sources.append((entry, lambda q, name=name: _parameter_line(repo, origin, name) if origin else None))
    best: tuple[int, int, tuple[str, ...]] | None = None
    for rank, (data, _) in enumerate(sources):
        for key_path, v in _entries(data):
            n = len(key_path)
            # Two segments at least (`limits.memory`, `image.pullPolicy`): a lone `port: 8080` equal to a
            # literal the template writes would claim a line that did not set the field.
            if n < min(2, len(parts)) or n > len(parts) or list(key_path) != parts[-n:] or not _same(v, value):
                continue
            if unknown and _get(unknown, list(key_path))[0]:
                continue
            later = [_get(d, list(key_path)) for d, _ in sources[rank + 1 :]]
            if any(ok and not _same(x, v) for ok, x in later):
                continue  # overridden by a later source
            if best is None or (n, rank) > best[:2]:
                best = (n, rank, key_path)
    if best is None:
        return None
    _, rank, key_path = best
    loc: Location | None = sources[rank][1](list(key_path))
    return loc


def _get_any(node: Any, parts: list[str]) -> tuple[bool, Any]:
    for p in parts:
        if isinstance(node, list) and p.isdigit() and int(p) < len(node):
            node = node[int(p)]
        elif isinstance(node, dict) and p in node:
            node = node[p]
        else:
            return False, None
    return True, node


def _at(file: str, root: Any, path: list[str]) -> Location | None:
    line = _line_of_pointer(root, path, full=True)
    return Location(file, line) if line is not None else None
