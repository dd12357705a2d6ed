"""Anchors: which references stand on an alias (`*name`) of an anchored value, and which places a bump
would change through an anchor without meaning to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from promoter.model.errors import UsageError
from promoter.model.reference import Reference
from promoter.yamlio.document import YamlDoc, format_path, owner_of
from promoter.yamlio.marked import Anchor

# Slots that only say which image a reference is: an anchor there is never edited by a bump.
NAMING_SLOTS = frozenset({"name", "newName", "registry", "repository"})

Place = tuple[int, Any]  # (id(container), key)


def path_places(root: Any, path: tuple[Any, ...]) -> list[tuple[Any, Any]]:
    """(container, key) of each step from a document's root along `path`."""
    out = []
    node = root
    for part in path:
        if not isinstance(node, (dict, list)):
            break
        out.append((node, part))
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
    return out


def anchor_place(doc: YamlDoc, a: Anchor) -> dict[str, Any]:
    line, col = doc_pos(doc, a.start)
    return {"line": line + 1, "column": col + 1, "yaml_path": format_path(a.path)}


def doc_pos(doc: YamlDoc, offset: int) -> tuple[int, int]:
    before = doc.text.count("\n", 0, offset)
    return before, offset - doc.text.rfind("\n", 0, offset) - 1


def mark_aliases(doc: YamlDoc, refs: list[Reference]) -> None:
    """Set `alias_of` (and the place of the alias itself) on every reference that stands on an alias:
    through an aliased mapping (`prod: *defaults`) or with an aliased value (`tag: *t`)."""
    anchors = doc.anchors
    if not anchors:
        return
    for r in refs:
        root = doc.docs[r.doc_index] if r.doc_index < len(doc.docs) else None
        for container, key in path_places(root, r.path_parts):
            a = anchors.alias_at.get((id(container), key))
            if a is not None:
                r.alias_of = anchor_place(doc, a)
                start = next(s for place, _, s, _ in a.aliases if place[0] is container and place[1] == key)
                line, col = doc_pos(doc, start)
                r.line, r.column = line + 1, col + 1
                break
        if r.alias_of is None:
            for name, s in r.slots.items():
                a = anchors.alias_at.get((id(owner_of(s.parent, s.key)), s.key))
                if a is not None and name not in NAMING_SLOTS:
                    r.alias_of = anchor_place(doc, a)
                    break


@dataclass
class _Use:
    where: str
    covered: bool


def check_shared(doc: YamlDoc, refs: list[Reference]) -> None:
    """A bump of `refs` (one file's selected references) must not change, through an anchor, a value
    another reference or key uses: exit 2 naming both places and how to proceed."""
    anchors = doc.anchors
    if not anchors:
        return
    covered: set[Place] = set()
    touched: list[Anchor] = []
    for r in refs:
        root = doc.docs[r.doc_index] if r.doc_index < len(doc.docs) else None
        steps = [(id(c), k) for c, k in path_places(root, r.path_parts)]
        edited = [(id(owner_of(s.parent, s.key)), s.key) for n, s in r.slots.items() if n not in NAMING_SLOTS]
        covered.update(steps)
        covered.update(edited)
        # Anchors on the way to an edited value (an aliased or anchored mapping) or on the value itself.
        for place in [*steps, *edited]:
            a = anchors.at.get(place) or anchors.alias_at.get(place)
            if a is not None and a not in touched:
                touched.append(a)
    for a in touched:
        uses = [(a.place, a.path, a.start)] + [(place, path, start) for place, path, start, _ in a.aliases]
        for place, path, start in uses:
            if (id(place[0]), place[1]) in covered:
                continue
            line, _ = doc_pos(doc, start)
            here = anchor_place(doc, a)
            raise UsageError(
                f"{doc.path}:{here['line']}: the value anchored there (&{a.name}, {here['yaml_path']}) is also used at "
                f"{doc.path}:{line + 1} ({format_path(path)}), which this bump does not cover (another app, image or "
                "environment): changing one would change both. Give each its own value (replace the alias with a "
                "copy), or bump both in one run (--path to the file, --all-matches, or an explicit target for each)"
            )
