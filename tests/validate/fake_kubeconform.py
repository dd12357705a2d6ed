#!/usr/bin/env python3
"""A fake `kubeconform` v0.7.0 for tests: replays real recorded output, after checking its arguments.

It reads the recordings in $FAKE_KUBECONFORM_RECORDINGS (shared/reference/kubeconform), picks the one
recorded with the same output flags, and answers for the documents it is given: each document is
matched by (kind, name, apiVersion) to a recorded resource, whose status and message it reports under
the real file name, in the recording's (worker pool) order. Before answering it checks what the real
binary would need: a full x.y.z version (else the recorded usage error), an offline schema location,
and, per document, that the schema file the template names exists exactly when the recording says a
schema was found. Anything it cannot replay faithfully is exit 97-99 with a message on stderr.

FAKE_KUBECONFORM_RECORDING=<file.out> replays that file verbatim (e.g. non-JSON output);
FAKE_KUBECONFORM_CRASH=1 dies like a Go panic; FAKE_KUBECONFORM_ARGS=<file> records argv as JSON.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import yaml

BOOL_FLAGS = {
    "strict",
    "summary",
    "verbose",
    "ignore-missing-schemas",
    "debug",
    "exit-on-error",
    "insecure-skip-tls-verify",
    "h",
    "v",
}
VALUE_FLAGS = {
    "kubernetes-version",
    "schema-location",
    "output",
    "n",
    "skip",
    "reject",
    "cache",
    "ignore-filename-pattern",
}
# The base command of every recording (see the recordings' README); the rest names the recording.
BASE_FLAGS = {"strict", "kubernetes-version", "schema-location", "n"}


def fail(code: int, msg: str) -> None:
    sys.stderr.write(f"fake kubeconform: {msg}\n")
    sys.exit(code)


def recorded(path: Path) -> tuple[str, int]:
    text = path.read_text()
    body, _, last = text.rstrip("\n").rpartition("\n")
    m = re.fullmatch(r"exit=(\d+)", last)
    if not m:
        fail(97, f"recording {path.name} has no exit= line")
    return body + "\n", int(m[1])


def parse_args(argv: list[str]) -> tuple[dict[str, list[str] | bool], list[str], list[str]]:
    flags: dict[str, list[str] | bool] = {}
    tokens: list[str] = []
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        name = argv[i].lstrip("-")
        if "=" in name:
            fail(97, f"the wrapper should pass flag values as separate arguments: {argv[i]}")
        if name in BOOL_FLAGS:
            flags[name] = True
            if name not in BASE_FLAGS:
                tokens.append(name.replace("-", ""))
            i += 1
        elif name in VALUE_FLAGS:
            if i + 1 >= len(argv):
                sys.stderr.write(f"flag needs an argument: -{name}\n")
                sys.exit(1)
            value = argv[i + 1]
            existing = flags.get(name)
            flags[name] = [*existing, value] if isinstance(existing, list) else [value]
            if name not in BASE_FLAGS:
                tokens += [name.replace("-", ""), value.replace("-", "").replace(" ", "")]
            i += 2
        else:
            sys.stderr.write(f"flag provided but not defined: -{name}\n")
            sys.exit(1)
    return flags, tokens, argv[i:]


def schema_path(template: str, version: str, strict: bool, api_version: str, kind: str) -> str:
    """What kubeconform's registry expands a -schema-location template to (pkg/registry)."""
    group_parts = api_version.split("/")
    version_parts = group_parts[0].split(".")
    kind_suffix = "-" + version_parts[0].lower()
    if len(group_parts) > 1:
        kind_suffix += "-" + group_parts[1].lower()
    data = {
        "NormalizedKubernetesVersion": "v" + version,
        "StrictSuffix": "-strict" if strict else "",
        "ResourceKind": kind.lower(),
        "ResourceAPIVersion": group_parts[-1],
        "Group": group_parts[0],
        "KindSuffix": kind_suffix,
    }

    def field(m: re.Match[str]) -> str:
        if m[1] not in data:
            fail(97, f"template field {m[1]} unknown to kubeconform")
        return data[m[1]]

    return re.sub(r"\{\{\s*\.(\w+)\s*\}\}", field, template)


