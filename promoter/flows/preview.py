"""Preview: render a ChangeSet's affected targets before and after it, for the pull request body.

The head tree is a temporary copy of just the files those targets read, with the ChangeSet
written over it; the base is the checkout itself. Both go through the same Renderer, and the
head's objects through the same validation and policies as `promoter check`.
"""

from __future__ import annotations

import difflib
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from promoter.config.model import Config
from promoter.model.changeset import ChangeSet
from promoter.model.finding import CheckResult
from promoter.model.resource import Resource
from promoter.render.graph import Target, build_graph
from promoter.render.renderer import Rendered, Renderer


@dataclass
class Preview:
    """The rendered-object diff of a ChangeSet and the checks of what it renders."""

    diff: str = ""
    checks: CheckResult = field(default_factory=CheckResult)
    targets: list[str] = field(default_factory=list)


def preview(repo: Path, config: Config, changeset: ChangeSet, env: str | None = None) -> Preview:
    """Render the targets `changeset` affects at the checkout and with the change applied."""
    changed = [p for p, fc in changeset.files.items() if fc.old_text != fc.new_text]
    if not changed:
        return Preview()
    repo = repo.resolve()
    graph = build_graph(repo, config)
    targets = graph.affected(changed)
    charts = {t.path for t in graph.targets if t.kind == "helm"}
    base = _objects([n for r in Renderer(repo, charts=charts).render_all(targets) for n in r.walk()])
    with tempfile.TemporaryDirectory(prefix="promoter-preview-") as tmp:
        head_repo = Path(tmp)
        _copy_inputs(repo, head_repo, targets, changed)
        _copy_policies(repo, head_repo, config)
        changeset.write(head_repo)
        rendered = [n for r in Renderer(head_repo, charts=charts).render_all(targets) for n in r.walk()]
        checks = _checks(rendered, config, head_repo, env)
    head = _objects(rendered)
    return Preview(diff=_diff(base, head), checks=checks, targets=[t.id for t in targets])


def _copy_policies(repo: Path, dst: Path, config: Config) -> None:
    """The repository's policy folders (policies.paths): the head is judged by the same policies as check."""
    for p in config.policies.get("paths") or []:
        src = repo / p
        if src.is_dir():
            shutil.copytree(src, dst / p, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".git"))
        elif src.is_file():
            (dst / p).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / p)


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


def _checks(rendered: list[Rendered], config: Config, repo: Path, env: str | None) -> CheckResult:
    from promoter.validate import ValidateOptions, validate

    result = CheckResult()
    resources: list[Resource] = []
    for r in rendered:
        result.findings.extend(r.findings)
        if r.subject is not None:
            result.subjects.append(r.subject)
        resources.extend(r.resources)
    result.extend(validate(resources, ValidateOptions.from_config(config, repo)))
    try:
        from promoter.policy import evaluate_policies
    except ImportError:  # pragma: no cover - the policy package ships with promoter
        return result
    result.extend(evaluate_policies(resources, config, env, repo))
    return result


def _objects(rendered: list[Rendered]) -> dict[str, str]:
    """`target :: kind/namespace/name` → the object as stable YAML."""
    out: dict[str, str] = {}
    for r in rendered:
        for res in r.resources:
            out[f"{r.target.id} :: {res.display}"] = yaml.safe_dump(res.obj, sort_keys=True, default_flow_style=False)
    return out


def _diff(base: dict[str, str], head: dict[str, str]) -> str:
    chunks: list[str] = []
    for key in sorted(set(base) | set(head)):
        a, b = base.get(key, ""), head.get(key, "")
        if a == b:
            continue
        chunks.append(
            "".join(
                difflib.unified_diff(
                    a.splitlines(True), b.splitlines(True), fromfile=f"base/{key}", tofile=f"head/{key}"
                )
            )
        )
    return "".join(chunks)
