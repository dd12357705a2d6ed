"""Requests and wall time of publishing a promotion (created, updated, no-op) against the fake forge.

    python bench/bench_forge.py [--runs 5]
    python bench/bench_forge.py --dead [--kind github,gitlab]

Request counts come from the fake forge's request log; times include the real PyGithub /
python-gitlab clients and the fake's git plumbing on 127.0.0.1, so they are an upper bound on
client overhead, not a measure of GitHub or GitLab latency.

`--dead`: how long a promotion takes to give up on a forge that accepts every connection and never
answers, with the default settings (30 s per request, 5 retries, the default deadline when there is
one), and what it says. It runs on any checkout of promoter (it uses only what existed before the
deadline did), so the same command measures before and after: `PYTHONPATH=<other checkout>`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import promoter

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "forge")]

from fakeforge import FakeForge
from forgeworld import DIGEST_A, DIGEST_B, FILES, REPO, TOKEN, World, image, make_repo

from promoter.model.finding import CheckResult
from promoter.publish.publisher import publish_promotion

VARIANTS = [("github", "graphql"), ("github", "git-data"), ("gitlab", "graphql")]


def one_round(root: Path, kind: str, method: str) -> dict[str, tuple[int, float]]:
    fake = FakeForge(root / "forge")
    try:
        fake.add_token(TOKEN)
        local = make_repo(root / "local", FILES)
        fake.create_repo(REPO, source=local)
        world = World(fake, local, kind)
        settings = world.settings(commit_method=method)
        out: dict[str, tuple[int, float]] = {}
        for name, img in (
            ("created", image("1.4.2", DIGEST_A)),
            ("updated", image("1.4.3", DIGEST_B)),
            ("none", image("1.4.3", DIGEST_B)),
        ):
            fake.reset_log()
            start = time.perf_counter()
            # Checks given, as `bump --pr` gives them: the promoter/check status is part of the cost.
            res = publish_promotion(world.request(img, settings=settings, checks=CheckResult()))
            elapsed = time.perf_counter() - start
            assert res.operation == name, (res.operation, name)
            out[name] = (len(fake.log), elapsed)
        return out
    finally:
        fake.close()


def dead_forge(kind: str) -> tuple[float, int, str]:
    """Seconds until publishing gives up on a forge that never answers, requests it sent, its message."""
    from promoter.publish.forge.settings import ForgeSettings

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        fake = FakeForge(root / "forge")
        try:
            fake.add_token(TOKEN)
            local = make_repo(root / "local", FILES)
            fake.create_repo(REPO, source=local)
            world = World(fake, local, kind)
            url = fake.github_url if kind == "github" else fake.gitlab_url
            settings = ForgeSettings(type=kind, url=url, repository=REPO, token=TOKEN)  # every default
            fake.slow_next(".*", delay=100_000, times=1_000_000)  # accept, never answer
            start = time.perf_counter()
            try:
                publish_promotion(world.request(image(), settings=settings))
                message = "(published?)"
            except Exception as exc:  # what the user sees
                message = f"{type(exc).__name__}: {exc}"
            return time.perf_counter() - start, len(fake.log), message
        finally:
            fake.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--dead", action="store_true", help="time to give up on a forge that never answers")
    parser.add_argument("--kind", default="github,gitlab")
    args = parser.parse_args()
    if args.dead:
        print(f"promoter from {Path(promoter.__file__).parent}")
        print("| forge | gave up after s | requests sent | message |")
        print("|---|---|---|---|")
        for kind in args.kind.split(","):
            seconds, sent, message = dead_forge(kind)
            print(f"| {kind} | {seconds:.1f} | {sent} | {message} |", flush=True)
        return
    print("| forge | commit method | operation | requests | median ms |")
    print("|---|---|---|---|---|")
    for kind, method in VARIANTS:
        rounds = []
        for _i in range(args.runs):
            with tempfile.TemporaryDirectory() as tmp:
                rounds.append(one_round(Path(tmp), kind, method))
        for op in ("created", "updated", "none"):
            counts = {r[op][0] for r in rounds}
            ms = statistics.median(r[op][1] for r in rounds) * 1000
            shown_method = method if kind == "github" else "commits API"
            print(f"| {kind} | {shown_method} | {op} | {'/'.join(map(str, sorted(counts)))} | {ms:.0f} |")


if __name__ == "__main__":
    main()
