"""Rego sources: reading policy folders and files, and the checks made once at load.

A policy folder from the GitOps repository is untrusted input. What it may not do is refused
here, before anything is evaluated, as a ConfigError naming `file:line:col` and the fix (exit 2):
- a syntax error, or a call to a function that exists neither in the folder nor in the engine;
- recursion (OPA refuses it at compile time; the engine would overflow its stack at run time);
- what else OPA refuses at compile time and regorus only when a rule runs (so a rule no input
  reaches would pass): an unsafe variable (`x == 1`, `x` bound nowhere), found by regorus' own
  analysis of every module before any rule is evaluated, and one rule defined as two kinds
  (`deny contains "a" if true` and `deny := 5`);
- a network builtin (`http.send`, `net.lookup_ip_addr`): repository policies run sandboxed;
- `deny[msg] if {...}`: in Rego v1 that is an object, which conftest counts as a success, so the
  rule can never fail;
- a partial-set head computed from a body variable (`deny contains sprintf("%s", [c.name]) if
  some c in ...`): when the expression is undefined for one element, regorus returns an empty
  set instead of the other elements, a silent pass (OPA returns the others); the same for a
  partial-object key or value (`imgs[c.image] := true if some c in ...`): an empty object.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from promoter.model.errors import ConfigError
from promoter.policy.engine import Engine, EngineError
from promoter.yamlio.files import FileRefused, read_regular

FAILURE_RULE = re.compile(r"^(deny|violation)(_[a-zA-Z0-9]+)*$")
WARNING_RULE = re.compile(r"^warn(_[a-zA-Z0-9]+)*$")
TEST_RULE = re.compile(r"^test_")
# Builtins that reach outside the policy: refused at load (the engine has no network either).
NETWORK_BUILTINS = {"http.send", "net.lookup_ip_addr"}
# Builtins whose answer changes from one evaluation to the next: such sets are never cached.
VOLATILE_BUILTINS = {
    "time.now_ns",
    "rand.intn",
    "uuid.rfc4122",
    "opa.runtime",
    "time.clock",
    "time.date",
    "time.weekday",
}
_UNSAFE = re.compile(r"\bis unsafe\b")  # regorus' word for OPA's rego_unsafe_var_error
_OPERATOR_CALLS = {"print"}  # parsed as calls, not listed among the engine's builtins


def rule_kind(name: str) -> str | None:
    """ "failure", "warning", or None for a rule conftest does not treat as a check."""
    if FAILURE_RULE.match(name):
        return "failure"
    if WARNING_RULE.match(name):
        return "warning"
    return None


@dataclass(frozen=True)
class RegoModule:
    """One .rego file: its display path (repo-relative, or `<set>/name.rego`) and text."""

    file: str
    source: str


@dataclass(frozen=True)
class RuleInfo:
    """One definition of a rule (a rule defined in two files, or twice, appears twice)."""

    package: str
    name: str
    file: str
    line: int
    col: int
    function: bool = False


@dataclass
class Analysis:
    """What the load-time checks learnt about a set of modules."""

    packages: dict[str, str] = field(default_factory=dict)  # file -> package
    rules: list[RuleInfo] = field(default_factory=list)
    calls: set[str] = field(default_factory=set)  # every builtin called
    reads_conftest: bool = False  # data.conftest is per input file: results depend on the name

    @property
    def volatile(self) -> bool:
        return bool(self.calls & VOLATILE_BUILTINS)

    def files_of(self, package: str, name: str) -> list[str]:
        return list(dict.fromkeys(r.file for r in self.rules if r.package == package and r.name == name))


def rego_files(folder: Path) -> list[Path]:
    """Every .rego file under a folder, sorted, skipping hidden folders and files that vanish meanwhile."""
    out: list[Path] = []
    for root, dirs, names in os.walk(folder):  # os.walk ignores unreadable or vanished folders
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        out.extend(Path(root) / n for n in names if n.endswith(".rego") and not n.startswith("."))
    return sorted(out)


def read_modules(path: Path, name: str, *, tests: bool = False) -> list[RegoModule]:
    """The .rego files of a folder (or one file), named under `name`; `*_test.rego` only with tests."""
    if not path.exists():
        raise ConfigError(f"policy path {name} does not exist")
    if path.is_file():
        if path.suffix != ".rego":
            raise ConfigError(f"policy file {name} is not a .rego file")
        files, base = [path], path.parent
    else:
        files = [p for p in rego_files(path) if tests or not p.name.endswith("_test.rego")]
        base = path
    if not files:
        raise ConfigError(f"policy folder {name} holds no .rego files")
    modules = []
    for f in files:
        display = str(PurePosixPath(name) / f.relative_to(base).as_posix()) if path.is_dir() else name
        try:
            text = read_regular(f, display).decode("utf-8")  # never a FIFO or device; within the size limit
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{display}: not UTF-8 text (byte {exc.start})") from None
        except FileRefused as exc:
            raise ConfigError(exc.message) from None
        except OSError as exc:
            raise ConfigError(f"{display}: cannot read: {exc.strerror}") from None
        modules.append(RegoModule(display, text))
    return modules


def compile_error(exc: EngineError, what: str) -> ConfigError:
    hint = ""
    if "`if` keyword is required" in exc.message or "`contains` keyword is required" in exc.message:
        hint = " (policies are read as Rego v1, like conftest and OPA 1.x do: write `deny contains msg if {`)"
    return ConfigError(f"{exc.where or what}: Rego error: {exc.message}{hint}")


# --- the syntax tree, as regorus gives it: {"Kind": {fields...}} nodes with "span"s ---------------


def _node(value: Any) -> tuple[str, dict[str, Any]] | None:
    if isinstance(value, dict) and len(value) == 1:
        kind, payload = next(iter(value.items()))
        if isinstance(payload, dict):
            return kind, payload
    return None


def _walk(value: Any, *, skip_fcn: bool = False) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every typed node under value (depth first); with skip_fcn, not the names of called functions."""
    typed = _node(value)
    if typed is not None:
        yield typed
        kind, payload = typed
        for key, child in payload.items():
            if key == "span" or (skip_fcn and kind == "Call" and key == "fcn"):
                continue
            yield from _walk(child, skip_fcn=skip_fcn)
    elif isinstance(value, dict):
        for key, child in value.items():
            if key != "span":
                yield from _walk(child, skip_fcn=skip_fcn)
    elif isinstance(value, list):
        for child in value:
            yield from _walk(child, skip_fcn=skip_fcn)


