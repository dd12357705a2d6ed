"""Limits: how much of an untrusted file promoter reads: bytes per file, and nodes YAML aliases may add.

YAML aliases (`*name`) repeat an anchored value without copying it, so a few hundred bytes can
stand for billions of nodes (the "billion laughs" of XML). Parsers build such a document in
linear time, sharing the anchored value; whatever then walks it (every reader of values, a JSON
dump, a schema check) visits every repetition. Each document is measured once, right after it
is parsed and before anything walks it: in linear time over the distinct nodes, by memo.

The limits are process-wide: `configure` sets them from `.promoter.yaml` (`limits:`) when a
command opens its workspace; everything read before that (the configuration itself) gets the
defaults.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

# Real charts and overlays repeat anchors a few hundred times at most; go-yaml (Helm, kustomize)
# accepts up to ~400,000 nodes in a document before it counts aliases against it.
DEFAULT_ALIAS_NODES = 1_000_000
DEFAULT_FILE_BYTES = 32 * 1024 * 1024  # as yamlio/files.MAX_BYTES (which reads the limits, so cannot be imported)


@dataclass(frozen=True)
class Limits:
    """`alias_nodes`: nodes aliases may add to one document (beyond those written); `file_bytes`: the
    largest file read."""

    alias_nodes: int = DEFAULT_ALIAS_NODES
    file_bytes: int = DEFAULT_FILE_BYTES

    @classmethod
    def from_config(cls, raw: dict[str, Any] | None) -> Limits:
        """From the `limits:` section (already checked against the schema)."""
        section = raw or {}
        mib = section.get("file_size_mib")
        return cls(
            alias_nodes=int(section.get("yaml_alias_nodes", DEFAULT_ALIAS_NODES)),
            file_bytes=int(mib) * 1024 * 1024 if mib is not None else DEFAULT_FILE_BYTES,
        )


_current = Limits()


def current() -> Limits:
    return _current


def configure(limits: Limits) -> None:
    """Set the limits every later read obeys (each command sets them when it opens its workspace)."""
    global _current
    _current = limits


class AliasBudgetExceeded(Exception):
    """A document whose aliases expand beyond the budget, or refer to themselves (endless).

    `at` is the node (or container) where the heaviest alias, or the recursion, is written;
    the readers turn it into a line number."""

    def __init__(self, problem: str, at: Any) -> None:
        super().__init__(problem)
        self.problem, self.at = problem, at


def _count(n: int) -> str:
    return f"{n:,}" if n < 10**12 else f"about 10^{len(str(n)) - 1}"


def _measure(
    root: Any, children: Callable[[Any], Iterable[Any]], is_shared: Callable[[Any], bool], budget: int
) -> None:
    """Raise AliasBudgetExceeded when expanding every alias under `root` adds more than `budget`
    nodes, or never ends. Visits each distinct node once (iteratively: no recursion limit).

    `is_shared(x)` says whether `x` is a node an alias can repeat (compared by identity); other
    children are leaves counted once where they stand."""
    size: dict[int, int] = {}  # finished node -> its expanded size
    acc: dict[int, int] = {id(root): 1}  # nodes being expanded -> size so far
    on_path = {id(root)}
    stack: list[tuple[Any, Any]] = [(root, iter(children(root)))]
    distinct, heaviest, heaviest_at = 0, 0, root
    while stack:
        node, kids = stack[-1]
        for child in kids:
            if not is_shared(child):
                acc[id(node)] += 1
                distinct += 1
                continue
            cid = id(child)
            done = size.get(cid)
            if done is not None:  # seen before: an alias repeats it
                acc[id(node)] += done
                if done > heaviest:
                    heaviest, heaviest_at = done, node
                continue
            if cid in on_path:
                raise AliasBudgetExceeded(
                    "an alias refers to a value that contains it, so it never ends (a recursive alias)", node
                )
            on_path.add(cid)
            acc[cid] = 1
            stack.append((child, iter(children(child))))
            break
        else:
            stack.pop()
            on_path.discard(id(node))
            total = size[id(node)] = acc.pop(id(node))
            distinct += 1
            if stack:
                acc[id(stack[-1][0])] += total
    total = size[id(root)]
    if total - distinct > budget:
        raise AliasBudgetExceeded(
            f"aliases expand this document to {_count(total)} nodes, more than the {_count(budget)} "
            "promoter walks (an alias bomb?); if the file is real, raise limits.yaml_alias_nodes in .promoter.yaml",
            heaviest_at,
        )


def _node_children(node: Any) -> Iterable[Any]:
    value = node.value
    if not isinstance(value, list):
        return ()
    if value and isinstance(value[0], tuple):  # a mapping node: (key, value) pairs
        return (n for pair in value for n in pair)
    return value


def _is_node(_: Any) -> bool:
    return True


def check_nodes(root: Any, budget: int | None = None) -> None:
    """Measure a composed document (PyYAML or ruamel nodes: scalars, sequences, mappings)."""
    _measure(root, _node_children, _is_node, current().alias_nodes if budget is None else budget)


def _data_children(node: Any) -> Iterable[Any]:
    if isinstance(node, dict):
        return (x for kv in node.items() for x in kv)
    return node


def _is_container(x: Any) -> bool:
    return isinstance(x, (dict, list))


def check_data(root: Any, budget: int | None = None) -> None:
    """Measure constructed data (dicts and lists; an alias of a mapping or list is the same object)."""
    if _is_container(root):
        _measure(root, _data_children, _is_container, current().alias_nodes if budget is None else budget)


# An alias is `*name` where a value or key starts: after a line start, a space, `[`, `{`, `,` or `:`. A
# `*` inside a word or right after a quote (`"*"` in RBAC rules, `*/5` in a quoted cron schedule)
# is no alias. Quoted text may still match: then the document is measured, which is only slower.
_ALIAS = re.compile(r"(?:^|[\s\[{,:])\*[^\s\[\]{},]", re.MULTILINE)
_ALIAS_BYTES = re.compile(_ALIAS.pattern.encode(), re.MULTILINE)


def may_alias(text: Any) -> bool:
    """False when `text` cannot hold an alias: the common case costs one regex scan in C."""
    if isinstance(text, str):
        return "*" in text and _ALIAS.search(text) is not None
    if isinstance(text, (bytes, bytearray)):
        return b"*" in text and _ALIAS_BYTES.search(text) is not None
    return True  # a stream: cannot tell without reading it


# Nesting: promoter's readers and walkers recurse once or twice a level, so hundreds of levels
# exhaust Python's stack (about 1,000 frames). Real manifests and values nest a few dozen deep.
MAX_DEPTH = 200
_DEEP_INDENT = re.compile(rf"^[ \t-]{{{MAX_DEPTH}}}", re.MULTILINE)


class NestingTooDeep(Exception):
    """A document nesting more than MAX_DEPTH levels."""

    problem = f"YAML nests too deep to read (more than {MAX_DEPTH} levels)"


def may_nest_deep(text: str) -> bool:
    """False when `text` cannot nest MAX_DEPTH levels: deep block nesting needs that much indentation
    (or `- ` per level), deep flow nesting that many brackets. Two scans in C for the common case."""
    return text.count("[") + text.count("{") > MAX_DEPTH or _DEEP_INDENT.search(text) is not None


def check_depth(root: Any) -> None:
    """Raise NestingTooDeep when constructed data (dicts and lists) nests more than MAX_DEPTH levels
    along any path a walker can take.

    Aliases share containers, so one container may sit at several depths: what counts is the deepest
    path through it. Each container's height (the levels below it, itself included) is computed once,
    bottom up, without recursion, so the check is linear, cannot exhaust the stack, and its verdict
    does not depend on which path reached a shared container first."""
    height: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        children = node.values() if isinstance(node, dict) else node
        if done:
            h = 1 + max((height[id(c)] for c in children if isinstance(c, (dict, list))), default=0)
            if h > MAX_DEPTH:
                raise NestingTooDeep(NestingTooDeep.problem)
            height[key] = h
            on_path.discard(key)
            continue
        if not isinstance(node, (dict, list)) or key in height:
            continue
        if key in on_path:  # a container inside itself: endless for any walker
            raise NestingTooDeep(NestingTooDeep.problem)
        on_path.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in children if isinstance(c, (dict, list)) and id(c) not in height)
