"""Init: read a repository nobody configured and propose its `.promoter.yaml`, with the pins it lacks.

What it reads: every image reference (locate's styles), the folders and files whose names say
an environment (`overlays/dev`, `envs/prod-eu`, `values-staging.yaml`), what each Kustomize
overlay is built from (its shared bases), and which chart an environment's values file layers
over. From that it proposes environments in promotion order and one app per image and layout,
explains every guess, and, where an environment's image is pinned only in a file every
environment shares, the lines that pin it in the environment's own file. It then checks the
proposal the way a bump would read it. Nothing is written without `write=True`.
"""

from __future__ import annotations

import posixpath
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from promoter.config.loader import find_config, load_config
from promoter.config.model import CONFIG_NAMES
from promoter.config.writer import AppEntry, EnvEntry, render_config
from promoter.edit.pinning import append_to_sequence, insert_mapping, scalar
from promoter.edit.plan import plan_bump
from promoter.locate.bases import KUSTOMIZATION_NAMES, overlay_files
from promoter.locate.chartvalues import parse_values
from promoter.locate.environments import EnvName, EnvPlace, env_of_path, promotion_order
from promoter.locate.paths import rel_to
from promoter.locate.scan import extract, scan
from promoter.model.changeset import ChangeSet, FileChange, atomic_write
from promoter.model.commandline import command, workspace_options
from promoter.model.errors import UsageError
from promoter.model.image import ImageRef
from promoter.model.reference import Reference
from promoter.yamlio.document import YamlDoc

# Styles a Kustomize `images:` entry in an overlay reaches (container images in workloads).
_KUSTOMIZE_REACHES = {"container", "kustomize-images"}
_MAX_LISTED = 3


@dataclass
class Place:
    """Where one image lives for one environment, as the repository's layout says."""

    env: EnvName
    location: str  # the environment's folder, or its values file
    layout: str  # `location` with the environment's name as `{env}`
    refs: list[Reference] = field(default_factory=list)  # pinned inside `location`
    shared: list[Reference] = field(default_factory=list)  # pinned in files other environments read too
    overlay: str | None = None  # the Kustomize overlay folder building this environment
    chart: str | None = None  # the chart a values file layers over

    @property
    def pinned_here(self) -> bool:
        return bool(self.refs)


@dataclass
class App:
    name: str
    image: str
    repository: str
    places: dict[str, Place]  # environment name (as configured) → place
    chart: str | None = None
    path: str | None = None
    paths: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class Fix:
    """Lines that pin an app's image in one environment's own file."""

    file: str
    app: str
    env: str
    what: str


@dataclass
class BumpCheck:
    app: str
    env: str
    ok: bool
    message: str


@dataclass
class InitResult:
    """The proposal: config text, the environments and apps behind it, the fixes, and what was checked."""

    repo: Path
    config_path: Path
    config_text: str
    environments: list[str]
    apps: list[App]
    fixes: list[Fix]
    files: dict[str, FileChange]  # fixes by file: old and new text
    explanations: list[str]
    problems: list[str]
    checks: list[BumpCheck]
    existing: bool
    scanned: int
    references: int
    unplaced: dict[str, list[str]] = field(default_factory=dict)  # image → where it is pinned outside every environment
    written: bool = False

    @property
    def config_rel(self) -> str:
        try:
            return rel_to(self.repo, self.config_path)
        except ValueError:
            return str(self.config_path)

    def changeset(self) -> ChangeSet:
        cs = ChangeSet()
        cs.files = dict(self.files)
        return cs

    def diff(self) -> str:
        cfg = (
            FileChange(self.config_rel, "", self.config_text)
            .diff()
            .replace(f"--- a/{self.config_rel}", "--- /dev/null", 1)
        )
        return cfg + self.changeset().diff()

    def to_dict(self) -> dict[str, Any]:
        return {
            "config_file": self.config_rel,
            "config": self.config_text,
            "existing": self.existing,
            "written": self.written,
            "environments": self.environments,
            "apps": [
                {
                    "name": a.name,
                    "image": a.image,
                    "chart": a.chart,
                    "path": a.path,
                    "paths": a.paths,
                    "environments": {
                        env: {
                            "location": p.location,
                            "pinned_in": sorted({r.file for r in p.refs}),
                            "shared_pins": sorted({f"{r.file}:{r.line}" for r in p.shared}),
                        }
                        for env, p in a.places.items()
                    },
                    "notes": a.notes,
                }
                for a in self.apps
            ],
            "fixes": [{"file": f.file, "app": f.app, "env": f.env, "what": f.what} for f in self.fixes],
            "checks": [{"app": c.app, "env": c.env, "ok": c.ok, "message": c.message} for c in self.checks],
            "explanations": self.explanations,
            "problems": self.problems,
            "unplaced": self.unplaced,
            "diff": self.diff(),
            "scanned": self.scanned,
            "references": self.references,
        }


