"""Manifests: multi-document YAML (rendered output or plain files) read fast into Resources."""

from __future__ import annotations

import codecs
import re
from typing import Any

import yaml

from promoter.model.finding import Finding, Location, Severity
from promoter.model.resource import Resource
from promoter.yamlio import fastyaml
from promoter.yamlio.gonode import Unreadable, build
from promoter.yamlio.limits import AliasBudgetExceeded, check_nodes, may_alias
from promoter.yamlio.loader import AliasBomb, DuplicateKey
from promoter.yamlio.loader import Loader as _BaseLoader
from promoter.yamlio.resolve import BOOL, FLOAT, INT, NULL, non_finite, resolve, tag_of

_STR, _MAP, _SEQ = "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"


class ManifestLoader(_BaseLoader):
    """PyYAML's C loader reading as kubectl does: plain scalars resolved like go-yaml v2 (see
    yamlio/resolve.py), and each document built into the JSON value Kubernetes reads (yamlio/gonode.py:
    tags, keys, merges and duplicate keys as go-yaml v2 and sigs.k8s.io/yaml treat them)."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and implicit[0]:
            return tag_of(value)
        return super().resolve(kind, value, implicit)

    def construct_document(self, node: Any) -> Any:
        if self._may_alias:  # gonode.build copies what an alias repeats: measure first (yamlio/limits.py)
            _budget(node)
        return build(node)


class _Unusual(Exception):
    """The fast path met YAML it does not handle (merge keys, !!set, custom tags): use ManifestLoader."""


CParser: Any
try:
    from yaml._yaml import CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    CParser = None

# PyYAML spends most of a load in its generic Python constructor and resolver, not in the C parser.
# Manifests repeat the same keys and values endlessly, so resolving and constructing plain scalars
# once per distinct value, and building dicts/lists in one tight recursion, makes loading 2x faster.
_CACHE_LIMIT = 100_000
_tags: dict[str, str] = {}
_values: dict[tuple[str, str], Any] = {}
_GO_TAGS = frozenset((INT, FLOAT, BOOL, NULL))

if CParser is not None:

    class _FastParser(CParser):
        def descend_resolver(self, parent: Any, index: Any) -> None:
            pass

        def ascend_resolver(self) -> None:
            pass

        def resolve(self, kind: Any, value: Any, implicit: tuple[bool, bool]) -> str:
            if kind is yaml.ScalarNode:
                if not implicit[0]:
                    return _STR
                tag = _tags.get(value)
                if tag is None:
                    tag = tag_of(value)
                    if len(_tags) > _CACHE_LIMIT:
                        _tags.clear()
                    _tags[value] = tag
                return tag
            return _SEQ if kind is yaml.SequenceNode else _MAP


def _build(node: Any) -> Any:
    cls = node.__class__
    if cls is yaml.ScalarNode:
        tag = node.tag
        if tag == _STR:
            return node.value
        key = (tag, node.value)
        try:
            return _values[key]
        except KeyError:
            pass
        if tag not in _GO_TAGS:
            raise _Unusual(tag)
        resolved, value = resolve(node.value)
        if resolved != tag and not (tag == FLOAT and resolved == INT):
            raise _Unusual(tag)  # an explicit `!!int abc`: gonode.build names the problem
        if len(_values) > _CACHE_LIMIT:
            _values.clear()
        _values[key] = value
        return value
    if cls is yaml.MappingNode:
        if node.tag != _MAP:
            raise _Unusual(node.tag)
        out = {}
        for k, v in node.value:
            # Keys that are not strings (`1:`, `~:`, merges, Helm's `{{ }}` left in a file) are left to
            # gonode.build, which turns them into JSON's string keys, merges or reports them.
            if k.tag != _STR:
                raise _Unusual(k.tag)
            key = _build(k)
            if key in out:
                raise _Unusual("duplicate key")  # the careful loader names it, with both lines
            out[key] = _build(v)
        return out
    if node.tag != _SEQ:
        raise _Unusual(node.tag)
    return [_build(x) for x in node.value]


def _budget(node: Any) -> None:
    try:
        check_nodes(node)
    except AliasBudgetExceeded as exc:
        raise AliasBomb(problem=exc.problem, problem_mark=getattr(exc.at, "start_mark", None)) from None


def _fast_documents(text: str) -> list[tuple[int, Any]]:
    """(0-based line, object) of every document; raises YAMLError or _Unusual."""
    if CParser is None:
        raise _Unusual("no libyaml")
    parser = _FastParser(text)
    aliases = may_alias(text)
    try:
        out = []
        while parser.check_node():
            node = parser.get_node()
            assert node is not None  # check_node() said there is one
            if aliases:  # _build copies what an alias repeats: measure before building (yamlio/limits.py)
                _budget(node)
            out.append((node.start_mark.line, _build(node)))
        return out
    finally:
        parser.dispose()


def _careful_documents(text: str, first_line: int) -> list[tuple[int, Any]]:
    try:
        return [(first_line + line, obj) for line, obj in _fast_documents(text)]
    except _Unusual:
        loader = ManifestLoader(text)
        try:
            out = []
            while loader.check_node():
                node = loader.get_node()
                out.append((first_line + node.start_mark.line, loader.construct_document(node)))
            return out
        finally:
            loader.dispose()


# A document marker at column 0 ends a document even inside a block scalar, so splitting on it is exact.
_DOC_SPLIT = re.compile(r"^---[ \t]*(?:#.*)?$|^\.\.\.[ \t]*$", re.MULTILINE)


def _documents(text: str) -> list[tuple[int, str]]:
    """(0-based first line, text) of each document. `--- <content>` on a marker line: one chunk."""
    if re.search(r"^---[ \t]+[^#\s]", text, re.MULTILINE):
        return [(0, text)]
    out: list[tuple[int, str]] = []
    start, line = 0, 0
    for m in _DOC_SPLIT.finditer(text):
        out.append((line, text[start : m.start()]))
        line += text.count("\n", start, m.end()) + 1
        start = m.end() + 1
    out.append((line, text[start:]))
    return out


def _parse(text: str, file: str | None, target: str, where: Location) -> tuple[list[tuple[int, Any]], list[Finding]]:
    """(line, object) of every document that parses, and a finding for each one that does not."""
    # yaml-rs when it provably reads as go-yaml v2 does (yamlio/fastyaml.py), else libyaml.
    fast = fastyaml.documents(text)
    if fast is not None:
        return fast, []
    try:
        return _fast_documents(text), []
    except (yaml.YAMLError, _Unusual, RecursionError):
        pass
    # Parse document by document: one broken document must not hide the others.
    parsed: list[tuple[int, Any]] = []
    findings: list[Finding] = []
    for first_line, chunk in _documents(text):
        if not chunk.strip():
            continue
        try:
            parsed.extend(_careful_documents(chunk, first_line))
        except (yaml.YAMLError, RecursionError) as exc:
            findings.append(_yaml_finding(exc, chunk, first_line, file, target, where))
    return parsed, findings


def load_manifests(
    text: str,
    target: str,
    *,
    file: str | None = None,
    env: str | None = None,
    location: Location | None = None,
) -> tuple[list[Resource], list[Finding]]:
    """Every object in `text`, and a `yaml` finding per document that does not parse.

    `file` is set when `text` is a repository file: each resource then points at its document's line.
    Otherwise (rendered output) resources get `location` (default: the target itself).
    """
    resources: list[Resource] = []
    text = text.removeprefix("\ufeff")  # a byte order mark decoded as text: kubectl ignores it too
    where = location or Location(file or target)
    parsed, findings = _parse(text, file, target, where)
    lowered = text.lower()
    careful_json = ".inf" in lowered or ".nan" in lowered
    for line, obj in parsed:
        if obj is None:
            continue
        loc = Location(file, line + 1) if file is not None else where
        if not isinstance(obj, dict):
            findings.append(
                Finding(
                    rule="yaml",
                    severity=Severity.ERROR,
                    message=f"a Kubernetes object must be a mapping, found a {_type_name(obj)} (line {line + 1})",
                    location=loc,
                    source="schema",
                    target=target,
                    help="a manifest file holds Kubernetes objects only; move other YAML out of the manifest folder",
                )
            )
            continue
        bad = non_finite(obj) if careful_json else None
        if bad is not None:
            findings.append(
                Finding(
                    rule="yaml",
                    severity=Severity.ERROR,
                    message=f"{bad}: .inf and .nan have no JSON form, so Kubernetes cannot read this object (line {line + 1})",
                    location=loc,
                    source="schema",
                    target=target,
                    help="write the value as a number or a quoted string",
                    evidence={"pointer": bad},
                )
            )
            continue
        _scalar_names(obj)
        items = obj.get("items")
        # `kind: List` (kubectl's wrapper) holds the real objects in `items`.
        if obj.get("kind") == "List" and obj.get("apiVersion") == "v1" and isinstance(items, list):
            resources.extend(Resource(i, target, loc, env) for i in items if isinstance(i, dict))
        else:
            resources.append(Resource(obj, target, loc, env))
    return resources, findings


def _type_name(obj: Any) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(type(obj), "scalar")


def _scalar_names(obj: dict[str, Any]) -> None:
    """`kind: 5` or `apiVersion: 1.0`: kubeconform reads such scalars as their text, and so does this."""
    for key in ("apiVersion", "kind"):
        value = obj.get(key)
        if isinstance(value, bool):
            obj[key] = "true" if value else "false"
        elif isinstance(value, (int, float)):
            obj[key] = str(value)


def decode(raw: bytes) -> str:
    """Manifest bytes as text, as kubectl and kubeconform read them: a UTF-8 byte order mark is
    dropped, UTF-16 and UTF-32 with a byte order mark are decoded; anything else must be UTF-8
    (UnicodeDecodeError otherwise)."""
    if raw.startswith(codecs.BOM_UTF8):
        return raw[3:].decode("utf-8")
    if raw.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return raw.decode("utf-32")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16")
    return raw.decode("utf-8")


def _yaml_finding(
    exc: Exception, chunk: str, first_line: int, file: str | None, target: str, where: Location
) -> Finding:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    context = getattr(exc, "context_mark", None)
    # An unclosed `[` or `{` is noticed at the end of the document; its opening line is the useful one.
    content_end = len(chunk.rstrip())
    if mark is not None and context is not None and mark.index >= content_end:
        mark = context
    offset = mark.line if mark is not None else 0
    if mark is not None and mark.index >= content_end:
        offset = chunk[:content_end].count("\n")  # the last line with content
    line = first_line + offset + 1
    if isinstance(exc, RecursionError):
        problem = "nesting too deep"
    elif "duplicate anchor" in str(getattr(exc, "context", "")):
        # go-yaml (kubectl, kubeconform) takes the last definition; libyaml refuses the document.
        problem = "an anchor (&name) is defined twice: rename one"
    else:
        problem = " ".join(str(x) for x in (getattr(exc, "context", None), getattr(exc, "problem", None)) if x) or str(
            exc
        )
    in_file = file is not None
    duplicate = isinstance(exc, DuplicateKey)
    unreadable = isinstance(exc, Unreadable)
    of = "" if in_file else " of the rendered output"
    if isinstance(exc, DuplicateKey):
        message = f"duplicate key {exc.key!r} at line {line} (first set at line {exc.first_line})"
    elif unreadable:
        message = f"Kubernetes cannot read this object: {problem} (line {line}{of})"
    else:
        message = f"YAML does not parse: {problem} (line {line}{of})"
    return Finding(
        rule="duplicate-key" if duplicate else "yaml",
        severity=Severity.ERROR,
        message=message,
        location=Location(file, line) if file is not None else where,
        source="schema",
        target=target,
        evidence={"line": line},
        help="keep one of the keys: kubectl and kubeconform reject the object, kustomize keeps the last value and "
        "promoter's edits would change the first"
        if duplicate
        else "kubectl and kubeconform read YAML with go-yaml and send it as JSON: write plain JSON data here "
        "(string keys, no tags go-yaml refuses)"
        if unreadable
        else None,
    )
