"""Anchors: which references stand on an alias (`*name`) of an anchored value, and which places a bump
would change through an anchor without meaning to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from promoter.model.errors import UsageError
from promoter.model.reference import Reference
from promoter.yamlio.document import YamlDoc, format_path, owner_of, owns
from promoter.yamlio.marked import Anchor, Anchors

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


def _merged_from(anchors: Anchors, container: Any, key: Any) -> tuple[Anchor, int] | None:
    """The anchor a key of `container` comes from through a merge key (`<<: *name`), and the offset of
    that `*name`; None when the key is written in `container` or merged from a mapping without anchor."""
    if not isinstance(container, dict) or owns(container, key):
        return None
    for a, start in anchors.merged_into.get(id(container), ()):
        # Among a mapping's merge sources the earlier wins (merged keys are in each source's own dict).
        if isinstance(a.value, dict) and key in a.value:
            return a, start
    return None


def mark_aliases(doc: YamlDoc, refs: list[Reference]) -> None:
    """Set `alias_of` (and the place of the alias itself) on every reference that stands on an alias:
    through an aliased mapping (`prod: *defaults`), with an aliased value (`tag: *t`), or through a
    merge key (`<<: *defaults`) that brings in its image block or the value it edits."""
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
            merged = _merged_from(anchors, container, key)
            if merged is not None:
                # The block is the anchored mapping's (`e: {<<: *blk}`): placed at the `*blk` that brings it.
                r.alias_of = anchor_place(doc, merged[0])
                line, col = doc_pos(doc, merged[1])
                r.line, r.column = line + 1, col + 1
                break
        if r.alias_of is None:
            for name, s in r.slots.items():
                if name in NAMING_SLOTS:
                    continue
                a = anchors.alias_at.get((id(owner_of(s.parent, s.key)), s.key))
                if a is None:
                    merged = _merged_from(anchors, s.parent, s.key)
                    a = merged[0] if merged is not None else None
                if a is not None:
                    r.alias_of = anchor_place(doc, a)
                    break
            # A block whose repository also comes from a merge is placed at the merge that brings it
            # (`img: {<<: [*registry, *release]}`): its own place, not the anchored mapping's.
            for name in ("repository", "name", "newName"):
                naming = r.slots.get(name)
                source = _merged_from(anchors, naming.parent, naming.key) if naming is not None else None
                if source is not None:
                    line, col = doc_pos(doc, source[1])
                    r.line, r.column = line + 1, col + 1
                    break


@dataclass
class _Use:
    where: str
    covered: bool


class SharedValue(UsageError):
    """A bump would change, through an anchor or a merge key, a value a place it does not cover uses.

    `selectable`: that place is a reference to the same image the bump left out (an explicit target
    scope), so bumping both in one run is a way out; otherwise only the file can change."""

    def __init__(self, file: str, text: str, fix: str, selectable: bool) -> None:
        super().__init__(f"{text}. {fix}")
        self.file, self.text, self.fix, self.selectable = file, text, fix, selectable

    def with_ways(self, ways: list[str]) -> SharedValue:
        """The same refusal suggesting only `ways` (the options the user has not tried) to bump both."""
        if not self.selectable or not ways:
            return SharedValue(self.file, self.text, self.fix, False)
        fix = f"Bump both in one run: {'; or '.join(ways)}. Or {self.fix[0].lower()}{self.fix[1:]}"
        return SharedValue(self.file, self.text, fix, True)


def check_shared(doc: YamlDoc, refs: list[Reference], others: list[Reference] | None = None) -> None:
    """A bump of `refs` (one file's selected references) must not change, through an anchor or a merge key,
    a value another reference or key uses: exit 2 (SharedValue) naming both places and how to proceed.

    `others`: the file's references to the same image the bump did not select."""
    anchors = doc.anchors
    if not anchors:
        return
    covered: set[Place] = set()
    # Each anchor the bump changes, and the keys of its mapping through which it does (for merge uses:
    # a mapping that writes that key itself does not share it).
    touched: dict[int, tuple[Anchor, set[Any]]] = {}
    merged: set[int] = set()  # anchors the bump reaches through a merge key

    def touch(a: Anchor, key: Any) -> None:
        touched.setdefault(id(a), (a, set()))[1].add(key)

    for r in refs:
        root = doc.docs[r.doc_index] if r.doc_index < len(doc.docs) else None
        places = path_places(root, r.path_parts)
        steps = [(id(c), k) for c, k in places]
        slots = [s for n, s in r.slots.items() if n not in NAMING_SLOTS]
        edited = [(id(owner_of(s.parent, s.key)), s.key) for s in slots]
        covered.update(steps)
        covered.update(edited)
        # Anchors on the way to an edited value (an aliased or anchored mapping) or on the value itself.
        chain = [*places, *((s.parent, s.key) for s in slots)]
        for i, (container, key) in enumerate(chain):
            place = (id(container), key)
            for a in (anchors.at.get(place), anchors.alias_at.get(place)):
                if a is not None:
                    # The key below the anchored value the edit goes through (the edited key when it is the last step).
                    below = chain[i + 1][1] if i + 1 < len(chain) else None
                    touch(a, below)
            source = _merged_from(anchors, container, key)
            if source is not None:
                touch(source[0], key)
                merged.add(id(source[0]))
    selectable: set[Place] = set()
    for o in others or []:
        root = doc.docs[o.doc_index] if o.doc_index < len(doc.docs) else None
        selectable.update((id(c), k) for c, k in path_places(root, o.path_parts))
    for a, keys in touched.values():
        uses = [(place, path, start, "alias") for place, path, start, _ in a.aliases]
        # A mapping that merges the anchored one shares the keys it does not write itself.
        uses += [
            (place, path, start, "merge")
            for mapping, place, path, start in a.merges
            if any(k is None or (_merged_from(anchors, mapping, k) or (None,))[0] is a for k in keys)
        ]
        uses.append((a.place, a.path, a.start, "anchor"))
        for place, path, start, how in uses:
            if (id(place[0]), place[1]) in covered:
                continue
            line, _ = doc_pos(doc, start)
            here = anchor_place(doc, a)
            if how == "alias":
                fix = f"Give each its own value: replace the alias with a copy of the value (*{a.name} at {doc.path}:{line + 1})"
            elif how == "merge":
                fix = (
                    f"Give each its own value: write the key{'s' if len(keys) > 1 else ''} "
                    f"({', '.join(str(k) for k in sorted(keys, key=str) if k is not None)}) in {format_path(path)} "
                    f"itself rather than taking {'them' if len(keys) > 1 else 'it'} from <<: *{a.name}"
                )
            else:
                # The bump reaches the anchored value only through aliases or merges: the anchor's own place
                # (a key a chart may read as it is) would change with them.
                fix = "Give each its own value: copy the anchored value into the references the bump edits"
                if id(a) in merged:
                    fix = f"{fix} rather than taking it from the merge key <<: *{a.name}"
            if how == "anchor":
                through = f"the merge key <<: *{a.name}" if id(a) in merged else f"the alias *{a.name}"
                text = (
                    f"{doc.path}:{here['line']}: this bump reaches the value anchored there (&{a.name}, "
                    f"{here['yaml_path']}) only through {through}, and does not cover {here['yaml_path']} itself "
                    "(a chart or another app may read it as written): changing one would change both"
                )
            else:
                text = (
                    f"{doc.path}:{here['line']}: the value anchored there (&{a.name}, {here['yaml_path']}) is also "
                    f"used at {doc.path}:{line + 1} ({format_path(path)}"
                    + (f", through <<: *{a.name}" if how == "merge" else "")
                    + "), which this bump does not cover (another app, image or environment): changing one would "
                    "change both"
                )
            raise SharedValue(
                doc.path,
                text,
                fix,
                (id(place[0]), place[1]) in selectable,
            )
