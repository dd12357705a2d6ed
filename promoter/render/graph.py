"""Graph: the render targets of a GitOps repository and the files each one's output depends on."""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from promoter.config.model import CONFIG_NAMES, Config
from promoter.model.finding import Finding, Location, Severity

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
YAML_SUFFIXES = (".yaml", ".yml")
from promoter.yamlio.loader import Loader as _Loader  # noqa: E402

# Folders never holding deployable manifests; skipping them keeps discovery fast on big repos.
_SKIP_DIRS = {".git", "node_modules", "__pycache__", ".venv", "venv"}
_REMOTE = re.compile(
    r"^(?:[a-z][a-z0-9+.-]*://|git::|git@|ssh://|oci://|github\.com/|gitlab\.com/|bitbucket\.org/)", re.IGNORECASE
)
_TOP_API = re.compile(rb"^apiVersion[ \t]*:", re.MULTILINE)
_TOP_KIND = re.compile(rb"^kind[ \t]*:", re.MULTILINE)
_VALUES_ENV = re.compile(r"^values[-_.](?P<env>[A-Za-z0-9][A-Za-z0-9._-]*?)\.ya?ml$")


def is_remote(ref: str) -> bool:
    """A URL, go-getter or `host/org/repo` reference: something `check` does not fetch."""
    return bool(_REMOTE.match(ref)) or "?ref=" in ref or "//" in ref.split("?")[0].lstrip("/")


@dataclass
class Remote:
    """A base or chart that lives outside the repository, and where it is referenced."""

    ref: str
    location: Location


@dataclass
class Target:
    """Something rendered as a unit: a Kustomize overlay, a Helm chart with one set of values, a plain folder.

    `id` is unique and repo-relative (`apps/a/overlays/dev`, `apps/web/chart@dev`,
    `apps/x/app.yaml#Application/web`); `files` and `dirs` are what its output depends on.
    """

    id: str
    kind: str  # "kustomize" | "helm" | "plain"
    path: str  # the overlay, chart or plain folder
    env: str | None = None
    files: set[str] = field(default_factory=set)
    dirs: set[str] = field(default_factory=set)  # any file below changes the output (chart folders)
    manifests: list[str] = field(default_factory=list)  # source manifests, for mapping output back
    patches: list[str] = field(default_factory=list)  # patch files, for mapping output back
    values: list[str] = field(default_factory=list)  # helm: values files, in order, after the chart's values.yaml
    inline_values: dict[str, Any] | None = None  # helm: values written inline (HelmRelease, Application)
    release: str | None = None
    namespace: str | None = None
    remote: list[Remote] = field(default_factory=list)
    problems: list[Finding] = field(default_factory=list)  # its sources do not parse: not rendered
    needs_helm: bool = False  # kustomize with `helmCharts:`
    origin: Location | None = None  # the file (and line) that declares this target

    @property
    def location(self) -> Location:
        """Where findings about the target as a whole point: its kustomization, chart or declaration."""
        if self.origin is not None:
            return self.origin
        return Location(self.path)

    def depends_on(self, path: str) -> bool:
        if path in self.files:
            return True
        if any(path == d or path.startswith(d + "/") for d in self.dirs):
            return True
        # A plain folder is every manifest directly in it, including ones added or deleted.
        return self.kind == "plain" and posixpath.dirname(path) == _dir_key(self.path) and path.endswith(YAML_SUFFIXES)


def _dir_key(path: str) -> str:
    return "" if path == "." else path


def _join(base: str, rel: str) -> str | None:
    """`rel` resolved against folder `base`, repo-relative; None when it leaves the repository."""
    joined = posixpath.normpath(posixpath.join(base, rel)) if base not in ("", ".") else posixpath.normpath(rel)
    if joined == ".." or joined.startswith("../") or posixpath.isabs(joined):
        return None
    return joined


