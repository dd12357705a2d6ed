"""Helm values: the effective values of a chart for an environment, checked against values.schema.json."""

from __future__ import annotations

import json
import re
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any

from promoter.model.errors import UsageError
from promoter.model.finding import (
    CheckResult,
    Finding,
    Location,
    Severity,
    Status,
    Subject,
    repo_relative,
)
from promoter.yamlio.document import YamlDoc, format_path, key_pos
from promoter.yamlio.loader import GO_UTF8

Path_ = tuple[Any, ...]
Origin = tuple[str, int | None]  # (repo-relative file, 1-based line)
RULE = "values-schema"


def _plain(node: Any) -> Any:
    """Round-trip YAML → plain JSON-like data (what Helm's values are: go-yaml ignores a collection's
    tag, so a `!!set` is a mapping of nulls, an `!!omap` a list of mappings, `!!binary` its text)."""
    if type(node).__name__ == "CommentedOrderedMap":  # !!omap
        return [{str(k): _plain(v)} for k, v in node.items()]
    if isinstance(node, AbstractSet):  # !!set
        return {str(k): None for k in node}
    if isinstance(node, bytes):
        return node.decode("utf-8", GO_UTF8)
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if node is None:
        return None
    if isinstance(node, bool) or type(node).__name__ == "ScalarBoolean":  # ruamel's anchored booleans are ints
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return str(node)  # dates and other YAML-only scalars: Helm sees them as strings after JSON


def _record(node: Any, path: Path_, rel: str, origins: dict[Path_, Origin]) -> None:
    """Remember where every value under `node` (a round-trip node) was written."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for k, v in items:
        pos = key_pos(node, k)
        origins[path + (str(k) if isinstance(node, dict) else k,)] = (rel, pos[0] + 1 if pos else None)
        _record(v, path + (str(k) if isinstance(node, dict) else k,), rel, origins)


def _drop(origins: dict[Path_, Origin], path: Path_) -> None:
    n = len(path)
    for p in [p for p in origins if p[:n] == path]:
        del origins[p]


def _merge(
    dst: dict[str, Any], src: Any, path: Path_, rel: str, origins: dict[Path_, Origin], *, deletes: bool
) -> None:
    """Helm's rules: maps merge key by key, lists and scalars replace, null deletes (in override files)."""
    for k, v in src.items():
        key = str(k)
        p = path + (key,)
        pos = key_pos(src, k)
        line = pos[0] + 1 if pos else None
        if v is None and deletes:
            dst.pop(key, None)
            _drop(origins, p)
            continue
        if isinstance(v, dict) and isinstance(dst.get(key), dict):
            origins[p] = (rel, line)
            _merge(dst[key], v, p, rel, origins, deletes=deletes)
            continue
        _drop(origins, p)
        dst[key] = _plain(v)
        origins[p] = (rel, line)
        _record(v, p, rel, origins)


def effective_values(files: list[tuple[YamlDoc, str]]) -> tuple[dict[str, Any], dict[Path_, Origin]]:
    """Merge loaded values files in order (the first is the chart's own values.yaml) and say who set what."""
    values: dict[str, Any] = {}
    origins: dict[Path_, Origin] = {}
    for n, (doc, rel) in enumerate(files):
        root = doc.docs[0] if doc.docs else None
        if root is None:
            continue
        _merge(values, root, (), rel, origins, deletes=n > 0)
    return values, origins


def _load(path: Path, repo: Path, result: CheckResult, target: str, subject: str) -> YamlDoc | None:
    rel = repo_relative(path, repo)
    if not path.is_file():
        raise UsageError(f"values file {rel} does not exist")
    try:
        doc = YamlDoc.load(path, rel)
    except UsageError as exc:
        line = getattr(exc, "line", None)
        result.findings.append(_finding("yaml", exc.message, Location(rel, line), target, subject))
        return None
    roots = [d for d in doc.docs if d is not None]
    if len(doc.docs) > 1 and len(roots) > 1:
        result.findings.append(
            _finding(
                "values-file",
                f"{rel}: a values file must hold one YAML document, found {len(roots)}",
                Location(rel, 1),
                target,
                subject,
            )
        )
        return None
    if roots and not isinstance(roots[0], dict):
        kind = "list" if isinstance(roots[0], list) else type(roots[0]).__name__
        line = roots[0].lc.line + 1 if hasattr(roots[0], "lc") else 1
        result.findings.append(
            _finding(
                "values-file", f"{rel}: values must be a mapping, found a {kind}", Location(rel, line), target, subject
            )
        )
        return None
    doc.docs = roots[:1]
    return doc