def init(repo: Path, config_file: Path | None = None, *, write: bool = False) -> InitResult:
    """Propose a configuration for `repo` (and the pins its environments lack); write them with `write`."""
    if not repo.is_dir():
        raise UsageError(f"--repo {repo} is not a folder")
    root = repo.resolve()
    target = config_file if config_file is not None else (find_config(repo) or repo / CONFIG_NAMES[0])
    result = _propose(repo, root, target)
    if not result.apps:
        how = "name environments by folder (overlays/dev, envs/prod) or values file (values-prod.yaml)"
        raise UsageError(
            f"{repo}: found no image pinned for an environment promoter recognises ({result.references} image "
            f"reference(s) in {result.scanned} YAML file(s)); {how}, or write .promoter.yaml by hand (README.md)"
        )
    if write:
        if result.existing:
            raise UsageError(
                f"{result.config_rel} exists: init never overwrites it; move it away, or write the proposal elsewhere "
                f"with {command(['init'], [*workspace_options(repo), ('--config', 'promoter-proposal.yaml'), ('--write', None)])}"
            )
        from promoter.model.lock import repository_lock

        # Like a bump, init writes the working tree under the repository's lock.
        with repository_lock(repo, what="init --write"):
            path = target if target.is_absolute() else Path.cwd() / target
            if path.exists():  # written by someone else since the proposal was made: still never overwritten
                raise UsageError(f"{result.config_rel} appeared while init was proposing it: nothing written")
            result.changeset().write(repo)
            atomic_write(path, result.config_text, shown=result.config_rel)
        result.written = True
    return result


# ---- reading the repository -------------------------------------------------------------------------
@dataclass
class _Repo:
    root: Path
    refs: list[Reference]
    by_file: dict[str, list[Reference]]
    files: list[str]
    charts: list[str]
    problems: list[str]


def _read(repo: Path) -> _Repo:
    found = scan(repo, [repo], keep_going=True)
    config_names = set(CONFIG_NAMES)
    refs = [r for r in found.references if r.file not in config_names]
    by_file: dict[str, list[Reference]] = {}
    for r in refs:
        by_file.setdefault(r.file, []).append(r)
    charts = sorted(posixpath.dirname(f) or "." for f in found.scanned if posixpath.basename(f) == "Chart.yaml")
    problems = [f"not read: {e} (left out of the proposal; fix the file and run init again)" for e in found.errors]
    return _Repo(repo, refs, by_file, found.scanned, charts, problems)


def _layout(place: EnvPlace) -> str:
    """The place's path with its environment's name as `{env}`."""
    parts = list(PurePosixPath(place.location).parts)
    if place.by_file:
        name = parts[-1]
        i = name.rfind(place.env.name)
        parts[-1] = name[:i] + "{env}" + name[i + len(place.env.name) :]
    else:
        parts[-1] = "{env}"
    return "/".join(parts)


def _nearest_chart(file: str, charts: list[str]) -> str | None:
    """The chart an environment values file layers over: its own folder's, else the one chart sharing the
    longest folder prefix with it (`apps/web/env/values-dev.yaml` → `apps/web/chart`)."""
    folder = posixpath.dirname(file)
    if folder in charts:
        return folder
    best: list[str] = []
    best_len = 0
    for c in charts:
        common = posixpath.commonpath([folder, c]) if folder and c != "." else ""
        n = len(PurePosixPath(common).parts) if common else 0
        if n > best_len:
            best, best_len = [c], n
        elif n == best_len and n > 0:
            best.append(c)
    return best[0] if len(best) == 1 else None


