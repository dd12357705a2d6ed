"""Helm: a chart rendered with one set of values, by Helm's Go SDK in process or by a helm binary.

Both paths take the same merged user values (values files in order, then what a HelmRelease or an
Application declares), so a check gives the same objects whichever Helm runs; the chart's own
values.yaml is coalesced by Helm itself. The SDK is imported here only, on the first chart.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from promoter.render.tools import Tool, exit_reason

RENDER_TIMEOUT = 300  # seconds, for a helm binary
_import_lock = threading.Lock()
_WHERE = re.compile(r"\(?([\w.@+-]+(?:/[\w.@+-]+)+\.(?:yaml|yml|tpl|txt|json)):(\d+)")


class HelmFailure(Exception):
    """Helm refused the chart or its values: `message` in Helm's words, `template` and `line` when it named one,
    `values` when the values did not meet values.schema.json."""

    def __init__(self, message: str, template: str | None = None, line: int | None = None, values: bool = False):
        super().__init__(message)
        self.message, self.template, self.line, self.values = message, template, line, values


@dataclass
class Release:
    """What to render: the chart folder, the merged user values, the release name and namespace."""

    chart: Path
    values: dict[str, Any]
    name: str
    namespace: str | None = None


def merge_values(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Helm's merge of `-f` files: maps merge key by key, anything else replaces (null included: Helm
    deletes the key when it coalesces with the chart's defaults)."""
    out = dict(base)
    for k, v in override.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge_values(out[k], v)
        else:
            out[k] = v
    return out


def sdk() -> Any:
    """The helm_python module, imported once (the import costs 0.3–0.6 s: only when a chart renders)."""
    with _import_lock:
        import helm_python

        return helm_python


def render(tool: Tool, release: Release) -> dict[str, str]:
    """Template path (`<chart name>/templates/x.yaml`) → rendered text; NOTES.txt left out as `helm template` does.
    Raises HelmFailure."""
    out = _in_process(release) if tool.in_process else _binary(tool, release)
    return {k: v for k, v in out.items() if not k.endswith("NOTES.txt")}


def _in_process(release: Release) -> dict[str, str]:
    try:
        helm = sdk()
    except Exception as exc:  # the native library could not load: a broken install, said as such
        raise HelmFailure(f"the Helm SDK (helm-python-sdk) cannot be loaded: {exc}") from None
    try:
        with helm.Chart.load(str(release.chart)) as chart:
            out: dict[str, str] = chart.render(
                values=release.values, name=release.name, namespace=release.namespace or "default"
            )
            return out
    except helm.HelmError as exc:
        raise _failure(str(exc), values=isinstance(exc, helm.HelmValuesError)) from None


def _failure(message: str, *, values: bool = False) -> HelmFailure:
    text = message.strip()
    m = _WHERE.search(text)
    return HelmFailure(
        " ".join(text.split()), template=m.group(1) if m else None, line=int(m.group(2)) if m else None, values=values
    )


_SOURCE = re.compile(r"^# Source: (\S+)\s*$", re.MULTILINE)
_DOC_SPLIT = re.compile(r"^---[ \t]*$", re.MULTILINE)


def _binary(tool: Tool, release: Release) -> dict[str, str]:
    args = [*tool.argv, "template", release.name, str(release.chart)]
    if release.namespace:
        args += ["--namespace", release.namespace]
    with tempfile.TemporaryDirectory(prefix="promoter-values-") as tmp:
        if release.values:
            f = Path(tmp) / "values.json"
            f.write_text(json.dumps(release.values))  # JSON is YAML; exact for any value
            args += ["--values", str(f)]
        try:
            proc = subprocess.run(
                args, capture_output=True, text=True, timeout=RENDER_TIMEOUT, check=False, stdin=subprocess.DEVNULL
            )
        except subprocess.TimeoutExpired:
            raise HelmFailure(f"helm did not finish within {RENDER_TIMEOUT} s") from None
        except OSError as exc:
            raise HelmFailure(f"cannot run {tool.argv[0]}: {exc.strerror or exc}") from None
    if proc.returncode != 0:
        lines = [ln.strip().removeprefix("Error: ") for ln in proc.stderr.splitlines() if ln.strip()]
        raise _failure(
            " ".join(lines[:3]) or exit_reason("helm", proc.returncode), values="values don't meet" in proc.stderr
        )
    out: dict[str, str] = {}
    for chunk in _DOC_SPLIT.split(proc.stdout):
        if not chunk.strip():
            continue
        m = _SOURCE.search(chunk)
        key = m.group(1) if m else ""
        out[key] = out.get(key, "") + ("---\n" if key in out else "") + chunk
    return out
