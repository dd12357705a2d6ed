"""The built-in validator: rendered resources checked against cached jsonschema-rs validators."""

from __future__ import annotations

import datetime
import gc
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import jsonschema_rs

from promoter.model.finding import CheckResult, Finding, Severity, Status, Subject
from promoter.model.resource import Resource
from promoter.validate.schemas import Schema, SchemaSource

# Building a validator costs milliseconds, using one about a microsecond: build once per schema key
# (version, strictness, apiVersion, kind, or a custom schema's content) for the life of the process.
_VALIDATORS: dict[tuple[Any, ...], Any] = {}
MAX_ERRORS_PER_RESOURCE = 20
NOT_AN_OBJECT_HELP = (
    "a manifest folder holds Kubernetes objects only (kubectl apply -f and kubeconform read every YAML file "
    "in it): move other YAML out of the folder, or name it in render.exclude"
)


def compiled(schema: Schema) -> Any:
    v = _VALIDATORS.get(schema.key)
    if v is None:
        v = _VALIDATORS[schema.key] = jsonschema_rs.validator_for(schema.schema)
    return v


def pointer(path: Iterable[Any]) -> str:
    """JSON pointer (RFC 6901) of an instance path."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _jsonable(node: Any) -> Any:
    # What Kubernetes' YAML→JSON does with YAML-only values: keys become strings, dates strings.
    if isinstance(node, dict):
        return {
            (k if isinstance(k, str) else json.dumps(k) if isinstance(k, bool) else str(k)): _jsonable(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_jsonable(v) for v in node]
    if isinstance(node, (datetime.date, datetime.datetime)):
        return node.isoformat()
    if isinstance(node, bytes):
        return node.decode("utf-8", "replace")
    if isinstance(node, (set, frozenset)):  # a `!!set`: go-yaml reads the mapping of nulls it is
        return {str(k): None for k in node}
    if isinstance(node, tuple):
        return [_jsonable(v) for v in node]
    if node is None or isinstance(node, (str, int, float, bool)):
        return node
    return str(node)  # nothing JSON can carry: its text, never a crash


def _errors(validator: Any, obj: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(pointer, field pointer, message) of each schema error; [] when valid.

    The field pointer names the unknown key itself for "additional properties" errors, so a report
    can point at the line that wrote it rather than at its parent object."""
    try:
        if validator.is_valid(obj):
            return []
        errs = validator.iter_errors(obj)
    except ValueError:  # non-string keys or dates from YAML: convert as Kubernetes would, then retry
        obj = _jsonable(obj)
        if validator.is_valid(obj):
            return []
        errs = validator.iter_errors(obj)
    out = []
    for e in errs:
        where = pointer(e.instance_path)
        unexpected = getattr(e.kind, "unexpected", None) if type(e.kind).__name__ == "AdditionalProperties" else None
        field = where + pointer(unexpected[:1]) if unexpected else where
        out.append((where, field, e.message))
        if len(out) >= MAX_ERRORS_PER_RESOURCE:
            break
    return out


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC: a batch allocates many acyclic objects (subjects, findings, parsed
    documents) and a full collection over a large heap costs tens of milliseconds each time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def validate_resources(
    resources: list[Resource],
    source: SchemaSource,
    *,
    strict_missing: bool = False,
    skip_kinds: Iterable[str] = (),
    finding_source: str = "schema",
) -> CheckResult:
    """One Subject per resource; a `schema` finding per schema error, `schema-missing` under strict_missing."""
    with gc_paused():
        return _validate(resources, source, strict_missing, skip_kinds, finding_source)


def _validate(
    resources: list[Resource],
    source: SchemaSource,
    strict_missing: bool,
    skip_kinds: Iterable[str],
    finding_source: str,
) -> CheckResult:
    skip = set(skip_kinds)
    result = CheckResult()
    findings, subjects = result.findings, result.subjects
    cache: dict[tuple[str, str], tuple[Any, str] | None] = {}
    counts = {"valid": 0, "invalid": 0, "skipped": 0, "errors": 0}
    for r in resources:
        obj = r.obj
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        subject = Subject(id=r.id, kind="resource", target=r.target, location=r.location)
        subjects.append(subject)
        if not isinstance(api_version, str) or not isinstance(kind, str) or not api_version or not kind:
            # kubeconform's order: kind first (a values file lacks both and is "missing kind").
            missing = "kind" if not isinstance(kind, str) or not kind else "apiVersion"
            subject.status, subject.reason = Status.ERROR, f"object has no {missing}"
            f = _finding(r, "schema", f"object has no {missing}: not a Kubernetes object", finding_source)
            f.help = NOT_AN_OBJECT_HELP
            findings.append(f)
            counts["errors"] += 1
            continue
        if kind in skip or f"{api_version}/{kind}" in skip:
            subject.status, subject.reason = Status.SKIPPED, f"kind {kind} is in validation.skip_kinds"
            counts["skipped"] += 1
            continue
        key = (api_version, kind)
        if key not in cache:
            hit = source.lookup(api_version, kind)
            cache[key] = (compiled(hit), hit.origin) if hit is not None else None
        entry = cache[key]
        if entry is None:
            reason = f"no schema for {kind} ({api_version}) in Kubernetes {source.version.version}, repository CRDs or schema folders"
            if strict_missing:
                subject.status, subject.reason = Status.ERROR, reason
                findings.append(_finding(r, "schema-missing", reason, finding_source))
                counts["errors"] += 1
            else:
                subject.status, subject.reason = Status.SKIPPED, reason
                counts["skipped"] += 1
            continue
        errors = _errors(entry[0], obj)
        if not errors:
            counts["valid"] += 1
            continue
        counts["invalid"] += 1
        subject.status = Status.FAILED
        subject.reason = f"{len(errors)} schema error(s)"
        for ptr, field, msg in errors:
            findings.append(
                _finding(
                    r,
                    "schema",
                    f"{ptr or '/'}: {msg}",
                    finding_source,
                    evidence={"pointer": field, "schema": entry[1], "resource": r.display},
                )
            )
    result.stats = {"resources": len(resources), **{f"resources_{k}": v for k, v in counts.items()}}
    return result


def _finding(r: Resource, rule: str, message: str, source: str, evidence: dict[str, Any] | None = None) -> Finding:
    return Finding(
        rule=rule,
        severity=Severity.ERROR,
        message=f"{r.display}: {message}" if r.name or r.kind else message,
        location=r.location,
        source=source,
        subject=r.id,
        target=r.target,
        evidence=evidence or {"resource": r.display},
    )
