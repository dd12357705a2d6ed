"""Benchmark: what parsing the gate's manifests costs, per parser, in one process.

Why `check --all` (policies off) stays near kubeconform's throughput and not twice it: the parse of
plain folders is most of the work, and PyYAML's floor is its C parser handing Python one object per
event or node. This times, over the same files bench_gate.py generates (or any `--dir` holding
`apps/`), promoter's manifest reader, PyYAML's CSafeLoader, libyaml's events alone, and, when they
are installed (they are not promoter's dependencies), other YAML bindings for comparison. Only
promoter's reader has the go-yaml v2 semantics (plain scalars, duplicate keys, alias budget) that
keep `check` fail-closed; the others are shown as the bound a faster binding could reach.

    python bench/bench_parse_floor.py --files 1800 [--dir DIR] [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_gate import generate  # noqa: E402

from promoter.yamlio import fastyaml  # noqa: E402
from promoter.yamlio.manifests import load_manifests  # noqa: E402


def _libyaml_only(text: str) -> Any:
    """load_manifests without its yaml-rs fast path (yamlio/fastyaml.py): the reader before it."""
    documents = fastyaml.documents
    fastyaml.documents = lambda t: None  # type: ignore[assignment]
    try:
        return load_manifests(text, "t", file="app.yaml")
    finally:
        fastyaml.documents = documents  # type: ignore[assignment]


def parsers() -> dict[str, Callable[[str], Any]]:
    out: dict[str, Callable[[str], Any]] = {
        "promoter load_manifests": lambda t: load_manifests(t, "t", file="app.yaml"),
        "promoter load_manifests, libyaml only": _libyaml_only,
        "promoter fast path alone (fastyaml)": fastyaml.documents,
        "PyYAML CSafeLoader": lambda t: list(yaml.load_all(t, Loader=yaml.CSafeLoader)),
        "libyaml events only": lambda t: sum(1 for _ in yaml.parse(t, Loader=yaml.CSafeLoader)),
    }
    try:
        import yaml_rs  # type: ignore[import-not-found]

        out["yaml-rs loads (YAML 1.2, not go-yaml)"] = lambda t: yaml_rs.loads(t, parse_datetime=False)
    except ImportError:
        pass
    try:
        import ryml  # type: ignore[import-not-found]

        out["rapidyaml tree only (no objects)"] = lambda t: ryml.parse_in_arena(t.encode())
    except ImportError:
        pass
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=1800)
    ap.add_argument("--dir", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    tmp = None if args.dir else Path(tempfile.mkdtemp(prefix="bench-parse-"))
    repo = args.dir or tmp / "gitops"
    try:
        if not (repo / "apps").is_dir():
            generate(repo, args.files)
        texts = [p.read_text() for p in sorted(repo.glob("apps/*/*/*.yaml"))]
    finally:
        if tmp is not None:  # the texts are read: the generated files are not needed any more
            shutil.rmtree(tmp, ignore_errors=True)
    size = sum(len(t) for t in texts)
    print(f"{len(texts)} files, {size / 1e6:.1f} MB, one process, median of {args.repeat}")
    base = None
    for name, parse in parsers().items():
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            for text in texts:
                parse(text)
            times.append(time.perf_counter() - t)
        med = statistics.median(times)
        base = base or med
        print(f"{name:40} {med:7.3f} s  {med / len(texts) * 1000:6.3f} ms/file  {med / base:5.2f}x promoter's")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
