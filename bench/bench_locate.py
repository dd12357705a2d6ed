"""Benchmark: `promoter images` over a large repository, and one `bump` plan inside it.

Usage: python bench/bench_locate.py [--apps 600] [--corpus ../shared/corpus]
Prints files scanned per second and the cost of one bump plan, both measured in this one run.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from promoter.config.loader import load_config
from promoter.edit.plan import plan_bump
from promoter.locate.scan import scan
from promoter.model.image import ImageRef

DIGEST = "sha256:" + "5e" * 32


def generate(root: Path, apps: int) -> None:
    (root / ".promoter.yaml").write_text(
        "environments: [{name: dev}, {name: stage}, {name: prod}]\n"
        "defaults: {path: 'apps/{app}/overlays/{env}'}\n"
        "apps:\n" + "".join(f"  app{i}: {{image: ghcr.io/acme/app{i}}}\n" for i in range(apps))
    )
    for i in range(apps):
        base = root / f"apps/app{i}/base"
        base.mkdir(parents=True)
        (base / "kustomization.yaml").write_text("resources:\n  - deployment.yaml\n  - service.yaml\n")
        (base / "deployment.yaml").write_text(
            f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app{i}\nspec:\n  template:\n    spec:\n"
            f"      containers:\n        - name: app\n          image: ghcr.io/acme/app{i}:0.0.0  # placeholder\n"
            f"          ports:\n            - containerPort: 8080\n"
        )
        (base / "service.yaml").write_text(
            f"apiVersion: v1\nkind: Service\nmetadata:\n  name: app{i}\nspec:\n  ports:\n    - port: 80\n"
        )
        for env in ("dev", "stage", "prod"):
            ov = root / f"apps/app{i}/overlays/{env}"
            ov.mkdir(parents=True)
            (ov / "kustomization.yaml").write_text(
                f'resources:\n  - ../../base\nimages:\n  - name: ghcr.io/acme/app{i}\n    newTag: "1.0.{i}"\n'
            )
            (ov / "values.yaml").write_text(
                f"# {env}\nworker:\n  image:\n    repository: ghcr.io/acme/worker{i}\n    tag: '2.{i}'\n"
            )


def timed(fn, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--apps", type=int, default=600)
    ap.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "corpus")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root, args.apps)
        files = sum(1 for _ in root.rglob("*.yaml"))
        t_scan = timed(lambda: scan(root, [root]), 3)
        refs = len(scan(root, [root]).references)
        config = load_config(root)
        image = ImageRef.parse(f"ghcr.io/acme/app7:1.2.3@{DIGEST}")
        t_bump = timed(lambda: plan_bump(root, config, image, app="app7", env="prod"), 20)
        print(f"synthetic repo: {args.apps} apps, {files} YAML files, {refs} references")
        print(f"  images (scan everything): {t_scan:.3f} s  = {files / t_scan:,.0f} files/s")
        print(
            f"  bump plan (one app, one env): {t_bump * 1000:.1f} ms  = {t_scan / t_bump:,.0f}x faster than a full scan"
        )
    if args.corpus.is_dir():
        t_corpus = timed(lambda: scan(args.corpus, [args.corpus], keep_going=True), 3)
        res = scan(args.corpus, [args.corpus], keep_going=True)
        print(f"corpus: {len(res.scanned)} YAML files, {len(res.references)} references in {t_corpus:.3f} s")


if __name__ == "__main__":
    main()
