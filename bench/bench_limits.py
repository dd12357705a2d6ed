"""Benchmark: what the bounds on untrusted input cost, and how long the worst input they let through takes.

Usage: python bench/bench_limits.py [--repeat 20]

1. The alias budget (yamlio/limits.py) on real-looking files, in one run: the round-trip parse of a
   values file with anchors and aliases, with the measurement and without it (a text with no `*`
   is not measured at all), and the same for PyYAML's loader.
2. The worst a document within the budget costs: a values file whose aliases expand to just under
   the default 1,000,000 nodes, through the real CLI (`images`, `bump --dry-run`), next to the
   billion-laughs file the budget refuses.
3. The repository lock and compare-before-rename: a real `bump` that writes, the lock on and off.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VALUES = "".join(
    f"svc{i}:\n  resources: &res{i}\n    limits: {{cpu: 500m, memory: 512Mi}}\n    requests: {{cpu: 100m, memory: 128Mi}}\n"
    f'  sidecar:\n    resources: *res{i}\n  image:\n    repository: ghcr.io/acme/svc{i}\n    tag: "1.{i}.0"\n'
    for i in range(50)
)


def best(fn, repeat: int) -> float:  # noqa: ANN001 - any callable
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def parse_costs(repeat: int) -> None:
    import yaml

    from promoter.yamlio import document, loader

    text = VALUES
    with_budget = best(lambda: document.YamlDoc.from_text(text, "values.yaml"), repeat)
    saved = document._BudgetedConstructor
    document._BudgetedConstructor = document._LenientConstructor  # type: ignore[misc]
    try:
        without = best(lambda: document.YamlDoc.from_text(text, "values.yaml"), repeat)
    finally:
        document._BudgetedConstructor = saved  # type: ignore[misc]
    print(
        f"round-trip parse, {len(text.splitlines())} lines, 50 anchors + 50 aliases: "
        f"{with_budget * 1000:.2f} ms measured vs {without * 1000:.2f} ms not ({with_budget / without:.3f}x)"
    )

    class Unmeasured(loader.Loader):
        def __init__(self, stream: object) -> None:
            super().__init__(stream)
            self._may_alias = False

    py_with = best(lambda: yaml.load(text, Loader=loader.Loader), repeat)
    py_without = best(lambda: yaml.load(text, Loader=Unmeasured), repeat)
    print(
        f"PyYAML C loader (promoter's), same file: {py_with * 1000:.2f} ms measured vs {py_without * 1000:.2f} ms "
        f"not ({py_with / py_without:.3f}x)"
    )
    rbac = "rules:\n" + "".join(
        f'  - apiGroups: ["*"]\n    resources: ["r{i}"]\n    verbs: ["*"]\n' for i in range(200)
    )
    print(
        f'a ClusterRole with 400 quoted "*" (no alias): measured at all? {__import__("promoter.yamlio.limits", fromlist=["x"]).may_alias(rbac)}'
    )


def _cli(repo: Path, *args: str) -> tuple[float, int]:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "promoter", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
        timeout=600,
    )
    return time.perf_counter() - start, proc.returncode


def near_budget(tmp: Path) -> None:
    from tests.badinput.catalogue import billion_laughs

    repo = tmp / "repo"
    (repo / "env").mkdir(parents=True)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    # 10 strings → ×10 → ×10 → ×10 → ×10 (111,111 nodes), repeated 7 times: ~900,000 nodes through aliases.
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 5):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]")
    lines.append("big: [" + ",".join(["*a4"] * 7) + "]")
    near = "\n".join(lines) + '\nimage:\n  repository: ghcr.io/acme/web\n  tag: "1.0"\n'
    (repo / "env/values.yaml").write_text(near)
    t_images, c1 = _cli(repo, "images", "env")
    t_bump, c2 = _cli(repo, "bump", "--path", "env", "--image", "ghcr.io/acme/web:2.0", "--dry-run")
    (repo / "env/values.yaml").write_text(billion_laughs() + 'image:\n  repository: ghcr.io/acme/web\n  tag: "1.0"\n')
    t_bomb, c3 = _cli(repo, "bump", "--path", "env", "--image", "ghcr.io/acme/web:2.0", "--dry-run")
    (repo / "env/values.yaml").write_text('image:\n  repository: ghcr.io/acme/web\n  tag: "1.0"\n')
    t_plain, c4 = _cli(repo, "bump", "--path", "env", "--image", "ghcr.io/acme/web:2.0", "--dry-run")
    print(
        f"just under the budget (~900,000 alias nodes): images {t_images:.2f} s (exit {c1}), "
        f"bump --dry-run {t_bump:.2f} s (exit {c2})"
    )
    print(
        f"billion laughs (4.4e9 nodes), refused: {t_bomb:.2f} s (exit {c3}); a plain file: {t_plain:.2f} s (exit {c4})"
    )


def lock_cost(tmp: Path, repeat: int) -> None:
    from promoter.config.model import Config
    from promoter.flows import bump as bump_flow
    from promoter.model.image import ImageRef

    repo = tmp / "lockrepo"
    (repo / "env").mkdir(parents=True)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    text = 'image:\n  repository: ghcr.io/acme/web\n  tag: "1.0"\n'
    config = Config.empty()
    n = [0]

    def one() -> None:
        (repo / "env/values.yaml").write_text(text)
        n[0] += 1
        bump_flow.bump(repo, config, ImageRef.parse(f"ghcr.io/acme/web:2.{n[0]}"), paths=["env"])

    import contextlib

    saved = bump_flow._write_lock
    locked, unlocked = [], []
    try:
        for _ in range(repeat):  # interleaved: the disk's fsync noise falls on both alike
            bump_flow._write_lock = saved
            locked.append(best(one, 1))
            bump_flow._write_lock = lambda *a, **k: contextlib.nullcontext()  # type: ignore[assignment]
            unlocked.append(best(one, 1))
    finally:
        bump_flow._write_lock = saved
    lo, un = statistics.median(locked), statistics.median(unlocked)
    print(
        f"one bump that writes (plan + verify + fsync'd rename), median of {repeat}: {lo * 1000:.2f} ms with the "
        f"lock, {un * 1000:.2f} ms without ({lo / un:.2f}x)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    parse_costs(args.repeat)
    tmp = Path(tempfile.mkdtemp(prefix="promoter-bench-limits-"))
    try:
        lock_cost(tmp, args.repeat)
        near_budget(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