@dataclass
class _Kustomization:
    """One kustomization file read: what it refers to, relative to the repository."""

    dir: str
    file: str
    kind: str = "Kustomization"
    subdirs: list[str] = field(default_factory=list)  # resources/components/bases/generators that are folders
    files: set[str] = field(default_factory=set)
    manifests: list[str] = field(default_factory=list)
    patches: list[str] = field(default_factory=list)
    dirs: set[str] = field(default_factory=set)
    remote: list[Remote] = field(default_factory=list)
    problems: list[Finding] = field(default_factory=list)
    needs_helm: bool = False


@dataclass
class Graph:
    """Every target of a repository, and how to find those a set of changed files affects."""

    repo: Path
    targets: list[Target]
    global_paths: list[str] = field(
        default_factory=list
    )  # a change here affects everything (config, schemas, policies)

    def affected(self, changed: Iterable[str]) -> list[Target]:
        paths = sorted(set(changed))
        if any(p == g or p.startswith(g.rstrip("/") + "/") for p in paths for g in self.global_paths):
            return list(self.targets)
        return [t for t in self.targets if any(t.depends_on(p) for p in paths)]

    def get(self, target_id: str) -> Target:
        for t in self.targets:
            if t.id == target_id:
                return t
        raise KeyError(target_id)


def build_graph(repo: Path, config: Config | None = None) -> Graph:
    """Discover every target under `repo` and what each depends on (the working tree, not git)."""
    config = config or Config.empty()
    walker = _Walk.scan(repo)
    reader = _Reader(repo, set(walker.kustomization_files.values()), walker.dirs)
    nodes = {d: reader.kustomization(d, f) for d, f in walker.kustomization_files.items()}

    referenced: set[str] = set()
    for node in nodes.values():
        referenced.update(node.subdirs)
    targets: list[Target] = []
    for d in sorted(nodes):
        node = nodes[d]
        if d in referenced or node.kind == "Component":
            continue
        targets.append(_kustomize_target(node, reader))

    charts = sorted(d for d in walker.charts if not any(d.startswith(c + "/") for c in walker.charts if c != d))
    targets.extend(_chart_targets(charts, config, walker))

    charts_read: dict[str, _Chart] = {}
    for t in targets:
        if t.kind == "helm":
            info = charts_read.setdefault(t.path, _Chart.read(repo, t.path))
            t.dirs |= info.local_dependencies
            t.remote.extend(info.remote_dependencies)
    library = {c for c, info in charts_read.items() if info.library}
    # A library chart renders nothing by itself; it is checked through the charts that depend on it.
    targets = [t for t in targets if not (t.kind == "helm" and t.path in library and t.id == t.path)]

    claimed: set[str] = set()
    for t in targets:
        claimed.update(t.files)
    targets.extend(_plain_targets(repo, walker, charts, claimed))
    _declared_chart_deps(repo, targets, set(charts), charts_read)

    _assign_envs(targets, config)
    globals_ = [config.file] if config.file else list(CONFIG_NAMES)
    globals_ += [str(p).strip("/") for p in config.validation.get("schema_dirs", [])]
    globals_ += [str(p).strip("/") for p in config.policies.get("paths", [])]
    return Graph(repo=repo, targets=targets, global_paths=[g for g in globals_ if g])


@dataclass
class _Walk:
    """One pass over the folder tree: kustomizations, charts, YAML files."""

    kustomization_files: dict[str, str] = field(default_factory=dict)  # dir -> its kustomization file
    charts: set[str] = field(default_factory=set)
    yaml_files: list[str] = field(default_factory=list)
    dirs: set[str] = field(default_factory=set)

    @classmethod
    def scan(cls, repo: Path) -> _Walk:
        out = cls()
        root = str(repo)
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
            rel = os.path.relpath(dirpath, root).replace(os.sep, "/")
            rel = "" if rel == "." else rel
            out.dirs.add(rel)
            names = set(filenames)
            for name in KUSTOMIZATION_NAMES:
                if name in names:
                    out.kustomization_files[rel] = f"{rel}/{name}" if rel else name
                    break
            if "Chart.yaml" in names:
                out.charts.add(rel)
            for name in sorted(filenames):
                if name.endswith(YAML_SUFFIXES):
                    out.yaml_files.append(f"{rel}/{name}" if rel else name)
        return out


