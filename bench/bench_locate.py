"""Benchmark: `promoter images` beside a libyaml compose of the same files, one `bump` plan, and a big values file.

Usage: python bench/bench_locate.py [--apps 600] [--big-mb 50] [--corpus ../shared/corpus]

All ratios are measured in this one run (the machines are shared and noisy):
- `images` over a generated repository where every file holds an image, against PyYAML's
  `CSafeLoader` compose of the same files (read + `yaml.compose_all`): the floor any locate that
  needs line/column marks pays. Goal: at most 3x.
- one `bump` plan (one app, one environment) in that repository.
- a bump of one image in a generated values file of `--big-mb` MB (time and peak memory of a child process).
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from promoter.config.loader import load_config
from promoter.edit.plan import plan_bump
from promoter.flows.images import list_images
from promoter.model.image import ImageRef

DIGEST = "sha256:" + "5e" * 32


def generate(root: Path, apps: int) -> None:
    """600 apps x dev/stage/prod; every file holds at least one image reference."""
    (root / ".promoter.yaml").write_text(
        "environments: [{name: dev}, {name: stage}, {name: prod}]\n"
        "defaults: {path: 'apps/{app}/overlays/{env}'}\n"
        "apps:\n" + "".join(f"  app{i}: {{image: ghcr.io/acme/app{i}}}\n" for i in range(apps))
    )
    for i in range(apps):
        base = root / f"apps/app{i}/base"
        base.mkdir(parents=True)
        (base / "kustomization.yaml").write_text(
            f"resources:\n  - deployment.yaml\nimages:\n  - name: ghcr.io/acme/app{i}\n    newTag: 0.0.0\n"
        )
        (base / "deployment.yaml").write_text(
            f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app{i}\n  labels: {{app: app{i}, tier: web}}\n"
            f"spec:\n  replicas: 2\n  selector:\n    matchLabels: {{app: app{i}}}\n  template:\n"
            f"    metadata:\n      labels: {{app: app{i}}}\n    spec:\n"
            f"      containers:\n        - name: app\n          image: ghcr.io/acme/app{i}:0.0.0  # placeholder\n"
            f"          ports:\n            - containerPort: 8080\n"
            f"          env:\n            - {{name: LOG_LEVEL, value: info}}\n            - {{name: PORT, value: '8080'}}\n"
            f"          resources: {{limits: {{cpu: 500m, memory: 256Mi}}, requests: {{cpu: 100m, memory: 128Mi}}}}\n"
            f"        - name: sidecar\n          image: docker.io/library/nginx:1.27\n"
        )
        for env in ("dev", "stage", "prod"):
            ov = root / f"apps/app{i}/overlays/{env}"
            ov.mkdir(parents=True)
            (ov / "kustomization.yaml").write_text(
                f'resources:\n  - ../../base\nimages:\n  - name: ghcr.io/acme/app{i}\n    newTag: "1.0.{i}"\n'
            )
            (ov / "values.yaml").write_text(
                f"# {env}\nworker:\n  replicas: 1\n  image:\n    repository: ghcr.io/acme/worker{i}\n    tag: '2.{i}'\n"
                f"  resources:\n    limits:\n      cpu: 200m\n"
            )


def big_values(path: Path, megabytes: float) -> int:
    """A values file of about `megabytes` MB: one component block after another, each with an image."""
    parts = ["# generated\nglobal:\n  imageRegistry: ''\n"]
    size, i = 0, 0
    while size < megabytes * 1_000_000:
        block = (
            f"component{i}:\n  enabled: true\n  # the image of component {i}\n  image:\n    registry: ghcr.io\n"
            f'    repository: acme/component{i}\n    tag: "1.{i % 50}.0"\n    pullPolicy: IfNotPresent\n'
            f"  replicas: 2\n  resources:\n    limits: {{cpu: 500m, memory: 256Mi}}\n    requests:\n      cpu: 100m\n"
            f"      memory: 128Mi\n  env:\n    - name: LOG_LEVEL\n      value: info\n    - name: FEATURE_{i}\n"
            f'      value: "on"\n  annotations:\n    example.com/owner: team-{i % 7}\n'
        )
        parts.append(block)
        size += len(block)
        i += 1
    path.write_text("".join(parts))
    return i


def timed(fn: Callable[[], object], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


def compose_all(files: list[Path]) -> int:
    """The floor: libyaml's compose (nodes with line/column marks) of every file, as PyYAML offers it."""
    n = 0
    for f in files:
        for node in yaml.compose_all(f.read_text(), Loader=yaml.CSafeLoader):
            n += node is not None
    return n


