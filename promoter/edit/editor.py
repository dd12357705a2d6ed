"""Edit: turn (references, new image) into byte-exact text edits, apply them, and verify by re-parsing."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from promoter.locate.styles.base import position
from promoter.model.changeset import Change
from promoter.model.errors import UsageError
from promoter.model.reference import Reference, Slot
from promoter.yamlio.document import (
    YamlDoc,
    format_path,
    is_flow,
    key_pos,
    merge_sources,
    node_start,
    owner_of,
    owns,
    value_span,
)
from promoter.yamlio.loader import load as _load_11
from promoter.yamlio.marked import MarkedMap, MarkedSeq
from promoter.yamlio.scalar import LineIndex, Span, format_scalar, scalar_span

_DELETE = object()
_ALIAS = object()


@dataclass
class _Op:
    start: int
    end: int
    text: str


@dataclass
class FileEdit:
    """Edits planned for one file; `apply()` gives the new full text (BOM included)."""

    doc: YamlDoc
    ops: list[_Op] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    wanted: dict[tuple[int, Any], str] = field(default_factory=dict)  # the new text asked for at each place
    # Expected results, keyed by node identity, for the verifying re-parse.
    sets: dict[tuple[Any, Any], Any] = field(default_factory=dict)
    adds: dict[int, list[tuple[str, str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # The marked reader's line index of this very text, when it has one: a 50 MB file's is 0.25 s.
        lines = next((getattr(d, "lines", None) for d in self.doc.docs if isinstance(d, (MarkedMap, MarkedSeq))), None)
        shared = lines.starts() if lines is not None and lines.text is self.doc.text else None
        self.index = LineIndex(self.doc.text, shared)

    # ---- primitives ----------------------------------------------------------------------
    def span(self, s: Slot) -> Span:
        if not owns(s.parent, s.key):
            line = (node_start(s.parent) or (0, 0))[0]
            raise UsageError(
                f"{self.doc.path}:{line + 1}: {s.key!r} comes from a merge key (<<: *anchor), not from this mapping; "
                "edit the anchored mapping, or add the key here and name it as an explicit target"
            )
        if s.value is None and isinstance(s.parent, dict):
            return self._null_span(s)
        line, col = position(s.parent, s.key)
        marked = value_span(s.parent, s.key)
        start = marked[0] if marked is not None else self.index.offset(line, col)
        sp = scalar_span(self.doc.text, start, flow=s.flow)
        if marked is not None and sp.end != marked[1]:
            # libyaml saw the value end elsewhere: it spans lines (or this scanner misread it).
            raise UsageError(
                f"{self.doc.path}:{line + 1}: cannot rewrite the value at column {col + 1} byte-exact "
                f"(it is not a one-line scalar)"
            )
        written = self.doc.text[sp.start : sp.end]
        try:
            back = _load_12(written) if written else None
        except Exception:  # ruamel raises its own error types
            back = _Unreadable
        value = s.value
        if back != value and str(back) != str(value):
            raise UsageError(
                f"{self.doc.path}:{line + 1}: cannot rewrite the value at column {col + 1} byte-exact "
                f"(it is not a one-line scalar)"
            )
        return sp

    def _null_span(self, s: Slot) -> Span:
        """`key:` with nothing after it (or `~`/`null`): the value's place is right after the colon."""
        kline, kcol = _key_position(s)
        start = self.index.offset(kline, kcol)
        eol = self.index.line_end(start)
        line_text = self.doc.text[start:eol]
        m = re.match(r"(?:\"[^\"]*\"|'[^']*'|[^:#]*?)\s*:", line_text)
        if m is None:
            raise UsageError(f"{self.doc.path}:{kline + 1}: cannot find the value of {s.key!r} byte-exact")
        after = start + m.end()
        rest = self.doc.text[after:eol]
        word = re.match(r"(\s*)(~|null|Null|NULL)?", rest)
        assert word is not None
        if word.group(2):
            b = after + len(word.group(1))
            return Span(b, b + len(word.group(2)), "plain")
        return Span(after, after, "empty")

    def set(self, ref: Reference, s: Slot, new: str, *, note: str | None = None) -> None:
        s = self.anchored(s)
        if (id(s.parent), s.key) in self.wanted:
            if self.wanted[(id(s.parent), s.key)] == new:
                return  # an anchored value several references share: written once
            raise UsageError(f"{self.doc.path}: two references want different values at {_slot_path(ref, s)}")
        self.wanted[(id(s.parent), s.key)] = new
        old = s.value
        if isinstance(old, str) and old == new:
            return
        if not isinstance(old, str) and old is not None and str(old) == new:
            return
        sp = self.span(s)
        # A plain old value is a number only when YAML 1.1 (Helm, go-yaml) and 1.2 readers agree:
        # `08` is the string "08" to one and 8 to the other, so it was meant as a string.
        old_number = (
            sp.style == "plain"
            and old is not None
            and not isinstance(old, str)
            and not isinstance(_quiet(_load_11, self.doc.text[sp.start : sp.end]), str)
        )
        text, _ = format_scalar(new, "plain" if sp.style == "empty" else sp.style, old_plain_was_string=not old_number)
        if sp.style == "empty":
            text = " " + text
        if old_number:
            # The old value was a number (tag: 1.4). Keep it plain when the new one reads back as the
            # same text (1.5); quote it when it would not (1.10 would read as 1.1).
            text = (
                new if all(_same_number(read, new) for read in (_load_11, _load_12)) else format_scalar(new, "plain")[0]
            )
        self.ops.append(_Op(sp.start, sp.end, text))
        # What the verifying re-parse (ruamel, YAML 1.2) must read there.
        self.sets[(id(s.parent), s.key)] = _load_12(text) if text.strip() else None
        for place in self.alias_places(s):
            # Aliases (*name) of an anchored value read back as the new value too.
            self.sets[place] = self.sets[(id(s.parent), s.key)]
        anchor = getattr(old, "anchor", None)
        if anchor is not None and getattr(anchor, "value", None):
            self.sets[(_ALIAS, id(old))] = self.sets[(id(s.parent), s.key)]
        # The line of the value's bytes: ruamel places a null value (`tag:`) at the next node.
        line = self.index.line_of(sp.start)
        # Show a plain number as written (`08`, not the 8 a YAML 1.2 reader makes of it).
        shown = old if isinstance(old, str) or old is None else self.doc.text[sp.start : sp.end]
        self.changes.append(Change(self.doc.path, line + 1, _slot_path(ref, s), ref.style, _show(shown), new, note))

    def anchored(self, s: Slot) -> Slot:
        """The slot where an alias's value is written: its anchor's (marked reader), else `s` itself.

        A key a merge key brings in from an anchored mapping (`<<: *d`) is written in that mapping:
        the plan checked (check_shared) that every other place sharing it is in the same bump."""
        anchors = self.doc.anchors
        if not anchors:
            return s
        owner = owner_of(s.parent, s.key)
        a = anchors.alias_at.get((id(owner), s.key))
        if a is None and owner is not s.parent and any(b.value is owner for b in anchors.all):
            return Slot(parent=owner, key=s.key, flow=is_flow(owner))
        if a is None or a.place[0] is None:
            return s
        container, key = a.place
        return Slot(parent=container, key=key, flow=is_flow(container))

    def alias_places(self, s: Slot) -> list[tuple[int, Any]]:
        """(id(container), key) of every alias of the value at `s`, when it is anchored (marked reader)."""
        anchors = self.doc.anchors
        if not anchors:
            return []
        a = anchors.at.get((id(owner_of(s.parent, s.key)), s.key))
        return [] if a is None else [(id(place[0]), place[1]) for place, _, _, _ in a.aliases]

    def add_after(self, ref: Reference, anchor: Slot, items: list[tuple[str, str]], note: str) -> None:
        """Insert `key: value` entries right after the anchor key's line (block) or value (flow)."""
        sp = self.span(anchor)
        rendered = [(k, format_scalar(v, "plain")[0]) for k, v in items]
        if anchor.flow:
            text = "".join(f", {k}: {v}" for k, v in rendered)
            self.ops.append(_Op(sp.end, sp.end, text))
        else:
            _, key_col = _key_position(anchor)
            eol = self.index.line_end(sp.end)
            nl = self.index.newline()
            text = "".join(f"{nl}{' ' * key_col}{k}: {v}" for k, v in rendered)
            self.ops.append(_Op(eol, eol, text))
        self.adds.setdefault(id(anchor.parent), []).extend((k, _load_12(v)) for k, v in rendered)
        line, _ = position(anchor.parent, anchor.key)
        for k, v in items:
            self.changes.append(
                Change(self.doc.path, line + 2, format_path(ref.path_parts) + f".{k}", ref.style, None, v, note)
            )

    def drop(self, ref: Reference, s: Slot, note: str) -> None:
        """Remove a `key: value` entry: its whole line in block style, its `, key: value` in flow."""
        sp = self.span(s)
        kline, kcol = _key_position(s)
        if s.flow:
            text = self.doc.text
            start = self.index.offset(kline, kcol)
            # Remove the separator before the key (or after, for the first key).
            before = text.rfind(",", 0, start)
            opener = max(text.rfind("{", 0, start), text.rfind("[", 0, start))
            if before > opener:
                self.ops.append(_Op(before, sp.end, ""))
            else:
                after = sp.end
                while after < len(text) and text[after] in " ,":
                    after += 1
                self.ops.append(_Op(start, after, ""))
        else:
            line_start = self.index.starts[kline]
            prefix = self.doc.text[line_start : line_start + kcol]
            if prefix.strip():
                raise UsageError(
                    f"{self.doc.path}:{kline + 1}: cannot drop {s.key!r}: it shares its line with another key or '-'; "
                    "move it below the entry's first key"
                )
            end_line = self.index.line_of(sp.end)
            end = self.index.starts[end_line + 1] if end_line + 1 < len(self.index.starts) else len(self.doc.text)
            self.ops.append(_Op(line_start, end, ""))
        self.sets[(id(s.parent), s.key)] = _DELETE
        line, _ = position(s.parent, s.key)
        self.changes.append(Change(self.doc.path, line + 1, _slot_path(ref, s), ref.style, _show(s.value), None, note))

    # ---- result --------------------------------------------------------------------------
    def apply(self) -> str:
        text = self.doc.text
        spans = sorted(self.ops, key=lambda o: (o.start, o.end))
        for a, b in zip(spans, spans[1:], strict=False):
            if b.start < a.end:
                raise UsageError(f"{self.doc.path}: two edits overlap at offset {b.start}; refusing to guess")
        # One join of the kept pieces and the new texts: slicing the whole text again for every edit
        # copied a 50 MB file once per changed value. Edits at one offset (insertions, then at most one
        # replacement: the check above) apply in the order they were planned, each before the one
        # planned earlier, as the edit-by-edit splice from the end did.
        at_offset: dict[int, list[_Op]] = {}
        for op in self.ops:
            at_offset.setdefault(op.start, []).append(op)
        pieces, at = [], 0
        for start in sorted(at_offset):
            group = at_offset[start]
            end = max(op.end for op in group)
            local = text[start:end]
            for op in group:
                local = op.text + local[op.end - start :]
            pieces += [text[at:start], local]
            at = end
        pieces.append(text[at:])
        text = "".join(pieces)
        self._verify(text)
        return self.doc.full_text(text)

    def _verify(self, new_text: str) -> None:
        """Re-parse the result: it must equal the old document with exactly the planned changes."""
        if (
            len(new_text) > VERIFY_LIMIT
            and self.doc.reader == "c"
            and not self.adds
            and _DELETE not in self.sets.values()
        ):
            _verify_values_only(self.doc.path, new_text)
            return
        try:
            new = self.doc.again(new_text)
        except UsageError as exc:
            raise UsageError(
                f"{self.doc.path}: the edit would not parse ({exc.message}); nothing was written"
            ) from None
        want = [_plain(d, self.sets, self.adds) for d in self.doc.docs]
        got = [_plain(d, {}, {}) for d in new.docs]
        if want != got:
            raise UsageError(f"{self.doc.path}: the edit did not read back as intended; nothing was written")