class _Reader:
    """Reads kustomization files once each (diamonds share a base) and resolves their references."""

    def __init__(self, repo: Path, kustomization_files: set[str], dirs: set[str]) -> None:
        self.repo = repo
        self.kfiles = kustomization_files
        self.dirs = dirs
        self.parsed: dict[str, _Kustomization] = {}
        self.closures: dict[str, _Kustomization] = {}

    def kfile(self, d: str) -> str | None:
        for name in KUSTOMIZATION_NAMES:
            f = f"{d}/{name}" if d else name
            if f in self.kfiles:
                return f
        return None

    def kustomization(self, d: str, f: str) -> _Kustomization:
        """The kustomization file `f` of folder `d`, read once."""
        if d not in self.parsed:
            self.parsed[d] = self._read(d, f)
        return self.parsed[d]

    def _read(self, d: str, f: str) -> _Kustomization:
        node = _Kustomization(dir=d, file=f, files={f})
        try:
            data = yaml.load((self.repo / f).read_bytes(), Loader=_Loader)
        except yaml.YAMLError as exc:
            node.problems.append(yaml_problem(f, exc))
            return node
        except OSError as exc:
            node.problems.append(
                Finding("yaml", Severity.ERROR, f"cannot read: {exc.strerror}", Location(f), source="render")
            )
            return node
        if data is None:
            return node
        if not isinstance(data, dict):
            node.problems.append(
                Finding("yaml", Severity.ERROR, "a kustomization must be a mapping", Location(f, 1), source="render")
            )
            return node
        node.kind = str(data.get("kind") or "Kustomization")
        self._refs(node, data)
        return node

    def _refs(self, node: _Kustomization, data: dict[str, Any]) -> None:
        d = node.dir
        loc = Location(node.file)

        def entry(ref: Any, *, manifest: bool = False, patch: bool = False, may_be_dir: bool = False) -> None:
            if not isinstance(ref, str) or not ref.strip() or "\n" in ref:
                return  # inline content, not a path
            ref = ref.strip()
            if is_remote(ref):
                node.remote.append(Remote(ref, loc))
                return
            p = _join(d, ref)
            if p is None:
                return
            if may_be_dir and (p in self.dirs or not posixpath.splitext(p)[1]):
                node.subdirs.append(p)
                # Adding, removing or renaming the referenced kustomization changes the build.
                node.files.update(f"{p}/{n}" for n in KUSTOMIZATION_NAMES)
                return
            node.files.add(p)
            if manifest:
                node.manifests.append(p)
            if patch:
                node.patches.append(p)

        for key in ("resources", "bases", "components"):
            for ref in _list(data.get(key)):
                entry(ref, manifest=True, may_be_dir=True)
        for key in ("generators", "transformers", "validators"):
            for ref in _list(data.get(key)):
                entry(ref, may_be_dir=True)
        for ref in _list(data.get("patchesStrategicMerge")):
            entry(ref, patch=True)
        for key in ("patches", "patchesJson6902", "replacements"):
            for item in _list(data.get(key)):
                if isinstance(item, dict):
                    entry(item.get("path"), patch=key != "replacements")
        for key in ("crds", "configurations"):
            for ref in _list(data.get(key)):
                entry(ref)
        openapi = data.get("openapi")
        if isinstance(openapi, dict):
            entry(openapi.get("path"))
        for key in ("configMapGenerator", "secretGenerator"):
            for gen in _list(data.get(key)):
                if not isinstance(gen, dict):
                    continue
                for ref in _list(gen.get("files")):
                    if isinstance(ref, str):
                        entry(ref.split("=", 1)[1] if "=" in ref else ref)
                for ref in _list(gen.get("envs")) + [gen.get("env")]:
                    entry(ref)
        charts = _list(data.get("helmCharts"))
        if charts:
            node.needs_helm = True
            home = _join(d, str(_dict(data.get("helmGlobals")).get("chartHome") or "charts"))
            if home:
                node.dirs.add(home)
            for chart in charts:
                if not isinstance(chart, dict):
                    continue
                entry(chart.get("valuesFile"))
                for ref in _list(chart.get("additionalValuesFiles")):
                    entry(ref)
                if chart.get("repo"):
                    node.remote.append(Remote(f"{chart.get('repo')} {chart.get('name', '')}".strip(), loc))

    def closure(self, d: str) -> _Kustomization:
        """The kustomization at `d` with everything it pulls in, transitively; memoised for shared bases."""
        if d in self.closures:
            return self.closures[d]
        f = self.kfile(d)
        if f is None:
            # A referenced folder without a kustomization: kustomize fails; adding one would change it.
            node = _Kustomization(
                dir=d, file=f"{d}/kustomization.yaml", files={f"{d}/{n}" for n in KUSTOMIZATION_NAMES}
            )
            self.closures[d] = node
            return node
        own = self.kustomization(d, f)
        self.closures[d] = own  # a cycle stops here instead of recursing forever
        total = _Kustomization(
            dir=d,
            file=f,
            kind=own.kind,
            files=set(own.files),
            manifests=list(own.manifests),
            patches=[],
            dirs=set(own.dirs),
            remote=list(own.remote),
            problems=list(own.problems),
            needs_helm=own.needs_helm,
            subdirs=list(own.subdirs),
        )
        for sub in own.subdirs:
            child = self.closure(sub)
            total.files |= child.files
            total.dirs |= child.dirs
            total.manifests.extend(m for m in child.manifests if m not in total.manifests)
            total.patches.extend(p for p in child.patches if p not in total.patches)
            total.remote.extend(r for r in child.remote if r not in total.remote)
            total.problems.extend(p for p in child.problems if p not in total.problems)
            total.needs_helm |= child.needs_helm
        # Bases are patched before the overlay: the overlay's own patches come last (last writer wins).
        total.patches.extend(p for p in own.patches if p not in total.patches)
        self.closures[d] = total
        return total


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def yaml_problem(file: str, exc: yaml.YAMLError) -> Finding:
    """A YAML parse error as a finding at the file and line PyYAML names."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = " ".join(str(x) for x in (getattr(exc, "context", None), getattr(exc, "problem", None)) if x) or str(exc)
    return Finding("yaml", Severity.ERROR, f"YAML does not parse: {problem}", Location(file, line), source="render")


def _kustomize_target(node: _Kustomization, reader: _Reader) -> Target:
    total = reader.closure(node.dir)
    return Target(
        id=node.dir or ".",
        kind="kustomize",
        path=node.dir or ".",
        files=set(total.files),
        dirs=set(total.dirs),
        manifests=[m for m in total.manifests],
        patches=list(total.patches),
        remote=list(total.remote),
        problems=list(total.problems),
        needs_helm=total.needs_helm,
        origin=Location(node.file),
    )


def _chart_targets(charts: list[str], config: Config, walker: _Walk) -> list[Target]:
    """One target per chart and environment: from `.promoter.yaml` apps, else `values-<env>.yaml` beside the chart."""
    out: list[Target] = []
    configured: set[str] = set()
    for app in config.apps.values():
        if not app.chart:
            continue
        chart = posixpath.normpath(app.chart.strip("/"))
        configured.add(chart)
        for env in config.environments:
            loc = app.location(env.name, config.default_path)
            values = [posixpath.normpath(loc)] if loc and loc.endswith(YAML_SUFFIXES) else []
            out.append(_helm_target(f"{chart}@{env.name}", chart, values, env=env.name, release=app.name))
    for chart in charts:
        if chart in configured:
            continue
        out.append(_helm_target(chart, chart, [], release=posixpath.basename(chart) or "release"))
        for f in walker.yaml_files:
            if posixpath.dirname(f) == chart and (m := _VALUES_ENV.match(posixpath.basename(f))):
                name = m.group("env")
                out.append(_helm_target(f"{chart}@{name}", chart, [f], env=name, release=posixpath.basename(chart)))
    return out


@dataclass
class _Chart:
    """What a chart's Chart.yaml says about rendering it: library or not, and where its dependencies live."""

    library: bool = False
    local_dependencies: set[str] = field(default_factory=set)  # file:// dependencies: folders in the repo
    remote_dependencies: list[Remote] = field(default_factory=list)  # from a repository, not vendored in charts/

    @classmethod
    def read(cls, repo: Path, chart: str) -> _Chart:
        out = cls()
        file = f"{chart}/Chart.yaml"
        try:
            text = (repo / file).read_text(encoding="utf-8")
            data = _dict(yaml.load(text, Loader=_Loader))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            return out  # helm reports a broken Chart.yaml itself, with its own words
        out.library = data.get("type") == "library"
        vendored = (
            {p.name for p in (repo / chart / "charts").iterdir()} if (repo / chart / "charts").is_dir() else set()
        )
        for dep in _list(data.get("dependencies")):
            dep = _dict(dep)
            name, source = str(dep.get("name", "")), str(dep.get("repository", ""))
            if source.startswith("file://"):
                if (p := _join(chart, source.removeprefix("file://"))) is not None:
                    out.local_dependencies.add(p)
            elif name and not any(v == name or (v.startswith(f"{name}-") and v.endswith(".tgz")) for v in vendored):
                line = next((n for n, ln in enumerate(text.splitlines(), 1) if source and source in ln), None)
                ref = f"{name} {dep.get('version', '')} from {source or 'an unnamed repository'}".replace("  ", " ")
                out.remote_dependencies.append(Remote(ref, Location(file, line)))
        return out


