"""Plan: the ChangeSet that sets every matching reference in a scope to a new image, byte-exact."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from promoter.config.model import Config
from promoter.edit.editor import FileEdit
from promoter.edit.rules import plan_reference
from promoter.locate.chartvalues import chart_values
from promoter.locate.scan import ParsedFile, extract
from promoter.locate.scope import Scope, resolve_scope
from promoter.locate.styles import STYLE_NAMES
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
) -> ChangeSet:
    """The ChangeSet that sets every matching reference in scope to `image`.

    `read_file(rel) -> text | None` reads contents from elsewhere (a forge at a newer base head):
    the files in scope are still discovered on disk, their texts come from the reader.
    """
    scope = resolve_scope(repo, config, image, app, env, paths or [])
    skipped: list[str] = []
    parsed = _parse_scope(repo, scope, read_file, chart_values(repo, config, app), skipped)
    refs = _select(parsed, scope, image)
    cs = _apply(parsed, refs, image)
    cs.warnings[:0] = skipped
    return cs


def _read(repo: Path, rel: str, read_file: ReadFile | None) -> YamlDoc | None:
    if read_file is None:
        return YamlDoc.load(repo / rel, rel)
    text_ = read_file(rel)
    return None if text_ is None else YamlDoc.from_text(text_, rel)


def _parse_scope(
    repo: Path, scope: Scope, read_file: ReadFile | None, defaults: Any = None, skipped: list[str] | None = None
) -> dict[str, ParsedFile]:
    out: dict[str, ParsedFile] = {}
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
