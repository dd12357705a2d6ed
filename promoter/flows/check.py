"""Check: the gatekeeper pipeline: select what a change affects, render, validate, evaluate policies and gates."""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promoter.config.model import Config
from promoter.model.errors import UsageError
from promoter.model.finding import CheckResult, Finding, Severity, Status
from promoter.model.resource import Resource
from promoter.render.graph import KUSTOMIZATION_NAMES, Graph, Target, build_graph, matches_env
from promoter.render.renderer import Rendered, Renderer
from promoter.render.settings import RenderSettings
from promoter.render.shards import Plan, assign, hashed_shard
from promoter.render.sources import (
    field_location,
    image_entry_location,
    inline_patch_location,
    is_image_pointer,
    values_entry_location,
    values_field_location,
)

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
    cut: str | None = None  # with a shard: a digest of which shard every selected target went to (see cut_digest)


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
    """The 1-based shard of a target no plan or cost knows: a stable hash of its id, the same on every CI job."""
    return hashed_shard(target.id, total)


def select_targets(
    repo: Path,
    config: Config,
    *,
    base: str | None,
    all_: bool,
    env: str | None = None,
    shard: tuple[int, int] | None = None,
    plan: Plan | None = None,
) -> Selection:
    """The targets to check: affected by the diff against `base` (or all), filtered by env and shard.

    A shard is the plan's cut when a plan is given (`promoter plan`), else a cut of the selected targets
    into parts of about equal cost (render/shards.py), the same on every CI job."""
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
    graph = build_graph(repo, config, RenderSettings.from_config(config))
    targets = graph.targets if all_ else graph.affected(changed)
    if env is not None:
        targets = [t for t in targets if matches_env(t, env)]
    cut_id = None
    if shard is not None:
        k, n = shard
        if plan is not None and plan.shards != n:
            raise UsageError(f"--shard {k}/{n}: the plan cuts the work into {plan.shards} shards, not {n}")
        cut = assign(repo, targets, n, plan)
        cut_id = cut_digest(cut, n)
        targets = [t for t in targets if cut[t.id] == k]
    return Selection(
        graph=graph,
        targets=sorted(targets, key=lambda t: t.id),
        changed=sorted(set(changed)),
        base=merge_base,
        ref=base,
        cut=cut_id,
    )


def cut_digest(cut: dict[str, int], shards: int) -> str:
    """The identity of a cut: every shard job of one plan (or one repository state) computes the same,
    so `report merge` refuses shards whose digests differ (they checked parts of different wholes)."""
    text = json.dumps({"shards": shards, "cut": sorted(cut.items())}, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


FAIL_ON = ("new", "any")


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
    fail_on: str | None = None,
    jobs: int | None = None,
    plan: Plan | None = None,
) -> CheckResult:
    """Render what the change affects (or everything), validate it offline, evaluate policies and,
    with a base, the promotion gates of every environment whose image the change moves: one result.

    With a base, the affected targets are checked at the base as well and every finding is marked
    `new` or `existing` by its identity (rule, object, field path); `fail_on` "new" (the default with
    a base) fails only on new blocking findings, "any" (the default with --all) on every one.
    `now` (an aware datetime) fixes the clock the gates read (freeze windows, soak), for tests.
    `jobs`: processes for parsing manifest folders and for policies (default: the CPUs available)."""
    import gc

    # A check builds millions of acyclic objects (parsed manifests, subjects, findings); the cyclic
    # collector would walk them again and again (a third of the time on a big repository).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _run_check(
            repo,
            config,
            base,
            all_,
            env,
            shard,
            validate_options,
            policy_dirs,
            renderer,
            workers,
            now,
            fail_on,
            jobs,
            plan,
        )
    finally:
        if enabled:
            gc.enable()