def _path(value: Any) -> list[str] | None:
    """A dotted reference (`data.lib.f`, `object.get`) as its parts, else None."""
    typed = _node(value)
    if typed is None:
        return None
    kind, payload = typed
    if kind == "Var":
        return [str(payload["value"])]
    if kind == "RefDot":
        base = _path(payload["refr"])
        fld = payload.get("field")
        name = fld[-1] if isinstance(fld, list) and fld else None
        return base + [str(name)] if base is not None and isinstance(name, str) else None
    if kind == "RefBrack":
        base = _path(payload["refr"])
        index = _node(payload.get("index"))
        if base is not None and index is not None and index[0] == "String":
            return base + [str(index[1]["value"])]
    return None


def _span(payload: dict[str, Any]) -> tuple[int, int]:
    span = payload.get("span") or {}
    return int(span.get("line", 1)), int(span.get("col", 1))


def _head(rule: dict[str, Any]) -> tuple[str, dict[str, Any], list[Any]] | None:
    """(head kind, head payload, bodies) of a rule; Default rules as kind "Default"."""
    typed = _node(rule)
    if typed is None:
        return None
    kind, payload = typed
    if kind == "Default":
        return "Default", payload, []
    head = _node(payload.get("head"))
    if head is None:
        return None
    return head[0], head[1], list(payload.get("bodies") or [])


