"""The kubeconform backend: run kubeconform on rendered resources with a prepared offline schema folder."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from promoter.model.errors import ToolError, UsageError
from promoter.model.finding import CheckResult, Finding, Severity, Status, Subject
from promoter.model.resource import Resource
from promoter.validate.builtin import NOT_AN_OBJECT_HELP
from promoter.validate.schemas import SchemaSource, write_kubeconform_folder

INSTALL_HINT = "install it (https://github.com/yannh/kubeconform#installation) or use --validator builtin"
# kubeconform splits work across goroutines per resource; files only need to keep names unambiguous.
MAX_RESOURCES_PER_FILE = 500
TIMEOUT_SECONDS = 600
_AT = " - at '"
_ADDITIONAL = re.compile(r"additional propert(?:y|ies) '([^']*)'")


def find_kubeconform() -> str | None:
    return shutil.which("kubeconform")


def command(
    executable: str,
    version: str,
    template: str,
    files: Iterable[str],
    *,
    strict: bool = True,
    strict_missing: bool = False,
    skip_kinds: Iterable[str] = (),
    jobs: int | None = None,
) -> list[str]:
    """The argument list kubeconform is run with (never through a shell)."""
    args = [executable]
    if strict:
        args.append("-strict")
    args += ["-kubernetes-version", version, "-schema-location", template, "-output", "json", "-summary", "-verbose"]
    if not strict_missing:
        args.append("-ignore-missing-schemas")
    skip = ",".join(skip_kinds)
    if skip:
        args += ["-skip", skip]
    args += ["-n", str(max(1, jobs or os.cpu_count() or 1))]
    return args + list(files)


def _key(api_version: Any, kind: Any, name: Any) -> tuple[str, str, str]:
    return (str(api_version or ""), str(kind or ""), str(name or ""))


def write_inputs(folder: Path, resources: list[Resource]) -> dict[tuple[str, str, str, str], int]:
    """Write resources as JSON documents into files under `folder`.

    kubeconform reports a resource by file, apiVersion, kind and name only (no namespace, no index),
    so each file holds at most one resource per such key. Returns that key + file name → resource index.
    """
    files: list[list[int]] = []
    used: list[set[tuple[str, str, str]]] = []
    for i, r in enumerate(resources):
        key = _key(r.api_version, r.kind, r.name)
        for bucket, seen in zip(files, used, strict=True):
            if key not in seen and len(bucket) < MAX_RESOURCES_PER_FILE:
                bucket.append(i)
                seen.add(key)
                break
        else:
            files.append([i])
            used.append({key})
    mapping: dict[tuple[str, str, str, str], int] = {}
    for n, bucket in enumerate(files):
        name = f"resources-{n:04d}.yaml"
        # JSON is YAML; one document per line keeps writing cheap and unambiguous.
        text = "".join("---\n" + json.dumps(resources[i].obj, default=str) + "\n" for i in bucket)
        (folder / name).write_text(text)
        for i in bucket:
            mapping[(name, *_key(resources[i].api_version, resources[i].kind, resources[i].name))] = i
    return mapping


def parse_output(stdout: str, returncode: int, stderr: str = "") -> list[dict[str, Any]]:
    """kubeconform's `-output json` records; anything else is a ToolError naming what came out."""
    try:
        data = json.loads(stdout)
    except ValueError:
        shown = next((line for line in (stderr + "\n" + stdout).splitlines() if line.strip()), "no output")
        raise ToolError(
            f"kubeconform (exit {returncode}) printed output that is not JSON: {shown.strip()[:300]}"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("resources", []), list):
        raise ToolError(f"kubeconform (exit {returncode}) printed JSON without a resources list")
    return [r for r in data.get("resources") or [] if isinstance(r, dict)]


def split_message(msg: str) -> tuple[str | None, str]:
    """(`/spec/ports/0/port`, `got string, want integer`) from kubeconform's long message."""
    at = msg.find(_AT)
    if at < 0:
        return None, msg
    rest = msg[at + len(_AT) :]
    end = rest.find("'")
    if end < 0:
        return None, msg
    pointer, detail = rest[:end], rest[end + 1 :].lstrip(":").strip()
    return pointer, detail


def run_kubeconform(
    resources: list[Resource],
    source: SchemaSource,
    *,
    strict_missing: bool = False,
    skip_kinds: Iterable[str] = (),
    jobs: int | None = None,
) -> CheckResult:
    """Validate with kubeconform; the same Subjects and Findings as the built-in validator, source `kubeconform`."""
    executable = find_kubeconform()
    if executable is None:
        raise UsageError(f"kubeconform was asked for but is not on PATH: {INSTALL_HINT}")
    skip = list(skip_kinds)
    headless = [i for i, r in enumerate(resources) if not r.api_version or not r.kind]
    sendable = [r for r in resources if r.api_version and r.kind]
    records: list[dict[str, Any]] = []
    mapping: dict[tuple[str, str, str, str], int] = {}
    if sendable:
        with tempfile.TemporaryDirectory(prefix="promoter-kubeconform-") as tmp:
            folder = Path(tmp)
            (folder / "in").mkdir()
            template, _ = write_kubeconform_folder(
                folder / "schemas", source, {(r.api_version, r.kind) for r in sendable}
            )
            mapping = write_inputs(folder / "in", sendable)
            files = sorted({k[0] for k in mapping})
            args = command(
                executable,
                source.version.version,
                template,
                files,
                strict=source.strict,
                strict_missing=strict_missing,
                skip_kinds=skip,
                jobs=jobs,
            )
            try:
                proc = subprocess.run(
                    args,
                    cwd=folder / "in",
                    capture_output=True,
                    text=True,
                    timeout=TIMEOUT_SECONDS,
                    stdin=subprocess.DEVNULL,
                )
            except subprocess.TimeoutExpired:
                raise ToolError(f"kubeconform did not finish within {TIMEOUT_SECONDS} s") from None
            except OSError as exc:
                raise ToolError(f"kubeconform could not be run ({executable}): {exc.strerror or exc}") from None
            # 0: all valid, 1: something invalid; anything else (a panic, a signal) is kubeconform failing.
            if proc.returncode not in (0, 1):
                first = next((x for x in (proc.stderr + "\n" + proc.stdout).splitlines() if x.strip()), "no message")
                raise ToolError(f"kubeconform failed (exit {proc.returncode}): {first.strip()[:300]}")
            records = parse_output(proc.stdout, proc.returncode, proc.stderr)
    return _result(resources, sendable, headless, records, mapping, source, strict_missing, skip)


