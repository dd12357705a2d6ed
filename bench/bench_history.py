"""Benchmark: `promoter status` and one promotion's gates on a long history, before and after the one-pass index.

Usage: python bench/bench_history.py [--apps 600] [--commits 5000] [--repeat 3] [--dir DIR]
                                     [--baseline-src DIR] [--baseline-apps N]

Generates (bench/synth.py `generate_history`) a repository of N apps × dev/stage/prod whose main
branch has C commits (promotions, merged pull requests, base changes, comments, batches), then
times, each in fresh processes of the real code:
  - `promoter status -o json` end to end (start-up, config, history, output): cold (no pin cache
    under .git/promoter) and warm (the cache a previous run left);
  - the gates of one promotion to prod (promotion_order, soak 24h, no_downgrade, digest_required)
    with `evaluate_gates`, in a fresh process each time (imports and config load not counted,
    printed apart), and `promote --dry-run` end to end.
`--baseline-src DIR` runs the same measurements with another promoter source tree first on
PYTHONPATH (e.g. main before the index: `git archive <commit> promoter | tar -x -C DIR`), on
`--baseline-apps` apps (status there costs one `git log` per (app, env): minutes for all 600),
checks that both give the same status rows and gate verdicts, and prints the ratios.
Wall and CPU seconds (this process's children: promoter and the git it runs) are printed with
the machine's load average; exit 1 when the two trees disagree.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synth import ENVS, HISTORY_START, app_name, generate_history

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parent


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(cmd: list[str], src: Path, *, ok: tuple[int, ...] = (0,)) -> tuple[float, float, str]:
    """Wall and CPU seconds of one process (and what it ran), with promoter imported from `src`.

    Run from a neutral folder: Python puts the working directory first on sys.path, and the
    bench is usually started from a checkout."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    cpu0, start = children_cpu(), time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False, cwd=tempfile.gettempdir())
    wall, cpu = time.perf_counter() - start, children_cpu() - cpu0
    if proc.returncode not in ok:
        sys.exit(f"bench: {' '.join(cmd[1:5])} … exit {proc.returncode}: {proc.stderr.strip()[-2000:]}")
    return wall, cpu, proc.stdout


def status_cmd(repo: Path, apps: list[str] | None) -> list[str]:
    picked = [a for app in apps or [] for a in ("--app", app)]
    return [sys.executable, "-m", "promoter", "status", "--repo", str(repo), "-o", "json", *picked]


def drop_cache(repo: Path) -> None:
    shutil.rmtree(repo / ".git" / "promoter", ignore_errors=True)


