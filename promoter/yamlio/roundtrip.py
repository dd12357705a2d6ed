"""Roundtrip: ruamel.yaml's round-trip loader as promoter uses it (lenient scalars, an alias budget, no
duplicate keys). Imported only when a file is read that way: ruamel costs ~14 ms to import, and most
commands (a check, the config) read YAML with libyaml's marks instead (yamlio/marked.py)."""

from __future__ import annotations

import io
import warnings
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError, YAMLFutureWarning, YAMLWarning

from promoter.yamlio.limits import AliasBudgetExceeded, check_nodes

__all__ = ["AliasBomb", "CommentedMap", "CommentedSeq", "DuplicateKeyError", "MarkedYAMLError", "YAMLError", "load_all"]

# ruamel tells about what it reads (a reused anchor, legal YAML; a YAML 1.1 float spelling) by
# Python warnings: several lines on stderr, from input the user may not even own. What matters is
# an error, and those are raised; these notes are silenced (a filter, not catch_warnings: thread-safe).
warnings.filterwarnings("ignore", category=YAMLWarning)
warnings.filterwarnings("ignore", category=YAMLFutureWarning)


class _LenientConstructor(RoundTripConstructor):
    """ruamel's round-trip constructor, total on valid YAML: plain scalars its resolver takes for
    numbers or dates but cannot build (`0x_`, `0b_`, valid image tags; `2024-13-01`) stay strings,
    as every other reader has them, instead of an IndexError that would call the file broken."""

    def construct_yaml_int(self, node: Any) -> Any:
        try:
            return super().construct_yaml_int(node)
        except (ValueError, IndexError):
            return self.construct_yaml_str(node)

    def construct_yaml_timestamp(self, node: Any, values: Any = None) -> Any:
        try:
            return super().construct_yaml_timestamp(node, values)
        except (ValueError, IndexError):
            return self.construct_yaml_str(node)


for _tag, _method in (
    ("tag:yaml.org,2002:int", "construct_yaml_int"),
    ("tag:yaml.org,2002:timestamp", "construct_yaml_timestamp"),
):
    _LenientConstructor.add_constructor(_tag, getattr(_LenientConstructor, _method))


class AliasBomb(MarkedYAMLError):
    """A document whose aliases expand past the budget (yamlio/limits.py)."""

    plain = True  # the problem is the whole message: not "YAML does not parse"


class _BudgetedConstructor(_LenientConstructor):
    """Each document measured (yamlio/limits.py) before it is constructed: for texts that hold a `*`."""

    def construct_document(self, node: Any) -> Any:
        try:
            check_nodes(node)
        except AliasBudgetExceeded as exc:
            raise AliasBomb(problem=exc.problem, problem_mark=getattr(exc.at, "start_mark", None)) from None
        return super().construct_document(node)


def _yaml(aliases: bool = True) -> YAML:
    y = YAML(typ="rt")
    y.Constructor = _BudgetedConstructor if aliases else _LenientConstructor
    y.allow_duplicate_keys = False
    return y


def load_all(text: str, aliases: bool) -> list[Any]:
    """Every document of `text`, read round-trip; `aliases`: measure each document first (yamlio/limits.py)."""
    return list(_yaml(aliases).load_all(io.StringIO(text)))
