"""Batch: many manifest files (or rendered texts) parsed and validated, split across processes when big."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from promoter.model.errors import ToolError
from promoter.model.finding import (
    CheckResult,
    Finding,
    Location,
    Severity,
    repo_relative,
)
from promoter.model.pool import stop_pool
from promoter.validate.builtin import gc_paused, validate_resources
from promoter.validate.schemas import SchemaSource
from promoter.yamlio.manifests import load_manifests

# Below this many files/texts, forking (about 10 ms per process) costs more than it saves.
MIN_PARALLEL_ITEMS = 32

# (text or path, target, file) per item; set before forking so children inherit it without pickling.
_ITEMS: Sequence[tuple[Any, str, str | None]] = ()
_SOURCE: SchemaSource | None = None
_OPTS: dict[str, Any] = {}


def _run(lo: int, hi: int) -> CheckResult:
    result = CheckResult()
    resources = []
    for item, target, file in _ITEMS[lo:hi]:
        if isinstance(item, Path):
            try:
                text = item.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                result.findings.append(
                    Finding(
                        rule="yaml",
                        severity=Severity.ERROR,
                        message=f"cannot read {file or item}: {exc}",
                        location=Location(file or str(item)),
                        source="schema",
                        target=target,
                    )
                )
                continue
        else:
            text = item
        found, problems = load_manifests(text, target, file=file)
        resources.extend(found)
        result.findings.extend(problems)
    assert _SOURCE is not None
    result.extend(validate_resources(resources, _SOURCE, **_OPTS))
    return result


def validate_items(
    items: Sequence[tuple[str | Path, str, str | None]],
    source: SchemaSource,
    *,
    jobs: int | None = None,
    strict_missing: bool = False,
    skip_kinds: Sequence[str] = (),
) -> CheckResult:
    """Parse and validate (text-or-path, target, repo file or None) items; `jobs` processes (default: CPUs).

    Results come back in item order, so output does not depend on `jobs`.
    """
    global _ITEMS, _SOURCE, _OPTS
    jobs = max(1, jobs or os.cpu_count() or 1)
    _ITEMS, _SOURCE = items, source
    _OPTS = {"strict_missing": strict_missing, "skip_kinds": tuple(skip_kinds)}
    # Parsing allocates millions of acyclic objects; the cyclic GC would rescan them over and over
    # (a third of the time). Forked children inherit the setting.
    with gc_paused():
        return _validate_items(items, jobs)


def _validate_items(items: Sequence[tuple[str | Path, str, str | None]], jobs: int) -> CheckResult:
    global _ITEMS, _SOURCE, _OPTS
    try:
        n = len(items)
        can_fork = "fork" in multiprocessing.get_all_start_methods()
        if jobs == 1 or n < MIN_PARALLEL_ITEMS or not can_fork:
            return _run(0, n)
        bounds = [(n * k // jobs, n * (k + 1) // jobs) for k in range(jobs)]
        # Children are forked so they share the items and warm schema caches; the parent takes a share too.
        # concurrent.futures, not multiprocessing.Pool: a child that dies (out-of-memory killer) is an
        # error at once; Pool would wait for its lost share forever.
        pool = ProcessPoolExecutor(jobs - 1, mp_context=multiprocessing.get_context("fork"))
        finished = False
        try:
            try:
                pending = [pool.submit(_run, *b) for b in bounds[1:]]
            except OSError:  # no processes to be had (limits, sandbox): the same work, in this one
                return _run(0, n)
            parts = [_run(*bounds[0])] + [p.result() for p in pending]
            finished = True
        except BrokenProcessPool:
            raise ToolError(
                "a process validating manifests died before it finished (killed by a signal, perhaps the "
                "out-of-memory killer); nothing was checked",
                hint="run again with more memory, or with one job",
            ) from None
        finally:
            stop_pool(pool, finished=finished)
        out = CheckResult()
        for part in parts:
            out.extend(part)
        return out
    finally:
        _ITEMS, _SOURCE, _OPTS = (), None, {}


def validate_files(
    paths: Sequence[Path], source: SchemaSource, *, jobs: int | None = None, repo: Path | None = None, **kwargs: Any
) -> CheckResult:
    """Validate manifest files; each file is its own target, located by its path (relative to `repo` if given)."""
    items = []
    for p in paths:
        rel = p.name if repo is None else repo_relative(p, repo)
        items.append((p, rel, rel))
    return validate_items(items, source, jobs=jobs, **kwargs)
