"""Graph: the render targets of a GitOps repository and the files each one's output depends on."""

from __future__ import annotations

import os
import posixpath
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from promoter.config.model import CONFIG_NAMES, Config
from promoter.locate.bases import KUSTOMIZATION_NAMES
from promoter.model.finding import Finding, Location, Severity
from promoter.render.settings import RenderSettings
from promoter.yamlio.files import FileProblem, check_path, read_bytes, read_walked
from promoter.yamlio.manifests import decode

YAML_SUFFIXES = (".yaml", ".yml")
# Objects that render an in-repository chart (Flux HelmRelease, Argo CD Application): the renderer reads them further.
CHART_KINDS = frozenset(("HelmRelease", "Application"))
from promoter.yamlio.loader import DuplicateKey, StrictLoader  # noqa: E402
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
    # helm, declared by a HelmRelease or Application: what it adds to the values files, in Helm's order.
    values_from: list[dict[str, Any]] = field(default_factory=list)  # Flux valuesFrom (ConfigMap/Secret refs)
    values_namespace: str | None = None  # where Flux looks for valuesFrom objects
    set_values: list[tuple[str, str, bool]] = field(default_factory=list)  # Argo parameters: name, value, string
    file_values: list[tuple[str, str]] = field(default_factory=list)  # Argo fileParameters: name, repo path
    ignore_missing_values: bool = False  # Argo ignoreMissingValueFiles

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
    # Paths no target reads that cannot be read at all (a link leaving the repository, a FIFO): errors of their own.
    problems: list[Finding] = field(default_factory=list)
    # The bytes of manifest files discovery read to tell a manifest folder (path -> bytes): the renderer
    # parses them without reading the files a second time.
    read: dict[str, bytes] = field(default_factory=dict, repr=False)

    def problems_for(self, changed: Iterable[str] | None) -> list[Finding]:
        """The repository's own problems a check reports: all of them (changed None, `--all`), else those at or
        under a changed path."""
        if changed is None:
            return list(self.problems)
        paths = set(changed)
        return [
            f
            for f in self.problems
            if f.location is not None
            and any(
                f.location.file == p or f.location.file.startswith(p + "/") or p.startswith(f.location.file + "/")
                for p in paths
            )
        ]

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


def build_graph(repo: Path, config: Config | None = None, settings: RenderSettings | None = None) -> Graph:
    """Discover every target under `repo` and what each depends on (the working tree, not git)."""
    config = config or Config.empty()
    settings = settings or RenderSettings.from_config(config)
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
    read: dict[str, bytes] = {}
    targets.extend(_plain_targets(repo, walker, charts, claimed, settings, read))
    _declared_chart_deps(repo, targets, set(charts), charts_read)

    envs = _EnvIndex(config)
    for t in targets:
        t.env = t.env or envs.of(t.path)
    problems = _place_problems(walker, targets, settings)
    for f in problems:
        if f.location is not None and (env := envs.of(posixpath.dirname(f.location.file))):
            f.envs = [env]
    globals_ = [config.file] if config.file else list(CONFIG_NAMES)
    globals_ += [str(p).strip("/") for p in config.validation.get("schema_dirs", [])]
    globals_ += [str(p).strip("/") for p in config.policies.get("paths", [])]
    globals_ += [str(p).strip("/") for p in (config.raw.get("render") or {}).get("exclude") or [] if "*" not in str(p)]
    return Graph(repo=repo, targets=targets, global_paths=[g for g in globals_ if g], problems=problems, read=read)


def _place_problems(walker: _Walk, targets: list[Target], settings: RenderSettings) -> list[Finding]:
    """Each path that is not read goes to the targets that would read it (they are not rendered, or the
    file is reported among their manifests); a path no target reads is a problem of the repository."""
    unclaimed: list[Finding] = []
    for path, problem in sorted(walker.problems.items()):
        if settings.excluded(path):
            continue
        owners = [t for t in targets if t.depends_on(path)]
        for t in owners:
            t.problems.append(file_problem(problem))
        if not owners:
            unclaimed.append(file_problem(problem))
    return unclaimed