def _result(
    resources: list[Resource],
    sendable: list[Resource],
    headless: list[int],
    records: list[dict[str, Any]],
    mapping: dict[tuple[str, str, str, str], int],
    source: SchemaSource,
    strict_missing: bool,
    skip: list[str],
) -> CheckResult:
    result = CheckResult()
    by_resource: dict[int, dict[str, Any]] = {}
    unmatched: list[dict[str, Any]] = []
    for rec in records:
        key = (Path(str(rec.get("filename", ""))).name, *_key(rec.get("version"), rec.get("kind"), rec.get("name")))
        if key in mapping:
            by_resource[mapping[key]] = rec
        else:
            unmatched.append(rec)
    counts = {"valid": 0, "invalid": 0, "skipped": 0, "errors": 0}
    index_of = {id(r): i for i, r in enumerate(sendable)}
    headless_set = set(headless)
    for pos, r in enumerate(resources):
        subject = Subject(id=r.id, kind="resource", target=r.target, location=r.location)
        result.subjects.append(subject)
        if pos in headless_set:
            missing = "kind" if not r.kind else "apiVersion"
            subject.status, subject.reason = Status.ERROR, f"object has no {missing}"
            f = _finding(r, "schema", f"object has no {missing}: not a Kubernetes object")
            f.help = NOT_AN_OBJECT_HELP
            result.findings.append(f)
            counts["errors"] += 1
            continue
        found = by_resource.get(index_of[id(r)])
        if found is None:
            subject.status, subject.reason = Status.ERROR, "kubeconform reported nothing for this resource"
            result.findings.append(_finding(r, "schema", subject.reason))
            counts["errors"] += 1
            continue
        rec = found
        status, msg = rec.get("status"), str(rec.get("msg") or "")
        if status == "statusValid":
            counts["valid"] += 1
        elif status == "statusSkipped":
            subject.status = Status.SKIPPED
            if r.kind in skip or f"{r.api_version}/{r.kind}" in skip:
                subject.reason = f"kind {r.kind} is in validation.skip_kinds"
            else:
                subject.reason = _missing_reason(r, source)
            counts["skipped"] += 1
        elif status == "statusInvalid":
            subject.status = Status.FAILED
            pointer, detail = split_message(msg)
            errors = rec.get("validationErrors") or []
            subject.reason = f"{max(1, len(errors))} schema error(s)"
            text = f"{pointer or '/'}: {detail}" if pointer is not None else detail
            field = pointer or ""
            extra = _ADDITIONAL.match(detail)
            if extra and pointer is not None:
                # Same as builtin: the unknown key itself, so reports can point at the line that wrote it.
                field += "/" + extra[1].replace("~", "~0").replace("/", "~1")
            result.findings.append(_finding(r, "schema", text, {"pointer": field, "kubeconform": msg}))
            counts["invalid"] += 1
        else:  # statusError, or a status this wrapper does not know
            subject.status = Status.ERROR
            if msg.startswith("could not find schema"):
                subject.reason = _missing_reason(r, source)
                result.findings.append(_finding(r, "schema-missing", subject.reason, {"kubeconform": msg}))
            else:
                subject.reason = msg or f"kubeconform status {status!r}"
                result.findings.append(_finding(r, "schema", subject.reason, {"kubeconform": msg}))
            counts["errors"] += 1
    for rec in unmatched:
        # Not one of ours (kubeconform could not even read a document): keep it visible, never drop it.
        msg = str(rec.get("msg") or rec.get("status") or "unknown problem")
        where = sendable[0] if sendable else None
        result.findings.append(
            Finding(
                rule="schema",
                severity=Severity.ERROR,
                message=f"kubeconform: {rec.get('filename', '?')}: {msg}",
                location=where.location if where else None,
                source="kubeconform",
                target=where.target if where else None,
                evidence={"kubeconform": rec},
            )
        )
        counts["errors"] += 1
    result.stats = {"resources": len(resources), **{f"resources_{k}": v for k, v in counts.items()}}
    return result


def _missing_reason(r: Resource, source: SchemaSource) -> str:
    return f"no schema for {r.kind} ({r.api_version}) in Kubernetes {source.version.version}, repository CRDs or schema folders"


def _finding(r: Resource, rule: str, message: str, evidence: dict[str, Any] | None = None) -> Finding:
    return Finding(
        rule=rule,
        severity=Severity.ERROR,
        message=f"{r.display}: {message}",
        location=r.location,
        source="kubeconform",
        subject=r.id,
        target=r.target,
        evidence={"resource": r.display, **(evidence or {})},
    )
