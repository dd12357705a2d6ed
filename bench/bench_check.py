"""Benchmark: `promoter check --base` after a one-overlay change vs `check --all`, on a synthetic repository.

Usage: python bench/bench_check.py [--apps 600] [--repeat 3] [--dir DIR]
Generates N apps × dev/stage/prod (bench/synth.py), changes one overlay's tag, then times the real CLI
(`python -m promoter check ... --output json`) both ways in this one run. Asserts that --base rendered
exactly one overlay and prints the wall-time ratio (goal: --base ≤ 1/50 of --all).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synth import app_name, generate


def run_check(repo: Path, *args: str) -> tuple[float, dict]:
    cmd = [sys.executable, "-m", "promoter", "check", "--repo", str(repo), *args, "--output", "json"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 3):
        sys.exit(f"bench: {' '.join(cmd[2:])} failed with exit {proc.returncode}: {proc.stderr.strip()}")
    return wall, json.loads(proc.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--apps", type=int, default=600)
    ap.add_argument("--repeat", type=int, default=3, help="runs of check --base (median reported)")
    ap.add_argument("--dir", type=Path, help="where to generate the repository (default: a temp folder)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="promoter-bench-") as tmp:
        repo = args.dir or Path(tmp) / "gitops"
        t0 = time.perf_counter()
        generate(repo, args.apps)
        print(f"generated {args.apps} apps ({args.apps * 3} overlays) in {time.perf_counter() - t0:.1f} s: {repo}")

        changed = repo / "apps" / app_name(args.apps // 2) / "overlays" / "stage" / "kustomization.yaml"
        changed.write_text(changed.read_text().replace('newTag: "1.0.0"', 'newTag: "1.0.1"'))
        expected = changed.parent.relative_to(repo).as_posix()

        base_runs = []
        for _ in range(args.repeat):
            wall, data = run_check(repo, "--base", "main")
            base_runs.append(wall)
            assert data["targets"] == [expected], data["targets"]
            assert data["stats"]["rendered"] == 1, data["stats"]
        base = statistics.median(base_runs)
        print(
            f"check --base main: {base:.2f} s median of {args.repeat} "
            f"({', '.join(f'{w:.2f}' for w in base_runs)}); rendered {data['stats']['rendered']} overlay: {expected}; "
            f"{data['stats']['resources']} resources; targets in repo {data['stats']['targets_total']}"
        )

        wall_all, data_all = run_check(repo, "--all")
        stats = data_all["stats"]
        print(
            f"check --all:       {wall_all:.2f} s; rendered {stats['rendered']} overlays, {stats['resources']} resources, "
            f"render phase {stats['render_seconds']:.1f} s, {os.cpu_count()} cores"
        )
        ratio = base / wall_all
        verdict = "meets" if ratio <= 1 / 50 else "MISSES"
        print(f"ratio --base/--all = {ratio:.4f} (1/{1 / ratio:.0f}); {verdict} the goal of 1/50")


if __name__ == "__main__":
    main()
