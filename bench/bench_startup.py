"""Benchmark: start-up, `promoter --help` and `promoter check --all` on examples/, as a user runs them.

Each command runs --repeat times in fresh processes (the way hyperfine does), interleaved with the same
commands of a baseline source tree when `--baseline-src` is given (PYTHONPATH chooses the tree);
median and minimum wall time, median CPU (the process and its children: kubectl, the policy worker).
Goals (issue 18): `--help` ≤ 0.15 s, `check` on the example ≤ 1 s.

    python bench/bench_startup.py --repeat 15 [--baseline-src /tmp/promoter-main]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--baseline-src", type=Path, help="a promoter source tree to compare with (holding promoter/)")
    args = ap.parse_args()
    commands = {
        "promoter --help": ["--help"],
        "promoter check --all (examples)": ["check", "--repo", str(ROOT / "examples"), "--all"],
    }
    trees = {"this tree": ROOT}
    if args.baseline_src:
        trees["baseline"] = args.baseline_src.resolve()
    runs: dict[tuple[str, str], list[tuple[float, float]]] = {}
    # Users run an installed package with its bytecode compiled: a shell with PYTHONDONTWRITEBYTECODE
    # set would make every run compile promoter again (about 0.1 s on `check`), which no user pays.
    base_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for src in trees.values():  # one run each, untimed, so the bytecode is written
        env = {**base_env, "PYTHONPATH": str(src), "PROMOTER_CACHE_DIR": "off"}
        for argv in commands.values():
            subprocess.run(
                [sys.executable, "-m", "promoter", *argv], env=env, cwd="/", capture_output=True, check=False
            )
    for _ in range(args.repeat):
        for tree, src in trees.items():
            env = {**base_env, "PYTHONPATH": str(src), "PROMOTER_CACHE_DIR": "off"}
            for name, argv in commands.items():
                c, t = _cpu(), time.perf_counter()
                subprocess.run(
                    [sys.executable, "-m", "promoter", *argv], env=env, cwd="/", capture_output=True, check=False
                )
                runs.setdefault((tree, name), []).append((time.perf_counter() - t, _cpu() - c))
    print(
        f"{args.repeat} runs each, interleaved; load average at the end "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
    )
    for (tree, name), values in runs.items():
        walls = [w for w, _ in values]
        print(
            f"{tree:10} {name:34} median {statistics.median(walls):.3f} s  min {min(walls):.3f} s  "
            f"cpu {statistics.median(c for _, c in values):.3f} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
