"""Pool: how promoter's process pools end, so that no exit prints a traceback."""

from __future__ import annotations

import contextlib
from concurrent.futures import ProcessPoolExecutor


def stop_pool(pool: ProcessPoolExecutor, *, finished: bool) -> None:
    """End a pool whose work is `finished` (every result read), or was abandoned (an error, a dead child).

    Always waits for the pool's manager thread. Python 3.11's exit handler wakes the manager thread of
    a pool shut down with `wait=False`; when that thread is closing its pipe at the same moment, the
    exit prints "OSError: [Errno 9] Bad file descriptor" with a traceback, after the report (CPython
    gh-83279 and kin, fixed in later versions). Finished, the processes are idle and exit at once;
    abandoned, they may be in the middle of a share, so they are terminated first, not waited for."""
    if not finished:
        # The pool's own processes (concurrent.futures keeps them by pid); nothing else to end them early.
        for proc in list((getattr(pool, "_processes", None) or {}).values()):
            with contextlib.suppress(OSError, AttributeError):  # already gone
                proc.terminate()
    pool.shutdown(wait=True, cancel_futures=not finished)
