"""Gonode: a composed YAML node built into the JSON value kubectl and kubeconform read from it.

Both decode manifests with go-yaml v2 (strict: a key set twice is an error) and then convert the
result to JSON (sigs.k8s.io/yaml). PyYAML's constructors build other values from the same nodes:
a `!!set` is a Python set, `!!binary` bytes, `!!omap` a list of tuples, `1: x` an int key, `~: x`
a None key, and a key a merge (`<<`) sets again is silently overwritten. Such values are not JSON:
validating them crashed (`Unsupported type: 'set'`), or passed what kubeconform rejects. What go-yaml
v2 and sigs.k8s.io/yaml do (checked against kubeconform v0.7.0, tests/validate/parity/), and so
what is done here:

- collections: their tags are ignored: `!!set {a, b}` is the mapping {a: null, b: null},
  `!!omap`, `!!pairs` and `!!python/tuple` lists are lists, `!foo {..}` a mapping;
- scalars: plain ones resolve as in resolve.py. An explicit `!!int`, `!!float`, `!!bool`, `!!null`
  or `!!timestamp` resolves the text as a plain scalar and must give that type (`!!float` takes an
  integer; a timestamp stays its text), else the object cannot be read ("cannot decode !!str `abc`
  as a !!int"). `!!binary` is base64 made text (bytes that are not UTF-8 become U+FFFD, as Go's
  JSON encoder writes them). Any other tag (`!!str`, `!foo`, `!!python/...`): the text;
- keys become JSON's strings: integers, booleans and floats their text (a float as Go formats a
  float32: `1e20` is "1e+20"); a null key, an integer beyond int64 and a mapping or list used as a
  key are errors; two keys with one text are a duplicate (kubectl would keep either at random);
- `<<` merges a mapping or a list of mappings; a key set twice, by a merge or written, is an error
  (go-yaml's strict mode, which kubeconform -strict and kubectl's strict validation use);
- an alias inside the collection it names is an error ("anchor value contains itself").
"""

from __future__ import annotations

import base64
import binascii
import calendar
import math
import re
import struct
from typing import Any

import yaml

from promoter.yamlio.loader import GO_UTF8, DuplicateKey
from promoter.yamlio.resolve import BOOL, FLOAT, INT, MERGE, NULL, STR, resolve

BINARY = "tag:yaml.org,2002:binary"
TIMESTAMP = "tag:yaml.org,2002:timestamp"
_RESOLVABLE = frozenset((INT, FLOAT, BOOL, NULL, TIMESTAMP))
_INT64 = (-(2**63), 2**63 - 1)


class Unreadable(yaml.MarkedYAMLError):
    """YAML that parses but that Kubernetes cannot turn into a JSON object."""

    plain = True  # the problem is the whole message: not "YAML does not parse"


def _short(tag: str) -> str:
    return tag.replace("tag:yaml.org,2002:", "!!")


def _binary(node: yaml.ScalarNode) -> str:
    # Go's base64.StdEncoding skips line breaks only: padding is required, anything else is corrupt.
    text = node.value.replace("\n", "").replace("\r", "")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise Unreadable(problem="!!binary value contains invalid base64 data", problem_mark=node.start_mark) from None
    return data.decode("utf-8", GO_UTF8)


_DATE = r"(\d{4})-(\d\d?)-(\d\d?)"
_CLOCK = r"(\d\d?):(\d\d?):(\d\d?)(?:[.,]\d+)?"
# go-yaml v2's timestamp layouts as Go's time.Parse reads them (one- or two-digit fields).
_TIMESTAMPS = (
    re.compile(rf"{_DATE}[Tt]{_CLOCK}(?:Z|[+-](\d\d):(\d\d))"),
    re.compile(rf"{_DATE} {_CLOCK}"),
    re.compile(_DATE),
)


def _timestamp(text: str) -> bool:
    for layout in _TIMESTAMPS:
        m = layout.fullmatch(text)
        if m is None:
            continue
        year, month, day, *clock = (int(g) if g is not None else 0 for g in m.groups())
        if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(year, month)[1]:
            return False
        if clock:
            hour, minute, second, *zone = clock
            if hour > 23 or minute > 59 or second > 59 or (zone and (zone[0] > 24 or zone[1] > 60)):
                return False
        return True
    return False


def scalar(node: yaml.ScalarNode) -> tuple[str, Any]:
    """(tag, value) of a scalar node as go-yaml v2 decodes it: STR for every string."""
    tag = node.tag
    if tag == STR:
        return STR, node.value
    if tag == BINARY:
        return STR, _binary(node)
    if tag not in _RESOLVABLE:  # a tag go-yaml does not resolve (custom, python, set, merge): the text
        return STR, node.value
    rtag, value = resolve(node.value)
    if rtag == MERGE:
        rtag, value = STR, node.value
    if tag == TIMESTAMP and rtag == STR and _timestamp(node.value):
        return STR, node.value  # go-yaml keeps a timestamp decoded into interface{} as its text
    if rtag == tag or (tag == FLOAT and rtag == INT):
        return rtag, value
    raise Unreadable(
        problem=f"cannot decode {_short(rtag)} `{node.value}` as a {_short(tag)}", problem_mark=node.start_mark
    )


