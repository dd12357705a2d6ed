"""`promoter init`: propose a `.promoter.yaml` for a repository (and the pins it lacks); write with --write."""

from __future__ import annotations

from pathlib import Path

import click

from promoter.commands._options import emit_json
from promoter.model.errors import EXIT_OK


@click.command("init")
@click.option(
    "--repo",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("."),
    show_default=True,
    help="The GitOps repository.",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path),
    help="Where to write the config (default: REPO/.promoter.yaml).",
)
@click.option("--write", is_flag=True, help="Write the proposed config and pins (default: print them, write nothing).")
@click.option("--output", "-o", type=click.Choice(["text", "json"]), default="text", show_default=True)
def command(repo: Path, config_file: Path | None, write: bool, output: str) -> int:
    """Read the repository's overlays, Helm values, HelmReleases and Argo CD Applications and propose
    its .promoter.yaml: environments in promotion order, one app per image, each guess explained.

    Where an environment's image is pinned only in a file every environment shares (a Kustomize
    base, a chart's values.yaml), init shows the lines that pin it in the environment's own file.
    Prints everything as a diff and writes nothing, unless --write. Exit 0 with a proposal, 2 when
    the repository holds nothing init recognises.
    """
    from promoter.flows.init import init
    from promoter.model.commandline import command as hint

    result = init(repo, config_file, write=write)
    if output == "json":
        emit_json(result.to_dict())
        return EXIT_OK
    click.echo(result.diff(), nl=False)
    say = lambda text: click.echo(text, err=True)  # noqa: E731 - the explanation goes to stderr, the diff to stdout
    say(f"promoter init: read {result.scanned} YAML file(s), {result.references} image reference(s) in {repo}")
    for line in result.explanations:
        say(f"  {line}")
    for f in result.fixes:
        say(f"  pin: {f.app} in {f.env}: {f.what}")
    for p in result.problems:
        say(f"promoter: warning: {p}")
    bad = [c for c in result.checks if not c.ok]
    for c in bad:
        say(f"promoter: warning: a bump of {c.app} in {c.env} would fail: {c.message}")
    if not bad:
        say(f"checked: a bump of each app in each environment finds its image ({len(result.checks)} checked)")
    ws = [("--repo", str(repo))] if str(repo) != "." else []
    if config_file is not None:
        ws.append(("--config", str(config_file)))
    first = result.apps[0]
    env = next(iter(first.places))
    example = hint(
        ["bump"],
        [*ws, ("--app", first.name), ("--env", env), ("--image", f"{first.image}:NEW-TAG"), ("--dry-run", None)],
    )
    if result.written:
        say(f"wrote {result.config_rel}" + (f" and {len(result.files)} pinned file(s)" if result.files else ""))
        say(f"next: {example}")
    elif result.existing:
        say(f"{result.config_rel} exists already: this proposal is for comparison; init never overwrites it")
    else:
        say(f"nothing written: {hint(['init'], [*ws, ('--write', None)])} writes it; then {example}")
    return EXIT_OK
