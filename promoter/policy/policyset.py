"""A policy set (one or more folders or files) evaluated on one input with conftest's semantics.

conftest's rules, reproduced here (v0.69, checked against the recorded OPA cases in
shared/reference/opa/cases): in the selected namespaces (`main` unless told otherwise; globs
allowed, `*` for all) every rule named `deny`, `violation` or `warn`, optionally suffixed
`_<name>`, is a check, queried by its own path (`data.main.deny_x`). Each string it contains is a
message; each object must carry a string `msg` (the rest is metadata); other elements are
ignored; a value that is not a collection is a success. `data.<ns>.exception[_][_] == "<name>"`
(the rule's name without `deny_`/`violation_`/`warn_`, "" for a bare `deny`) exempts the rule:
each match is one exception and the rule's messages are dropped. `data.conftest.file.name` and
`.dir` name the file under test. A `null` document is evaluated without any input.

Stricter than conftest, on purpose: an empty-string message fails (conftest counts it a success,
so a rule building its message from a missing field would pass), and a rule that errors is a
policy error on that input while the other rules still run (conftest stops the whole run).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from typing import Any

from promoter.model.errors import ConfigError
from promoter.policy.engine import ENGINE_NAME, UNDEFINED, Engine, EngineError
from promoter.policy.source import TEST_RULE, Analysis, RegoModule, analyse, compile_error, read_modules, rule_kind

ALL_NAMESPACES = "*"
# Part of every set's digest, so the verdict cache: raised when a verdict for the same set and input
# changes meaning. 2: a rule stopped by a limit is an error on every later input (before, those
# inputs' verdicts silently lacked the rule and were cached so).
VERDICT_FORMAT = 2
EMPTY_MESSAGE = "rule {rule} fired with an empty message (conftest would count it as a success; promoter fails it): give the rule a message"


def exception_name(rule: str) -> str:
    """The name an `exception` rule uses to exempt `rule` (conftest's removeRulePrefix)."""
    if rule in ("deny", "violation", "warn"):
        return ""
    for prefix in ("violation_", "deny_", "warn_"):
        if rule.startswith(prefix):
            return rule[len(prefix) :]
    return rule


@dataclass
class PolicyMessage:
    """One message of one check rule for one input."""

    namespace: str
    rule: str  # the Rego rule name, e.g. deny_run_as_root
    level: str  # "failure" | "warning"
    message: str
    metadata: dict[str, Any] = field(default_factory=dict)
    excepted: bool = False  # exempted by an `exception` rule: reported, but waived


@dataclass
class PolicyException:
    """One match of conftest's exception query: the rule's results were dropped."""

    namespace: str
    rule: str
    message: str  # conftest's text: the query that matched


@dataclass
class PolicyError:
    """A rule that failed while evaluating, or an evaluation that broke a limit."""

    namespace: str
    rule: str | None
    message: str
    files: list[str] = field(default_factory=list)  # the policy files defining the rule


@dataclass
class Verdict:
    """Everything the selected namespaces said about one input, counted as conftest counts."""

    messages: list[PolicyMessage] = field(default_factory=list)
    exceptions: list[PolicyException] = field(default_factory=list)
    errors: list[PolicyError] = field(default_factory=list)
    successes: int = 0
    prints: list[str] = field(default_factory=list)  # print() output, for stderr only

    @property
    def failures(self) -> list[PolicyMessage]:
        return [m for m in self.messages if m.level == "failure" and not m.excepted]

    @property
    def warnings(self) -> list[PolicyMessage]:
        return [m for m in self.messages if m.level == "warning" and not m.excepted]

    def to_json(self) -> dict[str, Any]:
        # By hand: dataclasses.asdict deep-copies recursively, a third of a worker's time on the pack.
        return {
            "messages": [[m.namespace, m.rule, m.level, m.message, m.metadata, m.excepted] for m in self.messages],
            "exceptions": [[x.namespace, x.rule, x.message] for x in self.exceptions],
            "errors": [[e.namespace, e.rule, e.message, e.files] for e in self.errors],
            "successes": self.successes,
            "prints": self.prints,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Verdict:
        return cls(
            messages=[PolicyMessage(*m) for m in doc.get("messages", [])],
            exceptions=[PolicyException(*x) for x in doc.get("exceptions", [])],
            errors=[PolicyError(*e) for e in doc.get("errors", [])],
            successes=int(doc.get("successes", 0)),
            prints=list(doc.get("prints", [])),
        )


@dataclass(frozen=True)
class CheckRule:
    namespace: str
    name: str
    level: str  # failure | warning
    definitions: int  # conftest counts a success per definition that said nothing
    exempt_as: str
    files: tuple[str, ...]

    @property
    def path(self) -> str:
        return f"data.{self.namespace}.{self.name}"


def rule_key(rule: CheckRule) -> str:
    """How a check rule is named in an evaluation's `skip` set: its package and name."""
    return f"{rule.namespace}.{rule.name}"


def engine_builtins() -> set[str]:
    """The builtins the engine implements (asked once per process)."""
    global _BUILTINS
    if _BUILTINS is None:
        probe = Engine()
        probe.add_module("<builtins>", "package promoter_builtins\nbuiltins := opa.runtime().builtins\n")
        value = probe.eval_rule("data.promoter_builtins.builtins")
        _BUILTINS = set(value) if isinstance(value, list) else set()
    return _BUILTINS


_BUILTINS: set[str] | None = None


class PolicySet:
    """Policy modules checked at load, the namespaces to evaluate and their check rules."""

    def __init__(
        self,
        name: str,
        modules: Sequence[RegoModule],
        namespaces: Sequence[str] = ("main",),
        *,
        trusted: bool = False,
        kinds: dict[str, frozenset[str]] | None = None,
        verify: bool = False,
    ) -> None:
        self.name = name
        self.verify = verify  # conftest verify / opa test: the checks are the test_ rules
        self.modules = list(modules)
        self.trusted = trusted
        self.analysis: Analysis = analyse(self.modules, engine_builtins())
        packages = list(dict.fromkeys(self.analysis.packages.values()))
        patterns = list(dict.fromkeys(namespaces)) or ["main"]
        self.namespaces = (
            [p for p in packages if any(fnmatchcase(p, pat) for pat in patterns)]
            if any(ALL_NAMESPACES in p or "?" in p or "[" in p for p in patterns)
            else [p for p in patterns if p in packages]
        )
        counts: dict[tuple[str, str], list[str]] = {}
        self.has_exception: set[str] = set()
        for r in self.analysis.rules:
            if verify:
                if not r.function and TEST_RULE.match(r.name):
                    counts.setdefault((r.package, r.name), []).append(r.file)
                continue
            if r.package not in self.namespaces or r.function:
                continue
            if rule_kind(r.name):
                counts.setdefault((r.package, r.name), []).append(r.file)
            elif r.name == "exception":
                self.has_exception.add(r.package)
        self.checks = [
            CheckRule(
                ns, rule, rule_kind(rule) or "failure", len(files), exception_name(rule), tuple(dict.fromkeys(files))
            )
            for (ns, rule), files in counts.items()
        ]
        # Rules that only apply to some kinds (the pack's METADATA `custom.kinds`): skipped elsewhere.
        self.kinds = dict(kinds or {})
        self._for_kind: dict[str | None, list[CheckRule]] = {}
        self.digest = self._digest(namespaces)

    def _digest(self, namespaces: Sequence[str]) -> str:
        h = hashlib.sha256()
        h.update(
            json.dumps(
                [
                    ENGINE_NAME,
                    _engine_version(),
                    VERDICT_FORMAT,
                    self.verify,
                    list(namespaces),
                    sorted((k, sorted(v)) for k, v in self.kinds.items()),
                ]
            ).encode()
        )
        for m in self.modules:
            h.update(b"\0" + m.file.encode() + b"\0" + m.source.encode())
        return h.hexdigest()

    @classmethod
    def load(
        cls,
        paths: Iterable[tuple[Path, str]],
        namespaces: Sequence[str] = ("main",),
        *,
        name: str | None = None,
        trusted: bool = False,
        kinds: dict[str, frozenset[str]] | None = None,
        verify: bool = False,
    ) -> PolicySet:
        """Every .rego file of the folders or files given as (path, display name); `*_test.rego` only to verify."""
        modules: list[RegoModule] = []
        names = []
        for path, display in paths:
            modules.extend(read_modules(path, display, tests=verify))
            names.append(display)
        seen: dict[str, str] = {}
        for m in modules:
            if m.file in seen:
                raise ConfigError(f"{m.file}: given twice (two --policy paths name the same file)")
            seen[m.file] = m.file
        return cls(name or ", ".join(names), modules, namespaces, trusted=trusted, kinds=kinds, verify=verify)

    @property
    def reads_conftest(self) -> bool:
        return self.analysis.reads_conftest

    @property
    def cacheable(self) -> bool:
        """Deterministic for a given input and data: no clock, randomness or runtime in it."""
        return not self.analysis.volatile

    def rules_for(self, kind: str | None) -> list[CheckRule]:
        rules = self._for_kind.get(kind)
        if rules is None:
            rules = self._for_kind[kind] = [
                r for r in self.checks if r.name not in self.kinds or kind in self.kinds[r.name]
            ]
        return rules

    def evaluator(self, data: dict[str, Any]) -> Evaluator:
        return Evaluator(self, data)


def _engine_version() -> str:
    try:
        from importlib.metadata import version

        return version("gordon-to-regorus")
    except Exception:  # noqa: BLE001 - only part of a cache key
        return "?"


class Evaluator:
    """A policy set with one data document, evaluating one input at a time."""

    def __init__(self, policy_set: PolicySet, data: dict[str, Any]) -> None:
        self.policy_set = policy_set
        engine = Engine()
        for m in policy_set.modules:
            try:
                engine.add_module(m.file, m.source)
            except EngineError as exc:  # checked at load already; kept for a set built by hand
                raise compile_error(exc, m.file) from None
        if data:
            try:
                engine.add_data(data)
            except RuntimeError as exc:
                raise ConfigError(
                    f"{policy_set.name}: the data document does not merge: {str(exc).splitlines()[0]}"
                ) from None
        self.base = engine
        self.engine = engine.clone()
        self.on_rule: Any = None  # called with each rule's index before it runs (the sandbox's progress)

    def evaluate(
        self, value: Any, file: str | None = None, *, skip: frozenset[str] = frozenset(), undefined_input: bool = False
    ) -> Verdict:
        """conftest's verdict on one input; `undefined_input` (a null YAML document) leaves `input` unset."""
        return self.evaluate_text(
            json.dumps(value, default=str), input_kind(value), file, skip=skip, undefined_input=undefined_input
        )

    def evaluate_text(
        self,
        text: str,
        kind: str | None,
        file: str | None = None,
        *,
        skip: frozenset[str] = frozenset(),
        undefined_input: bool = False,
    ) -> Verdict:
        """The same for an input given as JSON text (and its kind, which picks the rules that apply)."""
        ps = self.policy_set
        if ps.reads_conftest or undefined_input:
            engine = self.base.clone()
            if ps.reads_conftest:
                name = file or ""
                engine.add_data(
                    {"conftest": {"file": {"name": name, "dir": str(PurePosixPath(name).parent) if name else ""}}}
                )
        else:
            engine = self.engine
        verdict = Verdict()
        if not undefined_input:
            try:
                engine.set_input_json(text)
            except EngineError as exc:
                verdict.errors.append(PolicyError("", None, f"the input could not be given to the engine: {exc}"))
                return verdict
        rules = ps.rules_for(kind)
        exempt: dict[str, dict[str, int]] = {}
        for ns in ps.has_exception:
            try:
                exempt[ns] = _exception_counts(engine.eval_rule(f"data.{ns}.exception"))
            except EngineError as exc:
                verdict.errors.append(PolicyError(ns, "exception", str(exc), ps.analysis.files_of(ns, "exception")))
                exempt[ns] = {}
        for index, rule in enumerate(rules):
            if skip and rule_key(rule) in skip:
                continue  # stopped by a limit on another input: the sandbox reports it on this one
            if self.on_rule is not None:
                self.on_rule(index)
            if ps.verify:
                _test(verdict, engine, rule)
                continue
            matches = exempt.get(rule.namespace, {}).get(rule.exempt_as, 0)
            for _ in range(matches):
                verdict.exceptions.append(
                    PolicyException(
                        rule.namespace,
                        rule.name,
                        f"{rule.path.rsplit('.', 1)[0]}.exception[_][_] == {json.dumps(rule.exempt_as)}",
                    )
                )
            try:
                result = engine.eval_rule(rule.path)
            except EngineError as exc:
                verdict.errors.append(PolicyError(rule.namespace, rule.name, str(exc), list(rule.files)))
                continue
            produced = _collect(verdict, rule, result, excepted=matches > 0)
            used = matches if matches else produced  # conftest drops an excepted rule's results
            verdict.successes += max(0, rule.definitions - used)
        verdict.prints = engine.prints()
        return verdict


def input_kind(value: Any) -> str | None:
    kind = value.get("kind") if isinstance(value, dict) else None
    return kind if isinstance(kind, str) else None


def _test(verdict: Verdict, engine: Engine, rule: CheckRule) -> None:
    """A test rule passes when it is defined and not false (opa test)."""
    try:
        value = engine.eval_rule(rule.path)
    except EngineError as exc:
        verdict.errors.append(PolicyError(rule.namespace, rule.name, str(exc), list(rule.files)))
        return
    if value is UNDEFINED or value is False:
        why = "undefined" if value is UNDEFINED else "false"
        verdict.messages.append(
            PolicyMessage(rule.namespace, rule.name, "failure", f"test {rule.path[5:]} failed ({why})")
        )
    else:
        verdict.successes += 1


def _exception_counts(value: Any) -> dict[str, int]:
    """How often each name matches `exception[_][_] == name`."""
    counts: dict[str, int] = {}
    if value is UNDEFINED or value is None:
        return counts
    outer = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    for entry in outer:
        inner = entry.values() if isinstance(entry, dict) else entry if isinstance(entry, list) else []
        for name in inner:
            if isinstance(name, str):
                counts[name] = counts.get(name, 0) + 1
    return counts


def _collect(verdict: Verdict, rule: CheckRule, result: Any, *, excepted: bool) -> int:
    """Add the rule's messages; returns how many results it produced (conftest's count)."""
    if not isinstance(result, list):
        return 0  # undefined, or not a collection (`deny[msg] if` objects are refused at load)
    produced = 0
    for item in result:
        if isinstance(item, str):
            text = item if item != "" else EMPTY_MESSAGE.format(rule=rule.name)
            verdict.messages.append(PolicyMessage(rule.namespace, rule.name, rule.level, text, excepted=excepted))
            produced += 1
        elif isinstance(item, dict):
            msg = item.get("msg")
            if not isinstance(msg, str):
                verdict.errors.append(
                    PolicyError(
                        rule.namespace,
                        rule.name,
                        f"rule {rule.name} returned an object without a string `msg`: {json.dumps(item)[:200]}",
                        list(rule.files),
                    )
                )
                continue
            meta = {k: v for k, v in item.items() if k not in ("msg", "_loc")}
            verdict.messages.append(
                PolicyMessage(
                    rule.namespace,
                    rule.name,
                    rule.level,
                    msg or EMPTY_MESSAGE.format(rule=rule.name),
                    meta,
                    excepted=excepted,
                )
            )
            produced += 1
        # conftest ignores numbers, booleans and other elements
    return produced
