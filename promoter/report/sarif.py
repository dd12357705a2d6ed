"""SARIF 2.1.0, the format GitHub code scanning (and most code-review tools) import."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from promoter import __version__
from promoter.model.finding import CheckResult, Finding, Location, Severity, Status
from promoter.report.base import View

NAME = "sarif"

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT_KEY = "promoterFinding/v1"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def information_uri() -> str | None:
    """The project's home page from its package metadata ([project.urls]); none is better than a made-up one."""
    from importlib import metadata  # 10 ms: only for a SARIF report

    try:
        from promoter import __distribution__

        urls = metadata.metadata(__distribution__).get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return None
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip().lower() in {"homepage", "home", "source", "repository"} and url.strip():
            return url.strip()
    return None


def render(result: CheckResult, *, title: str, color: bool = False) -> str:
    return json.dumps(sarif_log(result), indent=2, ensure_ascii=False) + "\n"


def sarif_log(result: CheckResult) -> dict[str, Any]:
    view = View(result)
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    helps: dict[str, str] = {}
    for f in view.findings:
        if f.help:
            helps.setdefault(f.rule, f.help)
    for f in view.findings:
        if f.rule not in index:
            index[f.rule] = len(rules)
            rules.append(_rule(f, helps.get(f.rule)))
    driver: dict[str, Any] = {
        "name": "promoter",
        "version": __version__,
        "semanticVersion": __version__,
        "rules": rules,
    }
    uri = information_uri()
    if uri:
        driver["informationUri"] = uri
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        # Subjects that were skipped or errored are not results (nothing is wrong in the code),
        # but a reader must still see that they were not checked: tool notifications.
        "invocations": [
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": [
                    {
                        "level": "warning" if s.status is Status.ERROR else "note",
                        "message": {"text": f"{s.id}: {s.status.value}: {s.reason or 'no reason given'}"},
                        **({"locations": [_location(s.location)]} if s.location else {}),
                    }
                    for s in view.unsettled
                ],
            }
        ],
        "results": [_result(f, view, index[f.rule]) for f in view.findings],
        "columnKind": "unicodeCodePoints",
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def _rule(f: Finding, help_text: str | None) -> dict[str, Any]:
    # The rule's first finding in ranked order lends it its level, source and (if it has none) help.
    help_text = help_text or f"promoter rule `{f.rule}` (stage: {f.source or 'check'})"
    return {
        "id": f.rule,
        "name": f.rule,
        "shortDescription": {"text": f"promoter {f.source + ' ' if f.source else ''}rule {f.rule}"},
        "help": {"text": help_text},
        "defaultConfiguration": {"level": _LEVEL[f.severity]},
    }


def _result(f: Finding, view: View, rule_index: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": rule_index,
        "level": _LEVEL[f.severity],
        "message": {"text": f.message or f.rule},
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint()},
    }
    loc = view.location(f)
    if loc is not None:
        out["locations"] = [_location(loc)]
    if f.baseline is not None:
        # SARIF's own words for "the base had it too": code scanning then shows only what a change adds.
        out["baselineState"] = "unchanged" if f.baseline == "existing" else "new"
    if f.waived:
        out["suppressions"] = [{"kind": "external", "justification": f.waiver_reason or "waived"}]
    props: dict[str, Any] = {
        k: v for k, v in (("target", view.target(f)), ("subject", f.subject), ("source", f.source or None)) if v
    }
    if len(f.targets) > 1:
        props["targets"] = list(f.targets)
    if f.envs:
        props["environments"] = list(f.envs)
    if props:
        out["properties"] = props
    return out


def _location(loc: Location) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": max(1, loc.line or 1)}
    if loc.column:
        region["startColumn"] = max(1, loc.column)
    if loc.end_line and loc.end_line >= region["startLine"]:
        region["endLine"] = loc.end_line
    return {
        "physicalLocation": {
            # A repo-relative URI reference: spaces and `%` in a path must be percent-encoded.
            "artifactLocation": {"uri": quote(loc.file.lstrip("/"), safe="/"), "uriBaseId": "%SRCROOT%"},
            "region": region,
        }
    }