def _base_name(refr: Any) -> str | None:
    typed = _node(refr)
    while typed is not None and typed[0] in ("RefDot", "RefBrack"):
        typed = _node(typed[1]["refr"])
    return str(typed[1]["value"]) if typed is not None and typed[0] == "Var" else None


def _text(source: bytes, value: Any) -> str:
    """The source text of a node or span."""
    typed = _node(value)
    span = typed[1].get("span") if typed is not None else value
    if not isinstance(span, dict) or "start" not in span:
        return ""
    return source[span["start"] : span["end"]].decode(errors="replace")


def _bound_vars(rule_value: Any, source: bytes) -> set[str]:
    """Names a rule binds locally (so a rule of that name is not what they mean)."""
    out: set[str] = set()
    for kind, payload in _walk(rule_value):
        if kind == "AssignExpr":
            for side in ("lhs", "rhs") if payload.get("op") == "Eq" else ("lhs",):
                out.update(p["value"] for k, p in _walk(payload[side]) if k == "Var")
        elif kind == "SomeVars":
            for v in payload.get("vars") or []:
                out.add(_text(source, v) if isinstance(v, dict) else str(v))
        elif kind in ("SomeIn", "Every"):
            for side in ("key", "value"):
                out.update(p["value"] for k, p in _walk(payload.get(side)) if k == "Var")
        elif kind == "Func":
            out.update(p["value"] for k, p in _walk(payload.get("args")) if k == "Var")
        elif kind in ("ArrayCompr", "SetCompr", "ObjectCompr"):
            out.update(p["value"] for k, p in _walk(payload.get("query")) if k == "Var")
    return out


class _Module:
    def __init__(self, module: RegoModule, tree: dict[str, Any]) -> None:
        self.file = module.file
        self.source = module.source
        self.raw = module.source.encode()
        ast = tree["ast"]
        self.package = ".".join(_path(ast["package"]["refr"]) or ["?"])
        self.aliases: dict[str, list[str]] = {}
        for imp in ast.get("imports") or []:
            parts = _path(imp.get("refr"))
            if not parts or parts[0] not in ("data", "input"):
                continue
            alias = parts[-1]
            if isinstance(imp.get("as"), dict):
                alias = _text(self.raw, imp["as"]) or alias
            self.aliases[alias] = parts
        self.rules = list(ast.get("rules") or [])


