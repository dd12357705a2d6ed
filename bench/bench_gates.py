"""Benchmark: reading an app's image history from Git and judging a prod promotion by its gates.

Usage: python bench/bench_gates.py [--promotions 1000] [--repeat 3] [--dir DIR]
Builds (with `git fast-import`) a GitOps repository where one app was promoted dev → stage → prod
N times, one commit per promotion (3N+1 commits), then times, in this one process:
  - image_history(stage): every state, every version parsed (the worst case);
  - evaluate_gates(prod) with promotion_order, soak, no_downgrade, digest_required (what bump,
    promote and check call), which parses only the versions it needs.
Prints the median of --repeat runs of each and checks the verdicts.
"""

from __future__ import annotations

import argparse
import atexit
import shutil
import statistics
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

CONFIG = """\
version: 1
environments:
  - name: dev
  - name: stage
    gates: {promotion_order: true, soak: 1h, image_exists: false}
  - name: prod
    gates: {promotion_order: true, soak: 24h, no_downgrade: true, digest_required: true, image_exists: false}
defaults:
  path: apps/{app}/{env}
apps:
  api:
    image: ghcr.io/acme/api
"""


def kustomization(i: int) -> str:
    return (
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../../base\n"
        f'images:\n  - name: ghcr.io/acme/api\n    newTag: "1.{i}.0"  # set by promoter\n    digest: {digest(i)}\n'
    )


def digest(i: int) -> str:
    return f"sha256:{i:064x}"


def generate(root: Path, promotions: int) -> Path:
    """3N+1 commits, one hour apart: promotion i lands in dev, then stage, then prod."""
    stream: list[str] = []
    mark = 0
    when = 1_700_000_000

    def commit(files: dict[str, str], message: str) -> None:
        nonlocal mark
        mark += 1
        stream.append(f"commit refs/heads/main\nmark :{mark}\ncommitter Bench <b@example.com> {when} +0000\n")
        stream.append(f"data {len(message)}\n{message}\n")
        if mark > 1:
            stream.append(f"from :{mark - 1}\n")
        for path, text in files.items():
            stream.append(f"M 100644 inline {path}\ndata {len(text.encode())}\n{text}\n")

    commit(
        {
            ".promoter.yaml": CONFIG,
            **{f"apps/api/{e}/kustomization.yaml": kustomization(0) for e in ("dev", "stage", "prod")},
        },
        "init",
    )
    for i in range(1, promotions + 1):
        for env in ("dev", "stage", "prod"):
            when += 3600
            commit({f"apps/api/{env}/kustomization.yaml": kustomization(i)}, f"api {env}: 1.{i}.0")
    repo = root / "gitops"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, input="".join(stream).encode(), check=True)
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=repo, check=True)
    return repo


def median_ms(fn, repeat: int) -> tuple[float, object]:
    from promoter.history.timeline import forget

    times, out = [], None
    for _ in range(repeat):
        forget()  # each run reads Git afresh, as a new process would
        start = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), out


def main() -> None:
    from promoter.config.loader import load_config
    from promoter.gates.engine import evaluate_gates
    from promoter.history.timeline import image_history
    from promoter.model.image import ImageRef

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--promotions", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dir", type=Path)
    args = ap.parse_args()
    root = args.dir or Path(tempfile.mkdtemp(prefix="bench-gates-"))
    if not args.dir:
        atexit.register(shutil.rmtree, root, True)  # a generated repository kept only where --dir names
    repo = generate(root, args.promotions)
    config = load_config(repo)
    n = args.promotions
    ms, states = median_ms(lambda: image_history(repo, config, "api", "stage", "HEAD"), args.repeat)
    assert len(states) == n + 1, len(states)
    print(f"image_history(stage): {n + 1} states over {3 * n + 1} commits: {ms:.0f} ms")
    now = datetime.fromtimestamp(1_700_000_000 + 3600 * 3 * n + 86400 * 2, tz=UTC)
    ok = ImageRef.parse(
        f"ghcr.io/acme/api:1.{n}.0@{digest(n)}"
    )  # stage runs it (soaked 2 days); prod runs it too: no downgrade
    ms, result = median_ms(lambda: evaluate_gates(repo, config, "api", "prod", ok, now=now), args.repeat)
    assert not result.failed, [f.message for f in result.findings]
    print(f"evaluate_gates(prod, 4 gates, compliant): {ms:.0f} ms")
    old = ImageRef.parse(f"ghcr.io/acme/api:1.{n // 2}.0@{digest(n // 2)}")  # ran 1h in stage long ago, a downgrade
    ms, result = median_ms(lambda: evaluate_gates(repo, config, "api", "prod", old, now=now), args.repeat)
    assert sorted(f.rule for f in result.findings) == ["gate-no-downgrade", "gate-soak"], [
        f.rule for f in result.findings
    ]
    print(f"evaluate_gates(prod, 4 gates, blocked by soak and no_downgrade): {ms:.0f} ms")


if __name__ == "__main__":
    main()
