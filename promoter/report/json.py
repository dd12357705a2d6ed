"""The machine-readable report: CheckResult.to_dict() as JSON, keys stable across releases.

Top-level keys (from promoter.finding.CheckResult.to_dict):
  passed    bool: no error-severity finding that is not waived
  counts    {"error", "warning", "info", "waived"}: non-waived findings per severity, and waived ones
  targets   [str]: the overlays, charts and files checked
  findings  [{rule, severity, message, location: {file, line, column, end_line} | null, source,
             subject, target, help, waived, waiver_reason, evidence}], ranked errors first
  subjects  [{id, kind, target, location, status: passed|failed|skipped|error, reason,
             details: {} or what the check established, e.g. {verified_image: {...}} for image_exists}]
  stats     {str: number | str}: timings and counters, informative only
"""

from __future__ import annotations

import json

from promoter.model.finding import CheckResult

NAME = "json"


def render(result: CheckResult, *, title: str, color: bool = False) -> str:
    # default=str: evidence may hold paths or other plain objects; a report never fails on them.
    return json.dumps(result.to_dict(), indent=2, ensure_ascii=False, default=str) + "\n"
