"""Preview: render the targets a change affects before and after it, for the pull request body.

The change is a set of files with their texts on both sides (a ChangeSet, or everything a
promotion branch holds against its merge base). Base and head are temporary copies of just the
files those targets read, each with its side's texts written over it; both go through the same
Renderer, and the head's objects through the same validation and policies as `promoter check`,
which read their own inputs (schemas, CRDs, policies) from the checkout.
Secret values are masked in both sides' objects before they are diffed (`publish.masking`).
"""

from __future__ import annotations

import difflib
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from promoter.config.model import Config
from promoter.flows.check import judge, merge_findings
from promoter.model.changeset import ChangeSet
from promoter.model.finding import CheckResult
from promoter.publish.masking import Masker
from promoter.render.graph import Target, build_graph
from promoter.render.renderer import Rendered, Renderer
from promoter.render.settings import RenderSettings
from promoter.validate import ValidateOptions

Texts = dict[str, tuple["str | None", "str | None"]]  # path -> (base text, head text); None: absent


@dataclass
class Preview:
    """The rendered-object diff of a ChangeSet and the checks of what it renders."""

    diff: str = ""
    checks: CheckResult = field(default_factory=CheckResult)
    targets: list[str] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)  # changed files no target reads
    kinds: dict[str, int] = field(default_factory=dict)  # changed objects by kind


def preview(
    repo: Path, config: Config, changeset: ChangeSet, env: str | None = None, *, masker: Masker | None = None
) -> Preview:
    """Render the targets `changeset` affects at the checkout and with the change applied."""
    texts: Texts = {p: (fc.old_text, fc.new_text) for p, fc in changeset.files.items() if fc.old_text != fc.new_text}
    return preview_texts(repo, config, texts, env, masker=masker)


def preview_texts(
    repo: Path, config: Config, texts: Texts, env: str | None = None, *, masker: Masker | None = None
) -> Preview:
    """Render what `texts` affect with each side's texts written over a copy of the checkout's inputs."""
    changed = sorted(texts)
    if not changed:
        return Preview()
    masker = masker or Masker()
    repo = repo.resolve()
    settings = RenderSettings.from_config(config)
    graph = build_graph(repo, config, settings)
    targets = graph.affected(changed)
    charts = {t.path for t in graph.targets if t.kind == "helm"}
    with tempfile.TemporaryDirectory(prefix="promoter-preview-") as tmp:
        base_repo, head_repo = Path(tmp) / "base", Path(tmp) / "head"
        for side, root in ((0, base_repo), (1, head_repo)):
            root.mkdir()
            _copy_inputs(repo, root, targets, changed)
            _write(root, {p: t[side] for p, t in texts.items()})
        base_rendered = [n for r in Renderer(base_repo, settings, charts=charts).render_all(targets) for n in r.walk()]
        tops = Renderer(head_repo, settings, charts=charts).render_all(targets)
        rendered = [n for r in tops for n in r.walk()]
        # Only rendering needs the copies. What the checks read by repository-relative path (policy
        # folders, validation.schema_dirs, CRDs anywhere in the repository, the config for waiver
        # lines) is not among the targets' inputs, so it is read from the checkout, as `check` does.
        # The head is judged by `check`'s own pipeline (values, policies, lines, one finding per problem).
        checks = judge(
            tops,
            targets,
            config,
            tree=head_repo,
            repo=repo,
            validate_options=ValidateOptions.from_config(config, repo),
            policy_dirs=[],
            env=env,
        )
        checks.findings = merge_findings(checks.findings, [e.name for e in config.environments])
    base, head = _objects(base_rendered), _objects(rendered)
    diff, kinds = _diff(base, head, masker)
    unread = [p for p in changed if not any(t.depends_on(p) for t in graph.targets)]
    return Preview(diff=diff, checks=checks, targets=[t.id for t in targets], unread=unread, kinds=kinds)


def _write(root: Path, texts: dict[str, str | None]) -> None:
    for rel, text in texts.items():
        path = root / rel
        if not path.resolve().is_relative_to(root.resolve()):
            continue  # a path leaving the copy (`../x`) is never written
        if text is None:
            path.unlink(missing_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))


def _copy_inputs(repo: Path, dst: Path, targets: list[Target], changed: list[str]) -> None:
    """Copy what the targets read (their files and folders) and the changed files."""
    files = set(changed)
    dirs: set[str] = set()
    for t in targets:
        files |= t.files
        dirs |= t.dirs
        if t.kind == "plain":
            dirs.add(t.path)
    for d in sorted(dirs):
        src = repo / d
        if src.is_dir():
            shutil.copytree(src, dst / d, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".git"))
    for f in sorted(files):
        src = repo / f
        if src.is_file():
            (dst / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / f)


def _objects(rendered: list[Rendered]) -> dict[str, Any]:
    """`target :: kind/namespace/name` → the object."""
    out: dict[str, Any] = {}
    for r in rendered:
        for res in r.resources:
            out[f"{r.target.id} :: {res.display}"] = res.obj
    return out


def _dump(obj: Any) -> str:
    return "" if obj is None else yaml.safe_dump(obj, sort_keys=True, default_flow_style=False)


def _diff(base: dict[str, Any], head: dict[str, Any], masker: Masker) -> tuple[str, dict[str, int]]:
    """The masked diff of the objects that differ, and how many of each kind changed."""
    chunks: list[str] = []
    kinds: dict[str, int] = {}
    for key in sorted(set(base) | set(head)):
        a, b = base.get(key), head.get(key)
        if a == b:
            continue
        obj = b if b is not None else a
        kind = str(obj.get("kind") or "unknown") if isinstance(obj, dict) else "unknown"
        kinds[kind] = kinds.get(kind, 0) + 1
        ma, mb = masker.objects(a, b)
        chunks.append(
            "".join(
                difflib.unified_diff(
                    _dump(ma).splitlines(True), _dump(mb).splitlines(True), fromfile=f"base/{key}", tofile=f"head/{key}"
                )
            )
        )
    return "".join(chunks), kinds
