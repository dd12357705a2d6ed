"""Plain folders read in forked processes: results as the one-process read gives them, and a process
that dies (out-of-memory killer, a signal) is a one-line error within moments, never a wait forever."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from types import SimpleNamespace

import pytest

from promoter.model.errors import ToolError
from promoter.model.finding import CheckResult, Status
from promoter.model.resource import Resource
from promoter.render.folders import read_parallel
from promoter.render.graph import Target


def _targets(n: int) -> list[Target]:
    return [Target(id=f"apps/a{i}", kind="plain", path=f"apps/a{i}", manifests=[f"apps/a{i}/x.yaml"]) for i in range(n)]


def _read(target: Target) -> SimpleNamespace:
    obj = {"kind": "ConfigMap", "metadata": {"name": target.id.rsplit("/", 1)[1]}}
    subject = SimpleNamespace(status=Status.PASSED)
    return SimpleNamespace(subject=subject, findings=[], resources=[Resource(obj, target.id, None, None)])


def test_forked_reads_return_every_folder_once() -> None:
    targets = _targets(40)
    got = {
        i: (status, [r.obj["metadata"]["name"] for r in res])
        for i, status, _, res, _, _ in read_parallel(targets, _read, 2)
    }
    assert got == {i: (Status.PASSED.value, [f"a{i}"]) for i in range(40)}


def _judge(r: SimpleNamespace) -> CheckResult:
    return CheckResult(stats={"judged": [res.obj["metadata"]["name"] for res in r.resources]})


@pytest.mark.parametrize("fork", [True, False])
def test_a_judged_folder_comes_back_as_its_verdict_and_a_count(monkeypatch: pytest.MonkeyPatch, fork: bool) -> None:
    """Judged where it was read, a folder's objects stay there; one holding what the renderer reads
    further (a HelmRelease) comes back whole. The same without processes to be had."""
    if not fork:
        import concurrent.futures

        def no_processes(*args: object, **kwargs: object) -> None:
            raise OSError("no processes")

        monkeypatch.setattr(concurrent.futures.ProcessPoolExecutor, "submit", no_processes)

    def read(target: Target) -> SimpleNamespace:
        r = _read(target)
        if target.id == "apps/a4":
            r.resources.append(Resource({"kind": "HelmRelease", "metadata": {"name": "r"}}, target.id, None, None))
        return r

    got = {i: (res, judged, count) for i, _, _, res, judged, count in read_parallel(_targets(20), read, 2, _judge)}
    assert len(got) == 20
    res, judged, count = got[3]
    assert res == [] and count == 1 and judged is not None and judged.stats == {"judged": ["a3"]}
    res, judged, count = got[4]
    assert judged is None and count == 0 and [r.kind for r in res] == ["ConfigMap", "HelmRelease"]


def test_an_exception_in_a_process_reaches_the_caller() -> None:
    def boom(target: Target) -> SimpleNamespace:
        if target.id == "apps/a3":
            raise ToolError("read failed in the child")
        return _read(target)

    with pytest.raises(ToolError, match="read failed in the child"):
        list(read_parallel(_targets(20), boom, 2))


def test_a_killed_process_is_an_error_not_a_hang() -> None:
    # In a subprocess with a time-out: before the fix this waited forever for the lost share.
    script = textwrap.dedent(
        """
        import os, signal, sys
        from tests.render.test_folders_parallel import _read, _targets
        from promoter.model.errors import ToolError
        from promoter.render.folders import read_parallel

        def killer(target):
            if target.id == "apps/a5":
                os.kill(os.getpid(), signal.SIGKILL)  # what the out-of-memory killer does
            return _read(target)

        try:
            list(read_parallel(_targets(30), killer, 2))
        except ToolError as exc:
            print(exc)
            sys.exit(7)
        sys.exit(0)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 7, out.stderr
    assert "a process reading plain manifest folders died" in out.stdout
    assert "--jobs 1" in out.stdout


def _manager_threads() -> list[object]:
    import threading
    from concurrent.futures import process

    # The pool's manager thread (a private class of concurrent.futures): alive at exit, Python 3.11's exit
    # handler may race it and print "OSError: [Errno 9] Bad file descriptor" after the report.
    return [t for t in threading.enumerate() if isinstance(t, process._ExecutorManagerThread)]


def test_no_pool_thread_is_left_for_the_exit_to_race() -> None:
    assert len(list(read_parallel(_targets(40), _read, 2))) == 40
    assert _manager_threads() == []


def test_a_pool_abandoned_on_an_error_is_ended_too() -> None:
    def boom(target: Target) -> SimpleNamespace:
        if target.id == "apps/a0":
            raise ToolError("read failed in the child")
        return _read(target)

    with pytest.raises(ToolError):
        list(read_parallel(_targets(40), boom, 2))
    assert _manager_threads() == []
