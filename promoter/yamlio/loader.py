"""Loader: PyYAML's safe loader (the C one when present) made total on valid YAML.

PyYAML raises ValueError, not a YAML error, on plain scalars its resolver takes for numbers or
dates but its constructor cannot build: `0x_`, `0b_` (valid image tags) or `2024-13-01`. Those
are strings to every YAML 1.2 reader and to go-yaml, so they are strings here too; one
malformed-looking ConfigMap value must not crash a check.
"""

from __future__ import annotations

import codecs
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from promoter.yamlio.limits import AliasBudgetExceeded, check_nodes, may_alias

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class AliasBomb(yaml.MarkedYAMLError):
    """A document whose aliases expand past the budget (yamlio/limits.py): refused before anything walks it."""

    plain = True  # the problem is the whole message: not "YAML does not parse"


class AliasBudget:
    """Mixin for PyYAML loaders: each document is measured (yamlio/limits.py) before it is constructed."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)  # type: ignore[call-arg]
        self._may_alias = may_alias(stream)

    def construct_document(self, node: Any) -> Any:
        if self._may_alias:
            try:
                check_nodes(node)
            except AliasBudgetExceeded as exc:
                raise AliasBomb(problem=exc.problem, problem_mark=getattr(exc.at, "start_mark", None)) from None
        return super().construct_document(node)  # type: ignore[misc]


class Loader(AliasBudget, _Base):
    """Safe loading; implicit ints and timestamps that cannot be built stay strings; aliases are budgeted."""


def _lenient(construct: Any) -> Any:
    def build(loader: Any, node: yaml.ScalarNode) -> Any:
        try:
            return construct(loader, node)
        except ValueError:
            return loader.construct_scalar(node)

    return build


Loader.add_constructor("tag:yaml.org,2002:int", _lenient(SafeConstructor.construct_yaml_int))
Loader.add_constructor("tag:yaml.org,2002:timestamp", _lenient(SafeConstructor.construct_yaml_timestamp))


def _go_replace(exc: UnicodeError) -> tuple[str, int]:
    # Go's JSON encoder replaces each byte that starts no valid UTF-8 sequence with U+FFFD.
    assert isinstance(exc, UnicodeDecodeError)
    return "\ufffd", exc.start + 1


GO_UTF8 = "promoter-go-utf8"  # bytes.decode("utf-8", GO_UTF8): text as Go's JSON encoder writes it
codecs.register_error(GO_UTF8, _go_replace)


# Collections whose PyYAML values are no JSON data: go-yaml (Helm's values, kustomize) ignores the
# tag of a collection, so a `!!set` is a mapping of nulls and `!!omap`/`!!pairs` are lists; and
# `!!binary` is its decoded text. JSON Schema (values.schema.json) then sees what Helm sees.
def _go_set(loader: Any, node: yaml.MappingNode) -> Any:
    return loader.construct_mapping(node, deep=True)


def _go_list(loader: Any, node: yaml.SequenceNode) -> Any:
    return loader.construct_sequence(node, deep=True)


def _go_binary(loader: Any, node: yaml.ScalarNode) -> Any:
    return SafeConstructor.construct_yaml_binary(loader, node).decode("utf-8", GO_UTF8)


Loader.add_constructor("tag:yaml.org,2002:set", _go_set)
Loader.add_constructor("tag:yaml.org,2002:omap", _go_list)
Loader.add_constructor("tag:yaml.org,2002:pairs", _go_list)
Loader.add_constructor("tag:yaml.org,2002:binary", _go_binary)


class DuplicateKey(yaml.constructor.ConstructorError):
    """A mapping that sets one key twice: kubectl and kubeconform refuse it, kustomize keeps the last,
    promoter's round-trip editor sees the first; so it is an error wherever promoter reads YAML."""

    def __init__(self, key: Any, first: Any, again: Any) -> None:
        super().__init__(
            None, None, f"duplicate key {key!r} (first set at line {first.start_mark.line + 1})", again.start_mark
        )
        self.key, self.first_line = key, first.start_mark.line + 1


def check_duplicates(loader: Any, node: Any, deep: bool = False) -> None:
    """Raise DuplicateKey when mapping `node` sets a key twice (merge keys are not keys)."""
    seen: dict[Any, Any] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=deep)
        try:
            first = seen.setdefault(key, key_node)
        except TypeError:
            continue  # an unhashable key: PyYAML's own constructor says so
        if first is not key_node:
            raise DuplicateKey(key, first, key_node)


class StrictLoader(Loader):
    """Loader, and a key set twice in one mapping is an error (kustomization files, values files)."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        check_duplicates(self, node, deep)
        return super().construct_mapping(node, deep=deep)


def load(text: str | bytes) -> Any:
    """One document, like `yaml.safe_load`."""
    return yaml.load(text, Loader=Loader)


def load_all(text: str | bytes) -> list[Any]:
    return list(yaml.load_all(text, Loader=Loader))