# Above this size an edit that only replaces values is verified value by value (each old value read
# back from its bytes, each new one read alone by YAML 1.1 and 1.2 readers) plus one libyaml syntax
# pass over the result, instead of a second full parse: a 50 MB values file is bumped in seconds.
VERIFY_LIMIT = 4 * 1024 * 1024


def _verify_values_only(path: str, text: str) -> None:
    from yaml._yaml import CParser

    parser = CParser(text)
    try:
        parser.raw_parse()
    except Exception as exc:  # libyaml's own error types
        raise UsageError(f"{path}: the edit would not parse ({exc}); nothing was written") from None
    finally:
        parser.dispose()


def _load_12(text: str) -> Any:
    """`text` as the YAML 1.2 reader that verifies edits reads it (lenient like YamlDoc)."""
    docs = YamlDoc.from_text(text, "<value>").docs
    return docs[0] if docs else None


def _quiet(read: Callable[[str], Any], text: str) -> Any:
    try:
        return read(text)
    except Exception:  # not readable alone: not a number either
        return None


def _same_number(load: Callable[[str], Any], text: str) -> bool:
    """`text` read plain is a number whose own spelling is `text` (1.5 yes; 1.10, 08, 1_000 no)."""
    try:
        back = load(text)
    except Exception:
        return False
    return isinstance(back, (int, float)) and not isinstance(back, bool) and str(back) == text


