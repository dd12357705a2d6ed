"""`promoter policy test|verify`: conftest's test and verify for people writing policies, on any
YAML/JSON file, with promoter's engine, sandbox and report formats."""

from __future__ import annotations

import os
from pathlib import Path

import click

from promoter.model.errors import EXIT_FINDINGS, EXIT_OK, UsageError

_OUTPUT_HELP = "Report format, optionally to a file (repeatable): text, json, junit, sarif, codequality, github."


def _policy_paths(paths: tuple[Path, ...]) -> list[tuple[Path, str]]:
    chosen = list(paths) or [Path("policy")]  # conftest's default folder
    for p in chosen:
        if not p.exists():
            raise UsageError(f"--policy {p}: no such policy folder or file")
    return [(p, p.as_posix().rstrip("/") or ".") for p in chosen]


def _specs(outputs: tuple[str, ...], reads: list[tuple[str, Path]]) -> list[tuple[str, str | None]]:
    from promoter.report import check_report_paths, parse_output_spec

    specs = [parse_output_spec(o) for o in outputs] or [("text", None)]
    for fmt, file in specs:
        if file is not None and Path(file).is_dir():
            raise UsageError(f"--output {fmt}={file}: {file} is a folder; name the report file inside it")
    check_report_paths(specs, reads=reads)
    return specs


def _inputs(policies: tuple[Path, ...], data_paths: tuple[Path, ...]) -> list[tuple[str, Path]]:
    """What a policy command reads, which no report may overwrite."""
    return [*((f"--policy {p}", p) for p in policies or (Path("policy"),)), *((f"--data {d}", d) for d in data_paths)]


@click.group("policy")
def command() -> None:
    """Test Rego policies the way conftest does: `test` on files, `verify` their unit tests."""


@command.command("test")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--policy",
    "-p",
    "policies",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Policy folder or .rego file (repeatable; default: policy).",
)
@click.option(
    "--namespace",
    "-n",
    "namespaces",
    multiple=True,
    metavar="NS",
    help="Rego package(s) to evaluate, globs allowed (repeatable; default: main).",
)
@click.option("--all-namespaces", is_flag=True, help="Evaluate every package.")
@click.option(
    "--data",
    "-d",
    "data_paths",
    multiple=True,
    type=click.Path(path_type=Path),
    help="JSON/YAML data file or folder, merged into `data` (repeatable).",
)
@click.option("--combine", is_flag=True, help="All documents of all files as one input: [{path, contents}].")
@click.option("--fail-on-warn", is_flag=True, help="Warnings fail too (exit 3).")
@click.option("--output", "-o", "outputs", multiple=True, metavar="FORMAT[=FILE]", help=_OUTPUT_HELP)
def test_command(
    files: tuple[Path, ...],
    policies: tuple[Path, ...],
    namespaces: tuple[str, ...],
    all_namespaces: bool,
    data_paths: tuple[Path, ...],
    combine: bool,
    fail_on_warn: bool,
    outputs: tuple[str, ...],
) -> int:
    """Evaluate policies on YAML/JSON FILES (any shape, not only Kubernetes objects), like `conftest test`.

    Exit 0 when nothing fails, 3 on a failure (or a warning with --fail-on-warn), 2 on bad input.
    """
    from promoter.policy.inputs import read_data
    from promoter.policy.policyset import PolicySet
    from promoter.policy.runner import test_files, test_result, write_prints
    from promoter.publish.redact import environ_redactor
    from promoter.report import write_reports

    specs = _specs(outputs, [*((f"the input {f}", f) for f in files), *_inputs(policies, data_paths)])
    for f in files:
        if not f.is_file():
            raise UsageError(f"{f}: no such file")
    data = read_data(list(data_paths))
    policy_set = PolicySet.load(_policy_paths(policies), ["*"] if all_namespaces else list(namespaces) or ["main"])
    run = test_files(policy_set, [(f, f.as_posix()) for f in files], data, combine=combine)
    write_prints([o.verdict for o in run.outcomes])
    result = test_result(run, policy_set)
    write_reports(result, specs, title="promoter policy test", redact=environ_redactor(os.environ))
    warned = any(f.severity.value == "warning" and not f.waived for f in result.findings)
    return EXIT_FINDINGS if result.failed or (fail_on_warn and warned) else EXIT_OK


@command.command("verify")
@click.option(
    "--policy",
    "-p",
    "policies",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Policy folder or .rego file (repeatable; default: policy).",
)
@click.option(
    "--data",
    "-d",
    "data_paths",
    multiple=True,
    type=click.Path(path_type=Path),
    help="JSON/YAML data file or folder, merged into `data` (repeatable).",
)
@click.option("--output", "-o", "outputs", multiple=True, metavar="FORMAT[=FILE]", help=_OUTPUT_HELP)
def verify_command(policies: tuple[Path, ...], data_paths: tuple[Path, ...], outputs: tuple[str, ...]) -> int:
    """Run the policies' `test_*` rules (in *_test.rego files too), like `conftest verify` / `opa test`.

    Exit 0 when every test passes, 3 when one fails, 2 on bad input (or no test at all).
    """
    from promoter.policy.inputs import read_data
    from promoter.policy.policyset import PolicySet
    from promoter.policy.runner import verify, verify_result, write_prints
    from promoter.publish.redact import environ_redactor
    from promoter.report import write_reports

    specs = _specs(outputs, _inputs(policies, data_paths))
    data = read_data(list(data_paths))
    policy_set = PolicySet.load(_policy_paths(policies), verify=True)
    if not policy_set.checks:
        raise UsageError(f"{policy_set.name}: no test_ rules to run")
    verdict = verify(policy_set, data)
    write_prints([verdict])
    result = verify_result(verdict, policy_set)
    write_reports(result, specs, title="promoter policy verify", redact=environ_redactor(os.environ))
    return EXIT_FINDINGS if result.failed else EXIT_OK
