"""Check: the gatekeeper pipeline: select what a change affects, render, validate, evaluate policies and gates."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promoter.config.model import Config
from promoter.model.errors import UsageError
from promoter.model.finding import CheckResult, Status
from promoter.model.resource import Resource
from promoter.render.graph import Graph, Target, build_graph, matches_env
from promoter.render.renderer import Rendered, Renderer
from promoter.render.sources import field_location

if TYPE_CHECKING:
    from promoter.validate import ValidateOptions


@dataclass
class Selection:
    """Which targets a check covers, and why: the graph, the changed files, the filters applied."""

    graph: Graph
    targets: list[Target]
    changed: list[str] = field(default_factory=list)  # repo-relative paths (old and new of renames); empty with --all
    base: str | None = None  # the merge-base commit compared with the working tree
    ref: str | None = None  # the --base ref as given (history is read on it)


def parse_shard(text: str) -> tuple[int, int]:
    """`K/N` (1 ≤ K ≤ N) → (K, N); anything else is a usage error naming the flag."""
    try:
        k, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise UsageError(f"--shard {text!r}: expected K/N, e.g. 1/4") from None
    if n < 1 or not 1 <= k <= n:
        raise UsageError(f"--shard {text!r}: K must be between 1 and N")
    return k, n


def shard_of(target: Target, total: int) -> int:
    """The 1-based shard a target belongs to: a stable hash of its id, the same on every CI job."""
    digest = hashlib.sha256(target.id.encode()).digest()
    return int.from_bytes(digest[:8], "big") % total + 1


def select_targets(
    repo: Path,
    config: Config,
    *,
    base: str | None,
    all_: bool,
    env: str | None = None,
    shard: tuple[int, int] | None = None,
) -> Selection:
    """The targets to check: affected by the diff against `base` (or all), filtered by env and shard."""
    if all_ == (base is not None):
        raise UsageError("give exactly one of --base REF or --all")
    if env is not None and config.environments:
        config.env(env)  # an unknown environment is a usage error, not an empty check
    changed: list[str] = []
    merge_base = None
    if base is not None:
        from promoter.history.git import GitRepo

        git = GitRepo.open(repo)
        merge_base = git.merge_base(base)
        for diff in git.changed_files(base, merge_base=merge_base):
            changed.extend(diff.paths)
    graph = build_graph(repo, config)
    targets = graph.targets if all_ else graph.affected(changed)
    if env is not None:
        targets = [t for t in targets if matches_env(t, env)]
    if shard is not None:
        k, n = shard
        targets = [t for t in targets if shard_of(t, n) == k]
    return Selection(
        graph=graph,
        targets=sorted(targets, key=lambda t: t.id),
        changed=sorted(set(changed)),
        base=merge_base,
        ref=base,
    )


def run_check(
    repo: Path,
    config: Config,
    *,
    base: str | None,
    all_: bool,
    env: str | None = None,
    shard: tuple[int, int] | None = None,
    validate_options: ValidateOptions | None = None,
    policy_dirs: list[Path] | None = None,
    renderer: Renderer | None = None,
    workers: int | None = None,
    now: datetime | None = None,
) -> CheckResult:
    """Render what the change affects (or everything), validate it offline, evaluate policies and,
    with a base, the promotion gates of every environment whose image the change moves: one result.

    `now` (an aware datetime) fixes the clock the gates read (freeze windows, soak), for tests."""
    start = time.perf_counter()
    repo = repo.resolve()
    selection = select_targets(repo, config, base=base, all_=all_, env=env, shard=shard)
    charts = {t.path for t in selection.graph.targets if t.kind == "helm"}
    renderer = renderer or Renderer(repo, charts=charts)
    if not renderer.charts:
        renderer.charts = charts
    rendered = renderer.render_all(selection.targets, workers=workers)
    render_seconds = time.perf_counter() - start

    result = CheckResult()
    result.targets = [t.id for t in selection.targets]
    resources: list[Resource] = []
    rendered = [n for r in rendered for n in r.walk()]  # charts rendered inside a target count like targets
    for r in rendered:
        result.findings.extend(r.findings)
        if r.subject is not None:
            result.subjects.append(r.subject)
        resources.extend(r.resources)

    if validate_options is None:
        from promoter.validate import ValidateOptions

        validate_options = ValidateOptions.from_config(config, repo)
    result.extend(_validate(resources, rendered, validate_options, repo))
    result.extend(_policies(resources, config, env, repo, policy_dirs or []))
    _point_at_fields(result, rendered, repo)
    # Gates judge the change as a whole, not a target: only the first shard reports them, once.
    if base is not None and (shard is None or shard[0] == 1):
        result.extend(_gates(repo, config, selection, env, now))

    result.stats.update(
        {
            "mode": "all" if all_ else "base",
            "base": selection.base,
            "changed_files": len(selection.changed),
            "targets_total": len(selection.graph.targets),
            "targets": len(selection.targets),
            "rendered": sum(1 for r in rendered if r.ran),  # overlays, charts and folders, nested charts included
            "skipped": sum(1 for r in rendered if r.subject is not None and r.subject.status is Status.SKIPPED),
            "resources": len(resources),
            "render_seconds": round(render_seconds, 3),
            "seconds": round(time.perf_counter() - start, 3),
        }
    )
    if shard is not None:
        result.stats["shard"] = f"{shard[0]}/{shard[1]}"
    if env is not None:
        result.stats["env"] = env
    return result


def _validate(resources: list[Resource], rendered: list[Rendered], options: ValidateOptions, repo: Path) -> CheckResult:
    from promoter.validate import validate, validate_values

    result = validate(resources, options) if resources else CheckResult()
    # Values are checked against values.schema.json whether or not helm could render the chart.
    seen: set[tuple[str, tuple[str, ...]]] = set()
    for r in rendered:
        t = r.target
        if t.kind != "helm" or not (repo / t.path / "values.schema.json").is_file():
            continue
        key = (t.path, tuple(t.values))
        if key in seen:
            continue
        seen.add(key)
        values = [repo / v for v in t.values if (repo / v).is_file()]
        sub = validate_values(repo / t.path, values, repo)
        sub.targets = []  # the selected targets are listed once, by id, in run_check
        owner = r.subject.target if r.subject is not None and r.subject.target else t.id  # nested: the overlay
        for f in sub.findings:
            f.target = owner
        for subject in sub.subjects:
            subject.target = owner
        result.extend(sub)
    return result


def _gates(repo: Path, config: Config, selection: Selection, env: str | None, now: datetime | None) -> CheckResult:
    """Promotion gates for every (app, env) whose image the diff moves: a hand-written PR skipping stage fails."""
    from promoter.gates.engine import gates_for_diff

    assert selection.ref is not None and selection.base is not None
    # The diff the selection already read from git: the gates judge the same change, not a second reading of it.
    from promoter.flows.forgeaccess import ForgeAccess

    # The healthy gate reads commit statuses: from the forge CI's variables and the config name
    # (opened only if a configured gate asks; without a token it blocks, saying so).
    with ForgeAccess(config) as access:
        result = gates_for_diff(
            repo,
            config,
            selection.ref,
            now=now,
            changed=selection.changed,
            merge_base=selection.base,
            statuses=access,
        )
    result.targets = []  # gate subjects name environments, not rendered targets
    if env is not None:
        result.findings = [f for f in result.findings if f.target in (None, env)]
        result.subjects = [s for s in result.subjects if s.target in (None, env)]
    return result


def _point_at_fields(result: CheckResult, rendered: list[Rendered], repo: Path) -> None:
    """Move findings about one field from the object's first line to the line (manifest or patch) that wrote it."""
    origins = {(r.target.id, rid): locs for r in rendered for rid, locs in r.origins.items()}
    parsed: dict[str, list[Any]] = {}  # each source file parsed once for all its findings
    for f in result.findings:
        pointer = f.evidence.get("pointer") if f.evidence else None
        locs = origins.get((f.target or "", f.subject or ""))
        if not pointer or not locs:
            continue
        loc = field_location(repo, locs, str(pointer), parsed)
        if loc is not None:
            f.location = loc


def _policies(
    resources: list[Resource], config: Config, env: str | None, repo: Path, extra_dirs: list[Path]
) -> CheckResult:
    """Policies and their per-environment severities."""
    if not resources:
        return CheckResult()
    from promoter.policy import evaluate_policies

    # env None: each resource is judged under its own environment (set from its target).
    return evaluate_policies(resources, config, env, repo, extra_dirs)
