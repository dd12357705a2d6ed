"""Images: every image reference under some paths of a repository, as `promoter images` lists them."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from promoter.config.loader import find_config
from promoter.config.model import CONFIG_NAMES
from promoter.flows.workspace import open_config
from promoter.locate.chartvalues import env_values_defaults
from promoter.locate.scan import scan
from promoter.locate.scope import path_scope
from promoter.locate.styles.base import Siblings
from promoter.model.errors import UsageError
from promoter.model.image import ImageRef
from promoter.model.reference import Reference


@dataclass
class Listing:
    """What `promoter images` found: the references (of `image` when one was asked for), the files
    holding them, the YAML files read, and those that could not be read (fail closed: they are errors)."""

    references: list[Reference]
    scanned: list[str]
    errors: list[UsageError]  # YAML that does not parse: the listing is incomplete (exit 2)
    image: ImageRef | None = None
    skipped: list[UsageError] = field(default_factory=list)  # not read by rule: special files, limits (warned)

    @property
    def files(self) -> list[str]:
        """The files holding at least one listed reference."""
        return list(dict.fromkeys(r.file for r in self.references))


def list_images(
    repo: Path | None, paths: list[Path] | list[str], image: str | None, config_file: Path | None = None
) -> Listing:
    """References under `paths`, optionally only those of `image`'s repository, and of its tag and
    digest when it names them.

    PATHs follow the one rule of `locate.scope.path_scope`: relative to --repo (without it, to the
    current folder). Without --repo, the repository is the current folder, or, for paths outside
    it, the git work tree (else the folder) holding them."""
    if repo is not None and not repo.is_dir():
        raise UsageError(f"--repo {repo} is not a folder")
    root = repo.resolve() if repo is not None else _default_root([Path(p) for p in paths])
    base = repo.resolve() if repo is not None else Path.cwd()
    given: list[str] = [str(p) for p in paths] or [str(base)]
    scope = path_scope(root, given, base=base, what="PATH")
    roots = [root / r if r != "." else root for r in scope.roots]
    want = ImageRef.parse(image) if image else None
    # With a .promoter.yaml, env values files that leave the registry to their chart are read over it.
    config = open_config(root, config_file) if config_file is not None or find_config(root) is not None else None
    defaults = env_values_defaults(root, config) if config is not None else None
    siblings = Siblings.from_config(config.raw if config is not None else None)
    found = scan(root, roots, image=want, keep_going=True, defaults=defaults, siblings=siblings)
    # promoter's own config names images but pins none: it is not one of the files listed or counted.
    own = {config.file} if config is not None and config.file else set()
    own |= set(CONFIG_NAMES)
    refs = [r for r in found.references if r.file not in own and _same_version(r, want)]
    scanned = [f for f in found.scanned if f not in own]
    broken = [e for e in found.errors if _does_not_parse(e)]
    refused = [e for e in found.errors if not _does_not_parse(e)]
    return Listing(references=refs, scanned=scanned, errors=broken, image=want, skipped=refused)


def _does_not_parse(err: UsageError) -> bool:
    """YAML with a syntax error or a duplicate key: bad input, unlike a file promoter declines to read
    by rule (a FIFO, a file over the size limit, an alias bomb), which it skips and says so."""
    from promoter.yamlio.document import YamlParseError

    return isinstance(err, YamlParseError) and err.problem.startswith(("YAML does not parse", "duplicate key"))


def _same_version(ref: Reference, want: ImageRef | None) -> bool:
    """`--image repo:tag` (or `@digest`) lists only the references pinning that tag (or digest)."""
    if want is None:
        return True
    if want.tag and ref.tag != want.tag:
        return False
    return not (want.digest and ref.digest != want.digest)


def _default_root(paths: list[Path]) -> Path:
    """Without --repo: the current folder when every path is inside it; otherwise the git work
    tree holding the first path, or that folder itself (`promoter images ../shared/corpus`)."""
    here = Path(os.path.abspath(os.curdir))
    # Written inside the current folder, it is the repository: a symlink there that leads out is then
    # refused by the one path rule, as bump refuses it, not taken as a wish to list another tree.
    if all(Path(os.path.normpath(here / p)).is_relative_to(here) for p in paths):
        return here.resolve()
    cwd = here.resolve()
    full = [(p if p.is_absolute() else cwd / p).resolve() for p in paths]
    if all(f == cwd or f.is_relative_to(cwd) for f in full):
        return cwd
    first = full[0] if full[0].is_dir() else full[0].parent
    for d in (first, *first.parents):
        if (d / ".git").exists() and all(f.is_relative_to(d) for f in full):
            return d
    return first