def _run_check(
    repo: Path,
    config: Config,
    base: str | None,
    all_: bool,
    env: str | None,
    shard: tuple[int, int] | None,
    validate_options: ValidateOptions | None,
    policy_dirs: list[Path] | None,
    renderer: Renderer | None,
    workers: int | None,
    now: datetime | None,
    fail_on: str | None,
    jobs: int | None,
    plan: Plan | None,
) -> CheckResult:
    start = time.perf_counter()
    repo = repo.resolve()
    fail_on = fail_on or ("new" if base is not None else "any")
    if fail_on not in FAIL_ON:
        raise UsageError(f"--fail-on {fail_on}: expected one of {', '.join(FAIL_ON)}")
    if fail_on == "new" and base is None:
        raise UsageError("--fail-on new needs --base REF: without a base there is nothing to be new against")
    selection = select_targets(repo, config, base=base, all_=all_, env=env, shard=shard, plan=plan)
    settings = RenderSettings.from_config(config)
    if validate_options is None:
        from promoter.validate import ValidateOptions

        validate_options = ValidateOptions.from_config(config, repo)
    result, outcome = check_targets(
        repo,
        config,
        selection.targets,
        selection.graph,
        settings=settings,
        validate_options=validate_options,
        policy_dirs=policy_dirs or [],
        env=env,
        renderer=renderer,
        workers=workers,
        jobs=jobs,
    )
    if all_ and not selection.graph.targets:
        # Fail closed: a check of everything that found nothing to check has checked nothing.
        result.findings.append(
            Finding(
                "no-targets",
                Severity.ERROR,
                f"--all found nothing to check in {repo}: no kustomization, Helm chart or folder of Kubernetes manifests",
                source="render",
                help="point --repo at the GitOps repository (the folder holding its overlays, charts and manifests)",
            )
        )
    # The repository's own unreadable paths (a link leaving it, a FIFO): reported once, by the first shard.
    if shard is None or shard[0] == 1:
        problems = selection.graph.problems_for(None if all_ else selection.changed)
        result.findings.extend(p for p in problems if env is None or not p.envs or env in p.envs)
    # Gates judge the change as a whole, not a target: only the first shard reports them, once.
    if base is not None and (shard is None or shard[0] == 1):
        result.extend(_gates(repo, config, selection, env, now))
    base_seconds = 0.0
    if selection.base is not None:
        t0 = time.perf_counter()
        known = _baseline(repo, config, selection, settings, validate_options, policy_dirs or [], env, workers, jobs)
        # What could not be checked at HEAD (not rendered, not read) blocks whatever the base had: the
        # change to it is unseen, so "the base failed the same way" says nothing about the change.
        unchecked = {s.id for s in result.subjects if s.status is Status.ERROR}
        for f in result.findings:
            # Gates judge the change itself: whatever they say is new.
            blind = f.blocking and f.subject is not None and f.subject in unchecked
            f.baseline = "existing" if f.source != "gate" and not blind and _baseline_key(f) in known else "new"
        base_seconds = time.perf_counter() - t0
    order = [e.name for e in config.environments]
    result.findings = merge_findings(result.findings, order)
    result.fail_on = fail_on
    # Reports list environments in promotion order.
    rank = {e: i for i, e in enumerate(order)}
    result.target_envs = dict(
        sorted(result.target_envs.items(), key=lambda kv: (rank.get(kv[1] or "", len(rank)), kv[1] or "", kv[0]))
    )

    rendered = outcome.rendered
    result.stats.update(
        {
            "mode": "all" if all_ else "base",
            "base": selection.base,
            "fail_on": fail_on,
            "changed_files": len(selection.changed),
            "targets_total": len(selection.graph.targets),
            "targets": len(selection.targets),
            "rendered": sum(1 for r in rendered if r.ran),  # overlays, charts and folders, nested charts included
            "skipped": sum(1 for r in rendered if r.subject is not None and r.subject.status is Status.SKIPPED),
            "not_rendered": sum(
                1 for r in rendered if r.subject is not None and r.subject.status in (Status.ERROR, Status.FAILED)
            ),
            "resources": outcome.resources,
            "tools": outcome.tools,
            "render_seconds": round(outcome.render_seconds, 3),
            "base_seconds": round(base_seconds, 3),
            "seconds": round(time.perf_counter() - start, 3),
        }
    )
    if selection.base is not None:
        result.stats["existing"] = sum(1 for f in result.findings if f.baseline == "existing")
    if shard is not None:
        result.stats["shard"] = f"{shard[0]}/{shard[1]}"
        result.stats["cut"] = selection.cut
    result.stats["environments"] = order  # promotion order: `report merge` orders merged findings' environments by it
    if env is not None:
        result.stats["env"] = env
    return result


@dataclass
class Outcome:
    """What checking some targets took besides findings: the renders, counts and the tools that ran."""

    rendered: list[Rendered] = field(default_factory=list)
    resources: int = 0
    tools: dict[str, str] = field(default_factory=dict)
    render_seconds: float = 0.0


