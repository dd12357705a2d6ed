"""Resolve: plain YAML scalars read as kubectl and kubeconform read them.

Both decode manifests through sigs.k8s.io/yaml, whose go-yaml v2 fork resolves plain scalars
differently from PyYAML's YAML 1.1 resolver; validating what PyYAML reads gives other verdicts
than kubeconform on the same file. What go-yaml v2 does, and so what is done here:

- underscores are dropped, then Go's `strconv.ParseInt(s, 0, 64)` decides integers: `0o644`,
  `0O644`, `0x1F`, `0b101`, `0755` (octal), `+12`, `1_000` are integers (PyYAML: `0o644` is a string);
- then `ParseUint`, then floats matching `[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?`:
  `1e3`, `1.`, `08` are numbers (PyYAML: strings); a float out of range stays a string;
- no sexagesimal numbers: `1:30` is a string (PyYAML: 90);
- booleans are YAML 1.1's plus `y`/`Y`/`n`/`N` (PyYAML: strings);
- JSON has no NaN or infinity: `.inf` and `.nan` are numbers that make the whole object
  unreadable to Kubernetes (kubeconform: "error converting YAML to JSON").

Numbers end up in JSON, where `3.0` and `3` are the same integer: a float with no fractional
part is returned as an int, so `replicas: 1e3` validates as the integer kubectl sends.
"""

from __future__ import annotations

import math
import re
from typing import Any

STR = "tag:yaml.org,2002:str"
NULL = "tag:yaml.org,2002:null"
BOOL = "tag:yaml.org,2002:bool"
INT = "tag:yaml.org,2002:int"
FLOAT = "tag:yaml.org,2002:float"
MERGE = "tag:yaml.org,2002:merge"

# go-yaml v2's resolveTable: only scalars starting with one of these are anything but strings.
_HINT: dict[str, str] = {
    **{c: "D" for c in "0123456789"},
    "+": "S",
    "-": "S",
    ".": ".",
    **{c: "M" for c in "yYnNtTfFoO~"},
}
_MAP: dict[str, tuple[str, Any]] = {
    **{v: (BOOL, True) for v in ("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON")},
    **{v: (BOOL, False) for v in ("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF")},
    **{v: (NULL, None) for v in ("", "~", "null", "Null", "NULL")},
    **{v: (FLOAT, math.nan) for v in (".nan", ".NaN", ".NAN")},
    **{v: (FLOAT, math.inf) for v in (".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF")},
    **{v: (FLOAT, -math.inf) for v in ("-.inf", "-.Inf", "-.INF")},
}
# Go's integer literal syntax as ParseInt(s, 0, 64) reads it (underscores already removed).
_GO_INT = re.compile(r"([-+]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)")
_GO_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_DOT_FLOAT = re.compile(r"\.[0-9]+(?:[eE][-+]?[0-9]+)?")
_INT64 = (-(2**63), 2**63 - 1)
_UINT64 = 2**64 - 1


def _go_int(plain: str) -> int | None:
    m = _GO_INT.fullmatch(plain)
    if m is None:
        return None
    sign, digits = m.groups()
    legacy_octal = len(digits) > 1 and digits[0] == "0" and digits[1] in "01234567"  # Go reads 0755 as octal
    try:
        value = int(digits, 8) if legacy_octal else int(digits, 0)
    except ValueError:  # over 4,300 decimal digits (Python's limit): far out of Go's range too
        return None
    value = -value if sign == "-" else value
    if _INT64[0] <= value <= _INT64[1]:
        return value
    if not sign and value <= _UINT64:  # ParseUint takes no sign
        return value
    return None


def _number(value: float) -> float | int:
    if math.isfinite(value) and value == int(value):
        return int(value)
    return value


def resolve(value: str) -> tuple[str, Any]:
    """(tag, value) of a plain scalar, as go-yaml v2 resolves it; strings come back as (STR, value)."""
    if value == "<<":  # go-yaml's decoder merges on a plain `<<` key, whatever its resolve table says
        return MERGE, value
    hint = "M" if value == "" else _HINT.get(value[0])
    if hint is None:
        return STR, value
    known = _MAP.get(value)
    if known is not None:
        return known
    if hint == ".":
        if _DOT_FLOAT.fullmatch(value):
            f = float(value)
            if math.isfinite(f):
                return FLOAT, _number(f)
        return STR, value
    if hint in "DS":
        plain = value.replace("_", "")
        n = _go_int(plain)
        if n is not None:
            return INT, n
        if _GO_FLOAT.fullmatch(plain):
            f = float(plain)
            if math.isfinite(f):  # ParseFloat's range error: go-yaml keeps the string
                return FLOAT, _number(f)
    return STR, value


def tag_of(value: str) -> str:
    return resolve(value)[0]


def construct(value: str) -> Any:
    """The value of a plain scalar whose tag `tag_of` gave (int, float, bool or null)."""
    return resolve(value)[1]


def non_finite(node: Any, path: str = "") -> str | None:
    """The JSON pointer of the first NaN or infinity in `node`, which no JSON (so no Kubernetes) can carry."""
    if isinstance(node, float):
        return None if math.isfinite(node) else (path or "/")
    if isinstance(node, dict):
        for k, v in node.items():
            found = non_finite(v, f"{path}/{k}")
            if found is not None:
                return found
    elif isinstance(node, list):
        for i, v in enumerate(node):
            found = non_finite(v, f"{path}/{i}")
            if found is not None:
                return found
    return None
