"""`promoter check`: render and validate what a change affects (or everything), report in CI formats."""

from __future__ import annotations

import os
from pathlib import Path

import click

from promoter.commands._options import load, repo_options
from promoter.model.errors import EXIT_FINDINGS, EXIT_OK, UsageError
from promoter.model.finding import CheckResult, Severity


@click.command("check")
@repo_options
@click.option(
    "--base", metavar="REF", help="Check what differs from REF's merge base (committed, staged, unstaged, untracked)."
)
@click.option("--all", "all_", is_flag=True, help="Check every overlay, chart and manifest folder.")
@click.option("--env", metavar="ENV", help="Only targets of this environment.")
@click.option(
    "--shard",
    metavar="K/N",
    help="Only the K-th of N parts of about equal cost (one per CI job): the plan's with --plan, else cut the same "
    "way on every job.",
)
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="A plan from `promoter plan --output json=FILE`: --shard takes the targets it gives that shard; the plan's "
    "--base/--all and --env apply unless given.",
)
@click.option(
    "--validator",
    type=click.Choice(["builtin", "kubeconform", "auto"]),
    help="Schema validator (default: config, else builtin).",
)
@click.option(
    "--strict-missing", is_flag=True, default=None, help="A resource without a schema is an error, not a skip."
)
@click.option("--kubernetes-version", metavar="X.Y", help="Validate against this Kubernetes version's schemas.")
@click.option(
    "--schema-dir",
    "schema_dirs",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Extra schema folder in the CRDs-catalog layout (repeatable).",
)
@click.option(
    "--policy",
    "policy_dirs",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Extra policy folder or .rego file (repeatable).",
)
@click.option(
    "--data",
    "data_paths",
    multiple=True,
    type=click.Path(path_type=Path),
    help="JSON/YAML data file or folder for the policies, merged into `data` like conftest's -d (repeatable).",
)
@click.option(
    "--namespace",
    "namespaces",
    multiple=True,
    metavar="NS",
    help="Rego package(s) to evaluate, like conftest's -n (repeatable; default: policies.namespaces, else main).",
)
@click.option(
    "--combine",
    is_flag=True,
    default=None,
    help="Give the policies all resources of an environment as one input, like conftest --combine.",
)
@click.option(
    "--output",
    "-o",
    "outputs",
    multiple=True,
    metavar="FORMAT[=FILE]",
    help="Report format, optionally to a file (repeatable): text, json, junit, sarif, codequality, github.",
)
@click.option(
    "--path-prefix",
    metavar="DIR",
    help="Show report paths under DIR: the folder --repo is in, relative to the CI checkout's root "
    "(annotations, SARIF, Code Quality and JUnit then point at the right files).",
)
@click.option(
    "--fail-on",
    "fail_on",
    multiple=True,
    metavar="WHAT",
    help="Which findings exit 3, repeatable or comma-separated: new (default with --base: only those the change "
    "adds; existing ones are reported, marked) or any (default with --all); and error (default), warning "
    "(errors and warnings) or never (report only).",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    metavar="N",
    help="Processes for parsing manifest folders and evaluating policies (default: the CPUs available).",
)
def command(
    repo: Path,
    config_file: Path | None,
    base: str | None,
    all_: bool,
    env: str | None,
    shard: str | None,
    validator: str | None,
    strict_missing: bool | None,
    kubernetes_version: str | None,
    schema_dirs: tuple[Path, ...],
    policy_dirs: tuple[Path, ...],
    data_paths: tuple[Path, ...],
    namespaces: tuple[str, ...],
    combine: bool | None,
    outputs: tuple[str, ...],
    path_prefix: str | None,
    fail_on: tuple[str, ...],
    jobs: int | None,
    plan_file: Path | None,
) -> int:
    """Render what the change affects (or everything), validate it offline, run the policies and,
    with --base, the promotion gates of every environment whose image moves.

    With --base, the affected targets are checked at the base too and each finding is marked new or
    existing; only new error findings fail the check unless --fail-on any.

    Exit 0 when nothing blocks, 3 on an error finding, 2 on bad input, 1 when the tool failed.
    """
    from promoter.flows.check import parse_shard, run_check
    from promoter.publish.redact import environ_redactor
    from promoter.report import (
        check_report_paths,
        parse_output_spec,
        parse_path_prefix,
        with_path_prefix,
        write_reports,
    )
    from promoter.validate import ValidateOptions

    plan = None
    if plan_file is not None:
        from promoter.render.shards import read_plan

        plan = read_plan(plan_file)
        if not shard:
            raise UsageError(f"--plan {plan_file}: give --shard K/{plan.shards} too (which part of the plan to check)")
        if not all_ and base is None:  # the plan says what it covers
            all_, base = plan.mode == "all", plan.base
        elif (plan.mode == "all") != all_ or (base is not None and base != plan.base):
            made = "--all" if plan.mode == "all" else f"--base {plan.base}"
            raise UsageError(f"--plan {plan_file} was made with {made}: give the same, or neither")
        if env is None:
            env = plan.env
        elif plan.env is not None and env != plan.env:
            raise UsageError(f"--plan {plan_file} was made with --env {plan.env}: give the same, or none")
    if all_ == (base is not None):
        raise UsageError("give exactly one of --base REF or --all")
    scope, level = parse_fail_on(fail_on)
    if scope == "new" and base is None:
        raise UsageError("--fail-on new needs --base REF: without a base there is nothing to be new against")
    # Parse every flag before any work: a typo must fail in milliseconds, not after rendering.
    specs = [parse_output_spec(o) for o in outputs] or [("text", None)]
    for fmt, file in specs:
        if file is not None and Path(file).is_dir():
            raise UsageError(f"--output {fmt}={file}: {file} is a folder; name the report file inside it")
    shard_kn = parse_shard(shard) if shard else None
    prefix = parse_path_prefix(path_prefix) if path_prefix is not None else ""
    for d in schema_dirs:
        if not d.is_dir():
            raise UsageError(f"--schema-dir {d}: no such folder")
    for d in policy_dirs:
        if not d.exists():
            raise UsageError(f"--policy {d}: no such policy folder or file")
    for d in data_paths:
        if not d.exists():
            raise UsageError(f"--data {d}: no such file or folder")
    repo, config = load(repo, config_file)
    check_report_paths(
        specs,
        reads=[
            *([("the configuration", repo / config.file)] if config.file else []),
            *((f"--schema-dir {d}", d) for d in schema_dirs),
            *((f"--policy {d}", d) for d in policy_dirs),
            *((f"--data {d}", d) for d in data_paths),
            *((f"policies.paths {p}", repo / p) for p in config.policies.get("paths") or []),
            *((f"validation.schema_dirs {d}", repo / d) for d in config.validation.get("schema_dirs") or []),
        ],
        repo=repo,
    )
    if kubernetes_version is not None:
        # The flag stands for the config key everywhere: policies judge deprecated APIs by it too.
        config.validation = {**config.validation, "kubernetes_version": kubernetes_version}
    # Likewise the policy flags stand for their config keys.
    if namespaces:
        config.policies = {**config.policies, "namespaces": list(namespaces)}
    if combine is not None:
        config.policies = {**config.policies, "combine": combine}
    if data_paths:
        config.policies = {**config.policies, "data_paths": [str(d.resolve()) for d in data_paths]}
    options = ValidateOptions.from_config(
        config,
        repo.resolve(),
        validator=validator,
        strict_missing=strict_missing,
        kubernetes_version=kubernetes_version,
        schema_dirs=[
            *(repo.resolve() / d for d in config.validation.get("schema_dirs", [])),
            *(d.resolve() for d in schema_dirs),
        ]
        if schema_dirs
        else None,
    )
    options.preflight(
        version_from="--kubernetes-version"
        if kubernetes_version
        else f"{config.file or '.promoter.yaml'}: validation.kubernetes_version",
        config_file=config.file,
    )
    result = run_check(
        repo,
        config,
        base=base,
        all_=all_,
        env=env,
        shard=shard_kn,
        validate_options=options,
        policy_dirs=[d.resolve() for d in policy_dirs],
        fail_on=scope,
        jobs=jobs,
        plan=plan,
    )
    write_reports(with_path_prefix(result, prefix), specs, title="promoter check", redact=environ_redactor(os.environ))
    failed = fails(result, level)
    if all(file is not None for _, file in specs):
        # Every report went to a file: one line on stderr, so a CI log still says what happened and where to look.
        from promoter.report.base import summary_line, verdict

        files = ", ".join(f"{fmt}={file}" for fmt, file in specs)
        click.echo(f"promoter check: {verdict(result)}: {summary_line(result)}; reports: {files}", err=True)
    return EXIT_FINDINGS if failed else EXIT_OK


SCOPES = ("new", "any")
LEVELS = ("error", "warning", "never")


def parse_fail_on(values: tuple[str, ...]) -> tuple[str | None, str]:
    """(`new`|`any`|None for the default, `error`|`warning`|`never`) from repeated or comma-separated values."""
    scope: str | None = None
    level = "error"
    for value in values:
        for part in (p.strip().lower() for p in value.split(",")):
            if part in SCOPES:
                scope = part
            elif part in LEVELS:
                level = part
            else:
                raise UsageError(
                    f"--fail-on {part!r}: expected new or any (which findings), and/or error, warning or never "
                    "(which severities)"
                )
    return scope, level


def fails(result: CheckResult, level: str) -> bool:
    """Whether the findings fail the check: blocking errors (new ones only under --fail-on new), and under
    `warning` also such warnings; never under `never`. Waived findings never do."""
    if level == "never":
        return False
    if result.failed:
        return True
    return level == "warning" and any(
        f.severity is Severity.WARNING and not f.waived and not (result.fail_on == "new" and f.baseline == "existing")
        for f in result.findings
    )