def main() -> None:
    argv = sys.argv[1:]
    if os.environ.get("FAKE_KUBECONFORM_ARGS"):
        Path(os.environ["FAKE_KUBECONFORM_ARGS"]).write_text(json.dumps(argv))
    if os.environ.get("FAKE_KUBECONFORM_CRASH"):
        sys.stderr.write("panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV]\n")
        sys.exit(2)
    recordings = Path(os.environ.get("FAKE_KUBECONFORM_RECORDINGS", ""))
    if not recordings.is_dir():
        fail(97, "FAKE_KUBECONFORM_RECORDINGS is not set to the recordings folder")
    verbatim = os.environ.get("FAKE_KUBECONFORM_RECORDING")
    if verbatim:
        body, code = recorded(recordings / verbatim)
        sys.stdout.write(body)
        sys.exit(code)

    flags, tokens, files = parse_args(argv)
    version = (flags.get("kubernetes-version") or ["master"])[-1]  # type: ignore[index]
    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        body, code = recorded(recordings / "badversion.out")
        sys.stdout.write(body)
        sys.exit(code)
    locations = flags.get("schema-location")
    if not isinstance(locations, list) or any(
        loc.startswith(("http://", "https://")) or loc == "default" for loc in locations
    ):
        fail(97, "no local -schema-location: the real binary would download schemas from the network")
    name = "_".join(tokens) + ".out"
    candidates = {p.name: p for p in recordings.glob("*.out")}
    match = next((p for n, p in candidates.items() if sorted(n[:-4].split("_")) == sorted(name[:-4].split("_"))), None)
    if match is None:
        fail(98, f"no recording for flags {' '.join(tokens)} (have: {', '.join(sorted(candidates))})")
    body, _ = recorded(match)
    try:
        recording = json.loads(body)
    except ValueError:
        fail(98, f"recording {match.name} is not JSON output; this fake only replays -output json")
    strict = bool(flags.get("strict"))

    docs: list[tuple[str, dict]] = []
    sources = [(f, Path(f).read_text()) for f in files] if files else [("stdin", sys.stdin.read())]
    for fname, text in sources:
        for doc in yaml.safe_load_all(text):
            if isinstance(doc, dict):
                docs.append((fname, doc))

    out = []
    for rec in recording["resources"]:
        for fname, doc in [d for d in docs if _same(d[1], rec)]:
            docs.remove((fname, doc))
            paths = [schema_path(t, version, strict, doc["apiVersion"], doc["kind"]) for t in locations]
            found = [p for p in paths if Path(p).is_file()]
            recorded_found = rec["status"] in ("statusValid", "statusInvalid")
            skipped = rec["status"] == "statusSkipped"
            if recorded_found and not found:
                fail(99, f"{doc['kind']} {rec['name']}: recorded as validated but no schema file at {paths}")
            if not recorded_found and not skipped and "could not find schema" in rec["msg"] and found:
                fail(99, f"{doc['kind']} {rec['name']}: recorded as missing but {found[0]} exists")
            if found:
                json.loads(Path(found[0]).read_text())  # the real binary fails on a broken schema file
            out.append({**rec, "filename": fname})
    if docs:
        d = docs[0][1]
        fail(
            98,
            f"no recorded result for {d.get('kind')} {(d.get('metadata') or {}).get('name')} ({d.get('apiVersion')})",
        )
    # The summary counts everything; without -verbose only invalid and error resources are listed.
    summary = {"valid": 0, "invalid": 0, "errors": 0, "skipped": 0}
    names = {"statusValid": "valid", "statusInvalid": "invalid", "statusError": "errors", "statusSkipped": "skipped"}
    for r in out:
        summary[names[r["status"]]] += 1
    if not flags.get("verbose"):
        out = [r for r in out if r["status"] in ("statusInvalid", "statusError")]
    sys.stdout.write(json.dumps({"resources": out, "summary": summary}, indent=2) + "\n")
    sys.exit(1 if summary["invalid"] or summary["errors"] else 0)


def _same(doc: dict, rec: dict) -> bool:
    meta = doc.get("metadata") or {}
    return (
        doc.get("kind") == rec["kind"] and meta.get("name") == rec["name"] and doc.get("apiVersion") == rec["version"]
    )


if __name__ == "__main__":
    main()