_CHILD = """
import json, resource, sys, time
from pathlib import Path
from promoter.config.model import Config
from promoter.edit.plan import plan_bump
from promoter.model.image import ImageRef
from promoter.yamlio.limits import Limits, configure
configure(Limits(file_bytes=256 * 1024 * 1024))  # as `limits: {file_size_mib: 256}` in .promoter.yaml
repo, image = Path(sys.argv[1]), ImageRef.parse(sys.argv[2])
t = time.perf_counter()
cs = plan_bump(repo, Config.empty(), image, paths=["values.yaml"])
cs.write(repo)
took = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
# The floor any reader built on PyYAML's C parser pays: libyaml's events, as Python objects, and nothing else.
import yaml
from yaml._yaml import CParser
text = (repo / "values.yaml").read_text()
t = time.perf_counter()
parser = CParser(text)
while parser.get_event().__class__ is not yaml.StreamEndEvent:
    pass
floor = time.perf_counter() - t
print(json.dumps({"seconds": took, "changes": len(cs.changes), "peak_mb": peak, "events_s": floor}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--apps", type=int, default=600)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--big-mb", type=float, default=50.0, help="size of the big values file (0: skip)")
    ap.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "corpus")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root, args.apps)
        files = sorted(p for p in root.rglob("*.yaml") if not p.name.startswith("."))
        mb = sum(f.stat().st_size for f in files) / 1e6
        gc.collect()
        # Interleaved, so both see the same machine load; CPU time too, as other users' load inflates wall time.
        t_compose, t_images, c_compose, c_images = [], [], [], []
        for _ in range(args.repeat):
            c = time.process_time()
            t_compose.append(timed(lambda: compose_all(files), 1))
            c_compose.append(time.process_time() - c)
            c = time.process_time()
            t_images.append(timed(lambda: list_images(root, [root], None), 1))
            c_images.append(time.process_time() - c)
        tc, ti = statistics.median(t_compose), statistics.median(t_images)
        cc, ci = statistics.median(c_compose), statistics.median(c_images)
        result = list_images(root, [root], None)
        refs = len(result.references)
        holding = len(result.files)
        config = load_config(root)
        image = ImageRef.parse(f"ghcr.io/acme/app7:1.2.3@{DIGEST}")
        t_bump = timed(lambda: plan_bump(root, config, image, app="app7", env="prod"), 20)
        print(
            f"synthetic repo: {args.apps} apps, {len(files)} YAML files ({mb:.1f} MB), {holding} hold references, {refs} references"
        )
        print(f"  CSafeLoader compose of the same files: {tc:.3f} s = {len(files) / tc:,.0f} files/s")
        print(
            f"  promoter images (whole repo):          {ti:.3f} s = {len(files) / ti:,.0f} files/s = {ti / tc:.2f}x the compose"
        )
        print(f"  CPU time: compose {cc:.3f} s, images {ci:.3f} s = {ci / cc:.2f}x")
        print(f"  bump plan (one app, one env):          {t_bump * 1000:.1f} ms")
    if args.big_mb > 0:
        with tempfile.TemporaryDirectory() as tmp:
            repo = Path(tmp)
            n = big_values(repo / "values.yaml", args.big_mb)
            size = (repo / "values.yaml").stat().st_size / 1e6
            image = f"ghcr.io/acme/component{n // 2}:9.9.9@{DIGEST}"
            out = subprocess.run([sys.executable, "-c", _CHILD, str(repo), image], capture_output=True, text=True)
            if out.returncode != 0:
                print(out.stderr, file=sys.stderr)
                sys.exit(1)
            r = json.loads(out.stdout)
            print(
                f"big values file: {size:.1f} MB, {n:,} image blocks: bump of one image {r['seconds']:.2f} s, "
                f"{r['changes']} value(s) changed, peak {r['peak_mb']:.0f} MB; libyaml's events alone "
                f"{r['events_s']:.2f} s (the bump is {r['seconds'] / r['events_s']:.1f}x that)"
            )
    if args.corpus.is_dir():
        t_corpus = timed(lambda: list_images(args.corpus, [args.corpus], None), 3)
        res = list_images(args.corpus, [args.corpus], None)
        print(f"corpus: {len(res.scanned)} YAML files, {len(res.references)} references in {t_corpus:.3f} s")


if __name__ == "__main__":
    main()
