"""Command lines seen in output and docs, checked against the real CLI without running anything.

`dry_parse` builds click's contexts for `promoter …` arguments the way `--help` would: every
option is parsed and validated (names, choices, required ones), no command body runs. The test
suite's `invoke` passes every output through `hint_problems`, so a hint that names an option
that does not exist, or a command line that would not parse, fails the test that printed it.
"""

from __future__ import annotations

import re
import shlex

import click

# A hint's command line is printed in backticks: `promoter bump --app … --env …`.
BACKTICKED = re.compile(r"`([^`\n]+)`")
OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)")
# Lines that suggest something to the user: errors, warnings and the "how to proceed" of findings.
HINT_LINE = re.compile(r"^(promoter: (error|warning): |\s*how to proceed: |promoter check: )")
# click's own messages about what the user typed quote the user's options back: not hints.
USER_ECHO = re.compile(
    r"No such option|Invalid value for|unexpected extra argument|Missing option|requires an argument"
)


def dry_parse(argv: list[str]) -> click.Context:
    """Parse `promoter ARGV` (without `promoter`) down to its last subcommand; raise click.UsageError
    when it does not parse. Nothing runs: the contexts are built and thrown away."""
    from promoter.cli import cli

    ctx = cli.make_context("promoter", list(argv), resilient_parsing=False)
    cmd: click.Command = cli
    while isinstance(cmd, click.Group):
        rest = [*ctx._protected_args, *ctx.args]  # noqa: SLF001 - click keeps the subcommand's words here
        if not rest:
            raise click.UsageError(f"{ctx.command_path}: no subcommand", ctx=ctx)
        name, sub, sub_args = cmd.resolve_command(ctx, rest)
        assert name is not None and sub is not None
        ctx = sub.make_context(name, sub_args, parent=ctx, resilient_parsing=False)
        cmd = sub
    return ctx


def command_options(words: list[str]) -> set[str]:
    """Every option name (long and short, hidden ones too) of the command `promoter WORDS`."""
    from promoter.cli import cli

    cmd: click.Command = cli
    ctx = click.Context(cli, info_name="promoter")
    for w in words:
        assert isinstance(cmd, click.Group)
        sub = cmd.get_command(ctx, w)
        assert sub is not None, f"promoter {' '.join(words)}: no such command"
        cmd = sub
        ctx = click.Context(cmd, info_name=w, parent=ctx)
    names: set[str] = {"--help", "-h"}
    for p in cmd.params:
        if isinstance(p, click.Option):
            names.update(p.opts)
            names.update(p.secondary_opts)
    return names


def subcommand_words(argv: list[str]) -> list[str]:
    """The subcommand path of an argument list: ['policy', 'test'] for `policy test FILE …`."""
    from promoter.cli import cli

    words: list[str] = []
    cmd: click.Command = cli
    ctx = click.Context(cli, info_name="promoter")
    for a in argv:
        if not isinstance(cmd, click.Group) or a.startswith("-"):
            break
        sub = cmd.get_command(ctx, a)
        if sub is None:
            break
        words.append(a)
        cmd = sub
        ctx = click.Context(cmd, info_name=a, parent=ctx)
    return words


def promoter_lines(text: str) -> list[str]:
    """Every backticked `promoter …` command line in `text`."""
    return [m.group(1) for m in BACKTICKED.finditer(text) if m.group(1).startswith("promoter ")]


def hint_problems(argv: list[str], *texts: str) -> list[str]:
    """What is wrong with the hints in the output of `promoter ARGV`: command lines that do not parse,
    and options named in errors, warnings and "how to proceed" lines that the command does not have."""
    problems: list[str] = []
    words = subcommand_words(argv)
    own = command_options(words) if words else set()
    for text in texts:
        for line in promoter_lines(text):
            try:
                dry_parse(shlex.split(line)[1:])
            except (click.UsageError, ValueError) as exc:
                problems.append(f"hint {line!r} does not parse: {exc}")
        if not words:
            continue
        for raw in text.splitlines():
            if not HINT_LINE.match(raw) or USER_ECHO.search(raw):
                continue
            # Backticked command lines are judged whole (above); other tools' own options are theirs.
            bare = BACKTICKED.sub(" ", raw)
            for option in OPTION.findall(bare):
                if option not in own:
                    problems.append(f"`promoter {' '.join(words)}` has no {option}, named in: {raw.strip()}")
    return problems
