"""Marked trees: YAML read by libyaml (PyYAML's C parser) into dicts and lists that remember where
each key and value is written (character offsets into the text), which values are anchored, and
where every alias of them stands.

The round-trip loader (ruamel.yaml) knows only where a value starts, costs ~20x more, and puts an
alias at its anchor's place. libyaml's event marks give the exact span of every scalar and of every
alias for the price of one C parse, so locating and editing read files this way. Plain scalars are
resolved as YAML 1.2 (the round-trip loader's rules, so both readers see the same values); numbers
and dates keep the text they were written with (`tag: 1.10` is "1.10", not 1.1).
"""

from __future__ import annotations

import bisect
import datetime
import gc
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from promoter.yamlio.limits import MAX_DEPTH, NestingTooDeep

CParser: Any
try:
    from yaml._yaml import CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml: the round-trip reader is used
    CParser = None

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MERGE = "tag:yaml.org,2002:merge"


_NOKEY = object()  # no key waits for its value; also "not cached"


class Unusual(Exception):
    """YAML this reader leaves to the round-trip loader (a collection used as a key, a recursive alias)."""


class MarkedError(Exception):
    """The text is not YAML a Kubernetes tool would read (duplicate key, undefined alias): offset and problem."""

    def __init__(self, offset: int, problem: str) -> None:
        super().__init__(problem)
        self.offset, self.problem = offset, problem


class Lines:
    """Offsets to 0-based (line, column); built on first use (a listing needs lines only for what it reports)."""

    __slots__ = ("text", "_starts")

    def __init__(self, text: str) -> None:
        self.text = text
        self._starts: list[int] | None = None

    def pos(self, offset: int) -> tuple[int, int]:
        if self._starts is None and len(self.text) < 32_768:  # a small file: counting is cheaper than an index
            return self.text.count("\n", 0, offset), offset - self.text.rfind("\n", 0, offset) - 1
        starts = self.starts()
        line = bisect.bisect_right(starts, offset) - 1
        return line, offset - starts[line]

    def starts(self) -> list[int]:
        """The offset of every line's start (built once; an editor of the same text shares it)."""
        if self._starts is None:
            self._starts = [0] + [m.end() for m in re.finditer("\n", self.text)]
        return self._starts


class MarkedMap(dict):  # type: ignore[type-arg,unused-ignore]
    """A mapping. `marks[key]` = (key start, value start, value end) for each key written here; keys a
    merge (`<<: *base`) brings in have no marks here: `merges` holds the mappings they come from."""

    __slots__ = ("marks", "start", "flow", "lines", "merges")  # _read sets them without __init__: keep in step

    def __init__(self, start: int, flow: bool, lines: Lines) -> None:
        super().__init__()
        self.marks: dict[Any, tuple[int, int, int]] = {}
        self.start, self.flow, self.lines = start, flow, lines
        self.merges: list[MarkedMap] | None = None


class MarkedSeq(list):  # type: ignore[type-arg,unused-ignore]
    """A sequence. `marks[i]` = (value start, value end) of item i."""

    __slots__ = ("marks", "start", "flow", "lines")  # _read sets them without __init__: keep in step

    def __init__(self, start: int, flow: bool, lines: Lines) -> None:
        super().__init__()
        self.marks: list[tuple[int, int]] = []
        self.start, self.flow, self.lines = start, flow, lines


class Int(int):
    """An integer as written (`08`, `1_000`): compares as the number, prints as the text."""

    src: str

    def __new__(cls, value: int, src: str) -> Int:
        obj = int.__new__(cls, value)
        obj.src = src
        return obj

    def __str__(self) -> str:
        return self.src

    __repr__ = __str__


class Float(float):
    """A float as written (`1.10`): compares as the number, prints as the text."""

    src: str

    def __new__(cls, value: float, src: str) -> Float:
        obj = float.__new__(cls, value)
        obj.src = src
        return obj

    def __str__(self) -> str:
        return self.src

    __repr__ = __str__


