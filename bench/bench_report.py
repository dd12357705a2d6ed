"""Benchmark: rendering every report format for a large check result (one CI run over a big repository).

Usage: python bench/bench_report.py [--subjects 10800] [--findings 2000] [--repeat 5]
Prints, per format, the median render time and the output size, all measured in this one run.
"""

from __future__ import annotations

import argparse
import statistics
import time

from promoter.model.finding import (
    CheckResult,
    Finding,
    Location,
    Severity,
    Status,
    Subject,
)
from promoter.report import FORMATS, render
from promoter.report.github import step_summary
from promoter.report.markdown import markdown_summary

SEVERITIES = (Severity.ERROR, Severity.WARNING, Severity.INFO)


def synthetic(subjects: int, findings: int) -> CheckResult:
    """`subjects` resources over 3 environments, `findings` spread over them, a few waived and skipped."""
    targets = [f"apps/app{i}/overlays/{env}" for i in range(subjects // 18 + 1) for env in ("dev", "stage", "prod")]
    subs = [
        Subject(
            f"apps/v1/Deployment/ns/app{i}",
            "resource",
            targets[i // 6 % len(targets)],
            Location(f"apps/app{i // 18}/base/deployment.yaml", 1 + i % 40),
            Status.SKIPPED if i % 97 == 0 else Status.PASSED,
            "no schema for example.com/v1 Widget" if i % 97 == 0 else None,
        )
        for i in range(subjects)
    ]
    fnds = [
        Finding(
            "schema",
            SEVERITIES[j % 3],
            f"spec.template.spec.containers[0].resources.limits.cpu: 'lots' is not valid under any of the given schemas ({j})",
            Location(f"apps/app{j % (subjects // 18 + 1)}/base/deployment.yaml", 10 + j % 50, 7),
            source="schema",
            subject=subs[j * 7 % subjects].id,
            target=subs[j * 7 % subjects].target,
            waived=j % 50 == 0,
            waiver_reason="accepted until 2027-01-01" if j % 50 == 0 else None,
        )
        for j in range(findings)
    ]
    return CheckResult(findings=fnds, subjects=subs, targets=targets)


def timed(fn, repeat: int) -> tuple[float, str]:  # type: ignore[no-untyped-def]
    runs, out = [], ""
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subjects", type=int, default=10_800)
    ap.add_argument("--findings", type=int, default=2_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    result = synthetic(args.subjects, args.findings)
    print(f"{args.subjects} subjects, {args.findings} findings, {len(result.targets)} targets; median of {args.repeat}")
    print(f"{'format':<28} {'ms':>9} {'KiB':>9}")
    cases = {name: (lambda n=name: render(result, n, title="promoter check")) for name in FORMATS}
    cases["markdown max_chars=65536"] = lambda: markdown_summary(result, title="promoter check", max_chars=65_536)
    cases["github step summary 1 MiB"] = lambda: step_summary(result, title="promoter check")
    for name, fn in cases.items():
        seconds, out = timed(fn, args.repeat)
        print(f"{name:<28} {seconds * 1000:>9.1f} {len(out.encode()) / 1024:>9.1f}")


if __name__ == "__main__":
    main()