@dataclass
class _Walk:
    """One pass over the folder tree: kustomizations, charts, YAML files, and the paths that cannot be read.

    Symlinks are followed while they stay inside the repository (kustomize and Argo CD follow them);
    one that leaves it, loops or dangles, and a FIFO, socket or device among the YAML files, is a
    problem recorded with its path: never opened, never silently left out."""

    kustomization_files: dict[str, str] = field(default_factory=dict)  # dir -> its kustomization file
    charts: set[str] = field(default_factory=set)
    yaml_files: list[str] = field(default_factory=list)
    dirs: set[str] = field(default_factory=set)
    problems: dict[str, FileProblem] = field(default_factory=dict)  # repo-relative path -> why it is not read
    real_files: dict[str, str] = field(default_factory=dict)  # regular non-link file -> its real path

    @classmethod
    def scan(cls, repo: Path) -> _Walk:
        out = cls()
        root = os.path.realpath(repo)
        out._walk(repo, root, "", (root,))
        return out

    def _walk(self, repo: Path, real: str, rel: str, ancestors: tuple[str, ...]) -> None:
        self.dirs.add(rel)
        try:
            entries = sorted(os.scandir(real), key=lambda e: e.name)
        except OSError as exc:
            self.problems[rel or "."] = FileProblem("unreadable", rel or ".", f"cannot be listed: {exc.strerror}")
            return
        names: set[str] = set()
        subdirs: list[tuple[str, str, bool]] = []  # (name, path, whether it is reached through a link)
        for e in entries:
            path = f"{rel}/{e.name}" if rel else e.name
            try:
                link = e.is_symlink()
                is_dir = e.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if is_dir:
                if e.name not in _SKIP_DIRS and not e.name.startswith("."):
                    subdirs.append((e.name, os.path.join(real, e.name), False))
                continue
            if link:
                if e.name.startswith(".") or e.name in _SKIP_DIRS:
                    continue
                try:
                    target = check_path(repo, path, directory=True)
                except FileProblem as problem:
                    if problem.rule == "special-file":  # a link to a file: judged below like any file
                        pass
                    else:
                        if e.name.endswith(YAML_SUFFIXES) or not posixpath.splitext(e.name)[1]:
                            self.problems[path] = problem
                        continue
                except FileNotFoundError:
                    continue
                else:
                    subdirs.append((e.name, str(target), True))
                    continue
            if not e.name.endswith(YAML_SUFFIXES) and e.name not in KUSTOMIZATION_NAMES:
                continue
            try:
                regular = not link and e.is_file(follow_symlinks=False)
            except OSError:
                regular = False
            if not regular:
                try:
                    check_path(repo, path)
                except FileProblem as problem:
                    self.problems[path] = problem
                    continue
                except FileNotFoundError:
                    continue
            else:
                # A regular file, not a link, in a folder whose real path is known: read later without
                # resolving its path again (realpath of every file was half of discovery's time).
                self.real_files[path] = os.path.join(real, e.name)
            names.add(e.name)
        for name in KUSTOMIZATION_NAMES:
            if name in names:
                self.kustomization_files[rel] = f"{rel}/{name}" if rel else name
                break
        if "Chart.yaml" in names:
            self.charts.add(rel)
        for name in sorted(names):
            if name.endswith(YAML_SUFFIXES):
                self.yaml_files.append(f"{rel}/{name}" if rel else name)
        for name, sub_real, linked in subdirs:
            path = f"{rel}/{name}" if rel else name
            if linked:
                # A folder that is no link, in a folder whose real path is known, is its own real path:
                # only links are resolved (realpath of every folder was a third of discovery's time).
                sub_real = os.path.realpath(sub_real)
            if sub_real in ancestors:
                self.problems[path] = FileProblem(
                    "symlink-loop",
                    path,
                    "is a symlink to a folder that contains it: kustomize or a controller following it would "
                    "loop; fix or remove the link",
                )
                continue
            self._walk(repo, sub_real, path, (*ancestors, sub_real))


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
            data = yaml.load(read_bytes(self.repo, f), Loader=StrictLoader)
        except yaml.YAMLError as exc:
            node.problems.append(yaml_problem(f, exc))
            return node
        except FileProblem as problem:
            node.problems.append(file_problem(problem))
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

    def _outside(self, node: _Kustomization, ref: str) -> None:
        where = _line_in(self.repo, node.file, ref) or Location(node.file)
        node.problems.append(
            Finding(
                "outside-repository",
                Severity.ERROR,
                f"{node.file} refers to {ref}, outside the repository: promoter reads nothing outside the "
                "repository (a GitOps controller's clone has nothing there either)",
                where,
                source="render",
                help="move what it refers to into the repository, or refer to it as a remote base (a URL)",
                evidence={"ref": ref},
            )
        )

    def _check_file(self, node: _Kustomization, p: str) -> None:
        """A referenced file kustomize will open: a link leaving the repository or a FIFO is never rendered."""
        full = self.repo / p
        try:
            st = os.lstat(full)
        except OSError:
            return  # missing: kustomize says so, in its words
        if stat.S_ISREG(st.st_mode):
            return
        try:
            check_path(self.repo, p, directory=stat.S_ISDIR(st.st_mode))
        except FileProblem as problem:
            node.problems.append(file_problem(problem, _line_in(self.repo, node.file, posixpath.basename(p))))
        except FileNotFoundError:
            return

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
                self._outside(node, ref)
                return
            if may_be_dir and (p in self.dirs or not posixpath.splitext(p)[1]):
                node.subdirs.append(p)
                # Adding, removing or renaming the referenced kustomization changes the build.
                node.files.update(f"{p}/{n}" for n in KUSTOMIZATION_NAMES)
                return
            node.files.add(p)
            self._check_file(node, p)
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
    if isinstance(exc, DuplicateKey):
        return Finding(
            "duplicate-key",
            Severity.ERROR,
            f"duplicate key {exc.key!r} at line {line} (first set at line {exc.first_line})",
            Location(file, line),
            source="render",
            help="keep one of the keys: kustomize keeps the last value, promoter's edits would change the first",
        )
    problem = " ".join(str(x) for x in (getattr(exc, "context", None), getattr(exc, "problem", None)) if x) or str(exc)
    return Finding("yaml", Severity.ERROR, f"YAML does not parse: {problem}", Location(file, line), source="render")