class Timestamp:
    """A date or time as written: not a string to the styles (as the round-trip loader has it), printed as written."""

    __slots__ = ("src",)

    def __init__(self, src: str) -> None:
        self.src = src

    def __str__(self) -> str:
        return self.src

    __repr__ = __str__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Timestamp) and other.src == self.src

    def __hash__(self) -> int:
        return hash(("ts", self.src))


Place = tuple[Any, Any]  # (container, key); a document root is (None, document index)


@dataclass(eq=False)
class Anchor:
    """One `&name` value: the place it is written, its YAML path, and the places of its aliases (`*name`)."""

    name: str
    doc: int
    place: Place
    path: tuple[Any, ...]
    start: int  # offset of the `&name` property
    value: Any = None
    aliases: list[tuple[Place, tuple[Any, ...], int, int]] = field(default_factory=list)  # place, path, start, end
    # Mappings that take keys from this one through a merge key (`<<: *name`): the mapping, its place,
    # its YAML path and the offset of the `*name`. They share every key they do not write themselves.
    merges: list[tuple[Any, Place, tuple[Any, ...], int]] = field(default_factory=list)


@dataclass
class Anchors:
    """Every anchor of a file, found by the place of the anchored value or of an alias."""

    all: list[Anchor] = field(default_factory=list)
    at: dict[tuple[int, Any], Anchor] = field(default_factory=dict)  # (id(container), key) of the anchored value
    alias_at: dict[tuple[int, Any], Anchor] = field(default_factory=dict)  # (id(container), key) of an alias
    # id(mapping) -> the anchors it merges (`<<: *a` or `<<: [*a, *b]`, in order) and the offset of each `*name`.
    merged_into: dict[int, list[tuple[Anchor, int]]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.all)


# ---- scalar resolution (YAML 1.2, as the round-trip loader) -----------------------------------
_values: dict[str, Any] = {}
_CACHE_LIMIT = 100_000
_TS = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})")


# The round-trip loader's YAML 1.2 implicit resolvers (ruamel.yaml's VersionedResolver for 1.2), written
# out: importing ruamel to read them cost every command ~14 ms before it did anything. Each: the tag,
# the pattern, its flags, and the first characters it is tried for, in ruamel's order.
# tests/yamlio/test_marked_resolvers.py checks that this is ruamel's table, entry for entry.
_X = re.X | re.U
RESOLVERS: tuple[tuple[str, str, int, str], ...] = (
    ("tag:yaml.org,2002:bool", "^(?:true|True|TRUE|false|False|FALSE)$", _X, "tTfF"),
    (
        "tag:yaml.org,2002:float",
        "^(?:\n         [-+]?(?:[0-9][0-9_]*)\\.[0-9_]*(?:[eE][-+]?[0-9]+)?\n        |[-+]?(?:[0-9][0-9_]*)"
        "(?:[eE][-+]?[0-9]+)\n        |[-+]?\\.[0-9_]+(?:[eE][-+][0-9]+)?\n        |[-+]?\\.(?:inf|Inf|INF)"
        "\n        |\\.(?:nan|NaN|NAN))$",
        _X,
        "-+0123456789.",
    ),
    (
        "tag:yaml.org,2002:int",
        "^(?:[-+]?0b[0-1_]+\n        |[-+]?0o?[0-7_]+\n        |[-+]?[0-9_]+\n        |[-+]?0x[0-9a-fA-F_]+)$",
        _X,
        "-+0123456789",
    ),
    (
        "tag:yaml.org,2002:timestamp",
        "^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]\n        |[0-9][0-9][0-9][0-9] -[0-9][0-9]? -[0-9][0-9]?"
        "\n        (?:[Tt]|[ \\t]+)[0-9][0-9]?\n        :[0-9][0-9] :[0-9][0-9] (?:\\.[0-9]*)?"
        "\n        (?:[ \\t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$",
        _X,
        "0123456789",
    ),
    ("tag:yaml.org,2002:merge", "^(?:<<)$", re.U, "<"),
    ("tag:yaml.org,2002:null", "^(?: ~\n        |null|Null|NULL\n        | )$", _X, "~nN" + "\0"),
    ("tag:yaml.org,2002:value", "^(?:=)$", re.U, "="),
    ("tag:yaml.org,2002:yaml", "^(?:!|&|\\*)$", re.U, "!&*"),
)