def analyse(modules: Sequence[RegoModule], builtins: set[str]) -> Analysis:
    """Parse every module and run the load-time checks; ConfigError on the first problem."""
    engine = Engine()
    for m in modules:
        try:
            engine.add_module(m.file, m.source)
        except EngineError as exc:
            raise compile_error(exc, m.file) from None
    parsed = [_Module(m, t) for m, t in zip(modules, engine.ast(), strict=True)]
    out = Analysis()
    functions: set[tuple[str, str]] = set()
    rule_names: dict[str, set[str]] = {}
    kinds: list[str | None] = []  # per entry of out.rules: what kind of definition it is
    for mod in parsed:
        out.packages[mod.file] = mod.package
        for rule in mod.rules:
            head = _head(rule)
            if head is None:
                continue
            kind, payload, _ = head
            name = _base_name(payload.get("refr"))
            if name is None:
                continue
            line, col = _span(payload)
            out.rules.append(RuleInfo(mod.package, name, mod.file, line, col, function=kind == "Func"))
            kinds.append(_definition_kind(kind, payload))
            rule_names.setdefault(mod.package, set()).add(name)
            if kind == "Func":
                functions.add((mod.package, name))
    packages = sorted(rule_names, key=len, reverse=True)
    edges: dict[tuple[str, str], set[tuple[str, str]]] = {}
    places: dict[tuple[str, str], tuple[str, int, int]] = {}
    for mod in parsed:
        for rule in mod.rules:
            head = _head(rule)
            if head is None:
                continue
            kind, payload, bodies = head
            name = _base_name(payload.get("refr"))
            if name is None:
                continue
            line, col = _span(payload)
            me = (mod.package, name)
            places.setdefault(me, (mod.file, line, col))
            _check_head(mod, kind, payload, bodies, name, rule_names.get(mod.package, set()), functions, packages)
            bound = _bound_vars(rule, mod.raw)
            # The rule's own name in its head is not a use of the rule.
            inner = [v for k, v in payload.items() if k not in ("refr", "span")] + bodies
            for node_kind, node in _walk(inner):
                if node_kind == "Call":
                    target = _resolve_call(mod, _path(node["fcn"]), functions, packages)
                    call_line, call_col = _span(node)
                    called = ".".join(_path(node["fcn"]) or ["?"])
                    if target is None:
                        if called in NETWORK_BUILTINS:
                            raise ConfigError(
                                f"{mod.file}:{call_line}:{call_col}: {called} is not available: policies run sandboxed, "
                                "without network, files or environment; give the policy what it needs as data (--data) instead"
                            )
                        if called in builtins or called in _OPERATOR_CALLS:
                            out.calls.add(called)
                            continue
                        if called.startswith("rego.metadata."):
                            raise ConfigError(
                                f"{mod.file}:{call_line}:{call_col}: Rego error: {called} is an OPA builtin the engine (regorus) does not implement: "
                                "put what the rule needs in its message or in a data file"
                            )
                        raise ConfigError(f"{mod.file}:{call_line}:{call_col}: Rego error: undefined function {called}")
                    if target not in functions:
                        raise ConfigError(f"{mod.file}:{call_line}:{call_col}: Rego error: undefined function {called}")
                    edges.setdefault(me, set()).add(target)
                elif node_kind in ("Var", "RefDot", "RefBrack"):
                    parts = _path({node_kind: node})
                    if not parts:
                        continue
                    if parts[:2] == ["data", "conftest"] or (
                        parts[0] in mod.aliases and mod.aliases[parts[0]][:2] == ["data", "conftest"]
                    ):
                        out.reads_conftest = True
                    target = _resolve_ref(mod, parts, rule_names, packages, bound)
                    if target is not None:
                        edges.setdefault(me, set()).add(target)
    _check_cycles(edges, places)
    _check_conflicts(out.rules, kinds)
    try:
        engine.check()  # unsafe variables: what OPA refuses at compile time, before any input
    except EngineError as exc:
        # Only what OPA refuses too. regorus' analysis also refuses shapes OPA accepts (a comprehension
        # using a variable defined after it, which OPA reorders: case cx-combine-users); those stay
        # a policy-error on each input the rule runs on, as before, not a refusal of the whole set.
        if _UNSAFE.search(exc.message):
            raise compile_error(exc, modules[0].file if modules else "policy") from None
    return out


def _resolve_call(
    mod: _Module, parts: list[str] | None, functions: set[tuple[str, str]], packages: list[str]
) -> tuple[str, str] | None:
    """The (package, function) a call names when the policies define it, else None (a builtin, or unknown)."""
    if not parts:
        return None
    if len(parts) == 1:
        return (mod.package, parts[0]) if (mod.package, parts[0]) in functions else None
    full = parts
    if parts[0] in mod.aliases:
        full = mod.aliases[parts[0]] + parts[1:]
    if full[0] != "data":
        return None
    package, name = ".".join(full[1:-1]), full[-1]
    if (package, name) in functions:
        return package, name
    if package in packages or any(p.startswith(package + ".") for p in packages):
        return package, name  # a function of a known package that does not exist: reported below
    return None


def _resolve_ref(
    mod: _Module, parts: list[str], rule_names: dict[str, set[str]], packages: list[str], bound: set[str]
) -> tuple[str, str] | None:
    """The rule a reference reads (same package by name, `data.pkg.rule`, or through an import)."""
    if len(parts) >= 1 and parts[0] in rule_names.get(mod.package, set()) and parts[0] not in mod.aliases:
        return None if parts[0] in bound else (mod.package, parts[0])
    full = parts
    if parts[0] in mod.aliases:
        full = mod.aliases[parts[0]] + parts[1:]
    if full[0] != "data":
        return None
    for package in packages:  # longest first
        segs = package.split(".")
        if full[1 : 1 + len(segs)] == segs and len(full) > 1 + len(segs):
            name = full[1 + len(segs)]
            return (package, name) if name in rule_names.get(package, set()) else None
    return None


