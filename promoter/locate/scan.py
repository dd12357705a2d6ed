"""Locate: walk files or folders of a repository and list every image reference in them."""

from __future__ import annotations

import gc
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promoter.locate.anchors import mark_aliases
from promoter.locate.chartvalues import discovered_defaults
from promoter.locate.paths import rel_to, resolved
from promoter.locate.styles import STYLES
from promoter.locate.styles.base import DEFAULT_SIBLINGS, Document, Siblings, prunable
from promoter.model.errors import UsageError
from promoter.model.image import ImageRef
from promoter.model.reference import Reference
from promoter.yamlio.document import YamlDoc, owner_of, read_checked
from promoter.yamlio.files import FileProblem, FileRefused

YAML_SUFFIXES = (".yaml", ".yml")
# Cheap pre-filter: a file none of these words appear in cannot hold a reference, so it is
# never round-trip parsed (the slow part: ~10 ms per multi-document file).
MAY_HOLD_IMAGE = re.compile(r"[iI]mage|repository|newName|newTag")
MAY_HOLD_IMAGE_BYTES = re.compile(MAY_HOLD_IMAGE.pattern.encode())
_MARKER = re.compile(r"#\s*(\{\s*\"\$imagepolicy\"\s*:\s*\"([^\"]+)\"\s*\})")
SKIP_DIRS = {".git", "node_modules", ".terraform", "__pycache__"}


@dataclass
class ParsedFile:
    doc: YamlDoc
    references: list[Reference] = field(default_factory=list)


def skipped_dir(name: str) -> bool:
    """A folder a scan never enters: hidden ones and tool caches."""
    return name in SKIP_DIRS or name.startswith(".")


def yaml_name(name: str) -> bool:
    """A file name a scan reads."""
    return name.endswith(YAML_SUFFIXES) or name == "Kustomization"


def chart_templates(folder_has_chart: bool, name: str) -> bool:
    """A chart's `templates/` folder: Go templates, not YAML, so never scanned."""
    return folder_has_chart and name == "templates"


def yaml_files(repo: Path, roots: list[Path]) -> list[Path]:
    """YAML files under the given files/folders, sorted, skipping chart templates (Go templates, not YAML).

    A symlinked file is read only when it resolves inside the repository; symlinked folders are not entered."""
    return [Path(p) for p in yaml_paths(repo, roots)]


def yaml_paths(repo: Path, roots: list[Path], outside: list[str] | None = None) -> list[str]:
    """yaml_files as strings: a scan of thousands of files needs no Path object for each. `outside`
    collects the YAML-named symlinks that lead out of the repository (never read; a caller says so)."""
    out: set[str] = set()
    root_resolved = str(repo.resolve())
    for root in roots:
        if not root.is_dir():
            if root.exists() or root.is_symlink():  # a file; anything else is refused when read, naming it
                out.add(str(root))
            continue
        _walk(str(root), root_resolved, out, repo, outside)
    return sorted(out, key=lambda p: p.split(os.sep))


def _walk(folder: str, inside: str, out: set[str], repo: Path, outside: list[str] | None = None) -> None:
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    has_chart = any(e.name == "Chart.yaml" for e in entries)
    for e in entries:
        # DirEntry knows from the directory listing whether it is a symlink: no system call per file.
        if e.is_symlink():
            if yaml_name(e.name):
                full = str(resolved(Path(e.path), repo))  # a loop is one UsageError naming it
                # Symlinked files that point out of the repository are never read.
                if full == inside or full.startswith(inside + os.sep):
                    out.add(e.path)
                elif outside is not None:
                    outside.append(e.path)
            continue
        if e.is_dir():
            if not skipped_dir(e.name) and not chart_templates(has_chart, e.name):
                _walk(e.path, inside, out, repo, outside)
        elif yaml_name(e.name):
            out.add(e.path)


def markers(text: str) -> dict[int, str]:
    out: dict[int, str] = {}
    if "$imagepolicy" not in text:
        return out
    for i, line in enumerate(text.split("\n")):
        m = _MARKER.search(line)
        if m:
            out[i] = m.group(2)
    return out


def parse_file(
    repo: Path, file: Path | str, defaults: Any = None, rel: str | None = None, siblings: Siblings = DEFAULT_SIBLINGS
) -> ParsedFile | None:
    """Read one file and extract its references; None when it cannot hold any.

    `defaults`: the chart values.yaml this file layers over (an environment's values file)."""
    rel = rel if rel is not None else rel_to(repo, Path(file))
    raw = read_checked(file, rel)  # a regular file within the size limit, or one UsageError naming it
    if not MAY_HOLD_IMAGE_BYTES.search(raw):
        return None
    doc = YamlDoc.read_bytes(raw, rel)  # the bytes already read: no second read of the file
    return ParsedFile(doc=doc, references=extract(doc, defaults, siblings=siblings))