def _helm_target(
    tid: str,
    chart: str,
    values: list[str],
    *,
    env: str | None = None,
    release: str | None = None,
    origin: Location | None = None,
) -> Target:
    return Target(
        id=tid,
        kind="helm",
        path=chart,
        env=env,
        files=set(values),
        dirs={chart},
        values=values,
        release=release,
        origin=origin or Location(f"{chart}/Chart.yaml"),
    )


def _declared_chart_deps(repo: Path, targets: list[Target], charts: set[str], chart_info: dict[str, _Chart]) -> None:
    """A HelmRelease or Application among a target's objects that renders an in-repository chart makes the
    chart folder and its values files dependencies of that target (render renders the chart inside it)."""
    if not charts:
        return  # nothing in the repository for them to point at: skip reading the files
    read: dict[str, list[Target]] = {}
    for t in targets:
        if t.kind == "helm":
            continue
        for f in sorted(t.files):
            if f not in read:
                read[f] = _declared_in(repo, f, charts)
            for chart in read[f]:
                t.dirs.add(chart.path)
                t.dirs |= chart_info.setdefault(chart.path, _Chart.read(repo, chart.path)).local_dependencies
                t.files.update(chart.values)


def _declared_in(repo: Path, file: str, charts: set[str]) -> list[Target]:
    try:
        raw = (repo / file).read_bytes()
    except OSError:
        return []
    if not file.endswith(YAML_SUFFIXES) or (b"HelmRelease" not in raw and b"Application" not in raw):
        return []
    found = (
        declared_chart(obj, charts, Location(file, line))
        for line, obj in _docs_with_lines(raw)
        if isinstance(obj, dict)
    )
    return [t for t in found if t is not None]