def check_targets(
    repo: Path,
    config: Config,
    targets: list[Target],
    graph: Graph,
    *,
    settings: RenderSettings,
    validate_options: ValidateOptions,
    policy_dirs: list[Path],
    env: str | None,
    renderer: Renderer | None = None,
    workers: int | None = None,
    jobs: int | None = None,
) -> tuple[CheckResult, Outcome]:
    """Render `targets` of the tree at `repo`, validate the objects and their Helm values, run the
    policies, and point each finding at the line that set it: the one pipeline that `check` runs at
    the head and at the base, and that the PR preview runs on a promotion's head."""
    start = time.perf_counter()
    charts = {t.path for t in graph.targets if t.kind == "helm"}
    renderer = renderer or Renderer(repo, settings, charts=charts)
    if not renderer.charts:
        renderer.charts = charts
    if renderer.repo == graph.repo.resolve():
        renderer.preread = graph.read  # the manifests discovery read: parsed without a second read
    from promoter.policy import discard_started, prestart_policies

    try:
        # The policy workers load the engine and the pack while the targets render.
        prestart_policies(config, [env] if env else [t.env for t in targets], repo, policy_dirs, inputs=len(targets))
        judge_folder = _folder_judge(config, repo, validate_options, policy_dirs)
        tops = renderer.render_all(targets, workers=workers, jobs=jobs, judge=judge_folder)
        render_seconds = time.perf_counter() - start
        result = judge(
            tops,
            targets,
            config,
            tree=repo,
            repo=repo,
            validate_options=validate_options,
            policy_dirs=policy_dirs,
            env=env,
            jobs=jobs,
        )
    finally:
        discard_started()  # workers started for inputs that never came
    rendered = [n for r in tops for n in r.walk()]
    resources = sum(r.count for r in rendered)
    return result, Outcome(rendered, resources, renderer.tools(), render_seconds)


def _folder_judge(
    config: Config, repo: Path, options: ValidateOptions, policy_dirs: list[Path]
) -> Callable[[Rendered], CheckResult | None] | None:
    """What validates a plain folder in the process that read it, or None when its objects are needed here.

    The objects of a folder are needed here when policies will read them, when kubeconform validates
    (one batch), and when one of them is not a built-in Kubernetes kind: a CustomResourceDefinition
    (it adds schemas for every target) or a custom resource (its schema may come from a CRD elsewhere
    in the repository). Built-in kinds are looked up before any CRD (validate/schemas.py), so judging
    them apart gives the same verdicts as judging everything together."""
    from promoter.model.errors import ConfigError
    from promoter.policy import policy_sets
    from promoter.validate import choose_validator

    try:
        if policy_sets(config, repo, policy_dirs):
            return None
    except (ConfigError, UsageError, OSError):  # said once, where policies are evaluated
        return None
    if choose_validator(options) != "builtin":
        return None
    from promoter.validate import schema_source
    from promoter.validate.builtin import validate_resources
    from promoter.validate.schemas import is_crd

    try:
        # No objects yet: no CRDs and no repository scan, which only custom kinds need.
        source, _ = schema_source([], options)
    except (ConfigError, UsageError):  # said where everything is validated together
        return None

    def judge_folder(r: Rendered) -> CheckResult | None:
        for res in r.resources:
            if is_crd(res.obj) or not source.is_builtin(res.api_version, res.kind):
                return None
        result = validate_resources(
            r.resources, source, strict_missing=options.strict_missing, skip_kinds=options.skip_kinds
        )
        _point_at_fields(result, [r], repo)  # the tree being checked (the base's, for the baseline)
        return result

    return judge_folder


def judge(
    tops: list[Rendered],
    targets: list[Target],
    config: Config,
    *,
    tree: Path,
    repo: Path,
    validate_options: ValidateOptions,
    policy_dirs: list[Path],
    env: str | None,
    jobs: int | None = None,
) -> CheckResult:
    """Everything check says about rendered targets: their render findings, schemas, Helm values,
    policies, each finding at the line that set it and with its environment. `tree` holds the files
    that were rendered (values, sources); `repo` the checkout (policy folders, CRDs), the same folder
    for `check`, a copy with the change applied for the PR preview."""
    result = CheckResult()
    result.targets = [t.id for t in targets]
    result.target_envs = {t.id: t.env for t in targets}
    resources: list[Resource] = []
    rendered = [n for r in tops for n in r.walk()]  # charts rendered inside a target count like targets
    for r in rendered:
        result.findings.extend(r.findings)
        if r.subject is not None:
            result.subjects.append(r.subject)
        resources.extend(r.resources)
    judged = [r.judged for r in rendered if r.judged is not None]
    result.extend(_validate(resources, rendered, validate_options, tree, judged))
    if resources or judged:
        result.extend(_policies(resources, config, env, repo, policy_dirs, jobs))
    _drop_values_failures(result)
    _point_at_fields(result, rendered, tree)
    for f in result.findings:
        if not f.envs and (e := result.target_envs.get(f.target or "")):
            f.envs = [e]
    return result