def extract(
    doc: YamlDoc, defaults: Any = None, only: ImageRef | None = None, *, siblings: Siblings = DEFAULT_SIBLINGS
) -> list[Reference]:
    """References in a parsed file; `defaults` is the chart values.yaml an env values file layers over.

    With `only`, references that name another repository may be left out (a bump's own scan)."""
    marks = markers(doc.text)
    refs: list[Reference] = []
    want = only.repository if only is not None else None
    prune = doc.text if want is not None and prunable(doc.text, doc.reader, bool(doc.anchors)) else None
    for i, root in enumerate(doc.docs):
        d = Document(
            file=doc.path,
            index=i,
            root=root,
            markers=marks,
            defaults=defaults,
            only=want,
            siblings=siblings,
            prune_text=prune,
        )
        for style in STYLES:
            refs.extend(style.extract(d))
    mark_aliases(doc, refs)
    refs.sort(key=lambda r: (r.line, r.column))
    return _dedupe(refs)


# Slots that only say which image a reference is: two references may share them and still
# edit different values (`<<: *defaults` giving the repository, a tag of its own).
_NAMING_SLOTS = {"name", "newName", "registry", "repository"}


def _node_keys(ref: Reference) -> set[tuple[Any, ...]]:
    """What a reference edits: its value slots (where they are written), the mapping keys would
    be added to, and for an anchored scalar the value itself (its aliases share it)."""
    out: set[tuple[Any, ...]] = set()
    if ref.mapping is not None:
        out.add(("mapping", id(ref.mapping)))
    for name, s in ref.slots.items():
        if name in _NAMING_SLOTS:
            continue
        out.add(("slot", id(owner_of(s.parent, s.key)), s.key))
        value = s.value
        anchor = getattr(value, "anchor", None)
        if anchor is not None and getattr(anchor, "value", None):
            out.add(("value", id(value)))
    return out


def _dedupe(refs: list[Reference]) -> list[Reference]:
    """One reference per value: two styles may claim the same scalar (a container `image:` that
    also carries a Flux marker). The first in document order is the one kept; a later one only adds
    its hint. An alias (`*img`) is a reference of its own, at its own place (`alias_of` says whose);
    the round-trip reader, which cannot place aliases, keeps only the anchored one."""
    seen: dict[tuple[Any, ...], Reference] = {}
    out: list[Reference] = []
    for r in refs:
        keys = {("alias", r.doc_index, r.path_parts)} if r.alias_of is not None else _node_keys(r)
        first = next((seen[k] for k in keys if k in seen), None)
        if first is not None:
            if first.hint is None and r.hint is not None:
                first.hint = r.hint
            continue
        for k in keys:
            seen[k] = r
        out.append(r)
    return out


@dataclass
class ScanResult:
    references: list[Reference]
    files: dict[str, ParsedFile]
    scanned: list[str]
    errors: list[UsageError]


def scan(
    repo: Path,
    roots: list[Path],
    *,
    image: ImageRef | None = None,
    keep_going: bool = False,
    defaults: dict[str, Any] | None = None,
    siblings: Siblings = DEFAULT_SIBLINGS,
) -> ScanResult:
    """All references under `roots` (optionally only those of `image`'s repository).

    `defaults` maps an environment's values file (repo-relative) to its chart's values.yaml data."""
    # Every file's tree stays alive until the listing is printed; none holds a cycle. Cyclic collections
    # while thousands of trees pile up would walk them all again and again (half the time of a scan).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _scan(repo, roots, image, keep_going, defaults, siblings)
    finally:
        if enabled:
            # Everything the scan made is still in the youngest generation (nothing was collected), so
            # the first collection after it would walk all of it (0.1 s on 4,800 files, a seventh of
            # `images`). Frozen, the trees are passed by; refcounting still frees them.
            gc.freeze()
            gc.enable()


def _scan(
    repo: Path,
    roots: list[Path],
    image: ImageRef | None,
    keep_going: bool,
    defaults: dict[str, Any] | None,
    siblings: Siblings,
) -> ScanResult:
    files: dict[str, ParsedFile] = {}
    refs: list[Reference] = []
    scanned: list[str] = []
    errors: list[UsageError] = []
    charts: dict[str, Any] = {}
    top = str(repo).rstrip(os.sep) + os.sep
    # Never read, and said to a caller that lists (keep_going): a listing that silently leaves a file
    # out looks complete. One that stops at the first problem has its own rule for links (bump: scope).
    outside: list[str] | None = [] if keep_going else None
    names = yaml_paths(repo, roots, outside)
    for name in outside or []:
        rel = name[len(top) :].replace(os.sep, "/") if name.startswith(top) else name
        problem = FileProblem("outside-repository", rel, "a symlink to a path outside the repository; not read")
        errors.append(FileRefused(problem))
    for name in names:
        # Files are walked under the repository's own path: their name inside it needs no disk access.
        rel = name[len(top) :].replace(os.sep, "/") if name.startswith(top) else rel_to(repo, Path(name))
        scanned.append(rel)
        try:
            layered = (defaults or {}).get(rel)
            if layered is None:
                layered = discovered_defaults(repo, rel, charts)
            parsed = parse_file(repo, name, layered, rel, siblings)
        except UsageError as exc:
            if not keep_going:
                raise
            errors.append(exc)
            continue
        if parsed is None:
            continue
        files[rel] = parsed
        for r in parsed.references:
            if image is None or r.matches(image):
                refs.append(r)
    return ScanResult(references=refs, files=files, scanned=scanned, errors=errors)
