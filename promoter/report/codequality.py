"""GitLab Code Quality: the JSON array `artifacts:reports:codequality` shows on merge requests.

Severity mapping (GitLab knows info|minor|major|critical|blocker):
  error   -> critical   (it fails the check; `blocker` is left for nothing we emit)
  warning -> minor
  info    -> info
  waived  -> info, with the waiver in the description (GitLab has no notion of suppression)
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from promoter.model.finding import CheckResult, Severity
from promoter.report.base import View

NAME = "codequality"

SEVERITY = {Severity.ERROR: "critical", Severity.WARNING: "minor", Severity.INFO: "info"}


def render(result: CheckResult, *, title: str, color: bool = False) -> str:
    view = View(result)
    issues: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for f in view.findings:
        loc = view.location(f)
        fingerprint = f.fingerprint()
        # Two identical findings (same rule, place and text) still need distinct fingerprints,
        # or GitLab shows one; the n-th repeat is salted with n, so the first keeps a stable value.
        n = seen.get(fingerprint, 0)
        seen[fingerprint] = n + 1
        if n:
            fingerprint = hashlib.sha256(f"{fingerprint}#{n}".encode()).hexdigest()
        description = f.message or f.rule
        if f.baseline == "existing":
            description += " (existing: the base has it too)"
        if f.waived:
            description += f" (waived: {f.waiver_reason or 'no reason given'})"
        lines: dict[str, int] = {"begin": max(1, (loc.line or 1) if loc else 1)}
        if loc and loc.end_line and loc.end_line >= lines["begin"]:
            lines["end"] = loc.end_line
        issues.append(
            {
                "type": "issue",
                "description": description,
                "check_name": f.rule,
                "fingerprint": fingerprint,
                "severity": "info" if f.waived else SEVERITY[f.severity],
                # GitLab needs a path; a finding with none is pinned to its target (overlay or chart).
                "location": {"path": loc.file if loc else (view.target(f) or "."), "lines": lines},
            }
        )
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"
