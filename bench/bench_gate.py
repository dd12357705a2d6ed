"""Benchmark: the whole gate (`promoter check --all`, the CLI process) against kubeconform on the same files.

Generates a GitOps repository of plain manifest folders (N files of six objects each, as
`kustomize build` prints an app: bench_validate.py's corpus, laid out as apps/<app>/<env>/app.yaml,
one invalid Deployment in 50), writes the schemas promoter validates with as a folder kubeconform
reads (`write_kubeconform_folder`: same Kubernetes version, same strictness), then times, in one
run and interleaved (each round runs every command once, in a rotating order, so the machine's load
hits them alike):

  kubeconform      kubeconform -strict -summary -n JOBS -schema-location <that folder> apps/
  check, no policy promoter check --all --jobs JOBS, the config turning the policy pack off
  check, pack      promoter check --all --jobs JOBS, the default policy pack on (verdict cache off: cold)

Each is the command a user runs, end to end (interpreter start, imports, configuration, discovery,
parsing, validation, policies, the report on stdout), timed from outside. Throughput ratio =
kubeconform's wall time / promoter's (median of the rounds; each round's ratio is printed too). The
goals (issue 18): policies off >= 2x kubeconform; the pack on >= 0.5x. Before timing, one run of
each with JSON output checks that kubeconform and promoter find the same invalid resources.

    python bench/bench_gate.py --files 1800 --jobs 2 --repeat 7
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from bench_validate import KINDS, app_yaml  # noqa: E402

from promoter.validate.schemas import SchemaSource, resolve_version, write_kubeconform_folder  # noqa: E402

ENVS = ("dev", "stage", "prod")
CONFIG = "version: 1\nenvironments:\n  - name: dev\n  - name: stage\n  - name: prod\n"


def kubeconform_binary() -> str | None:
    shared = Path(os.environ.get("PROMOTER_SHARED") or HERE.parent.parent / "shared")
    for cand in (shared / "tools/kubeconform/kubeconform", Path("/work/shared/tools/kubeconform/kubeconform")):
        if cand.is_file() and os.access(cand, os.X_OK):
            return str(cand)
    return shutil.which("kubeconform")


def generate(repo: Path, files: int) -> None:
    for i in range(files):
        p = repo / "apps" / f"app-{i // 3:04d}" / ENVS[i % 3] / "app.yaml"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(app_yaml(i, broken=i % 50 == 7))
    (repo / "pack.promoter.yaml").write_text(CONFIG)
    (repo / "nopolicy.promoter.yaml").write_text(CONFIG + "policies:\n  builtin: false\n")


def promoter_cmd() -> list[str]:
    exe = Path(sys.executable).parent / "promoter"
    return [str(exe)] if exe.is_file() else [sys.executable, "-m", "promoter"]


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, int]:
    """(wall s, CPU s of the process and its children, exit status)."""
    c = _children_cpu()
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    wall = time.perf_counter() - t
    if proc.returncode not in (0, 1, 3):
        sys.exit(f"bench: {' '.join(cmd)} exited {proc.returncode}: {proc.stderr.decode()[-500:]}")
    return wall, _children_cpu() - c, proc.returncode


def invalid_by_kubeconform(cmd: list[str], cwd: Path) -> set[tuple[str, str, str]]:
    # Go's flag package stops at the first argument: the flags go before the folder.
    out = subprocess.run([*cmd[:-1], "-output", "json", cmd[-1]], cwd=cwd, capture_output=True, text=True, check=False)
    data = json.loads(out.stdout)
    return {(r["filename"], r["kind"], r["name"]) for r in data.get("resources") or [] if r["status"] != "statusValid"}


def invalid_by_promoter(cmd: list[str], cwd: Path, env: dict[str, str]) -> set[tuple[str, str, str]]:
    out = subprocess.run([*cmd, "--output", "json"], cwd=cwd, env=env, capture_output=True, text=True, check=False)
    data = json.loads(out.stdout)
    bad = set()
    for f in data["findings"]:
        if f["source"] == "schema" and f["severity"] == "error":
            _api, kind, _ns, name = f["subject"].rsplit("/", 3)
            bad.add((f["location"]["file"], kind, name))
    return bad


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=1800, help="manifest files (six objects each)")
    ap.add_argument("--jobs", type=int, default=2, help="--jobs for promoter, -n for kubeconform")
    ap.add_argument("--repeat", type=int, default=7, help="rounds; medians are reported")
    ap.add_argument("--kubernetes-version", default="1.32.0")
    ap.add_argument("--dir", type=Path, help="where to generate the repository (default: a temp folder)")
    args = ap.parse_args()

    kc = kubeconform_binary()
    if kc is None:
        sys.exit("bench: kubeconform not found (../shared/tools/kubeconform/kubeconform, or on PATH)")
    tmp = Path(tempfile.mkdtemp(prefix="bench-gate-"))
    repo = args.dir or tmp / "gitops"
    if not (repo / "apps").is_dir():
        generate(repo, args.files)
    source = SchemaSource(version=resolve_version(args.kubernetes_version), strict=True)
    template, _ = write_kubeconform_folder(tmp / "schemas", source, KINDS)

    # Without PYTHONDONTWRITEBYTECODE: an installed promoter has its bytecode; the parity run below writes it.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update({"PROMOTER_CACHE_DIR": "off", "NO_COLOR": "1"})
    kc_cmd = [kc, "-strict", "-summary", "-kubernetes-version", source.version.version]
    kc_cmd += ["-schema-location", template, "-n", str(args.jobs), "apps"]
    check = [*promoter_cmd(), "check", "--all", "--jobs", str(args.jobs), "--kubernetes-version"]
    check += [source.version.version]
    commands = {
        "kubeconform": kc_cmd,
        "check, no policy": [*check, "--config", "nopolicy.promoter.yaml"],
        "check, pack": [*check, "--config", "pack.promoter.yaml"],
    }
    version = subprocess.run([kc, "-v"], capture_output=True, text=True, check=False).stdout.strip()

    expected = invalid_by_kubeconform(kc_cmd, repo)
    ours = invalid_by_promoter(commands["check, no policy"], repo, env)
    same = expected == ours
    print(f"invalid resources: kubeconform {len(expected)}, promoter {len(ours)}, identical: {same}")

    load_before = os.getloadavg()
    walls: dict[str, list[float]] = {k: [] for k in commands}
    cpus: dict[str, list[float]] = {k: [] for k in commands}
    names = list(commands)
    for r in range(args.repeat):
        for name in names[r % len(names) :] + names[: r % len(names)]:  # a rotating order
            wall, cpu, _ = timed(commands[name], env, repo)
            walls[name].append(wall)
            cpus[name].append(cpu)
    load_after = os.getloadavg()

    resources = args.files * 6
    kc_wall = statistics.median(walls["kubeconform"])
    print(
        f"{args.files} files, {resources} resources, Kubernetes {source.version.version}, strict, "
        f"--jobs/-n {args.jobs}, cpus={os.cpu_count()}, {args.repeat} interleaved rounds, kubeconform {version}"
    )
    print(
        "load average before "
        + " ".join(f"{x:.2f}" for x in load_before)
        + ", after "
        + " ".join(f"{x:.2f}" for x in load_after)
    )
    print(f"{'command':18} {'wall s':>7} {'cpu s':>7} {'resources/s':>12} {'vs kubeconform':>15}  per round")
    for name in names:
        wall = statistics.median(walls[name])
        cpu = statistics.median(cpus[name])
        rounds = " ".join(f"{k / w:.2f}" for k, w in zip(walls["kubeconform"], walls[name], strict=True))
        print(f"{name:18} {wall:7.3f} {cpu:7.3f} {resources / wall:12,.0f} {kc_wall / wall:14.2f}x  {rounds}")
    print("goals: check, no policy >= 2x kubeconform; check, pack >= 0.5x")
    for name, cmd in commands.items():
        print(f"  {name}: {' '.join(cmd)}")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