def file_problem(problem: FileProblem, where: Location | None = None) -> Finding:
    """A path that is not read (a link leaving the repository or looping, a FIFO, a device) as an error finding."""
    return Finding(
        problem.rule,
        Severity.ERROR,
        f"{problem.path} {problem.message}",
        where or Location(problem.path),
        source="render",
        evidence={"path": problem.path},
    )


def _line_in(repo: Path, file: str, needle: str) -> Location | None:
    try:
        text = read_bytes(repo, file).decode("utf-8", "replace")
    except (OSError, FileProblem):
        return None
    for n, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return Location(file, n)
    return None


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
    """The in-repository chart a HelmRelease or Application renders, as a target with the values it
    declares; None when the chart is remote or `obj` is neither.

    Flux: the chart's values.yaml, then `spec.chart.spec.valuesFiles` (repository paths), then
    `valuesFrom` (ConfigMaps and Secrets, found among the rendered objects), then `spec.values`.
    Argo CD: `helm.valueFiles` (relative to the chart; `$ref/...` files of another source are not
    fetched), then `values` / `valuesObject`, then `parameters` (`--set`), then `fileParameters`."""
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
        listed = _list(cs.get("valuesFiles")) + ([cs["valuesFile"]] if cs.get("valuesFile") else [])
        listed += _list(spec.get("valuesFiles"))
        values = [v for v in (_join("", str(x)) for x in listed) if v]
        t = _helm_target(
            f"{where.file}#HelmRelease/{name}", path, values, release=str(spec.get("releaseName") or name), origin=where
        )
        t.values_from = [_dict(v) for v in _list(spec.get("valuesFrom"))]
        t.inline_values = _dict(spec.get("values")) or None
        t.namespace = str(spec.get("targetNamespace") or meta.get("namespace") or "") or None
        t.values_namespace = str(meta.get("namespace") or "") or None
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
            files: list[str] = []
            remote: list[Remote] = []
            for x in _list(helm.get("valueFiles")):
                ref = str(x)
                if ref.startswith("$") or is_remote(ref):
                    remote.append(Remote(f"values file {ref} (from another source of the Application)", where))
                elif (v := _join(path, ref)) is not None:
                    files.append(v)
            t = _helm_target(
                f"{where.file}#Application/{name}",
                path,
                files,
                release=str(helm.get("releaseName") or name),
                origin=where,
            )
            t.remote.extend(remote)
            t.ignore_missing_values = bool(helm.get("ignoreMissingValueFiles"))
            inline: Any = helm.get("valuesObject")
            if inline is None and isinstance(helm.get("values"), str):
                try:
                    inline = yaml.load(helm["values"], Loader=StrictLoader)
                except yaml.YAMLError as exc:
                    t.problems.append(
                        Finding(
                            "yaml",
                            Severity.ERROR,
                            f"Application {name}: spec.source.helm.values does not parse as YAML: {exc}".split("\n")[0],
                            where,
                            source="render",
                        )
                    )
            t.inline_values = _dict(inline) or None
            t.set_values = [
                (str(p.get("name")), "" if p.get("value") is None else str(p.get("value")), bool(p.get("forceString")))
                for p in map(_dict, _list(helm.get("parameters")))
                if p.get("name")
            ]
            t.file_values = [
                (str(p.get("name")), v)
                for p in map(_dict, _list(helm.get("fileParameters")))
                if p.get("name") and (v := _join(path, str(p.get("path", "")))) is not None
            ]
            t.files.update(f for _, f in t.file_values)
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