def go_float32_text(value: float) -> str:
    """`strconv.FormatFloat(value, 'g', -1, 32)` with go-yaml's spelling of infinities and NaN:
    how sigs.k8s.io/yaml writes a float key."""
    if math.isnan(value):
        return ".nan"
    try:
        f32 = struct.unpack("<f", struct.pack("<f", value))[0]
    except OverflowError:
        f32 = math.copysign(math.inf, value)
    if math.isinf(f32):
        return ".inf" if f32 > 0 else "-.inf"
    sign = "-" if math.copysign(1.0, f32) < 0 else ""
    f32 = abs(f32)
    if f32 == 0:
        return sign + "0"
    text = ""
    for digits in range(1, 10):  # the shortest decimal that reads back as the same float32
        text = f"{f32:.{digits - 1}e}"
        if struct.unpack("<f", struct.pack("<f", float(text)))[0] == f32:
            break
    mantissa, exp_text = text.split("e")
    figures = mantissa.replace(".", "").rstrip("0") or "0"
    exp = int(exp_text)
    if exp < -4 or exp >= 6:  # Go's %e: at least two exponent digits
        head = figures[0] + ("." + figures[1:] if len(figures) > 1 else "")
        return f"{sign}{head}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    point = exp + 1
    if point <= 0:
        return f"{sign}0.{'0' * -point}{figures}"
    if point >= len(figures):
        return sign + figures + "0" * (point - len(figures))
    return f"{sign}{figures[:point]}.{figures[point:]}"


def _float(text: str, value: Any) -> float:
    # resolve.py makes a float without a fraction an int (3.0 is JSON's 3), which loses -0.0 ("-0" as a key).
    try:
        return float(text.replace("_", ""))
    except ValueError:  # `.inf`, or `!!float 0x1F`
        return float(value)


def _is_merge(node: Any) -> bool:
    return node.__class__ is yaml.ScalarNode and node.tag == MERGE and node.value == "<<"


class _Builder:
    def __init__(self) -> None:
        self.open: set[int] = set()  # collections being built: an alias to one of them is a cycle

    def value(self, node: Any) -> Any:
        cls = node.__class__
        if cls is yaml.ScalarNode:
            return scalar(node)[1]
        self._enter(node)
        try:
            if cls is yaml.SequenceNode:
                return [self.value(x) for x in node.value]
            out: dict[str, Any] = {}
            self._fill(node, out, {})
            return out
        finally:
            self.open.discard(id(node))

    def _enter(self, node: Any) -> None:
        if id(node) in self.open:
            raise Unreadable(
                problem="an alias names a collection it is inside of (anchor value contains itself)",
                problem_mark=node.start_mark,
            )
        self.open.add(id(node))

    def _fill(self, node: Any, out: dict[str, Any], first: dict[str, Any]) -> None:
        for key_node, value_node in node.value:
            if _is_merge(key_node):
                self._merge(value_node, out, first)
                continue
            key = self.key(key_node)
            if key in out:
                raise DuplicateKey(key, first[key], key_node)
            first[key] = key_node
            out[key] = self.value(value_node)

    def _merge(self, node: Any, out: dict[str, Any], first: dict[str, Any]) -> None:
        # go-yaml merges a list's mappings last to first (earlier ones win when not strict).
        parts = list(reversed(node.value)) if node.__class__ is yaml.SequenceNode else [node]
        for part in parts:
            if part.__class__ is not yaml.MappingNode:
                raise Unreadable(
                    problem="a merge (<<) takes a mapping or a list of mappings", problem_mark=part.start_mark
                )
            self._enter(part)
            try:
                self._fill(part, out, first)
            finally:
                self.open.discard(id(part))

    def key(self, node: Any) -> str:
        if node.__class__ is not yaml.ScalarNode:
            raise Unreadable(
                problem="a mapping or list used as a key has no JSON form (invalid map key; a Helm `{{ }}` left in "
                "the file reads as one)",
                problem_mark=node.start_mark,
            )
        tag, value = scalar(node)
        if tag == STR:
            return str(value)
        if tag == BOOL:
            return "true" if value else "false"
        if tag == INT and _INT64[0] <= value <= _INT64[1]:
            return str(value)
        if tag == FLOAT:
            return go_float32_text(_float(node.value, value))
        what = "a null key" if tag == NULL else f"the key {node.value} (beyond a 64-bit integer)"
        raise Unreadable(problem=f"{what} has no JSON form (unsupported map key)", problem_mark=node.start_mark)


def build(node: Any) -> Any:
    """The JSON value (dicts with str keys, lists, str, int, float, bool, None) of a document's root node."""
    return _Builder().value(node)