def _check_head(
    mod: _Module,
    kind: str,
    payload: dict[str, Any],
    bodies: list[Any],
    name: str,
    rules: set[str],
    functions: set[tuple[str, str]],
    packages: list[str],
) -> None:
    line, col = _span(payload)
    where = f"{mod.file}:{line}:{col}"
    if kind == "Compr" and payload.get("assign") is None and _node(payload.get("refr")) is not None:
        refr_kind, refr = _node(payload["refr"])  # type: ignore[misc]
        if refr_kind == "RefBrack" and rule_kind(name):
            index = _text(mod.raw, refr.get("index")) or "msg"
            raise ConfigError(
                f"{where}: `{name}[{index}] if` defines an object in Rego v1 (conftest counts it as a success, so the rule "
                f"can never fail): write `{name} contains {index} if`"
            )
    if not bodies:
        return
    globals_ = {"input", "data"} | rules | set(mod.aliases)
    if kind == "Compr" and isinstance(payload.get("assign"), dict) and _node(payload.get("refr")) is not None:
        _check_object_head(mod, where, name, payload, globals_, functions, packages)
        return
    if kind != "Set":
        return
    key = payload.get("key")
    local = _head_locals(mod, key, globals_, functions, packages)
    if not local:
        return
    shown = _shown(mod, key)
    raise ConfigError(
        f"{where}: `{name} contains {shown or '<expression>'}` computes the value in the rule head from {', '.join(sorted(local))}: "
        "when that is undefined for one element the engine (regorus) returns no element at all, so the rule would pass "
        f"silently; build it in the body: `{name} contains msg if {{ ...; msg := {shown or '<expression>'} }}`"
    )


def _head_locals(
    mod: _Module, expr: Any, globals_: set[str], functions: set[tuple[str, str]], packages: list[str]
) -> set[str]:
    """The body variables a head expression reads through something that can be undefined."""
    local: set[str] = set()
    for node_kind, node in _walk(expr, skip_fcn=True):
        # Only what can be undefined while the body succeeds: a reference through a body variable
        # (`c.name`, `input.items[i].x`) or a call to a policy function with one. Builtins on
        # bound variables are total (a value or an error), so `sprintf("%s", [n])` is fine.
        if node_kind in ("RefDot", "RefBrack"):
            local |= {p["value"] for k, p in _walk({node_kind: node}, skip_fcn=True) if k == "Var"} - globals_
        elif node_kind == "Call" and _resolve_call(mod, _path(node["fcn"]), functions, packages) is not None:
            local |= {p["value"] for k, p in _walk(node.get("params"), skip_fcn=True) if k == "Var"} - globals_
    return local


def _shown(mod: _Module, expr: Any) -> str:
    """A head expression's source text, shortened for a message."""
    typed = _node(expr)
    text = _text(mod.raw, expr)
    if typed is not None and typed[0] == "Call":
        # A call's span starts at its opening parenthesis; take the function name too.
        fcn = _node(typed[1]["fcn"])
        if fcn is not None and "span" in fcn[1] and "span" in typed[1]:
            text = mod.raw[fcn[1]["span"]["start"] : typed[1]["span"]["end"]].decode(errors="replace")
    return text if len(text) <= 60 else text[:57] + "..."