def declared_chart(obj: dict[str, Any], charts: set[str], where: Location) -> Target | None:
    """The in-repository chart a HelmRelease or Application renders, as a target; None when remote or not one."""
    kind, api = obj.get("kind"), str(obj.get("apiVersion", ""))
    meta, spec = _dict(obj.get("metadata")), _dict(obj.get("spec"))
    name = str(meta.get("name", ""))
    if kind == "HelmRelease" and api.startswith("helm.toolkit.fluxcd.io/"):
        cs = _dict(_dict(spec.get("chart")).get("spec"))
        src = _dict(cs.get("sourceRef"))
        chart = str(cs.get("chart", ""))
        if src.get("kind") not in ("GitRepository", "Bucket") or not chart:
            return None
        path = _join("", chart)
        if path is None or path not in charts:
            return None
        values = [v for v in (_join("", str(x)) for x in _list(spec.get("valuesFiles"))) if v]
        t = _helm_target(
            f"{where.file}#HelmRelease/{name}", path, values, release=str(spec.get("releaseName") or name), origin=where
        )
        t.inline_values = _dict(spec.get("values")) or None
        t.namespace = str(spec.get("targetNamespace") or meta.get("namespace") or "") or None
        return t
    if kind == "Application" and api.startswith("argoproj.io/"):
        sources = (
            [spec["source"]] if isinstance(spec.get("source"), dict) else [_dict(s) for s in _list(spec.get("sources"))]
        )
        for src in sources:
            path = _join("", str(src.get("path", ""))) if src.get("path") and not src.get("chart") else None
            if path is None or path not in charts:
                continue
            helm = _dict(src.get("helm"))
            values = [
                v
                for v in (_join(path, str(x)) for x in _list(helm.get("valueFiles")) if not str(x).startswith("$"))
                if v
            ]
            t = _helm_target(
                f"{where.file}#Application/{name}",
                path,
                values,
                release=str(helm.get("releaseName") or name),
                origin=where,
            )
            inline: Any = helm.get("valuesObject")
            if inline is None and isinstance(helm.get("values"), str):
                try:
                    inline = yaml.load(helm["values"], Loader=_Loader)
                except yaml.YAMLError:
                    inline = None
            t.inline_values = _dict(inline) or None
            t.namespace = str(_dict(spec.get("destination")).get("namespace") or "") or None
            return t
    return None