def _resolvers() -> dict[str, list[tuple[str, Any]]]:
    """RESOLVERS by first character ("" for the empty scalar, written "\\0" above)."""
    table: dict[str, list[tuple[str, Any]]] = {}
    for tag, pattern, flags, firsts in RESOLVERS:
        rx = re.compile(pattern, flags)
        for c in firsts:
            table.setdefault("" if c == "\0" else c, []).append((tag, rx))
    return table


_TABLE = _resolvers()
# A plain scalar whose first character starts no resolver is a string: most values never reach a regex.
FIRST = frozenset(k for k in _TABLE if k)


def _tag_of(value: str) -> str:
    for tag, rx in _TABLE.get(value[:1] if value else "", ()):
        if rx.match(value):
            return tag
    return _STR


def plain(value: str) -> Any:
    """A plain scalar's value: None, a bool, an Int/Float/Timestamp keeping its text, or the string."""
    if value[:1] not in FIRST and value:
        return value
    out = _values.get(value, _NOKEY)
    if out is not _NOKEY:
        return out
    out = _build_plain(value, _tag_of(value))
    if len(_values) > _CACHE_LIMIT:
        _values.clear()
    _values[value] = out
    return out


def _build_plain(value: str, tag: str) -> Any:
    if tag == _STR:
        return value
    if tag == _NULL:
        return None
    if tag == _BOOL:
        return value.lower() == "true"
    if tag == _INT:
        digits = value.replace("_", "")
        sign = -1 if digits.startswith("-") else 1
        body = digits.lstrip("+-")
        try:
            if body[:2] in ("0x", "0X"):
                n = int(body[2:], 16)
            elif body[:2] in ("0o", "0O"):
                n = int(body[2:], 8)
            elif body[:2] in ("0b", "0B"):
                n = int(body[2:], 2)
            else:
                n = int(body, 10)
        except ValueError:  # `0x_`: a valid tag the resolver takes for a number; a string to every reader
            return value
        return Int(sign * n, value)
    if tag == _FLOAT:
        low = value.replace("_", "").lower()
        try:
            f = float("inf" if low.lstrip("+-") == ".inf" else "nan" if low == ".nan" else low)
        except ValueError:
            return value
        return Float(-f if low.startswith("-") and low.lstrip("+-") == ".inf" else f, value)
    if tag == _TIMESTAMP:
        m = _TS.match(value)
        try:
            if m is None:
                raise ValueError(value)
            datetime.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:  # `2024-13-01`: a string, as every other reader has it
            return value
        return Timestamp(value)
    if tag == _MERGE:
        return _MERGE_KEY
    return value


class _MergeKey:
    def __repr__(self) -> str:
        return "<<"


_MERGE_KEY = _MergeKey()
_EXPLICIT = {_STR: str, _NULL: None}


def _explicit(e: Any) -> Any:
    """A scalar with an explicit tag, or quoted, or a block scalar."""
    tag = e.tag
    if tag is None or tag == "!" or tag == _STR:
        return e.value
    if tag in (_INT, _FLOAT, _BOOL, _NULL, _TIMESTAMP):
        return _build_plain(e.value, tag)
    return e.value  # a custom tag (`!vault …`): its text, as the round-trip loader keeps it


# Above this size a file is read event by event: libyaml's composed nodes (with two marks each)
# would take twice the memory of the tree built from them.
COMPOSE_LIMIT = 2 * 1024 * 1024