def _places(r: _Repo) -> tuple[dict[tuple[str, str, str], Place], list[Reference]]:
    """(repository, layout, environment) → its place; and the references no environment claims."""
    places: dict[tuple[str, str, str], Place] = {}
    claimed: set[int] = set()

    def place_for(repository: str, ep: EnvPlace) -> Place:
        key = (repository, _layout(ep), ep.env.name)
        if key not in places:
            places[key] = Place(env=ep.env, location=ep.location, layout=_layout(ep))
        return places[key]

    # Environment values files layer over a chart's values.yaml: read them with it, so a file that
    # sets only `image.tag` is known to pin the chart's image.
    values_env: dict[str, tuple[EnvPlace, str]] = {}
    for f in r.files:
        ep = env_of_path(f)
        name = posixpath.basename(f)
        if ep is None or not (name.startswith("values") or name.endswith(("values.yaml", "values.yml"))):
            continue
        chart = _nearest_chart(f, r.charts)
        if chart is None:
            continue
        values_env[f] = (ep, chart)
        defaults = _chart_defaults(r.root, chart)
        if defaults is not None:
            try:
                doc = YamlDoc.load(r.root / f, f)
            except UsageError:
                continue
            r.by_file[f] = extract(doc, defaults)
    r.refs = [ref for refs in r.by_file.values() for ref in refs]

    for f, refs in r.by_file.items():
        ep = values_env[f][0] if f in values_env else env_of_path(f)
        if ep is None:
            continue
        for ref in refs:
            if ref.repository is None:
                continue
            p = place_for(ref.repository, ep)
            p.refs.append(ref)
            if f in values_env:
                p.chart = values_env[f][1]
            claimed.add(id(ref))

    # Overlays: what each environment's kustomization builds from outside its own folder is shared.
    for f in r.files:
        if posixpath.basename(f) not in KUSTOMIZATION_NAMES:
            continue
        ep = env_of_path(f)
        if ep is None or ep.by_file:
            continue
        overlay = posixpath.dirname(f)
        for source in overlay_files(r.root, overlay):
            inside = source == ep.location or source.startswith(ep.location + "/")
            for ref in r.by_file.get(source, []):
                if ref.repository is None:
                    continue
                p = place_for(ref.repository, ep)
                p.overlay = p.overlay or overlay
                if not inside and ref not in p.shared:
                    p.shared.append(ref)
                    claimed.add(id(ref))

    # A chart's values.yaml is shared by the environment values files layered over it.
    for ep, chart in values_env.values():
        for ref in r.by_file.get(f"{chart}/values.yaml" if chart != "." else "values.yaml", []):
            if ref.repository is None:
                continue
            p = place_for(ref.repository, ep)
            p.chart = chart
            if ref not in p.shared:
                p.shared.append(ref)
            claimed.add(id(ref))
    unclaimed = [ref for ref in r.refs if id(ref) not in claimed and ref.repository is not None]
    return places, unclaimed


def _chart_defaults(root: Path, chart: str) -> Any:
    rel = f"{chart}/values.yaml" if chart != "." else "values.yaml"
    text = _text(root, rel)
    if text is None:
        return None
    try:
        return parse_values(text, rel)
    except UsageError:
        return None


def _text(root: Path, rel: str) -> str | None:
    """A repository file's text through the bounded reader (regular files only, size-capped); None if unreadable."""
    from promoter.yamlio.files import read_regular

    try:
        return read_regular(root / rel, rel).decode("utf-8")
    except (OSError, UnicodeDecodeError, UsageError):
        return None


# ---- from places to a proposal ---------------------------------------------------------------------
def _env_names(places: dict[tuple[str, str, str], Place]) -> dict[str, str]:
    """Spelling (as the path writes it) → the environment's configured name: one name per environment
    (`production` and `prod` in one repository are one environment), the spelling of the layouts that
    hold the most environments, so that most apps keep one path template."""
    size = Counter((repository, layout) for repository, layout, _ in places)
    by_key: dict[str, Counter[str]] = {}
    for (repository, layout, _), p in places.items():
        by_key.setdefault(p.env.key, Counter())[p.env.name] += size[(repository, layout)]
    out: dict[str, str] = {}
    for counts in by_key.values():
        chosen = sorted(counts.items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0]))[0][0]
        for spelling in counts:
            out[spelling] = _config_name(chosen)
    return out


