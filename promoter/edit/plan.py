"""Plan: the ChangeSet that sets every matching reference in a scope to a new image, byte-exact."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from promoter.config.model import Config
from promoter.edit.editor import FileEdit
from promoter.edit.rules import plan_reference
from promoter.locate.anchors import SharedValue, check_shared
from promoter.locate.chartvalues import chart_values, discovered_defaults, env_values_apps
from promoter.locate.scan import ParsedFile, extract
from promoter.locate.scope import Scope, resolve_scope
from promoter.locate.styles.base import DEFAULT_SIBLINGS, Siblings
from promoter.locate.targets import target_reference
from promoter.model.changeset import ChangeSet, FileChange
from promoter.model.errors import UsageError
from promoter.model.image import ImageRef
from promoter.model.reference import Reference
from promoter.yamlio.document import YamlDoc
from promoter.yamlio.files import FileRefused

ReadFile = Callable[[str], "str | None"]


def plan_bump(
    repo: Path,
    config: Config,
    image: ImageRef,
    app: str | None = None,
    env: str | None = None,
    paths: list[str] | None = None,
    read_file: ReadFile | None = None,
    all_matches: bool = False,
) -> ChangeSet:
    """The ChangeSet that sets every matching reference in scope to `image`.

    `read_file(rel) -> text | None` reads contents from elsewhere (a forge at a newer base head):
    the files in scope are still discovered on disk, their texts come from the reader.
    """
    scope = resolve_scope(repo, config, image, app, env, paths or [])
    defaults = chart_values(repo, config, app)
    # By path, an environment's values file still layers over its app's configured chart, as `images`
    # and `status` read it: else `bump --path` would not know the chart's registry.
    layer = _configured_layers(repo, config) if defaults is None and app is None else None
    siblings = Siblings.from_config(config.raw)
    skipped: list[str] = []
    parsed = _parse_scope(repo, scope, read_file, defaults, image, siblings, skipped, layer)
    try:
        refs = _select(parsed, scope, image)
    except UsageError:
        # Say what else is there (every reference, not only this image's) and where the image is pinned instead.
        for rel, pf in parsed.items():
            configured = layer(rel) if layer is not None else None
            pf.references = extract(pf.doc, defaults if configured is None else configured, siblings=siblings)
        try:
            refs = _select(parsed, scope, image)
        except NotFound as again:
            raise UsageError(f"{again.message}{_pinned_elsewhere(repo, config, scope, image)}") from None
    if not scope.targets and not all_matches:
        _one_current_value(refs, image, scope)
    try:
        cs = _apply(parsed, refs, image)
    except SharedValue as exc:
        raise exc.with_ways(_bump_both_ways(scope, exc.file, all_matches)) from None
    cs.warnings[:0] = skipped
    return cs


def _configured_layers(repo: Path, config: Config) -> Callable[[str], Any]:
    """rel -> the configured chart values its environment values file layers over (None: not one);
    each chart read once, and only when a file in scope needs it."""
    owners = env_values_apps(config)
    charts: dict[str, Any] = {}

    def layer(rel: str) -> Any:
        name = owners.get(rel)
        if name is None:
            return None
        if name not in charts:
            charts[name] = chart_values(repo, config, name)
        return charts[name]

    return layer


class NotFound(UsageError):
    """No reference to the image in scope (the caller may know where it is pinned instead)."""


def _read(repo: Path, rel: str, read_file: ReadFile | None) -> YamlDoc | None:
    if read_file is None:
        return YamlDoc.read_file(repo / rel, rel)
    text_ = read_file(rel)
    return None if text_ is None else YamlDoc.read(text_, rel)


def _parse_scope(
    repo: Path,
    scope: Scope,
    read_file: ReadFile | None,
    defaults: Any = None,
    image: ImageRef | None = None,
    siblings: Siblings = DEFAULT_SIBLINGS,
    skipped: list[str] | None = None,
    layer: Callable[[str], Any] | None = None,
) -> dict[str, ParsedFile]:
    out: dict[str, ParsedFile] = {}
    charts: dict[str, Any] = {}
    named = {f for f, _ in scope.targets} | set(scope.roots)  # files the configuration names: never skipped
    for rel in scope.files(repo):
        try:
            doc = _read(repo, rel, read_file)
        except FileRefused as exc:
            # A FIFO, socket or device in a scanned folder holds no YAML (and Git cannot store it):
            # skipped, and said. Anything else unreadable stops the bump.
            if exc.rule != "special-file" or rel in named or skipped is None:
                raise
            skipped.append(f"skipped {exc}")
            continue
        if doc is not None:
            layered = defaults if defaults is not None else layer(rel) if layer is not None else None
            if layered is None:
                layered = discovered_defaults(repo, rel, charts)
            out[rel] = ParsedFile(doc=doc, references=extract(doc, layered, image, siblings=siblings))
    return out


def _select(parsed: dict[str, ParsedFile], scope: Scope, image: ImageRef) -> list[Reference]:
    if scope.targets:
        return [target_reference(parsed[f], key, image) for f, key in scope.targets]
    matches = [r for pf in parsed.values() for r in pf.references if r.matches(image)]
    if matches:
        return matches
    unknown = [r for pf in parsed.values() for r in pf.references if r.repository is None]
    if unknown:
        listed = "; ".join(f"{r.file}:{r.line} {r.yaml_path}" for r in unknown[:5])
        raise UsageError(
            f"ambiguous: no reference names {image.repository} in {scope.description}, but these set a tag of an "
            f"unknown repository: {listed}. Choose one with an explicit target in .promoter.yaml "
            "(apps.APP.targets.ENV: [{file: ..., key: ...}])"
        )
    others = sorted({f"{r.repository} ({r.file}:{r.line})" for pf in parsed.values() for r in pf.references})
    seen = f"; it pins other images: {', '.join(others[:5])}" if others else ""
    raise NotFound(f"no reference to {image.repository} in {scope.description} ({len(parsed)} YAML file(s)){seen}")


def _pinned_elsewhere(repo: Path, config: Config, scope: Scope, image: ImageRef) -> str:
    """Where the environment gets the image from instead (a Kustomize base it shares with the other
    overlays, or its chart's values.yaml), and the fix; "" when that is not it."""
    from promoter.locate.bases import kustomization_file, overlay_files
    from promoter.locate.chartvalues import values_file
    from promoter.model.commandline import command, workspace_options

    ws = workspace_options(repo, config.file if config.file else None)
    init = f"{command(['init'], ws)} shows that change for every environment, {command(['init'], [*ws, ('--write', None)])} makes it"
    if scope.chart:
        chart_values = values_file(scope.chart)
        pinned = [r for r in _refs_in(repo, chart_values) if r.matches(image)]
        if pinned:
            r = pinned[0]
            key = f"{r.yaml_path}.tag" if r.kind == "block" else r.yaml_path
            return (
                f". It is pinned only in the chart's {chart_values}:{r.line}, which every environment's values file "
                f"layers over. Pin it for this environment: set {key} in {', '.join(scope.roots)}; {init}"
            )
    for root in scope.roots:
        kfile = kustomization_file(repo, root)
        if kfile is None:
            continue
        shared = [f for f in overlay_files(repo, root) if not (f == root or f.startswith(root.rstrip("/") + "/"))]
        found = [r for f in shared for r in _refs_in(repo, f) if r.matches(image)]
        if not found:
            continue
        where = ", ".join(f"{r.file}:{r.line}" for r in found[:3]) + (
            f" and {len(found) - 3} more" if len(found) > 3 else ""
        )
        first = found[0]
        pin = (
            f"name: {first.written or image.name}"
            + (f', newTag: "{first.tag}"' if first.tag else "")
            + (f", digest: {first.digest}" if first.digest else "")
        )
        return (
            f". It is pinned in {where}, which {root} shares with other overlays: a bump of one environment must not "
            f"change the others. Pin it in the overlay: add an images: entry ({pin}) to {kfile}; {init}"
        )
    return ""


def _refs_in(repo: Path, rel: str) -> list[Reference]:
    try:
        return extract(YamlDoc.load(repo / rel, rel))
    except UsageError:
        return []


def _bump_both_ways(scope: Scope, file: str, all_matches: bool) -> list[str]:
    """What selects, in one run, a reference to the image the bump left out of `file`: only an explicit
    target scope leaves any out (a scope of paths or of an environment's folder takes them all)."""
    if not scope.targets:
        return []
    path = f"--path {file} instead of --app/--env bumps every reference to the image in it"
    if not all_matches:
        path += " (with --all-matches when they pin different values)"
    return [f"add an explicit target for each to apps.{scope.app}.targets.{scope.env}", path]


def _one_current_value(refs: list[Reference], image: ImageRef, scope: Scope) -> None:
    """References to one repository that pin different values (a chart's list of supported versions,
    `nats:2.10.x` beside `nats:2.9.x`) are not one image to move: refuse rather than set them all alike."""
    pins: dict[tuple[str | None, str | None], list[Reference]] = {}
    # A kustomization's `images:` entry decides what its manifests run: their own tag (often a
    # placeholder like `:0.0.0`) is overridden, not a second value to choose between.
    transformers = {"kustomize-images", "flux-kustomization-images", "argocd-kustomize-images"}
    if any(r.style in transformers for r in refs):
        refs = [r for r in refs if r.style != "container"]
    for r in refs:
        if r.tag is None and r.digest is None:
            continue  # pins nothing yet (`- name: app` with no newTag): nothing to disagree with
        pins.setdefault((r.tag, r.digest), []).append(r)
    if len(pins) <= 1:
        return
    listed = "; ".join(
        f"{r.file}:{r.line} {r.yaml_path or 'top level'} = {r.current}" for rs in pins.values() for r in rs[:3]
    )
    if scope.app is not None:
        ways = [
            f"an explicit target in .promoter.yaml (apps.{scope.app}.targets.{scope.env}: [{{file: ..., key: ...}}])"
        ]
    else:  # a scope of paths: the configuration's targets are an environment's (--app/--env)
        ways = ["an explicit target in .promoter.yaml (apps.APP.targets.ENV: [{file: ..., key: ...}]) with --app/--env"]
    if len({r.file for r in refs}) > 1:
        # In one file already (whether --path named it or the environment holds only it), --path narrows nothing.
        ways.append("--path to the one file")
    ways.append(f"--all-matches to set every one of them to {image}")
    raise UsageError(
        f"ambiguous: {len(refs)} references to {image.repository} in {scope.description} pin {len(pins)} different "
        f"values ({listed}). Choose: {', or '.join(ways)}"
    )


def _apply(parsed: dict[str, ParsedFile], refs: list[Reference], image: ImageRef) -> ChangeSet:
    cs = ChangeSet()
    by_file: dict[str, list[Reference]] = {}
    for r in refs:
        by_file.setdefault(r.file, []).append(r)
    for rel, rs in sorted(by_file.items()):
        doc = parsed[rel].doc
        if doc.anchors:
            chosen = {id(r) for r in rs}
            check_shared(doc, rs, [r for r in parsed[rel].references if r.matches(image) and id(r) not in chosen])
        fe = FileEdit(doc)
        for r in rs:
            plan_reference(fe, r, image)
        new = fe.apply() if fe.ops else doc.full_text()
        cs.files[rel] = FileChange(path=rel, old_text=doc.full_text(), new_text=new)
        cs.changes.extend(fe.changes)
        cs.warnings.extend(fe.warnings)
    cs.references = [r.to_dict() for r in refs]
    return cs
