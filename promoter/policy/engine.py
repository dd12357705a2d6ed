"""The Rego engine behind one small interface: regorus (Microsoft's Rust interpreter, PyPI
`gordon-to-regorus`, module `regorus`) today; the official binding or OPA itself could stand here.

Everything else in promoter.policy talks to `Engine`, never to regorus. What this module knows
about regorus, each found by trying it (see docs/policies.md for the conformance record):
- rules are evaluated one path at a time (`data.main.deny`), never a whole package: a query of
  `data.main` drops the rules of later files of that package when they reference another package;
- `eval_rule` gives None both for `null` and for an undefined rule, and cannot hand a set of
  objects to Python: values are read as JSON, where undefined is the string "<undefined>";
- errors (parse, compile, evaluation) are one message `--> file:line:col` plus a source excerpt
  (and a Rust backtrace when RUST_BACKTRACE is set): `EngineError` keeps the place and the message;
- `print()` output is gathered, never written to the process's stdout.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

ENGINE_NAME = "regorus"


class _Undefined:
    def __repr__(self) -> str:
        return "UNDEFINED"


UNDEFINED: Any = _Undefined()

_PLACE = re.compile(r"-->\s*(?P<file>.+?):(?P<line>\d+):(?P<col>\d+)")
_ERROR = re.compile(r"^error:\s*(?P<msg>.*)$", re.MULTILINE)


@dataclass
class EngineError(Exception):
    """A parse, compile or evaluation error, with its place in a policy file when the engine gave one."""

    message: str
    file: str | None = None
    line: int | None = None
    col: int | None = None

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message

    @property
    def where(self) -> str:
        if self.file is None:
            return ""
        if self.line is None:
            return self.file
        return f"{self.file}:{self.line}:{self.col}" if self.col else f"{self.file}:{self.line}"


def engine_error(exc: BaseException) -> EngineError:
    """regorus' error text as (message, file, line, col): the first `--> place` and `error:` line."""
    text = str(exc).split("Stack backtrace:")[0].strip()
    place = _PLACE.search(text)
    found = _ERROR.search(text)
    if found:
        message = found.group("msg").strip()
        # A recursion report chains "depends on:" places after the first line; keep them short.
        rest = text[found.end() :].strip()
        if rest.startswith("depends on") or "cyclic" in rest:
            message = f"{message} (cyclic rules)"
    else:
        lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("|")]
        message = next((ln for ln in lines if not ln.startswith("-->")), text or type(exc).__name__)
    if place is None:
        return EngineError(message)
    return EngineError(message, place.group("file"), int(place.group("line")), int(place.group("col")))


def _regorus() -> Any:
    try:
        import regorus
    except ImportError as exc:  # pragma: no cover - a dependency of promoter
        from promoter.model.errors import ToolError

        raise ToolError(f"the Rego engine is not installed: {exc} (pip install gordon-to-regorus)") from None
    return regorus


class Engine:
    """Policies, data and one input at a time; rules evaluated by path."""

    def __init__(self) -> None:
        self._engine = _regorus().Engine()
        self._engine.set_gather_prints(True)  # print() is the caller's to route (stderr), never stdout

    def add_module(self, file: str, source: str) -> None:
        """Parse one module; EngineError naming file:line:col when it does not parse."""
        try:
            self._engine.add_policy(file, source)
        except RuntimeError as exc:
            raise engine_error(exc) from None

    def add_data(self, data: dict[str, Any]) -> None:
        try:
            self._engine.add_data(data)
        except (RuntimeError, TypeError, ValueError):
            # YAML gives dates and other non-JSON scalars; policies see them as JSON would.
            self._engine.add_data(json.loads(json.dumps(data, default=str)))

    def set_input(self, value: Any) -> None:
        try:
            self._engine.set_input(value)
        except (RuntimeError, TypeError, ValueError, OverflowError):
            self._engine.set_input_json(json.dumps(value, default=str))

    def set_input_json(self, text: str) -> None:
        try:
            self._engine.set_input_json(text)
        except RuntimeError as exc:
            raise engine_error(exc) from None

    def eval_rule(self, path: str) -> Any:
        """The value of the rule at `path` (`data.main.deny`) as JSON gives it (sets are lists),
        UNDEFINED when no definition applies; EngineError when evaluating fails."""
        try:
            text = self._engine.eval_rule_as_json(path)
        except RuntimeError as exc:
            raise engine_error(exc) from None
        value = json.loads(text)
        if value == "<undefined>":
            # The marker is also a legitimate string value: ask the query interface, which says it apart.
            return self._query_value(path)
        return value

    def _query_value(self, path: str) -> Any:
        try:
            out = json.loads(self._engine.eval_query_as_json(path))
        except RuntimeError as exc:
            raise engine_error(exc) from None
        results = out.get("result") or []
        if not results:
            return UNDEFINED
        return results[0]["expressions"][0]["value"]

    def check(self) -> None:
        """Compile every module as evaluating would, without evaluating any rule; EngineError at the
        first fault. regorus analyses all modules before its first query (scheduling each body, and
        refusing an unsafe variable such as `x == 1` with `x` bound nowhere); a constant query
        triggers that and nothing else."""
        try:
            self._engine.eval_query_as_json("true")
        except RuntimeError as exc:
            raise engine_error(exc) from None

    def prints(self) -> list[str]:
        """print() lines gathered since the last call, each `file:line: text`."""
        return list(self._engine.take_prints())

    def ast(self) -> list[dict[str, Any]]:
        """Every module's syntax tree (regorus' JSON form), for the checks made at load."""
        return json.loads(self._engine.get_ast_as_json())

    def clone(self) -> Engine:
        twin = Engine.__new__(Engine)
        twin._engine = self._engine.clone()
        twin._engine.set_gather_prints(True)  # not carried over by regorus' clone
        return twin
