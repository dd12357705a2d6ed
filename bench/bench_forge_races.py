"""Ten parallel `promoter bump --pr` processes for one (app, env), several rounds, both forges.

    python bench/bench_forge_races.py [--rounds 5] [--runs 10] [--kind github,gitlab] [--same]

Each round: a fresh fake forge holding the bundled example repository, `--runs` clones of it, and
that many real CLI processes started together, each promoting its own image of checkout-api to dev
(`--same`: all the same image). Reported per forge: exit codes, the operations the runs reported,
the attempts they took, the requests they cost together, the wall time of a round, and whether the
forge ended with one PR whose branch holds the image its marker names.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "forge")]

from fakeforge import FakeForge
from forgeworld import REPO, TOKEN, git, make_repo, registry_gate_off

from promoter.publish.pullrequest import parse_marker

BRANCH = "promoter/dev/checkout-api"
OVERLAY = "apps/checkout-api/overlays/dev/kustomization.yaml"


def one_round(root: Path, kind: str, runs: int, same: bool, index: int) -> dict[str, object]:
    examples = ROOT / "examples"
    files = {p.relative_to(examples).as_posix(): p.read_text() for p in examples.rglob("*") if p.is_file()}
    files[".promoter.yaml"] = registry_gate_off(files[".promoter.yaml"])
    local = make_repo(root / "local", files)
    fake = FakeForge(root / "forge")
    try:
        fake.add_token(TOKEN)
        fake.create_repo(REPO, source=local)
        url = fake.github_url if kind == "github" else fake.gitlab_url
        env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "GH_TOKEN", "GITLAB_TOKEN")}
        env["GITHUB_TOKEN" if kind == "github" else "GITLAB_TOKEN"] = TOKEN
        clones = []
        for i in range(runs):
            clone = root / f"clone{i}"
            git(root, "clone", "-q", str(local), str(clone))
            clones.append(clone)
        start = time.perf_counter()
        procs = []
        for i, clone in enumerate(clones):
            n = 0 if same else i
            image = f"ghcr.io/acme/checkout-api:1.{index}.{n}@sha256:{(f'{index % 10}{n % 10}') * 32}"
            args = [sys.executable, "-m", "promoter", "bump", "--repo", str(clone), "--app", "checkout-api"]
            args += ["--env", "dev", "--image", image, "--pr", "--forge", kind, "--forge-url", url]
            args += ["--forge-repo", REPO, "-o", "json"]
            procs.append(subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        codes, ops, attempts, errors = [], [], [], []
        for p in procs:
            out, err = p.communicate(timeout=600)
            codes.append(p.returncode)
            if p.returncode == 0:
                pr = json.loads(out)["pull_request"]
                ops.append(pr["operation"])
                attempts.append(pr["attempts"])
            else:
                errors.append(err.strip().splitlines()[-1] if err.strip() else f"exit {p.returncode}")
        seconds = time.perf_counter() - start
        prs = [p for p in fake.repo(REPO).pulls.values() if p.state == "open"]
        marker = parse_marker(prs[0].body) if len(prs) == 1 else None
        head = fake.repo(REPO).store.branch_sha(BRANCH)
        text = git(fake.repo(REPO).store.path, "show", f"{head}:{OVERLAY}") if head else ""
        consistent = bool(marker and marker.get("head") == head and str(marker.get("image", "")).split("@")[-1] in text)
        return {
            "codes": codes,
            "ops": ops,
            "attempts": attempts,
            "errors": errors,
            "seconds": seconds,
            "requests": len(fake.log),
            "open_prs": len(prs),
            "consistent": consistent,
        }
    finally:
        fake.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--kind", default="github,gitlab")
    parser.add_argument("--same", action="store_true", help="every run promotes the same image")
    args = parser.parse_args()
    print(
        "| forge | rounds × runs | exit codes | operations | attempts | requests per round | s per round | end state |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for kind in args.kind.split(","):
        codes: collections.Counter[int] = collections.Counter()
        ops: collections.Counter[str] = collections.Counter()
        attempts: collections.Counter[int] = collections.Counter()
        requests, seconds, good, errors = [], [], 0, []
        for r in range(args.rounds):
            with tempfile.TemporaryDirectory() as tmp:
                res = one_round(Path(tmp), kind, args.runs, args.same, r)
            codes.update(res["codes"])  # type: ignore[arg-type]
            ops.update(res["ops"])  # type: ignore[arg-type]
            attempts.update(res["attempts"])  # type: ignore[arg-type]
            errors += res["errors"]  # type: ignore[operator]
            requests.append(res["requests"])
            seconds.append(res["seconds"])
            good += bool(res["consistent"]) and res["open_prs"] == 1
        fmt = lambda c: ", ".join(f"{k}: {v}" for k, v in sorted(c.items()))  # noqa: E731
        print(
            f"| {kind} | {args.rounds} × {args.runs} | {fmt(codes)} | {fmt(ops)} | {fmt(attempts)} | "
            f"{min(requests)}–{max(requests)} | {min(seconds):.1f}–{max(seconds):.1f} | "
            f"{good}/{args.rounds} one PR, marker = branch |",
            flush=True,
        )
        for e in errors:
            print(f"  error: {e}")


if __name__ == "__main__":
    main()
