"""Requests and wall time of the pipeline's steps after a merge, against the fake forge.

    python bench/bench_pipeline.py [--runs 3]

`promote --next --pr` after a merged dev promotion (the lookup of the merged request, then the
stage pull request), the healthy gate's reads per poll, and `promote --all --pr` for three apps
as one release train and as one pull request per app. Each step runs the real CLI in process
(kustomize renders included, for the description) with the real PyGithub / python-gitlab clients
on 127.0.0.1: request counts are exact, times an upper bound on promoter's own overhead.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "forge")]

import pytest
from fakeforge import FakeForge
from forgeworld import REPO, TOKEN, git
from pipeline import NOW, T1_WEB, Pipeline, commit_at, gitops

IMAGE = "ghcr.io/acme/api:1.2.0@sha256:" + "ab" * 32
HEALTHY = """\
    gates:
      healthy:
        contexts: ["argocd/{app}-{previous_env}"]
"""


def world(root: Path, kind: str, group: str, mp: pytest.MonkeyPatch, prod: str = "") -> Pipeline:
    fake = FakeForge(root / "forge")
    fake.add_token(TOKEN)
    local = gitops(root / "local", group, prod)
    fake.create_repo(REPO, source=local)
    git(local, "remote", "add", "origin", str(fake.repo(REPO).store.path))
    p = Pipeline(fake, kind, local, mp)
    p.at(NOW)
    return p


def timed(p: Pipeline, *args: str) -> tuple[int, float, str]:
    p.fake.reset_log()
    start = time.perf_counter()
    r = p.promoter(*args)
    elapsed = time.perf_counter() - start
    return len(p.fake.log), elapsed, f"exit {r.exit_code}"


def next_step(root: Path, kind: str, mp: pytest.MonkeyPatch) -> dict[str, tuple[int, float, str]]:
    p = world(root, kind, "app", mp)
    try:
        p.promoter("bump", "--app", "api", "--env", "dev", "--image", IMAGE, "--pr", *p.forge_flags)
        p.merge(1, "squash")
        p.pull()
        p.at(NOW + timedelta(hours=2))
        out = {"--next (opens stage)": timed(p, "promote", "--next", "--pr", *p.forge_flags)}
        out["--next again (no-op)"] = timed(p, "promote", "--next", "--pr", *p.forge_flags)
        return out
    finally:
        p.fake.close()


def health(root: Path, kind: str, mp: pytest.MonkeyPatch) -> dict[str, tuple[int, float, str]]:
    p = world(root, kind, "app", mp, prod=HEALTHY)
    try:
        when = NOW + timedelta(minutes=5)
        commit_at(
            p.local,
            when,
            "api stage",
            {"apps/api/stage/kustomization.yaml": (p.local / "apps/api/dev/kustomization.yaml").read_text()},
        )
        git(p.local, "push", "-q", str(p.repo.store.path), "main")
        p.set_status(git(p.local, "rev-parse", "HEAD").strip(), "argocd/api-stage")
        p.at(when + timedelta(hours=1))
        return {
            "promote stage→prod, healthy read": timed(
                p, "promote", "--app", "api", "--from", "stage", "--dry-run", *p.forge_flags
            )
        }
    finally:
        p.fake.close()


def train(root: Path, kind: str, group: str, mp: pytest.MonkeyPatch) -> dict[str, tuple[int, float, str]]:
    p = world(root, kind, group, mp)
    try:
        p.at(T1_WEB + timedelta(hours=1))  # all three have soaked in dev
        return {f"--all, 3 apps, group {group}": timed(p, "promote", "--all", "--from", "dev", "--pr", *p.forge_flags)}
    finally:
        p.fake.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print("| forge | step | requests | median ms | result |")
    print("|---|---|---|---|---|")
    for kind in ("github", "gitlab"):
        rows: dict[str, list[tuple[int, float, str]]] = {}
        for _ in range(args.runs):
            steps = (
                lambda r, mp, k=kind: next_step(r, k, mp),
                lambda r, mp, k=kind: health(r, k, mp),
                lambda r, mp, k=kind: train(r, k, "environment", mp),
                lambda r, mp, k=kind: train(r, k, "app", mp),
            )
            for fn in steps:
                with tempfile.TemporaryDirectory() as tmp:
                    mp = pytest.MonkeyPatch()
                    try:
                        for name, value in fn(Path(tmp), mp).items():
                            rows.setdefault(name, []).append(value)
                    finally:
                        mp.undo()
        for name, values in rows.items():
            counts = "/".join(str(c) for c in sorted({v[0] for v in values}))
            ms = statistics.median(v[1] for v in values) * 1000
            print(f"| {kind} | {name} | {counts} | {ms:.0f} | {values[0][2]} |")


if __name__ == "__main__":
    main()