def promotion(repo: Path) -> tuple[str, str]:
    """An app whose stage runs a newer build than prod, and that build: a promotion to judge."""
    data = json.loads(run(status_cmd(repo, None), SOURCE)[2])
    rows = {(r["app"], r["env"]): r for r in data}
    for i in range(len(rows) // len(ENVS)):
        stage, prod = rows[(app_name(i), "stage")], rows[(app_name(i), "prod")]
        if stage["tag"] != prod["tag"] and stage["tag"] != "1.0.0":
            return app_name(i), f"ghcr.io/acme/{app_name(i)}:{stage['tag']}@{stage['digest']}"
    sys.exit("bench: no app has a build in stage that prod lacks")


def worker_gates(repo: Path, app: str, image: str, now: str) -> None:
    """In a fresh process: import, load the config, then time one `evaluate_gates` (printed as JSON)."""
    t0 = time.perf_counter()
    from promoter.config.loader import load_config
    from promoter.gates.engine import evaluate_gates
    from promoter.model.image import ImageRef

    t1 = time.perf_counter()
    config = load_config(repo)
    t2 = time.perf_counter()
    cpu0, child0 = time.process_time(), children_cpu()
    result = evaluate_gates(repo, config, app, "prod", ImageRef.parse(image), now=datetime.fromisoformat(now))
    cpu = time.process_time() - cpu0 + children_cpu() - child0
    t3 = time.perf_counter()
    verdict = sorted((s.id, s.status.value) for s in result.subjects)
    findings = sorted((f.rule, f.message) for f in result.findings)
    print(
        json.dumps(
            {
                "imports": t1 - t0,
                "config": t2 - t1,
                "gates": t3 - t2,
                "cpu": cpu,
                "verdict": verdict,
                "findings": findings,
            }
        )
    )


def measure(
    label: str,
    src: Path,
    repo: Path,
    apps: list[str] | None,
    app: str,
    image: str,
    now: str,
    repeat: int,
    *,
    warm: bool,
) -> dict:
    """Status cold (`repeat` runs, or one for the baseline: it has no cache) and warm, the gates, promote."""
    out: dict = {"label": label}
    cold = []
    for _ in range(repeat if warm else 1):
        drop_cache(repo)
        wall, cpu, text = run(status_cmd(repo, apps), src)
        cold.append((wall, cpu))
    out["status_rows"] = json.loads(text)
    out["status_cold"] = min(cold)
    warm_runs = [run(status_cmd(repo, apps), src)[:2] for _ in range(repeat if warm else 0)]
    out["status_warm"] = min(warm_runs) if warm_runs else None
    drop_cache(repo)
    gates = []
    for _ in range(repeat):
        cmd = [sys.executable, str(HERE / "bench_history.py"), "--worker-gates", str(repo), app, image, now]
        gates.append(json.loads(run(cmd, src)[2]))
    out["gates"] = min(gates, key=lambda g: g["gates"])
    out["gates_all"] = [round(g["gates"], 3) for g in gates]
    promote = [
        run(
            [sys.executable, "-m", "promoter", "promote", "--repo", str(repo), "--app", app, "--from", "stage"]
            + ["--dry-run", "-o", "json"],
            src,
            ok=(0, 3),
        )[:2]
        for _ in range(repeat)
    ]
    out["promote"] = min(promote)
    return out


def show(m: dict, n_rows: int) -> None:
    def ws(pair) -> str:
        return f"{pair[0]:7.2f} s wall {pair[1]:7.2f} s cpu" if pair else "          —"

    g = m["gates"]
    print(f"[{m['label']}] status ({n_rows} rows), no pin cache: {ws(m['status_cold'])}")
    print(f"[{m['label']}] status ({n_rows} rows), pin cache warm: {ws(m['status_warm'])}")
    print(
        f"[{m['label']}] evaluate_gates(prod, 4 gates): {g['gates'] * 1000:7.0f} ms wall {g['cpu'] * 1000:6.0f} ms cpu "
        f"(runs {m['gates_all']}; imports {g['imports']:.2f} s and config {g['config']:.2f} s apart)"
    )
    print(f"[{m['label']}] promote --dry-run stage → prod, end to end: {ws(m['promote'])}")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker-gates":
        worker_gates(Path(sys.argv[2]), *sys.argv[3:6])
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--apps", type=int, default=600)
    ap.add_argument("--commits", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each measurement (best reported)")
    ap.add_argument("--dir", type=Path, help="the repository (generated there when missing)")
    ap.add_argument(
        "--baseline-src", type=Path, help="a promoter source tree to compare with (its folder holding promoter/)"
    )
    ap.add_argument("--baseline-apps", type=int, help="apps the baseline's status covers (default: all)")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-history-"))
    atexit.register(shutil.rmtree, tmp, True)  # a generated repository kept only where --dir names
    repo = args.dir or tmp / "gitops"
    if not (repo / ".git").exists():
        t0 = time.perf_counter()
        generate_history(repo, args.apps, args.commits)
        print(
            f"generated {args.apps} apps × {len(ENVS)} environments, {args.commits} commits in {time.perf_counter() - t0:.1f} s"
        )
    print(f"repository: {repo}; load average at start: {os.getloadavg()}")
    app, image = promotion(repo)
    now = datetime.fromtimestamp(HISTORY_START + 600 * args.commits + 2 * 86400, tz=UTC).isoformat()
    print(f"promotion judged: {app} → prod, {image} (now = {now})")

    subset = [app_name(i) for i in range(args.baseline_apps)] if args.baseline_apps else None
    if subset and app not in subset:
        subset.append(app)
    results = []
    if args.baseline_src:
        base = measure("baseline", args.baseline_src.resolve(), repo, subset, app, image, now, args.repeat, warm=False)
        show(base, len(base["status_rows"]))
        results.append(base)
    new = measure("index", SOURCE, repo, None, app, image, now, args.repeat, warm=True)
    show(new, len(new["status_rows"]))
    print(f"load average at end: {os.getloadavg()}")
    if not args.baseline_src:
        return
    same_rows = [r for r in new["status_rows"] if subset is None or r["app"] in subset]
    new_sub = measure("index", SOURCE, repo, subset, app, image, now, 1, warm=False) if subset else new
    agree = same_rows == base["status_rows"] and new["gates"]["verdict"] == base["gates"]["verdict"]
    agree = agree and new["gates"]["findings"] == base["gates"]["findings"]
    print(f"status rows and gate verdicts identical: {agree}")
    if subset:
        n = len(subset) * len(ENVS)
        print(
            f"status on the baseline's {n} rows: baseline {base['status_cold'][0]:.2f} s wall / "
            f"{base['status_cold'][1]:.2f} s cpu, index (no cache) {new_sub['status_cold'][0]:.2f} s / "
            f"{new_sub['status_cold'][1]:.2f} s"
        )
    else:
        print(
            f"status: index is {base['status_cold'][0] / new['status_cold'][0]:.1f}× faster cold (wall), "
            f"{base['status_cold'][0] / new['status_warm'][0]:.1f}× warm"
        )
    print(f"gates: index is {base['gates']['gates'] / new['gates']['gates']:.1f}× faster (wall)")
    if not agree:
        sys.exit(1)


if __name__ == "__main__":
    main()