def read(text: str) -> tuple[list[Any], Anchors]:
    """The documents of `text` as marked trees, and its anchors. Raises yaml.YAMLError (libyaml's
    own), MarkedError (duplicate key, undefined alias) or Unusual (left to the round-trip loader).

    A file without aliases or merge keys (`*`, `<<` appear nowhere in it) is composed by libyaml in
    C and converted; any other is built from libyaml's events, which say where each alias stands."""
    if CParser is None:  # pragma: no cover
        raise Unusual("no libyaml")
    # The tree holds no cycles; collecting while it grows would walk millions of objects again and
    # again (a 50 MB file: minutes instead of seconds).
    enabled = gc.isenabled()
    gc.disable()
    try:
        if built_from_events(text):
            return read_events(text)
        return read_composed(text)
    finally:
        if len(text) > COMPOSE_LIMIT:
            gc.freeze()  # a big tree lives as long as the command: later collections need not walk it
        if enabled:
            gc.enable()


def built_from_events(text: str) -> bool:
    """Whether `read` builds `text` from libyaml's events (big, or aliases or merge keys may be in it)
    rather than from libyaml's composed nodes."""
    return len(text) > COMPOSE_LIMIT or "*" in text or "<<" in text


def read_events(text: str) -> tuple[list[Any], Anchors]:
    parser = CParser(text)
    try:
        return _read(parser, Lines(text))
    finally:
        parser.dispose()


if CParser is not None:

    class _Composer(CParser):
        """libyaml's composer; the tag only says whether a scalar is plain (resolution is ours, cached)."""

        def descend_resolver(self, parent: Any, index: Any) -> None:
            pass

        def ascend_resolver(self) -> None:
            pass

        def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
            if kind is yaml.ScalarNode:
                return _PLAIN if (implicit[0] if implicit.__class__ is tuple else implicit) else _STR
            return _SEQ if kind is yaml.SequenceNode else _MAP


_PLAIN, _SEQ, _MAP = "plain", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"


def read_composed(text: str) -> tuple[list[Any], Anchors]:
    """Documents of an alias-free text, composed by libyaml and converted to marked trees."""
    parser = _Composer(text)
    lines = Lines(text)
    docs = []
    try:
        while parser.check_node():
            node = parser.get_node()
            docs.append(_convert(node, lines) if node is not None else None)
    finally:
        parser.dispose()
    return docs, Anchors()


def _scalar(node: Any) -> Any:
    if node.tag is _PLAIN or node.tag == _PLAIN:
        v = node.value
        if node.style:
            return v
        return plain(v) if (v[:1] in FIRST or not v) else v
    if node.tag == _STR:
        return node.value
    return _explicit_node(node)


def _explicit_node(node: Any) -> Any:
    tag = node.tag
    if tag in (_INT, _FLOAT, _BOOL, _NULL, _TIMESTAMP):
        return _build_plain(node.value, tag)
    return node.value


def _convert(node: Any, lines: Lines) -> Any:
    cls = node.__class__
    if cls is yaml.ScalarNode:
        return _scalar(node)
    if cls is yaml.MappingNode:
        m = MarkedMap(node.start_mark.index, bool(node.flow_style), lines)
        marks = m.marks
        for k, v in node.value:
            if k.__class__ is not yaml.ScalarNode:
                raise Unusual("a collection used as a key")
            key = _scalar(k)
            if key in marks:
                raise MarkedError(k.start_mark.index, f"duplicate key {key}")
            if v.__class__ is yaml.ScalarNode:
                m[key] = _scalar(v)
                marks[key] = (k.start_mark.index, v.start_mark.index, v.end_mark.index)
            else:
                m[key] = _convert(v, lines)
                marks[key] = (k.start_mark.index, v.start_mark.index, -1)
        return m
    s = MarkedSeq(node.start_mark.index, bool(node.flow_style), lines)
    smarks = s.marks
    for v in node.value:
        if v.__class__ is yaml.ScalarNode:
            s.append(_scalar(v))
            smarks.append((v.start_mark.index, v.end_mark.index))
        else:
            s.append(_convert(v, lines))
            smarks.append((v.start_mark.index, -1))
    return s


