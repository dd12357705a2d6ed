"""Time to describe a promotion branch: the file diff with secrets masked by structure, and the whole description.

    python bench/bench_description.py [--runs 5]

Each file is a 4-document manifest (Secret, ConfigMap, Deployment, Service, about 80 lines)
whose head pins a new image. Measured in one run, side by side: the plain text diff the old
description used (difflib over the raw texts), the masked diff (both sides parsed, secrets
replaced, then difflib), and composing the whole description (masked diff, summary, sections,
size limit) for GitHub's cap. The ratio masked / plain is the price of masking by structure.
"""

from __future__ import annotations

import argparse
import base64
import difflib
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from promoter.publish.description import BranchReview, Description, FileStat, compose
from promoter.publish.forge.github import BODY_LIMIT
from promoter.publish.masking import Masker
from promoter.publish.pullrequest import PromotedApp

OLD, NEW = "ghcr.io/acme/api:1.4.1", "ghcr.io/acme/api:1.4.2@sha256:" + "a" * 64


def manifest(i: int, image: str) -> str:
    secret = "".join(f"  key{k}: {base64.b64encode(f'value-{i}-{k}'.encode()).decode()}\n" for k in range(10))
    props = "".join(f"    setting.{k}=value{k}\n" for k in range(10))
    return (
        f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: s{i}\ndata:\n{secret}---\n"
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\ndata:\n  DB_PASSWORD: pw-{i}\n"
        f"  app.properties: |\n{props}    db.password=pw-{i}\n---\n"
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d{i}\nspec:\n  template:\n    spec:\n"
        f"      containers:\n        - name: api\n          image: {image}\n          env:\n"
        f"            - name: API_TOKEN\n              value: tok-{i}\n            - name: COLOR\n              value: red\n"
        f"---\napiVersion: v1\nkind: Service\nmetadata:\n  name: svc{i}\nspec:\n  ports:\n    - port: 80\n"
    )


def plain(files: list[tuple[str, str, str]]) -> str:
    return "".join(
        "".join(difflib.unified_diff(a.splitlines(True), b.splitlines(True), f"a/{p}", f"b/{p}")) for p, a, b in files
    )


def masked(files: list[tuple[str, str, str]]) -> str:
    m = Masker()
    out = []
    for p, a, b in files:
        ma, mb = m.texts(p, a, b)
        out.append(
            "".join(difflib.unified_diff((ma or "").splitlines(True), (mb or "").splitlines(True), f"a/{p}", f"b/{p}"))
        )
    return "".join(out)


def described(files: list[tuple[str, str, str]]) -> str:
    diff = masked(files)
    app = PromotedApp("api", NEW, "1.4.2", NEW.split("@")[1], OLD)
    d = Description(
        env="prod",
        apps=[app],
        head="f" * 40,
        merge_base="b" * 40,
        files=[FileStat(p, "modified", 1, 1) for p, _, _ in files],
        file_diff=diff,
        review=BranchReview(rendered_diff=diff),
        limit=BODY_LIMIT,
    )
    return compose(d)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print("| files | lines | plain diff ms | masked diff ms | masked / plain | whole description ms |")
    print("|---|---|---|---|---|---|")
    for n in (10, 50, 250):
        files = [(f"apps/a{i}/all.yaml", manifest(i, OLD), manifest(i, NEW)) for i in range(n)]
        lines = sum(b.count("\n") for _, _, b in files)
        times: dict[str, list[float]] = {"plain": [], "masked": [], "described": []}
        for _ in range(args.runs):
            for name, fn in (("plain", plain), ("masked", masked), ("described", described)):
                start = time.perf_counter()
                out = fn(files)
                times[name].append(time.perf_counter() - start)
                assert out
        med = {k: statistics.median(v) * 1000 for k, v in times.items()}
        print(
            f"| {n} | {lines} | {med['plain']:.1f} | {med['masked']:.1f} | {med['masked'] / med['plain']:.1f}× "
            f"| {med['described']:.0f} |"
        )


if __name__ == "__main__":
    main()