_BOM = b"\xef\xbb\xbf"


def _is_manifest(repo: Path, file: str, read: dict[str, bytes] | None = None, real: str | None = None) -> bool:
    """A top-level apiVersion and kind in some document (values files and CI configs have neither at column 0).
    The bytes read are kept in `read` for the renderer. `real`: the file's real path, as the walk found it."""
    raw = read_walked(real) if real is not None else None
    if raw is None:
        try:
            raw = read_bytes(repo, file)
        except (OSError, FileProblem):
            return False
    if read is not None:
        read[file] = raw
    if raw.startswith((_BOM, b"\xff\xfe", b"\xfe\xff")):
        try:
            raw = decode(raw).encode("utf-8")
        except (UnicodeDecodeError, ValueError):
            return False
    return bool(_TOP_API.search(raw) and _TOP_KIND.search(raw))


def _plain_targets(
    repo: Path,
    walker: _Walk,
    charts: list[str],
    claimed: set[str],
    settings: RenderSettings,
    read: dict[str, bytes] | None = None,
) -> list[Target]:
    """Folders of manifests that no kustomization or chart uses: validated as they are.

    A folder is a manifest folder when one of its YAML files holds a Kubernetes object; then every
    YAML file in it is read as manifests, as `kubectl apply -f DIR` and kubeconform read it: a file
    that is not a Kubernetes object there is an error, not skipped. Dotfiles (`.gitlab-ci.yml`) and
    `render.exclude` patterns are not manifests."""
    by_dir: dict[str, list[str]] = {}
    skip_names = set(CONFIG_NAMES) | set(KUSTOMIZATION_NAMES)
    kdirs = set(walker.kustomization_files)
    for f in walker.yaml_files:
        d, name = posixpath.dirname(f), posixpath.basename(f)
        if f in claimed or d in kdirs or name in skip_names or name.startswith(".") or settings.excluded(f):
            continue
        if any(f.startswith(c + "/") for c in charts):
            continue
        by_dir.setdefault(d, []).append(f)
    return [
        Target(id=d or ".", kind="plain", path=d or ".", files=set(fs), manifests=sorted(fs), origin=Location(d or "."))
        for d, fs in sorted(by_dir.items())
        if any(_is_manifest(repo, f, read, walker.real_files.get(f)) for f in fs)
    ]


class _EnvIndex:
    """An environment per path: configured app paths first, then a path segment named like an environment."""

    def __init__(self, config: Config) -> None:
        # Dict lookups, not a scan of every app path per target: 1,800 overlays must cost milliseconds.
        self.places: dict[str, str] = {}
        self.files: dict[str, str] = {}  # folder of a configured file (a values file) -> env
        for app in config.apps.values():
            for env in config.environments:
                loc = app.location(env.name, config.default_path)
                if loc:
                    loc = posixpath.normpath(loc.strip("/"))
                    self.places.setdefault(loc, env.name)
                    if loc.endswith(YAML_SUFFIXES):
                        self.files.setdefault(posixpath.dirname(loc), env.name)
        self.names = [e.name for e in config.environments]

    def of(self, path: str) -> str | None:
        p = path
        while p and p != ".":  # the folder or one above it is an app's env folder
            if p in self.places:
                return self.places[p]
            p = posixpath.dirname(p)
        segments = path.split("/")
        return self.files.get(path) or next((n for n in self.names if n in segments), None)


def matches_env(target: Target, env: str) -> bool:
    """`--env ENV`: the target's environment is ENV, or a folder on its path is named ENV."""
    return target.env == env or env in target.path.split("/") or env in target.id.split("/")
