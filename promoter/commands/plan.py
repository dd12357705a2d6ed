"""`promoter plan`: the work of a check (or of promotions) cut into shards, printed as a CI matrix."""

from __future__ import annotations

import json
from pathlib import Path

import click

from promoter.commands._options import load, repo_options
from promoter.model.errors import EXIT_OK, UsageError

FORMATS = ("json", "github-matrix", "gitlab-parallel")


@click.command("plan")
@repo_options
@click.option("--base", metavar="REF", help="Plan the targets a change against REF's merge base affects.")
@click.option("--all", "all_", is_flag=True, help="Plan every overlay, chart and manifest folder.")
@click.option("--env", metavar="ENV", help="Only targets (or promotions) of this environment.")
@click.option("--shards", type=click.IntRange(min=1), default=4, show_default=True, help="Parts to cut the work into.")
@click.option(
    "--costs",
    type=click.Path(path_type=Path),
    metavar="REPORT",
    help="The JSON report of an earlier check: each target's cost from the resources it had (default: file sizes).",
)
@click.option(
    "--work",
    type=click.Choice(["check", "promote"]),
    default="check",
    show_default=True,
    help="What the matrix fans out: check's targets, or the pending promotions (an environment behind the one "
    "before it).",
)
@click.option(
    "--gitlab-jobs",
    metavar="FILE",
    default=".gitlab/promoter-shards.yml",
    show_default=True,
    help="For gitlab-parallel: the repository's file with the hidden jobs the child pipeline's jobs extend "
    "(.promoter-shard and .promoter-merge; .promoter-promotion with --work promote), copied into it.",
)
@click.option(
    "--output",
    "-o",
    "outputs",
    multiple=True,
    metavar="FORMAT[=FILE]",
    help="json (the plan, for check --plan), github-matrix (strategy.matrix), gitlab-parallel (a child pipeline); "
    "repeatable, optionally to a file.",
)
def command(
    repo: Path,
    config_file: Path | None,
    base: str | None,
    all_: bool,
    env: str | None,
    shards: int,
    costs: Path | None,
    work: str,
    gitlab_jobs: str,
    outputs: tuple[str, ...],
) -> int:
    """Cut the work of a check into --shards parts of about equal cost (or list the pending promotions)
    and print it as a matrix a CI system fans out over.

    Each shard job runs `promoter check --plan plan.json --shard K/N --output json=shard-K.json`;
    `promoter report merge shard-*.json` joins their reports into one. Exit 0, or 2 on bad input.
    """
    from promoter.flows.plan import github_matrix, gitlab_pipeline, make_plan
    from promoter.report import check_report_paths, write_text

    if all_ == (base is not None):
        raise UsageError("give exactly one of --base REF or --all")
    specs = []
    for spec in outputs or ("json",):
        name, sep, file = spec.partition("=")
        name = name.strip().lower()
        if name not in FORMATS:
            raise UsageError(f"--output {spec!r}: unknown format {name!r}; known formats: {', '.join(FORMATS)}")
        if sep and not file.strip():
            raise UsageError(f"--output {spec!r}: no file after '='; write FORMAT=FILE, or FORMAT alone for stdout")
        specs.append((name, file.strip() if sep and file.strip() != "-" else None))
    repo, config = load(repo, config_file)
    check_report_paths(specs, reads=[*([("--costs", costs)] if costs else [])], repo=repo)
    jobs_text = ""
    if any(name == "gitlab-parallel" for name, _ in specs):
        jobs_text = _read_jobs(repo, gitlab_jobs)
    plan = make_plan(
        repo, config, base=base, all_=all_, env=env, shards=shards, costs=costs, promotions=work == "promote"
    )
    for name, dest in specs:
        if name == "json":
            text = json.dumps(plan.to_dict(), indent=2, ensure_ascii=False) + "\n"
        elif name == "github-matrix":
            text = json.dumps(github_matrix(plan, work), separators=(",", ":")) + "\n"
        else:
            text = gitlab_pipeline(plan, work, jobs_text, gitlab_jobs)
        write_text(text, dest, what=f"the {name} output")
    return EXIT_OK


def _read_jobs(repo: Path, rel: str) -> str:
    from promoter.yamlio.files import FileRefused, read_regular

    path = Path(rel) if Path(rel).is_absolute() else repo / rel
    try:
        return read_regular(path, rel).decode("utf-8")
    except FileNotFoundError:
        raise UsageError(
            f"--gitlab-jobs {rel}: no such file; it holds the hidden jobs .promoter-shard and .promoter-merge "
            "that the child pipeline extends (docs/examples/gitlab-sharded-jobs.yml is one)"
        ) from None
    except FileRefused as exc:
        raise UsageError(f"--gitlab-jobs {exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"--gitlab-jobs {rel}: not UTF-8 text") from None