def _check_object_head(
    mod: _Module,
    where: str,
    name: str,
    payload: dict[str, Any],
    globals_: set[str],
    functions: set[tuple[str, str]],
    packages: list[str],
) -> None:
    """The partial-object form of the silent-pass shape: `imgs[c.image] := true if some c in ...`,
    `byname[c.name] := c.image if ...`. When the key or the value is undefined for one element,
    regorus returns an empty object (OPA: the other elements), so every rule reading it passes."""
    refr = _node(payload["refr"])
    if refr is None or refr[0] != "RefBrack":
        return  # a complete rule (`x := v if`), or a deeper reference head
    key, value = refr[1].get("index"), payload["assign"].get("value")
    in_key = _head_locals(mod, key, globals_, functions, packages)
    in_value = _head_locals(mod, value, globals_, functions, packages)
    if not in_key and not in_value:
        return
    key_text, value_text = _shown(mod, key) or "<key>", _shown(mod, value) or "<value>"
    # The fix moves only what is computed into the body.
    steps = ([f"k := {key_text}"] if in_key else []) + ([f"v := {value_text}"] if in_value else [])
    fixed = f"{name}[{'k' if in_key else key_text}] := {'v' if in_value else value_text}"
    raise ConfigError(
        f"{where}: `{name}[{key_text}] := {value_text}` computes the object's "
        f"{'key' if in_key and not in_value else 'value' if not in_key else 'key and value'} in the rule head from "
        f"{', '.join(sorted(in_key | in_value))}: when that is undefined for one element the engine (regorus) returns "
        f"an empty object, so rules reading {name} would pass silently; build it in the body: "
        f"`{fixed} if {{ ...; {'; '.join(steps)} }}`"
    )


_KIND_NAMES = {
    "complete": "a complete rule (`name := value` or `name if`)",
    "set": "a partial set (`name contains ...`)",
    "object": "a partial object (`name[key] := value`)",
    "function": "a function (`name(x) := ...`)",
}


def _definition_kind(kind: str, payload: dict[str, Any]) -> str | None:
    """complete, set, object or function; None for a head this check leaves alone (`a.b.c := 1`)."""
    refr = _node(payload.get("refr"))
    if refr is None:
        return None
    if kind == "Func":
        return "function"
    if refr[0] == "Var":
        return {"Set": "set", "Compr": "complete", "Default": "complete"}.get(kind)
    if kind == "Compr" and refr[0] == "RefBrack" and _node(refr[1].get("refr")) is not None:
        inner = _node(refr[1]["refr"])
        return "object" if inner is not None and inner[0] == "Var" else None
    return None


def _check_conflicts(rules: list[RuleInfo], kinds: list[str | None]) -> None:
    """One rule defined as two kinds (`deny contains ...` and `deny := 5`): OPA refuses it at compile
    time (conflicting rules); regorus only when the rule is evaluated, so without an input reaching
    it the check would pass."""
    first: dict[tuple[str, str], tuple[str, RuleInfo]] = {}
    for rule, kind in zip(rules, kinds, strict=True):
        if kind is None:
            continue
        seen = first.setdefault((rule.package, rule.name), (kind, rule))
        if seen[0] != kind:
            other = seen[1]
            raise ConfigError(
                f"{rule.file}:{rule.line}:{rule.col}: Rego error: conflicting rules {rule.package}.{rule.name}: "
                f"defined here as {_KIND_NAMES[kind]} and at {other.file}:{other.line}:{other.col} as "
                f"{_KIND_NAMES[seen[0]]}: give one of them another name"
            )


def _check_cycles(
    edges: dict[tuple[str, str], set[tuple[str, str]]], places: dict[tuple[str, str], tuple[str, int, int]]
) -> None:
    """A rule or function that depends on itself: refused like OPA's rego_recursion_error."""
    state: dict[tuple[str, str], int] = {}  # 1 visiting, 2 done
    for start in sorted(edges):
        if state.get(start):
            continue
        stack: list[tuple[tuple[str, str], Iterator[tuple[str, str]]]] = [(start, iter(sorted(edges.get(start, ()))))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
                continue
            if state.get(child) == 1:
                cycle = path[path.index(child) :] + [child]
                file, line, col = places.get(child, ("?", 1, 1))
                chain = " -> ".join(f"{p}.{n}" if p else n for p, n in cycle)
                raise ConfigError(
                    f"{file}:{line}:{col}: Rego error: recursion: {chain} (a rule or function may not depend on itself)"
                )
            if not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(edges.get(child, ())))))