def _baseline_key(f: Finding) -> tuple[tuple[str, str, str], str]:
    return (f.identity(), f.target or "")


def _baseline(
    repo: Path,
    config: Config,
    selection: Selection,
    settings: RenderSettings,
    options: ValidateOptions,
    policy_dirs: list[Path],
    env: str | None,
    workers: int | None,
    jobs: int | None = None,
) -> set[tuple[tuple[str, str, str], str]]:
    """The identities of what the same targets gave at the merge base: exported from git into a
    temporary folder and checked by the same pipeline, with the base's own configuration (so a change
    to the configuration, a renderer or a severity, shows as new; the command's flags apply to both).
    A target the change adds has nothing at the base: all its findings are new. A base whose
    configuration does not load has no findings to compare with: everything is new."""
    import tempfile

    from promoter.config.loader import load_config
    from promoter.history.git import GitRepo
    from promoter.model.errors import ConfigError

    assert selection.base is not None
    with tempfile.TemporaryDirectory(prefix="promoter-base-") as tmp:
        tree = Path(tmp)
        GitRepo.open(repo).export(selection.base, tree, _needed_at_base(selection, config))
        if config.file is not None and not Path(config.file).is_absolute():
            try:
                config = load_config(tree, tree / config.file) if (tree / config.file).is_file() else Config.empty()
            except (ConfigError, UsageError):
                return set()
            settings = RenderSettings.from_config(config)
        graph = build_graph(tree, config, settings)
        wanted = {t.id for t in selection.targets}
        targets = [t for t in graph.targets if t.id in wanted]
        # CRDs are still looked up in the checkout: the base tree holds only what the targets read.
        base_options = replace(options, schema_dirs=[_in_tree(d, repo, tree) for d in options.schema_dirs])
        result, _ = check_targets(
            tree,
            config,
            targets,
            graph,
            settings=settings,
            validate_options=base_options,
            policy_dirs=[_in_tree(d, repo, tree) for d in policy_dirs],
            env=env,
            workers=workers,
            jobs=jobs,
        )
        result.findings.extend(graph.problems_for(selection.changed))
    return {_baseline_key(f) for f in result.findings}


def _needed_at_base(selection: Selection, config: Config) -> Callable[[str], bool]:
    """Which base files to export: what the selected targets read (their files, every file beside them,
    their chart folders), the changed paths, and the configuration, schema and policy folders."""
    files = set(selection.changed)
    flat: set[str] = set()  # folders whose files are needed (kustomize may read a sibling the head no longer names)
    deep: set[str] = set(selection.graph.global_paths)  # folders needed whole
    if config.file:
        files.add(config.file)
    for t in selection.targets:
        files |= t.files
        deep |= t.dirs
        flat.update(posixpath.dirname(f) for f in t.files)
        if t.kind == "plain":
            flat.add("" if t.path == "." else t.path)
    flat.update(posixpath.dirname(f) for f in selection.changed)
    if "" in deep:
        return lambda p: True
    prefixes = tuple(d.rstrip("/") + "/" for d in deep)

    def keep(path: str) -> bool:
        return path in files or posixpath.dirname(path) in flat or path.startswith(prefixes) or path in deep

    return keep


def _in_tree(path: Path, repo: Path, tree: Path) -> Path:
    """A folder of the checkout, at the same place in the base's tree (a folder elsewhere stays)."""
    try:
        rel = path.resolve().relative_to(repo)
    except ValueError:
        return path
    return tree / rel if (tree / rel).exists() else path