def _docs_with_lines(raw: bytes) -> list[tuple[int, Any]]:
    """(1-based line, object) of each document; a file that does not parse gives nothing here."""
    loader = _Loader(raw)
    out: list[tuple[int, Any]] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            out.append((node.start_mark.line + 1, loader.construct_document(node)))
    except yaml.YAMLError:
        return out
    finally:
        loader.dispose()
    return out


def _plain_targets(repo: Path, walker: _Walk, charts: list[str], claimed: set[str]) -> list[Target]:
    """Folders of manifests that no kustomization or chart uses: validated as they are."""
    by_dir: dict[str, list[str]] = {}
    skip_names = set(CONFIG_NAMES) | set(KUSTOMIZATION_NAMES)
    kdirs = set(walker.kustomization_files)
    for f in walker.yaml_files:
        d = posixpath.dirname(f)
        if f in claimed or d in kdirs or posixpath.basename(f) in skip_names:
            continue
        if any(f.startswith(c + "/") for c in charts):
            continue
        try:
            raw = (repo / f).read_bytes()
        except OSError:
            continue
        # A manifest has apiVersion and kind at the top level of a document; values files and CI
        # configs may mention them nested or in comments, never at column 0.
        if _TOP_API.search(raw) and _TOP_KIND.search(raw):
            by_dir.setdefault(d, []).append(f)
    return [
        Target(id=d or ".", kind="plain", path=d or ".", files=set(fs), manifests=sorted(fs), origin=Location(d or "."))
        for d, fs in sorted(by_dir.items())
    ]


def _assign_envs(targets: list[Target], config: Config) -> None:
    """An environment per target: configured app paths first, then a path segment named like an environment."""
    # Dict lookups, not a scan of every app path per target: 1,800 overlays must cost milliseconds.
    places: dict[str, str] = {}
    files: dict[str, str] = {}  # folder of a configured file (a values file) -> env
    for app in config.apps.values():
        for env in config.environments:
            loc = app.location(env.name, config.default_path)
            if loc:
                loc = posixpath.normpath(loc.strip("/"))
                places.setdefault(loc, env.name)
                if loc.endswith(YAML_SUFFIXES):
                    files.setdefault(posixpath.dirname(loc), env.name)
    names = [e.name for e in config.environments]
    for t in targets:
        if t.env:
            continue
        path = t.path
        while path and path != ".":  # the target's folder or one above it is an app's env folder
            if path in places:
                t.env = places[path]
                break
            path = posixpath.dirname(path)
        else:
            segments = t.path.split("/")
            t.env = files.get(t.path) or next((n for n in names if n in segments), None)


def matches_env(target: Target, env: str) -> bool:
    """`--env ENV`: the target's environment is ENV, or a folder on its path is named ENV."""
    return target.env == env or env in target.path.split("/") or env in target.id.split("/")
