"""Bump: plan the byte-exact edits that set an app's (or a path's) image to a new tag and digest."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from promoter.changeset import ChangeSet, FileChange
from promoter.config import Config
from promoter.edit import FileEdit, plan_reference
from promoter.errors import UsageError
from promoter.finding import CheckResult
from promoter.image import ImageRef
from promoter.locate import ParsedFile, extract, rel_to, safe_path, yaml_files
from promoter.reference import Reference
from promoter.styles import STYLE_NAMES
from promoter.styles.base import Document, located, slot, text
from promoter.yamldoc import YamlDoc
from promoter.yamlload import load

ReadFile = Callable[[str], "str | None"]


@dataclass
class BumpResult:
    """What `bump` did: the edits, the gates it passed (or not), and whether files were written."""

    image: ImageRef
    changeset: ChangeSet
    gates: CheckResult
    written: bool
    dry_run: bool

    @property
    def blocked(self) -> bool:
        return self.gates.failed

    def to_dict(self) -> dict[str, Any]:
        return {
            "image": str(self.image),
            "dry_run": self.dry_run,
            "written": self.written,
            "blocked": self.blocked,
            **self.changeset.to_dict(),
            "gates": self.gates.to_dict(),
            "diff": self.changeset.diff(),
        }


def bump(
    repo: Path,
    config: Config,
    image: ImageRef,
    *,
    app: str | None = None,
    env: str | None = None,
    paths: list[str] | None = None,
    dry_run: bool = False,
    override_freeze: str | None = None,
    now: datetime | None = None,
    rollback: bool = False,
) -> BumpResult:
    """Plan the edit, judge it against the environment's gates, and write it unless blocked or dry.

    `rollback` marks a deliberate return to an earlier image: the no-downgrade gate lets it through
    (recorded), every other gate still applies.
    """
    cs = plan_bump(repo, config, image, app=app, env=env, paths=paths)
    gates = CheckResult()
    if app and env and not cs.empty:
        from promoter.gates import evaluate_gates

        gates = evaluate_gates(
            repo, config, app, env, image, now=now, override_freeze=override_freeze, rollback=rollback
        )
    written = False
    if not dry_run and not gates.failed and not cs.empty:
        cs.write(repo)
        written = True
    return BumpResult(image=image, changeset=cs, gates=gates, written=written, dry_run=dry_run)


@dataclass
class Scope:
    """Where a bump looks: folders/files, or explicit (file, key) targets."""

    roots: list[str]  # repo-relative
    targets: list[tuple[str, str]]
    description: str


def resolve_image(image: str, tag: str | None) -> ImageRef:
    ref = ImageRef.parse(image)
    if tag is not None:
        from promoter.image import check_tag

        check_tag(tag)
        if ref.tag and ref.tag != tag:
            raise UsageError(f"--tag {tag} contradicts the tag in --image {image}")
        ref = ref.with_(tag=tag)
    if not ref.tag and not ref.digest:
        raise UsageError(
            f"--image {image} has neither tag nor digest: nothing to pin (give repo:tag, repo@digest or --tag)"
        )
    return ref


def resolve_scope(
    repo: Path, config: Config, image: ImageRef, app: str | None, env: str | None, paths: list[str]
) -> Scope:
    if paths and (app or env):
        raise UsageError("give either --app and --env, or --path, not both")
    if paths:
        for p in paths:
            full = safe_path(repo, p)
            if not full.exists():
                raise UsageError(f"path {p!r} does not exist in {repo}")
        return Scope(roots=[rel_to(repo, safe_path(repo, p)) for p in paths], targets=[], description=", ".join(paths))
    if not (app and env):
        raise UsageError("say where to bump: --app APP --env ENV (with a .promoter.yaml), or --path DIR")
    if config.file is None:
        raise UsageError(f"--app/--env need a .promoter.yaml in {repo} (or --config FILE); use --path DIR without one")
    a = config.app(app)
    config.env(env)
    if not image.same_repository(a.image):
        raise UsageError(f"image {image.name} is not app {app}'s image ({a.image}, from {config.file})")
    if env in a.targets:
        targets = [(t.file, t.key) for t in a.targets[env]]
        for f, _ in targets:
            if not safe_path(repo, f, what=f"{config.file}: apps.{app}.targets.{env} file").is_file():
                raise UsageError(f"{config.file}: apps.{app}.targets.{env}: file {f!r} does not exist")
        return Scope(roots=[], targets=targets, description=f"{app} in {env} (explicit targets)")
    where = a.location(env, config.default_path)
    if where is None:
        raise UsageError(
            f"{config.file}: app {app} has no path for {env} (set apps.{app}.path, paths.{env}, or defaults.path)"
        )
    full = safe_path(repo, where, what=f"{config.file}: path of {app} in {env}")
    if not full.exists():
        raise UsageError(f"{config.file}: {app} in {env} lives at {where!r}, which does not exist")
    return Scope(roots=[rel_to(repo, full)], targets=[], description=f"{app} in {env} ({where})")


def plan_bump(
    repo: Path,
    config: Config,
    image: ImageRef,
    app: str | None = None,
    env: str | None = None,
    paths: list[str] | None = None,
    read_file: ReadFile | None = None,
) -> ChangeSet:
    """The ChangeSet that sets every matching reference in scope to `image`.

    `read_file(rel) -> text | None` reads contents from elsewhere (a forge at a newer base head):
    the files in scope are still discovered on disk, their texts come from the reader.
    """
    scope = resolve_scope(repo, config, image, app, env, paths or [])
    parsed = _parse_scope(repo, scope, read_file, _chart_values(repo, config, app))
    refs = _select(parsed, scope, image)
    return _apply(parsed, refs, image)


def _read(repo: Path, rel: str, read_file: ReadFile | None) -> YamlDoc | None:
    if read_file is None:
        return YamlDoc.load(repo / rel, rel)
    text_ = read_file(rel)
    return None if text_ is None else YamlDoc.from_text(text_, rel)


def env_values_defaults(repo: Path, config: Config) -> dict[str, Any]:
    """Each configured environment values file → its app's chart values.yaml data (see _chart_values)."""
    out: dict[str, Any] = {}
    for name, app in config.apps.items():
        if not app.chart:
            continue
        data = _chart_values(repo, config, name)
        if data is None:
            continue
        for env in config.environments:
            where = app.location(env.name, config.default_path)
            if where and where.endswith((".yaml", ".yml")):
                out[where] = data
    return out


