"""Folders: plain manifest folders read and parsed in forked processes when there are many files.

Parsing YAML is most of what checking plain folders costs (PyYAML builds a Python object per
libyaml event), and it holds the GIL: threads do not help, processes do. Children are forked so
they share the renderer's settings without pickling; each reads a share of the folders and sends
back what it found. The objects travel as one `marshal` blob per share (plain dicts, lists,
strings and numbers: several times cheaper than pickling Resource objects), the few findings
pickled. Results come back in the order shares finish, so the caller starts on the first while
later ones are still being read.
"""

from __future__ import annotations

import marshal
import multiprocessing
import os
import pickle
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from promoter.model.errors import ToolError
from promoter.model.finding import CheckResult, Finding, Location, Status, Subject
from promoter.model.pool import stop_pool
from promoter.model.resource import Resource
from promoter.render.graph import CHART_KINDS, Target

# What the renderer's read of one folder returns (render/renderer.py's Rendered: not imported, the
# renderer imports this module): its subject, findings and resources are what is read here.
Rendered = Any

# Below this many files forking (about 10 ms a process) costs more than it saves.
MIN_PARALLEL_FILES = 64
# Shares per process: small enough that the caller starts early and processes finish together.
SHARES_PER_JOB = 4

_READ: Callable[[Target], Rendered] | None = None  # set before forking; children inherit it
_JUDGE: Callable[[Rendered], CheckResult | None] | None = None
_TARGETS: list[Target] = []

# Per folder: (index, status, findings, what judging it where it was read found or None, objects judged).
Head = tuple[int, str, list[Finding], CheckResult | None, int]
Packed = tuple[list[Head], bytes]
Read = tuple[int, str, list[Finding], list[Resource], CheckResult | None, int]


def worth_forking(targets: list[Target], jobs: int) -> bool:
    return (
        jobs > 1
        and sum(len(t.manifests) for t in targets) >= MIN_PARALLEL_FILES
        and "fork" in multiprocessing.get_all_start_methods()
    )


def _judged(r: Rendered, judge: Callable[[Rendered], CheckResult | None] | None) -> CheckResult | None:
    """What `judge` says of a folder read here; None (carry its objects) when the renderer reads them further."""
    if judge is None or any(res.kind in CHART_KINDS for res in r.resources):
        return None
    return judge(r)


def _read_share(indexes: list[int]) -> Packed:
    """In a child: read these folders; (index, status, findings, judged, count) each, and the objects
    that were not judged here as one blob."""
    assert _READ is not None
    heads: list[Head] = []
    objects: list[tuple[int, Any, str | None, int | None, str | None]] = []
    subjects: list[tuple[Any, ...]] = []  # (head index, the subject's fields): judged folders' subjects
    for i in indexes:
        r = _READ(_TARGETS[i])
        status = r.subject.status.value if r.subject is not None else Status.ERROR.value
        judged = _judged(r, _JUDGE)
        heads.append((i, status, r.findings, judged, len(r.resources) if judged is not None else 0))
        if judged is not None:
            # One subject per object: as plain tuples in the blob, rebuilt by the caller (pickling
            # ten thousand dataclasses cost twice as much on each side).
            subjects.extend((len(heads) - 1, *_subject_row(x)) for x in judged.subjects)
            judged.subjects = []
            continue
        for res in r.resources:
            loc = res.location
            objects.append((i, res.obj, loc.file if loc else None, loc.line if loc else None, res.env))
    try:
        blob = b"m" + marshal.dumps((objects, subjects))
    except ValueError:  # a value marshal does not know (none the manifest loader makes): pickle it
        blob = b"p" + pickle.dumps((objects, subjects), protocol=pickle.HIGHEST_PROTOCOL)
    return heads, blob


def _subject_row(s: Subject) -> tuple[Any, ...]:
    loc = s.location
    where = (loc.file, loc.line, loc.column, loc.end_line) if loc is not None else None
    return (s.id, s.kind, s.target, where, s.status.value, s.reason, s.details or None)