class _Unreadable:
    pass


def _show(v: Any) -> str | None:
    return None if v is None else str(v)


def _key_position(s: Slot) -> tuple[int, int]:
    if isinstance(s.parent, dict):
        pos = key_pos(s.parent, s.key)
        if pos is not None:
            return pos
    return position(s.parent, s.key)


def _slot_path(ref: Reference, s: Slot) -> str:
    if ref.kind == "string":
        return ref.yaml_path
    if ref.kind == "tag" and ref.yaml_path.endswith(".*]"):
        # Argo CD parameters: `[name=x.image.*]` becomes `[name=x.image.tag]` / `.digest]`
        return ref.yaml_path.replace(".*]", f".{s.parent.get('name', '').rpartition('.')[2]}]")
    if ref.kind == "tag":
        # an explicit lone tag: its digest is a sibling key of the same mapping
        return format_path(ref.path_parts[:-1] + (s.key,))
    return format_path(ref.path_parts + (s.key,))


def _plain(node: Any, sets: dict[tuple[Any, Any], Any], adds: dict[int, list[tuple[str, Any]]]) -> Any:
    """Plain data of `node` with the planned sets, drops and adds applied (what the re-parse must give)."""
    if (_ALIAS, id(node)) in sets:
        return _plain(sets[(_ALIAS, id(node))], {}, {})
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            # A key a merge (`<<: *b`) brings in is edited where it is written: in the anchored mapping.
            where = (id(owner_of(node, k)), k)
            if where in sets:
                if sets[where] is _DELETE:
                    continue
                out[str(k)] = _plain(sets[where], {}, {})
            else:
                out[str(k)] = _plain(v, sets, adds)
        for k, v in adds.get(id(node), []):
            out[k] = _plain(v, {}, {})
        for src in _merge_sources(node):
            for k, v in adds.get(id(src), []):
                out.setdefault(k, _plain(v, {}, {}))  # a key of this mapping's own wins over a merged one
        return out
    if isinstance(node, list):
        return [
            _plain(sets[(id(node), i)], {}, {}) if (id(node), i) in sets else _plain(v, sets, adds)
            for i, v in enumerate(node)
        ]
    if node is None or isinstance(node, (bool, int, float)):
        return node
    return str(node)


def _merge_sources(node: Any) -> list[Any]:
    return merge_sources(node)