def _finding(
    rule: str,
    message: str,
    location: Location | None,
    target: str,
    subject: str,
    evidence: dict[str, Any] | None = None,
) -> Finding:
    return Finding(
        rule=rule,
        severity=Severity.ERROR,
        message=message,
        location=location,
        source="values-schema",
        subject=subject,
        target=target,
        evidence=evidence or {},
    )


def _locate(path: Path_, origins: dict[Path_, Origin], fallback: Origin) -> Origin:
    """The file and line that set the value at `path`, or of its nearest set parent."""
    p = tuple(path)
    while p:
        if p in origins:
            return origins[p]
        p = p[:-1]
    return fallback


def validate_chart_values(chart_dir: Path, values_files: list[Path], repo: Path) -> CheckResult:
    """One `values` Subject; a `values-schema` finding per schema error, at the file and line that set the value."""
    chart_rel = repo_relative(chart_dir, repo)
    subject_id = "values:" + chart_rel + "".join(f"+{repo_relative(p, repo)}" for p in values_files)
    result = CheckResult(targets=[chart_rel])
    subject = Subject(id=subject_id, kind="values", target=chart_rel, location=Location(chart_rel))
    result.subjects.append(subject)
    schema_file = chart_dir / "values.schema.json"
    if not schema_file.is_file():
        subject.status, subject.reason = Status.SKIPPED, f"chart {chart_rel} has no values.schema.json"
        return result
    schema_rel = repo_relative(schema_file, repo)
    try:
        schema = json.loads(schema_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        line = getattr(exc, "lineno", None)
        result.findings.append(
            _finding(RULE, f"{schema_rel}: not valid JSON: {exc}", Location(schema_rel, line), chart_rel, subject_id)
        )
        subject.status, subject.reason = Status.ERROR, "values.schema.json does not parse"
        return result

    loaded: list[tuple[YamlDoc, str]] = []
    own = chart_dir / "values.yaml"
    for path in ([own] if own.is_file() else []) + list(values_files):
        doc = _load(path, repo, result, chart_rel, subject_id)
        if doc is not None:
            loaded.append((doc, doc.path))
    if result.findings:
        subject.status, subject.reason = Status.ERROR, "a values file could not be read"
        return result

    from jsonschema import Draft7Validator, SchemaError
    from jsonschema.validators import validator_for

    cls = validator_for(schema, default=Draft7Validator)  # Helm's default draft
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        result.findings.append(
            _finding(
                RULE,
                f"{schema_rel}: not a valid JSON schema: {exc.message}",
                Location(schema_rel),
                chart_rel,
                subject_id,
            )
        )
        subject.status, subject.reason = Status.ERROR, "values.schema.json is not a valid schema"
        return result
    values, origins = effective_values(loaded)
    fallback: Origin = (loaded[-1][1], 1) if loaded else (chart_rel, None)
    errors = sorted(cls(schema).iter_errors(values), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    for err in errors:
        key_path = tuple(err.absolute_path)
        message = err.message
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            # The error is on the object; point at the first key the schema does not allow.
            schema_here = err.schema if isinstance(err.schema, dict) else {}
            allowed = set(schema_here.get("properties", {}))
            patterns = schema_here.get("patternProperties", {})
            extra = [k for k in err.instance if k not in allowed and not any(re.search(pt, k) for pt in patterns)]
            if extra:
                key_path = key_path + (extra[0],)
                message = f"unknown key {extra[0]!r}" + (f" (allowed: {', '.join(sorted(allowed))})" if allowed else "")
        file, line = _locate(key_path, origins, fallback)
        shown = format_path(key_path) or "(top level)"
        result.findings.append(
            _finding(
                RULE,
                f"{shown}: {message}",
                Location(file, line),
                chart_rel,
                subject_id,
                {"key_path": shown, "schema": schema_rel, "validator": str(err.validator)},
            )
        )
    if result.findings:
        subject.status, subject.reason = Status.FAILED, f"{len(result.findings)} values error(s)"
    return result
