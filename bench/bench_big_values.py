"""Benchmark: `promoter bump` of one image in a big values file built from the corpus's real Helm chart values.

Usage: python bench/bench_big_values.py [--mb 5 20 50] [--corpus ../shared/corpus] [--keep DIR]
       PYTHONPATH=/tmp/old python bench/bench_big_values.py   (the code of another checkout, `git archive`d there)

The file is the one an audit built (issue 12 item 7): every `helm-values/**/values.yaml` of the corpus
(PROMOTER_CORPUS or ../shared/corpus; read there, never copied into this repository), each nested under
`k0:`, `k1:`, ... and repeated until the size, then `target: {image: {repository: ghcr.io/acme/target, tag: v1}}`
at the end. A git repository holding it and a `.promoter.yaml` with `limits: {file_size_mib: 64}` is bumped with
the exact command users run, in a child process:

    promoter bump --path values.yaml --image ghcr.io/acme/target:v2

and its wall time, CPU time (user + system: other users' load inflates wall time) and peak memory (the
child's maximum resident set) are printed per size, with the load average. The simple repeated
block of `bench_locate.py --big-mb` holds far fewer anchors, block scalars and long lists than real charts do.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = "target:\n  image:\n    repository: ghcr.io/acme/target\n    tag: v1\n"


def chart_values(corpus: Path) -> list[str]:
    """The corpus's chart values, each as the body of a mapping key (indented two spaces, document markers off)."""
    bodies = []
    for path in sorted(corpus.glob("helm-values/**/values.yaml")):
        lines = [line for line in path.read_text().splitlines() if line.rstrip() not in ("---", "...")]
        body = "".join(f"  {line}\n" if line.strip() else "\n" for line in lines)
        if body.strip():
            bodies.append(body)
    return bodies


def realistic_values(path: Path, megabytes: float, corpus: Path) -> int:
    """A values file of about `megabytes` MB of real chart values under k0, k1, ...; the target block last."""
    bodies = chart_values(corpus)
    if not bodies:
        raise SystemExit(f"no helm-values/**/values.yaml under {corpus}: set PROMOTER_CORPUS or --corpus")
    parts, size, i = [], 0, 0
    while size < megabytes * 1_000_000:
        part = f"k{i}:\n{bodies[i % len(bodies)]}"
        parts.append(part)
        size += len(part)
        i += 1
    parts.append(TARGET)
    path.write_text("".join(parts))
    return i


def make_repo(repo: Path, megabytes: float, corpus: Path) -> int:
    repo.mkdir(parents=True, exist_ok=True)
    n = realistic_values(repo / "values.yaml", megabytes, corpus)
    (repo / ".promoter.yaml").write_text("environments: [{name: dev}]\nlimits:\n  file_size_mib: 64\n")
    git = ["git", "-C", str(repo), "-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "values"], check=True)
    return n


def bump(repo: Path) -> tuple[float, float, float, int, str]:
    """Wall seconds, CPU seconds (user + system), peak MB of the child, exit code, last line of its output."""
    # `python -m promoter` is the `promoter` script; PYTHONPATH may name another checkout's code to compare.
    cmd = [sys.executable, "-m", "promoter", "bump", "--path", "values.yaml", "--image", "ghcr.io/acme/target:v2"]
    t = time.perf_counter()
    with tempfile.TemporaryFile("w+") as log:
        child = subprocess.Popen(cmd, cwd=repo, stdout=log, stderr=subprocess.STDOUT, text=True)
        # wait4 gives this child's own peak resident set (not the largest of all children so far).
        _, status, usage = os.wait4(child.pid, 0)
        took = time.perf_counter() - t
        child.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        output = log.read()
    peak = usage.ru_maxrss / 1024
    lines = output.strip().splitlines()
    return took, usage.ru_utime + usage.ru_stime, peak, child.returncode, lines[-1] if lines else ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, nargs="+", default=[5.0, 20.0, 50.0])
    ap.add_argument(
        "--corpus", type=Path, default=Path(os.environ.get("PROMOTER_CORPUS") or ROOT.parent / "shared" / "corpus")
    )
    ap.add_argument("--keep", type=Path, help="build the repositories under this folder and keep them")
    args = ap.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="bench-big-values-"))
    try:
        for mb in sorted(args.mb):
            repo = base / f"values-{mb:g}mb"
            n = make_repo(repo, mb, args.corpus)
            size = (repo / "values.yaml").stat().st_size / 1e6
            took, cpu, peak, code, last = bump(repo)
            load = os.getloadavg()[0]
            print(
                f"{size:.1f} MB ({n:,} chart blocks): bump {took:.2f} s wall, {cpu:.2f} s CPU, peak {peak:.0f} MB, "
                f"exit {code}: {last} (load {load:.1f})"
            )
            sys.stdout.flush()
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
