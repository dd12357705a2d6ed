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
from typing import Any as Object

from promoter.model.finding import CheckResult

NAME = "json"


def render(result: CheckResult, *, title: str, color: bool = False) -> str:
    return dumps(result.to_dict())


def _one(value: object) -> str:
    # default=str: evidence may hold paths or other plain objects; a report never fails on them.
    return json.dumps(value, ensure_ascii=False, default=str)


def dumps(doc: dict[str, Object]) -> str:
    """`doc` as JSON laid out for reading and diffing: one top-level key a line, one finding or
    subject a line. Python's json module writes indented JSON in pure Python (about 20x slower than
    its C encoder, over a second for 10,000 subjects); each line here is written by the C encoder."""
    lines = []
    for k, v in doc.items():
        if isinstance(v, list) and v:
            body = ",\n".join("    " + _one(x) for x in v)
            lines.append(f"  {_one(k)}: [\n{body}\n  ]")
        else:
            lines.append(f"  {_one(k)}: {_one(v)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"