def merge_findings(findings: list[Finding], env_order: list[str] | None = None) -> list[Finding]:
    """One finding per problem: the same rule at the same line about the same field, reached through
    several targets (overlays sharing a base), is kept once with every target and environment listed.
    It is new when any target reaches it anew."""
    order = {e: i for i, e in enumerate(env_order or [])}
    merged: dict[tuple[Any, ...], Finding] = {}
    out: list[Finding] = []
    for f in sorted(findings, key=lambda x: x.target or ""):
        key = _merge_key(f)
        if key is None:
            f.targets = f.targets or ([f.target] if f.target else [])
            out.append(f)
            continue
        first = merged.get(key)
        if first is None:
            f.targets = f.targets or ([f.target] if f.target else [])
            merged[key] = f
            out.append(f)
            continue
        for t in f.targets or ([f.target] if f.target else []):
            if t not in first.targets:
                first.targets.append(t)
        first.envs = sorted(set(first.envs) | set(f.envs), key=lambda e: (order.get(e, len(order)), e))
        if f.baseline == "new":
            first.baseline = "new"
    return out


def _merge_key(f: Finding) -> tuple[Any, ...] | None:
    loc = f.location
    if loc is None or not loc.line or f.source == "gate":
        return None  # nothing to say two of them are one
    message = f.message
    shown = f.evidence.get("resource") if f.evidence else None
    if isinstance(shown, str) and message.startswith(shown + ": "):
        message = message[len(shown) + 2 :]  # the object's name differs per overlay (namespace, prefix)
    return (f.rule, f.severity, f.waived, f.source, loc.file, loc.line, f.field_path, message)


def _drop_values_failures(result: CheckResult) -> None:
    """Helm refusing values that do not meet values.schema.json is said, at the values line, by the
    values-schema findings of the same target: keep those, drop Helm's one-line summary."""
    told = {f.target for f in result.findings if f.rule == "values-schema"}
    # A values file that does not parse (a duplicate key) stops the render, which says so at its line:
    # the values-schema check reading the same file must not say it a second time.
    unreadable = {
        (f.location.file, f.location.line)
        for f in result.findings
        if f.source == "render" and f.rule in ("duplicate-key", "yaml") and f.location is not None
    }
    result.findings = [
        f
        for f in result.findings
        if not (f.rule == "render-failed" and f.evidence.get("cause") == "values-schema" and f.target in told)
        and not (
            f.source == "values-schema"
            and f.rule == "yaml"
            and f.location is not None
            and (f.location.file, f.location.line) in unreadable
        )
    ]


def _validate(
    resources: list[Resource],
    rendered: list[Rendered],
    options: ValidateOptions,
    repo: Path,
    judged: list[CheckResult] | None = None,
) -> CheckResult:
    from promoter.validate import validate, validate_values

    result = validate(resources, options) if resources or judged else CheckResult()
    if judged:
        # Folders validated where they were read: in with the rest, in the order of the targets, as
        # if they had been validated here together (reports list subjects in that order).
        for part in judged:
            result.extend(part)
        rank: dict[str | None, int] = {}
        for r in rendered:
            rank.setdefault(r.target.id, len(rank))
        result.subjects.sort(key=lambda x: rank.get(x.target, -1))
        result.findings.sort(key=lambda x: rank.get(x.target, -1))
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
    with ForgeAccess(config, checkout=repo) as access:
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
    """Move findings about one field from the object's first line to the line that set it: the last
    patch that writes it, else the manifest's key; for an image, the overlay's `images:` entry (or, for
    Helm output, the values entry) that produced it."""
    if not result.findings:
        return  # most folders judged where they were read: no id of any object is needed
    by_resource: dict[tuple[str, str], tuple[Rendered, Resource]] = {}
    for r in rendered:
        for res in r.resources:
            by_resource.setdefault((res.target or r.target.id, res.id), (r, res))
    parsed: dict[str, list[Any]] = {}  # each source file parsed once for all its findings
    kdocs: dict[str, Any] = {}  # each kustomization too, for its inline patches
    for f in result.findings:
        hit = by_resource.get((f.target or "", f.subject or ""))
        if hit is None:
            continue
        r, res = hit
        pointer = str(f.evidence.get("pointer") or "") if f.evidence else ""
        if not pointer:
            pointer = _image_pointer(f, res) or _container_field_pointer(f, res) or ""
            if not pointer:
                continue
        if is_image_pointer(pointer):
            loc = _image_source(repo, r, res, pointer)
            if loc is not None:
                f.location = loc
                continue
        if r.target.kind == "helm":
            t = r.target
            loc = values_field_location(
                repo,
                list(t.values),
                res.obj,
                pointer,
                parameters=t.set_values,
                origin=t.origin,
                unknown=_unlocated_values(t),
            )
            if loc is not None:
                f.location = loc
                continue
        locs = r.sources_of(res)
        if locs:
            loc = field_location(repo, locs, pointer, parsed)
            if r.target.kind == "kustomize" and r.target.origin is not None:
                # A patch written inside a kustomization (JSON6902 ops, inline strategic merge) is no
                # source document: its op's line, when it set the field after any patch file did.
                loc = inline_patch_location(repo, r.target.origin.file, res.obj, pointer, loc, kdocs) or loc
            if loc is not None:
                f.location = loc