def _config_name(spelling: str) -> str:
    """A folder name as an environment name the config accepts (lowercase letters, digits, `._-`)."""
    low = "".join(c if c.isalnum() or c in "._-" else "-" for c in spelling.lower()).strip("._-")
    return low or "env"


def _slug(text: str) -> str:
    return _config_name(text.replace("_", "-"))


def _app_name(repository: str, layout: str, taken: set[str]) -> str:
    base = _slug(repository.rsplit("/", 1)[-1])
    if base not in taken:
        return base
    for part in PurePosixPath(layout).parts:
        candidate = _slug(f"{base}-{part}")
        if "{" not in part and candidate not in taken:
            return candidate
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _written(refs: list[Reference], repository: str) -> str:
    counts = Counter(r.written for r in refs if r.written)
    if not counts:
        return repository
    name = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
    return ImageRef.parse(name).name


def _where(refs: list[Reference]) -> str:
    shown = ", ".join(f"{r.file}:{r.line}" for r in refs[:_MAX_LISTED])
    more = len(refs) - _MAX_LISTED
    return shown + (f" and {more} more" if more > 0 else "")


def _propose(repo: Path, root: Path, target: Path) -> InitResult:
    r = _read(repo)
    places, unclaimed = _places(r)
    names = _env_names(places)
    envs = promotion_order(list({names[p.env.name]: p.env for p in places.values()}.values()))
    env_order = [names[e.name] for e in envs]
    env_order = list(dict.fromkeys(env_order))

    # One app per image and layout: the same image deployed two ways (overlays and a chart) is two apps.
    units: dict[tuple[str, str], dict[str, Place]] = {}
    for (repository, layout, spelling), p in places.items():
        env = names[spelling]
        unit = units.setdefault((repository, layout), {})
        if env not in unit:
            unit[env] = p
    apps: list[App] = []
    taken: set[str] = set()
    for (repository, layout), by_env in sorted(units.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        name = _app_name(repository, layout, taken)
        taken.add(name)
        every = [ref for p in by_env.values() for ref in (*p.refs, *p.shared)]
        ordered = {e: by_env[e] for e in env_order if e in by_env}
        app = App(name=name, image=_written(every, repository), repository=repository, places=ordered)
        charts = {p.chart for p in ordered.values() if p.chart}
        app.chart = charts.pop() if len(charts) == 1 else None
        _paths(app)
        apps.append(app)
    apps.sort(key=lambda a: a.name)
    default_path = _default_path(apps)

    explanations = _explain_envs(envs, names, places)
    fixes, files, problems = _fixes(root, apps)
    problems = r.problems + problems
    loose = _group(unclaimed)
    if loose:
        shown = ", ".join(f"{name} ({_where(refs[:1])})" for name, refs in list(loose.items())[:_MAX_LISTED])
        more = f" and {len(loose) - _MAX_LISTED} more" if len(loose) > _MAX_LISTED else ""
        explanations.append(
            f"not apps: {len(loose)} image(s) pinned in no folder or file named for an environment: {shown}{more} "
            "(to bump one, add it under apps: with paths: per environment; `--output json` lists them all)"
        )
    for a in apps:
        explanations.append(_explain_app(a))

    env_entries = [EnvEntry(e, _env_comment(e, apps)) for e in env_order]
    app_entries = [
        AppEntry(
            a.name,
            a.image,
            path=None if default_path and a.path == default_path else a.path,
            paths=a.paths,
            chart=a.chart,
            comment=_app_comment(a),
        )
        for a in apps
    ]
    header = [
        f"Proposed by `promoter init` from the layout of {repo}: read it, keep what is right.",
        "Every key: README.md (Configuration) and promoter/config/promoter-config.schema.json.",
    ]
    text = render_config(env_entries, app_entries, default_path=default_path, header=header)
    existing = target.exists()
    checks = _check(repo, root, text, apps, files) if apps else []
    return InitResult(
        repo=repo,
        config_path=target,
        config_text=text,
        environments=env_order,
        apps=apps,
        fixes=fixes,
        files=files,
        explanations=explanations,
        problems=problems,
        checks=checks,
        existing=existing,
        scanned=len(r.files),
        references=len(r.refs),
        unplaced={name: [f"{x.file}:{x.line}" for x in refs] for name, refs in loose.items()},
    )


def _group(refs: list[Reference]) -> dict[str, list[Reference]]:
    out: dict[str, list[Reference]] = {}
    for ref in refs:
        assert ref.repository is not None
        out.setdefault(ref.repository, []).append(ref)
    return dict(sorted(out.items()))


def _paths(app: App) -> None:
    """`path:` when one template names every environment's place, else `paths:` per environment."""
    templates = set()
    for env, p in app.places.items():
        templates.add(p.layout if p.env.name == env else None)
    if len(templates) == 1 and None not in templates:
        template = templates.pop()
        assert template is not None
        parts = ["{app}" if part == app.name else part for part in PurePosixPath(template).parts]
        app.path = "/".join(parts)
    else:
        app.paths = {env: p.location for env, p in app.places.items()}


def _default_path(apps: list[App]) -> str | None:
    """The template every app shares (with `{app}`), so it is written once."""
    paths = {a.path for a in apps}
    if len(apps) > 1 and len(paths) == 1 and None not in paths:
        only = paths.pop()
        return only if only and "{app}" in only else None
    return None


def _explain_envs(envs: list[EnvName], names: dict[str, str], places: dict[tuple[str, str, str], Place]) -> list[str]:
    out = []
    for e in envs:
        where = sorted({p.location for p in places.values() if names[p.env.name] == names[e.name]})
        spellings = sorted({p.env.name for p in places.values() if names[p.env.name] == names[e.name]})
        also = f" (spelled {', '.join(spellings)})" if len(spellings) > 1 else ""
        out.append(f"environment {names[e.name]}{also}: a {e.stage} environment, by the name of {_list(where)}")
    if out:
        out.append("promotion order: by kind, dev, test, qa, stage, prod (by name among environments of one kind)")
    return out


def _list(items: list[str]) -> str:
    return ", ".join(items[:_MAX_LISTED]) + (
        f" and {len(items) - _MAX_LISTED} more" if len(items) > _MAX_LISTED else ""
    )


def _env_comment(env: str, apps: list[App]) -> list[str]:
    where = sorted({a.places[env].location for a in apps if env in a.places})
    return [f"{env}: {_list(where)}"]


def _explain_app(a: App) -> str:
    kinds = []
    for env, p in a.places.items():
        if p.pinned_here:
            kinds.append(f"{env} pins it in {_where(p.refs)}")
        else:
            kinds.append(f"{env} reads it only from {_where(p.shared)}, shared with other environments")
    where = f"path {a.path}" if a.path else "paths per environment"
    chart = f", chart {a.chart}" if a.chart else ""
    return f"app {a.name}: image {a.image}, {where}{chart}: " + "; ".join(kinds)


def _app_comment(a: App) -> list[str]:
    out = [f"{a.image}: " + ", ".join(f"{env} in {p.location}" for env, p in a.places.items())]
    shared = [env for env, p in a.places.items() if not p.pinned_here]
    if shared:
        out.append(f"pinned only in shared files for {', '.join(shared)}: see the pins init adds (or explains)")
    if a.repository.startswith("docker.io/library/"):
        out.append("an official Docker Hub image: remove this app if you do not build it yourself")
    return out


# ---- the pins an environment lacks ------------------------------------------------------------------
def _fixes(root: Path, apps: list[App]) -> tuple[list[Fix], dict[str, FileChange], list[str]]:
    """For each environment whose image is pinned only in shared files: the lines that pin it in the
    environment's own file, or, where that cannot be done safely, what to do by hand."""
    fixes: list[Fix] = []
    files: dict[str, FileChange] = {}
    problems: list[str] = []

    def current(rel: str) -> str | None:
        return files[rel].new_text if rel in files else _text(root, rel)

    for a in apps:
        for env, p in a.places.items():
            if p.pinned_here or not p.shared:
                continue
            versions = {(ref.tag, ref.digest) for ref in p.shared}
            if len(versions) != 1:
                shown = ", ".join(sorted(f"{t or ''}{'@' + d[:19] if d else ''}" for t, d in versions))
                problems.append(
                    f"{a.name} in {env}: the shared files pin {len(versions)} versions ({shown}) at {_where(p.shared)}; "
                    f"one pin in {p.location} would set them all to one: pin each version in {env}'s own files by hand"
                )
                continue
            tag, digest = versions.pop()
            if not tag and not digest:
                problems.append(
                    f"{a.name} in {env}: {_where(p.shared)} pins neither tag nor digest: nothing to carry over"
                )
                continue
            fix = _fix(a, env, p, tag, digest, current)
            if isinstance(fix, str):
                problems.append(f"{a.name} in {env}: {fix}")
                continue
            rel, new, what = fix
            old = files[rel].old_text if rel in files else current(rel)
            assert old is not None
            files[rel] = FileChange(rel, old, new)
            fixes.append(Fix(rel, a.name, env, what))
    return fixes, files, problems


def _fix(a: App, env: str, p: Place, tag: str | None, digest: str | None, read: Any) -> tuple[str, str, str] | str:
    """(file, new text, what) pinning the app in `p`'s own file, or why that is not done automatically."""
    styles = {ref.style for ref in p.shared}
    name = p.shared[0].written or a.image
    if p.overlay is not None and styles <= _KUSTOMIZE_REACHES:
        kfile = next((f"{p.overlay}/{n}" for n in KUSTOMIZATION_NAMES if read(f"{p.overlay}/{n}") is not None), None)
        if kfile is None:
            return f"no kustomization file in {p.overlay}"
        text = read(kfile)
        item = [("name", scalar(name))]
        if tag:
            item.append(("newTag", scalar(tag, quote=True)))
        if digest:
            item.append(("digest", scalar(digest)))
        new = append_to_sequence(text, "images", item) if text is not None else None
        if new is None or not _pins(new, kfile, a.repository, None):
            return (
                f"{kfile} cannot take an images: entry automatically (its images: is not a block list); add "
                f'`- name: {name}` with `newTag: "{tag}"` to its images: by hand'
            )
        return kfile, new, f"images: entry for {name} ({tag or digest}) in {p.overlay}, as the shared base pins it"
    if p.overlay is not None and styles == {"flux-helmrelease"}:
        return _helmrelease_fix(a, p, tag, digest, read)
    if p.chart is not None and p.location.endswith((".yaml", ".yml")) and styles == {"helm-values"}:
        return _values_fix(a, p, tag, digest, read)
    kinds = ", ".join(sorted(styles))
    return (
        f"pinned only in {_where(p.shared)} ({kinds}), which every environment reads; pin it in {p.location} "
        f"and give an explicit target (apps.{a.name}.targets.{env}: [{{file: …, key: …}}])"
    )


def _pins(text: str, rel: str, repository: str, defaults: Any) -> bool:
    """Whether `text` (of `rel`) now pins `repository`, as a bump will read it."""
    try:
        refs = extract(YamlDoc.from_text(text, rel), defaults)
    except UsageError:
        return False
    return any(r.repository == repository for r in refs)


def _helmrelease_fix(a: App, p: Place, tag: str | None, digest: str | None, read: Any) -> tuple[str, str, str] | str:
    """The tag (with its repository) under the HelmRelease patch the overlay already has."""
    ref = p.shared[0]
    block = [str(x) for x in ref.path_parts]
    if ref.kind != "block" or not block or block[:2] != ["spec", "values"] or not tag:
        return (
            f"pinned only in the shared HelmRelease {_where(p.shared)}; kustomize's images: does not reach "
            f"HelmRelease values: patch {'.'.join(block) or 'spec.values'} in {p.location}"
        )
    overlay = p.overlay
    assert overlay is not None
    for rel in _overlay_patches(read, overlay):
        text = read(rel)
        if text is None or "HelmRelease" not in text:
            continue
        leaves = [("repository", scalar(ref.written or a.image)), ("tag", scalar(tag, quote=True))]
        if digest and "digest" in ref.slots:
            leaves.append(("digest", scalar(digest)))
        new = insert_mapping(text, block, leaves)
        if new is not None and new != text and _pins(new, rel, a.repository, None):
            return rel, new, f"{'.'.join(block)} ({tag}) in the HelmRelease patch {rel}, as the shared base pins it"
    return (
        f"pinned only in the shared HelmRelease {_where(p.shared)}, and {overlay} has no HelmRelease patch to add "
        f"{'.'.join(block)}.tag to: add one (a patch of the HelmRelease's spec.values) and run init again"
    )


def _overlay_patches(read: Any, overlay: str) -> list[str]:
    from promoter.yamlio.loader import load

    for name in KUSTOMIZATION_NAMES:
        text = read(f"{overlay}/{name}")
        if text is None:
            continue
        try:
            data = load(text)
        except Exception:  # noqa: BLE001 - an overlay that does not parse has no patch to add to
            return []
        out = []
        if isinstance(data, dict):
            for item in data.get("patches") or []:
                if isinstance(item, dict) and isinstance(item.get("path"), str):
                    out.append(posixpath.normpath(f"{overlay}/{item['path']}"))
            for item in data.get("patchesStrategicMerge") or []:
                if isinstance(item, str) and "\n" not in item:
                    out.append(posixpath.normpath(f"{overlay}/{item}"))
        return out
    return []


def _values_fix(a: App, p: Place, tag: str | None, digest: str | None, read: Any) -> tuple[str, str, str] | str:
    """The tag under the chart's image key in the environment's values file."""
    ref = p.shared[0]
    rel = p.location
    text = read(rel)
    if text is None:
        return f"{rel} cannot be read"
    path = [str(x) for x in ref.path_parts]
    if not tag or not path:
        return f"pin {'.'.join(path) or 'the image'} in {rel} by hand"
    if ref.kind == "block":
        leaves = [("tag", scalar(tag, quote=True))]
        if digest and ("digest" in ref.slots or "sha" in ref.slots):
            leaves.append(("digest" if "digest" in ref.slots else "sha", scalar(digest)))
        new = insert_mapping(text, path, leaves)
    else:  # `image: repo:tag` as one string
        image = str(ImageRef.parse(ref.written or a.image).with_(tag=tag, digest=digest))
        new = insert_mapping(text, path[:-1], [(path[-1], scalar(image))])
    defaults = _chart_defaults_text(read, a.chart or p.chart or "")
    if new is None or new == text or not _pins(new, rel, a.repository, defaults):
        return f"{rel} cannot take {'.'.join(path)} automatically: set it there by hand"
    return rel, new, f"{'.'.join(path)} ({tag}) in {rel}, as the chart's values.yaml pins it"


def _chart_defaults_text(read: Any, chart: str) -> Any:
    rel = f"{chart}/values.yaml" if chart not in ("", ".") else "values.yaml"
    text = read(rel)
    if text is None:
        return None
    try:
        return parse_values(text, rel)
    except UsageError:
        return None


# ---- checking the proposal as a bump reads it ------------------------------------------------------
def _check(repo: Path, root: Path, text: str, apps: list[App], files: dict[str, FileChange]) -> list[BumpCheck]:
    """Load the proposed config and plan a bump of each app in each environment to what it runs now,
    reading the files as the fixes leave them: every one must find its image."""
    with tempfile.TemporaryDirectory(prefix="promoter-init-") as tmp:
        proposal = Path(tmp) / ".promoter.yaml"
        proposal.write_text(text)
        config = load_config(root, proposal)
    out: list[BumpCheck] = []

    def read(rel: str) -> str | None:
        return files[rel].new_text if rel in files else _text(root, rel)

    for a in apps:
        for env, p in a.places.items():
            pinned = p.refs or p.shared
            tag, digest = pinned[0].tag, pinned[0].digest
            image = ImageRef.parse(a.image).with_(tag=tag, digest=digest)
            if not (tag or digest):
                out.append(BumpCheck(a.name, env, False, f"{_where(pinned)} pins no tag or digest"))
                continue
            try:
                cs = plan_bump(root, config, image, app=a.name, env=env, read_file=read)
            except UsageError as exc:
                # Name the proposal as the user will know it, not by its temporary copy.
                out.append(BumpCheck(a.name, env, False, exc.message.replace(str(proposal), ".promoter.yaml")))
                continue
            n = len(cs.references)
            out.append(BumpCheck(a.name, env, True, f"a bump finds {n} reference(s) in {p.location}"))
    return out
