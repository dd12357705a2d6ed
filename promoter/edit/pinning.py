"""Pinning: add the keys that pin an image in one environment's own file, byte-exact around them.

When an image is pinned only in a base every overlay shares (or only in a chart's values.yaml),
no environment can be bumped alone. The fix is a few lines in the environment's own file: an
`images:` entry in its kustomization, or the tag under the image's key in its values file.
These functions insert exactly those lines and leave every other byte as it was (comments,
quoting, line endings, BOM); they return None when the file's shape does not allow it (a flow
collection, several documents, the key holding something else), and the caller says what to do by hand.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

Leaves = list[tuple[str, str]]
_PLAIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/@:-]*$")
_NOT_PLAIN = {"true", "false", "yes", "no", "on", "off", "null", "~", "y", "n"}


def scalar(value: str, *, quote: bool = False) -> str:
    """`value` as a YAML scalar: plain when it reads back as the same string, else double-quoted."""
    plain = (
        not quote
        and _PLAIN.match(value)
        and value.lower() not in _NOT_PLAIN
        and not re.match(r"^[-+]?[0-9._]+([eE][-+]?[0-9]+)?$", value)
        and ": " not in value
    )
    return value if plain else json.dumps(value)


class _Text:
    """A file's text as lines, with its line ending and BOM kept aside."""

    def __init__(self, text: str) -> None:
        self.bom = "\ufeff" if text.startswith("\ufeff") else ""
        body = text[len(self.bom) :]
        self.newline = "\r\n" if "\r\n" in body else "\n"
        self.lines = body.splitlines(keepends=True)

    def insert_after(self, line: int | None, new: list[str]) -> str:
        """The text with `new` lines inserted after 0-based `line` (None: at the end)."""
        lines = list(self.lines)
        at = len(lines) if line is None else line + 1
        if at > 0 and at == len(lines) and lines and not lines[-1].endswith(("\n", "\r")):
            lines[-1] += self.newline  # the file did not end with a newline: the new lines start on their own
        lines[at:at] = [x + self.newline for x in new]
        return self.bom + "".join(lines)


def _root(text: str) -> tuple[bool, Any]:
    """(ok, root node) of a one-document file; ok is False when it has several documents or does not parse."""
    try:
        docs = list(yaml.compose_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
    except yaml.YAMLError:
        return False, None
    if len(docs) > 1:
        return False, None
    return True, (docs[0] if docs else None)


def _last_line(node: Any) -> int:
    """The 0-based line where a node's content ends (a block collection's end mark is the next token's line)."""
    if isinstance(node, yaml.ScalarNode):
        end = node.end_mark
        # A block scalar (| or >) ends at column 0 of the line after its last line.
        return end.line - 1 if end.column == 0 and end.line > node.start_mark.line else end.line
    if isinstance(node, yaml.MappingNode):
        return max((_last_line(v) for _, v in node.value), default=node.start_mark.line)
    if isinstance(node, yaml.SequenceNode):
        return max((_last_line(v) for v in node.value), default=node.start_mark.line)
    return node.end_mark.line


def _child(node: Any, key: str) -> Any:
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return v
    return None


def _dash_column(lines: list[str], item: Any) -> int:
    """The column of the `-` in front of a block sequence item."""
    line = lines[item.start_mark.line] if item.start_mark.line < len(lines) else ""
    col = item.start_mark.column
    dash = line.rfind("-", 0, col)
    return dash if dash >= 0 else max(0, col - 2)


def _item_lines(dash: int, item: Leaves) -> list[str]:
    out = []
    for i, (k, v) in enumerate(item):
        lead = " " * dash + "- " if i == 0 else " " * (dash + 2)
        out.append(f"{lead}{k}: {v}")
    return out


def append_to_sequence(text: str, key: str, item: Leaves) -> str | None:
    """Add `item` (key/value pairs, values already YAML scalars) to the top-level block sequence `key`,
    or add `key:` with that one item at the end of the file when it has none."""
    ok, root = _root(text)
    if (
        not ok
        or (root is not None and not isinstance(root, yaml.MappingNode))
        or (root is not None and root.flow_style)
    ):
        return None
    t = _Text(text)
    seq = _child(root, key) if root is not None else None
    if seq is None:
        dash = _sequence_indent(t.lines, root)
        return t.insert_after(None, [f"{key}:", *_item_lines(dash, item)])
    if not isinstance(seq, yaml.SequenceNode) or seq.flow_style or not seq.value:
        return None
    dash = _dash_column(t.lines, seq.value[0])
    return t.insert_after(_last_line(seq), _item_lines(dash, item))


def _sequence_indent(lines: list[str], root: Any) -> int:
    """How this file indents a top-level block sequence's dashes (kustomize writes them at column 0)."""
    if root is not None:
        for _, v in root.value:
            if isinstance(v, yaml.SequenceNode) and not v.flow_style and v.value:
                return _dash_column(lines, v.value[0])
    return 0


def insert_mapping(text: str, path: list[str], leaves: Leaves) -> str | None:
    """Make the nested block mapping `path` hold `leaves` (values already YAML scalars), adding only
    what is missing: the rest of the path under its deepest existing mapping, or the leaf keys."""
    ok, root = _root(text)
    if not ok:
        return None
    t = _Text(text)
    node = root
    depth = 0
    if node is not None:
        if not isinstance(node, yaml.MappingNode) or node.flow_style:
            return None
        while depth < len(path):
            child = _child(node, path[depth])
            if child is None:
                break
            if not isinstance(child, yaml.MappingNode) or child.flow_style:
                return None  # the key holds a value of another shape: not ours to rewrite
            node, depth = child, depth + 1
    rest = path[depth:]
    present = {k.value for k, _ in node.value} if node is not None else set()
    todo = [(k, v) for k, v in leaves if rest or k not in present]
    if not todo:
        return text
    indent = node.value[0][0].start_mark.column if node is not None and node.value else 0
    step = _step(node, root)
    new = [" " * (indent + step * i) + f"{k}:" for i, k in enumerate(rest)]
    new += [" " * (indent + step * len(rest)) + f"{k}: {v}" for k, v in todo]
    where = None if node is None or node is root else _last_line(node)
    return t.insert_after(where, new)


def _step(node: Any, root: Any) -> int:
    """The file's indentation step: how far a nested mapping's keys sit right of their parent's."""
    for parent in (node, root):
        if not isinstance(parent, yaml.MappingNode):
            continue
        for k, v in parent.value:
            if isinstance(v, yaml.MappingNode) and v.value and not v.flow_style:
                step = v.value[0][0].start_mark.column - k.start_mark.column
                if step > 0:
                    return step
    return 2