def _unlocated_values(t: Target) -> Any:
    """Values of a Helm target this cannot point into (inline values; anything at all for Flux valuesFrom
    and Argo fileParameters, whose keys are unknown here): a values entry they may override is not claimed."""
    if t.values_from or t.file_values:
        return _ANYTHING
    return t.inline_values or None


class _Anything(dict[str, Any]):
    """A mapping holding every key: each values path may be set by it."""

    def __contains__(self, key: object) -> bool:
        return True

    def __getitem__(self, key: str) -> Any:
        return self


_ANYTHING = _Anything()


_CONTAINER = re.compile(r'container "([^"]+)"')


def _image_pointer(f: Finding, res: Resource) -> str | None:
    """A policy finding about a container's image names the container, not the field: find the field."""
    if "image" not in f.rule:
        return None
    m = _CONTAINER.search(f.message)
    if m is None:
        return None
    for prefix, spec in _pod_specs(res.obj):
        for key in ("containers", "initContainers", "ephemeralContainers"):
            for i, c in enumerate(spec.get(key) or []):
                if isinstance(c, dict) and c.get("name") == m.group(1):
                    return f"{prefix}/{key}/{i}/image"
    return None


_FIELD = re.compile(r"\((?P<field>[A-Za-z]\w*(?:\.[A-Za-z]\w*)*): ")


def _container_field_pointer(f: Finding, res: Resource) -> str | None:
    """A policy finding about a container field set in the object (`container "api" runs privileged
    (securityContext.privileged: true)`): that field's pointer. None when the object does not hold the
    field (a finding about a missing field has no line that set it)."""
    if f.source != "policy":
        return None
    m, fm = _CONTAINER.search(f.message), _FIELD.search(f.message)
    if m is None or fm is None:
        return None
    path = fm.group("field").split(".")
    for prefix, spec in _pod_specs(res.obj):
        for key in ("containers", "initContainers", "ephemeralContainers"):
            for i, c in enumerate(spec.get(key) or []):
                if not isinstance(c, dict) or c.get("name") != m.group(1):
                    continue
                node: Any = c
                for part in path:
                    if not isinstance(node, dict) or part not in node:
                        return None
                    node = node[part]
                return f"{prefix}/{key}/{i}/" + "/".join(path)
    return None


def _pod_specs(obj: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    assert isinstance(spec, dict)
    out: list[tuple[str, dict[str, Any]]] = []
    if obj.get("kind") == "Pod":
        out.append(("/spec", spec))
    tmpl = spec.get("template")
    if isinstance(tmpl, dict) and isinstance(tmpl.get("spec"), dict):
        out.append(("/spec/template/spec", tmpl["spec"]))
    job = spec.get("jobTemplate")
    if isinstance(job, dict):
        jt = ((job.get("spec") or {}).get("template") or {}) if isinstance(job.get("spec"), dict) else {}
        if isinstance(jt, dict) and isinstance(jt.get("spec"), dict):
            out.append(("/spec/jobTemplate/spec/template/spec", jt["spec"]))
    return out


def _image_source(repo: Path, r: Rendered, res: Resource, pointer: str) -> Any:
    value: Any = res.obj
    for part in pointer.split("/")[1:]:
        if isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return None
    if not isinstance(value, str):
        return None
    t = r.target
    if t.kind == "kustomize":
        own = t.origin.file if t.origin is not None else None
        others = sorted(f for f in t.files if posixpath.basename(f) in KUSTOMIZATION_NAMES and (repo / f).is_file())
        files = ([own] if own else []) + [f for f in others if f != own]
        return image_entry_location(repo, files, value)
    if t.kind == "helm":
        return values_entry_location(repo, list(t.values), value)
    return None


def _policies(
    resources: list[Resource], config: Config, env: str | None, repo: Path, extra_dirs: list[Path], jobs: int | None
) -> CheckResult:
    """Policies and their per-environment severities."""
    from promoter.policy import evaluate_policies

    # env None: each resource is judged under its own environment (set from its target).
    return evaluate_policies(resources, config, env, repo, extra_dirs, jobs=jobs)
