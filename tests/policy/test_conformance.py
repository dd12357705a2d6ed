"""Conformance: every recorded OPA v1.20.2 case (conftest v0.69 semantics) through promoter's
conftest-compatible layer (`promoter policy test`'s code path), compared on failures, warnings,
exceptions and errors. A case may differ only when it is sandboxed or listed in DIVERGENCES,
and every listed divergence must be documented in docs/policies.md and must still differ."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from promoter.model.errors import ConfigError, UsageError
from promoter.policy.inputs import read_data
from promoter.policy.policyset import PolicySet
from promoter.policy.runner import test_files

ROOT = Path(__file__).resolve().parents[2]
CASES = Path(os.environ.get("PROMOTER_SHARED") or ROOT.parent / "shared") / "reference" / "opa" / "cases"
DOCS = ROOT / "docs" / "policies.md"

# Case -> why promoter differs. Each is also a row of the divergence table in docs/policies.md.
DIVERGENCES: dict[str, str] = {
    "concat": "stricter on purpose: `deny_empty` produces an empty-string message, which conftest counts as a success; promoter fails it",
    "message-shapes": "stricter on purpose: `deny_empty_string` produces an empty-string message, which promoter fails",
    "deny-brackets-v1": "stricter on purpose: `deny[msg] if` is refused at load (OPA 1.x makes it an object, so the rule never fails)",
    "functions-multiple-definitions": "refused at load: `deny contains sprintf(..., [n, tier(n)])` computes the head with a function undefined for some elements, regorus' silent-pass shape",
    "functions-conflicting-outputs": "refused at load (same head shape, `tier(n)` in the head) before the conflict OPA reports at run time: still an error, exit 2",
    "cx-combine-users": "fails closed: regorus refuses a comprehension using `name` before its definition (a policy-error finding); OPA reorders it",
    "json-yaml-marshal": 'message text: regorus\' yaml.marshal writes `- y` where OPA quotes the YAML 1.1 boolean `- "y"`',
    "metadata-rule-and-chain": "fails closed: regorus does not implement rego.metadata.rule()/chain(): refused at load (exit 2)",
    "not-builtin-missing-ref": "fails closed: `not is_object(input.sops)` / `not startswith(input.missing, ...)` fire where OPA leaves the rule undefined (extra failures)",
    "semver": "fails closed and message text: semver.is_valid(7) raises (policy-error) where OPA returns false; `%d` of -1 prints `--1`",
    "sprintf-formats": "fails closed and message text: `%d` of 1.5 and a missing or extra argument raise (policy-error) where OPA prints `%!d(float64=1.5)`; `%s` of 42 prints `42`, not `%!s(int64=42)`",
}


def _cases() -> list[str]:
    if not CASES.is_dir():
        return []
    return sorted(p.name for p in CASES.iterdir() if (p / "expected.json").is_file())


def _args(case: Path) -> dict[str, Any]:
    f = case / "args.json"
    return json.loads(f.read_text()) if f.is_file() else {}


def run_case(case: Path) -> dict[str, Any]:
    """What promoter says about a case, in the shape of expected.json."""
    args = _args(case)
    namespaces = ["*"] if args.get("all_namespaces") else list(args.get("namespaces") or ["main"])
    data = read_data([case / "data.json"]) if (case / "data.json").is_file() else {}
    input_file = next(p for p in (case / "input.yaml", case / "input.json") if p.is_file())
    out: dict[str, Any] = {"error": None, "failures": [], "warnings": [], "exceptions": [], "errors": []}
    try:
        policy_set = PolicySet.load([(case / "policy", "policy")], namespaces)
        run = test_files(policy_set, [(input_file, input_file.name)], data, combine=bool(args.get("combine")))
    except (ConfigError, UsageError) as exc:
        out["error"] = str(exc)
        return out
    for o in run.outcomes:
        for m in o.verdict.messages:
            if m.excepted:
                continue
            row = {"document": o.index, "namespace": m.namespace, "rule": m.rule, "msg": m.message}
            if m.metadata:
                row["metadata"] = m.metadata
            out["failures" if m.level == "failure" else "warnings"].append(row)
        for x in o.verdict.exceptions:
            out["exceptions"].append({"document": o.index, "namespace": x.namespace, "rule": x.rule, "msg": x.message})
        out["errors"].extend(e.message for e in o.verdict.errors)
    for key in ("failures", "warnings", "exceptions"):
        out[key].sort(key=lambda r: (r["document"], r["namespace"], r["rule"], r["msg"]))
    return out


_PLACE = re.compile(r"^(?P<file>[^:\s]+\.rego):(?P<line>\d+)")


def differences(case: Path, got: dict[str, Any]) -> list[str]:
    expected = json.loads((case / "expected.json").read_text())
    diffs = []
    if expected["error"]:
        errors = ([got["error"]] if got["error"] else []) + got["errors"]
        if not errors:
            return [
                f"expected the error {expected['error']!r}, got none (failures {got['failures']}, warnings {got['warnings']})"
            ]
        want = _PLACE.match(expected["error"])
        place = f"{want.group('file')}:{want.group('line')}:" if want else ""
        if want and not any(place in e for e in errors):
            diffs.append(f"error at another place: expected {expected['error']!r}, got {errors}")
        # conftest stops the run on an error; promoter reports the error and the other rules' results.
        return diffs
    if got["error"]:
        return [f"refused at load: {got['error']}"]
    if got["errors"]:
        diffs.append(f"evaluation errors: {got['errors']}")
    for key in ("failures", "warnings", "exceptions"):
        want = [{k: v for k, v in r.items() if k != "metadata" or v} for r in expected[key]]
        if got[key] != want:
            diffs.append(f"{key}: expected {want}, got {got[key]}")
    return diffs


def test_cases_are_present() -> None:
    """All 78 recorded cases: under CI their absence fails; elsewhere it skips."""
    if not CASES.is_dir():
        message = f"recorded OPA cases not found at {CASES}: set PROMOTER_SHARED to ../shared"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    assert len(_cases()) == 78


@pytest.mark.parametrize("name", _cases())
def test_case_matches_opa(name: str) -> None:
    case = CASES / name
    got = run_case(case)
    diffs = differences(case, got)
    if _args(case).get("sandbox"):
        # Reaching outside the policy: promoter refuses at load or gives nothing, never the outside world.
        assert got["error"] or not got["warnings"] or all("env" not in w["msg"] for w in got["warnings"]), got
        return
    if name in DIVERGENCES:
        assert diffs, f"{name} now matches OPA: remove it from DIVERGENCES and docs/policies.md"
        return
    assert not diffs, "\n".join(diffs)


def test_every_divergence_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    missing = [name for name in DIVERGENCES if f"`{name}`" not in text]
    assert not missing, f"docs/policies.md does not list these divergences: {missing}"