def _read(parser: Any, lines: Lines) -> tuple[list[Any], Anchors]:
    get = parser.get_event
    S, A = yaml.ScalarEvent, yaml.AliasEvent
    MS, SS = yaml.MappingStartEvent, yaml.SequenceStartEvent
    ME, SE = yaml.MappingEndEvent, yaml.SequenceEndEvent
    DS, DE, END = yaml.DocumentStartEvent, yaml.DocumentEndEvent, yaml.StreamEndEvent
    docs: list[Any] = []
    anchors = Anchors()
    by_name: dict[str, Anchor] = {}
    # The open containers above `cur`: (container, the key or index `cur` sits at in it).
    stack: list[tuple[Any, Any]] = []
    cur: Any = None  # the open container (None: the document root is next)
    key: Any = _NOKEY  # in a mapping: the key waiting for its value
    kstart = 0
    root: Any = None
    index = 0
    first = FIRST
    MAP, SEQ = MarkedMap, MarkedSeq
    known, nokey = _values.get, _NOKEY  # plain scalars already resolved (the cache `plain` fills)
    new_map, new_seq = dict.__new__, list.__new__
    while True:
        e = get()
        c = e.__class__
        new = False
        if c is S:
            if e.style or not e.implicit[0]:
                v = _explicit(e)
            else:
                v = e.value
                if v[:1] in first or not v:
                    r = known(v, nokey)
                    v = plain(v) if r is nokey else r
            anchor_name = e.anchor
            if anchor_name is None and cur.__class__ is MAP:  # the hot path: a plain key or value
                if key is _NOKEY:
                    if v in cur.marks:
                        raise MarkedError(e.start_mark.index, f"duplicate key {v}")
                    key, kstart = v, e.start_mark.index
                    continue
                if key is not _MERGE_KEY:
                    cur[key] = v
                    cur.marks[key] = (kstart, e.start_mark.index, e.end_mark.index)
                    key = _NOKEY
                    continue
            start, end = e.start_mark.index, e.end_mark.index
        elif c is MS or c is SS:
            start, end = e.start_mark.index, -1
            # Built without a Python __init__ call (a million mappings in a 50 MB file): what it would set.
            if c is MS:
                v = new_map(MAP)
                v.marks, v.merges = {}, None
            else:
                v = new_seq(SEQ)
                v.marks = []
            v.start, v.flow, v.lines = start, bool(e.flow_style), lines
            anchor_name = e.anchor
            new = True
        elif c is A:
            start, end = e.start_mark.index, e.end_mark.index
            a = by_name.get(e.anchor)
            if a is None:
                raise MarkedError(start, f"found undefined alias {e.anchor!r}")
            v = a.value
            if v is cur or any(v is parent for parent, _ in stack):
                raise Unusual("a recursive alias")
            anchor_name = None
            if cur.__class__ is MAP and key is _MERGE_KEY:
                _merged(anchors, a, stack, cur, index, start)
            elif cur.__class__ is SEQ and stack and stack[-1][1] is _MERGE_KEY:  # `<<: [*a, *b]`
                _merged(anchors, a, stack[:-1], stack[-1][0], index, start)
            elif not (cur.__class__ is MAP and key is _NOKEY):
                place = (cur, key if cur.__class__ is MAP else len(cur)) if cur is not None else (None, index)
                a.aliases.append((place, _path(stack, cur, place[1]), start, end))
                anchors.alias_at[(id(place[0]), place[1])] = a
        elif c is ME or c is SE:
            if c is ME and cur.merges:
                _merge(cur)
            parent, _ = stack.pop()
            cur, key = parent, _NOKEY
            continue
        elif c is DS:
            root, cur, key, stack, by_name = None, None, _NOKEY, [], {}
            continue
        elif c is DE:
            docs.append(root)
            index += 1
            continue
        elif c is END:
            return docs, anchors
        else:  # the stream's start
            continue
        # Place the value: a scalar, a new container, or an alias's value.
        if cur is None:
            root = v
            at: Any = index
        elif cur.__class__ is MAP:
            if key is _NOKEY:
                if new:
                    raise Unusual("a collection used as a key")
                if isinstance(v, (dict, list)):
                    raise Unusual("an alias of a collection used as a key")
                if v is not _MERGE_KEY and v in cur.marks:
                    raise MarkedError(start, f"duplicate key {v}")
                key, kstart = v, start
                if anchor_name is not None:
                    _anchor(anchors, by_name, anchor_name, index, cur, v, _path(stack, cur, v), start, v)
                continue
            if key is _MERGE_KEY:
                if cur.merges is None:
                    cur.merges = []
                cur.merges.append(v)  # a mapping or a list of them; checked when the mapping ends
                if new:
                    stack.append((cur, _MERGE_KEY))
                    if len(stack) > MAX_DEPTH:
                        raise NestingTooDeep(NestingTooDeep.problem)
                    cur = v
                key = _NOKEY
                continue
            at = key
            cur[key] = v
            cur.marks[key] = (kstart, start, end)
        else:
            at = len(cur)
            cur.append(v)
            cur.marks.append((start, end))
        if anchor_name is not None:
            _anchor(anchors, by_name, anchor_name, index, cur, at, _path(stack, cur, at), start, v)
        if new:
            stack.append((cur, at))
            if len(stack) > MAX_DEPTH:  # measured here, so the caller need not walk the tree again
                raise NestingTooDeep(NestingTooDeep.problem)
            cur, key = v, _NOKEY
        elif cur is not None and cur.__class__ is MAP:
            key = _NOKEY