def _chart_values(repo: Path, config: Config, app: str | None) -> Any:
    """The app's chart values.yaml (plain data), for env values files that repeat only some keys."""
    chart = config.apps[app].chart if app and app in config.apps else None
    if not chart:
        return None
    values = safe_path(repo, chart, what=f"{config.file}: apps.{app}.chart") / "values.yaml"
    if not values.is_file():
        return None
    import yaml

    try:
        return load(values.read_text())
    except yaml.YAMLError as exc:
        from promoter.yamldoc import parse_error

        raise parse_error(rel_to(repo, values), exc) from None


def _parse_scope(repo: Path, scope: Scope, read_file: ReadFile | None, defaults: Any = None) -> dict[str, ParsedFile]:
    out: dict[str, ParsedFile] = {}
    files = [rel_to(repo, f) for f in yaml_files(repo, [repo / r for r in scope.roots])] if scope.roots else []
    files += [f for f, _ in scope.targets if f not in files]
    for rel in files:
        doc = _read(repo, rel, read_file)
        if doc is not None:
            out[rel] = ParsedFile(doc=doc, references=extract(doc, defaults))
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
    seen = f"; found other images: {', '.join(others[:5])}" if others else ""
    raise UsageError(
        f"no reference to {image.repository} found in {scope.description}: looked at {len(parsed)} YAML file(s) "
        f"with styles {', '.join(STYLE_NAMES)}{seen}"
    )


def target_reference(pf: ParsedFile, key: str, image: ImageRef) -> Reference:
    """The reference at an explicit (file, dotted key) target."""
    doc = pf.doc
    parts = _split_key(key)
    where = f"{doc.path}: key {key!r}"
    for r in pf.references:
        if r.path_parts == tuple(parts):
            return r
    # Walk to the node ourselves: a value discovery does not recognise (a lone tag, an odd key).
    for i, root in enumerate(doc.docs):
        node: Any = root
        parent: Any = None
        ok = True
        for p in parts:
            try:
                parent, node = node, node[p]
            except (KeyError, IndexError, TypeError):
                ok = False
                break
        if not ok or parent is None:
            continue
        d = Document(file=doc.path, index=i, root=root, markers={})
        here = tuple(parts)
        if isinstance(node, dict):
            from promoter.styles.helm import block_reference

            # The target says this mapping is the app's image: its repository may be left to the chart.
            block = block_reference(d, node, here, "explicit", {"repository": image.name})
            if block is not None:
                return block
            raise UsageError(f"{where}: the mapping there has no `repository` key")
        if not isinstance(node, str) or not any(c in node for c in ":/@"):
            # A lone tag (e.g. image.tag): its repository is the app's, by configuration.
            slots = {"tag": slot(parent, parts[-1])}
            if isinstance(parent, dict) and "digest" in parent:
                slots["digest"] = slot(parent, "digest")
            return located(
                d,
                parent,
                parts[-1],
                here,
                "explicit",
                "tag",
                image,
                tag=text(node),
                digest=text(parent.get("digest")) if isinstance(parent, dict) else None,
                slots=slots,
            )
        from promoter.image import try_parse

        cur = try_parse(node)
        if cur is None:
            raise UsageError(f"{where}: value {node!r} is not an image reference")
        if not cur.same_repository(image):
            raise UsageError(f"{where}: holds {cur.repository}, not {image.repository}")
        return located(
            d,
            parent,
            parts[-1],
            here,
            "explicit",
            "string",
            cur,
            tag=cur.tag,
            digest=cur.digest,
            slots={"image": slot(parent, parts[-1])},
        )
    raise UsageError(f"{where} not found")


def _split_key(key: str) -> list[Any]:
    parts: list[Any] = []
    for m in re.finditer(r"([^.\[\]]+)|\[(\d+)\]", key):
        parts.append(int(m.group(2)) if m.group(2) is not None else m.group(1))
    return parts


def _apply(parsed: dict[str, ParsedFile], refs: list[Reference], image: ImageRef) -> ChangeSet:
    cs = ChangeSet()
    by_file: dict[str, list[Reference]] = {}
    for r in refs:
        by_file.setdefault(r.file, []).append(r)
    for rel, rs in sorted(by_file.items()):
        doc = parsed[rel].doc
        fe = FileEdit(doc)
        for r in rs:
            plan_reference(fe, r, image)
        new = fe.apply() if fe.ops else doc.full_text()
        cs.files[rel] = FileChange(path=rel, old_text=doc.full_text(), new_text=new)
        cs.changes.extend(fe.changes)
        cs.warnings.extend(fe.warnings)
    cs.references = [r.to_dict() for r in refs]
    return cs