def _subject(row: tuple[Any, ...]) -> Subject:
    sid, kind, target, where, status, reason, details = row
    return Subject(sid, kind, target, Location(*where) if where else None, Status(status), reason, details or {})


def read_parallel(
    targets: list[Target],
    read: Callable[[Target], Rendered],
    jobs: int,
    judge: Callable[[Rendered], CheckResult | None] | None = None,
) -> Iterator[Read]:
    """(index into `targets`, status, findings, resources, judged, judged count) of every folder, read
    by `read` in `jobs` forked processes, in the order their shares finish. The processes start now
    (before the caller starts any thread: a fork copies only the thread that calls it); the results
    are read as the caller iterates. Without processes to be had, the folders are read here, as the
    caller iterates.

    `judge` runs on each folder where it was read; a folder it judges (a result, not None) comes back
    as that result and a count, without its objects: unpacking ten thousand objects in this process
    cost as much as reading them in two.

    A process that dies (the kernel's out-of-memory killer, a signal) is a ToolError, not a wait
    forever: `concurrent.futures` notices a dead worker, where `multiprocessing.Pool` would replace
    it and wait for the lost share without end."""
    global _READ, _TARGETS, _JUDGE
    order = sorted(range(len(targets)), key=lambda i: -len(targets[i].manifests))
    count = max(1, min(len(order), jobs * SHARES_PER_JOB))
    shares = [order[k::count] for k in range(count)]  # dealt like cards: each share gets big and small folders
    _READ, _TARGETS, _JUDGE = read, targets, judge
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork"))
    try:
        # With fork, the first submit starts every process, then the executor's own thread.
        futures = [pool.submit(_read_share, share) for share in shares]
    except OSError:  # no processes to be had (limits, a sandbox): the same work, in this one
        pool.shutdown(wait=False, cancel_futures=True)
        _READ, _TARGETS, _JUDGE = None, [], None
        return _read_here(targets, order, read, judge)
    return _collect(targets, pool, futures)


def _read_here(
    targets: list[Target],
    order: list[int],
    read: Callable[[Target], Rendered],
    judge: Callable[[Rendered], CheckResult | None] | None,
) -> Iterator[Read]:
    for i in order:
        r = read(targets[i])
        status = r.subject.status.value if r.subject is not None else Status.ERROR.value
        judged = _judged(r, judge)
        if judged is None:
            yield i, status, r.findings, r.resources, None, 0
        else:
            yield i, status, r.findings, [], judged, len(r.resources)


def _collect(targets: list[Target], pool: ProcessPoolExecutor, futures: list[Future[Packed]]) -> Iterator[Read]:
    global _READ, _TARGETS, _JUDGE
    finished = False
    try:
        for future in as_completed(futures):
            try:
                heads, blob = future.result()
            except BrokenProcessPool:
                raise ToolError(
                    "a process reading plain manifest folders died before it finished (killed by a signal, "
                    "perhaps the out-of-memory killer); nothing was checked",
                    hint="run again; on a small runner give it more memory, or pass --jobs 1",
                ) from None
            objects, subjects = marshal.loads(blob[1:]) if blob[:1] == b"m" else pickle.loads(blob[1:])  # noqa: S301 - our child's
            for head, *row in subjects:
                judged = heads[head][3]
                assert judged is not None  # rows come only from judged folders
                judged.subjects.append(_subject(tuple(row)))
            by_target: dict[int, list[Resource]] = {}
            for i, obj, file, line, env in objects:
                loc = Location(file, line) if file is not None else None
                by_target.setdefault(i, []).append(Resource(obj, targets[i].id, loc, env))
            for i, status, findings, judged, count in heads:
                yield i, status, findings, by_target.get(i, []), judged, count
        finished = True
    finally:
        # Stopped early (an error above or in the caller): shares not started are dropped, and the
        # processes are ended, not waited for.
        stop_pool(pool, finished=finished)
        _READ, _TARGETS, _JUDGE = None, [], None


def default_jobs() -> int:
    """Processes for CPU-bound work: the CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)