def _anchor(
    anchors: Anchors,
    by_name: dict[str, Anchor],
    name: str,
    index: int,
    container: Any,
    at: Any,
    path: tuple[Any, ...],
    start: int,
    value: Any,
) -> None:
    a = Anchor(name, index, (container, at), path, start, value)
    by_name[name] = a
    anchors.all.append(a)
    anchors.at[(id(container), at)] = a


def _merged(anchors: Anchors, a: Anchor, stack: list[tuple[Any, Any]], mapping: Any, index: int, start: int) -> None:
    """Record that `mapping` (open at the top of `stack`) merges the anchored mapping of `a`."""
    place = stack[-1] if stack else (None, index)
    path = tuple(k for parent, k in stack if parent is not None)
    a.merges.append((mapping, place, path, start))
    anchors.merged_into.setdefault(id(mapping), []).append((a, start))


def _path(stack: list[tuple[Any, Any]], cur: Any, at: Any) -> tuple[Any, ...]:
    """The YAML path of the value at `at` in `cur` (the document root when `cur` is None)."""
    out = [k for parent, k in stack if parent is not None]
    if cur is not None:
        out.append(at)
    return tuple(out)


def _merge(node: MarkedMap) -> None:
    """Apply `<<` merges: keys written in the mapping win; among sources, the earlier one wins."""
    sources: list[MarkedMap] = []
    for src in node.merges or []:
        items = src if isinstance(src, list) else [src]
        for s in items:
            if not isinstance(s, MarkedMap):
                raise MarkedError(node.start, "a merge key (<<) takes a mapping or a list of mappings")
            sources.append(s)
    node.merges = sources
    for s in sources:
        for k, v in s.items():
            if k not in node:
                node[k] = v


def owner(node: MarkedMap, key: Any) -> MarkedMap:
    """The mapping where `key` of `node` is written (itself, or a mapping a merge brings it from)."""
    if key in node.marks:
        return node
    for src in node.merges or []:
        if key in src:
            return owner(src, key)
    return node
