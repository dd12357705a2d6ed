"""The documentation is true: README.md and docs/*.md rendered with a CommonMark parser (GFM tables),
every table well formed, every `promoter …` command line in them parsing with the real CLI, and
every option they name existing."""

from __future__ import annotations

import re
import shlex
from functools import cache, lru_cache
from pathlib import Path

import click
import pytest
from markdown_it import MarkdownIt

from tests.commandlines import command_options, dry_parse
from tests.conftest import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Code spans and blocks that start with another tool's name are that tool's command lines.
OTHER_TOOLS = {
    "kubectl", "kustomize", "helm", "conftest", "opa", "docker", "crane", "git", "gh", "glab", "python3", "python",
    "pip", "curl", "kubeconform", "regorus", "uses:", "npm", "apt-get", "bash", "sh", "cosign", "flux", "argocd",
}  # fmt: skip
PROMOTER_LINE = re.compile(r"(?:^|[\s`(;&|])(promoter(?:\s+[^\n`]*)?)$")
OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)")
SYNOPSIS = re.compile(r"[\[\]|…()]|\.\.\.")
# Options the documents name that belong to other programs, each with its owner (said in the prose).
FOREIGN_OPTIONS = {
    "--repeat": "the bench/ scripts",
    "--jobs": "the bench/ scripts",
    "--diff-merges": "git log",
    "--trace": "conftest",
}


def md() -> MarkdownIt:
    return MarkdownIt("commonmark").enable("table")


@cache
def tokens(path: Path) -> list:
    return md().parse(path.read_text(encoding="utf-8"))


def _cells(row: str) -> int:
    """Cells in a GFM table row's source: pipes not escaped (a code span does not protect a pipe in GFM)."""
    body = row.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") and not body.endswith("\\|") else body
    return len(re.split(r"(?<!\\)\|", body))


def test_every_document_is_found() -> None:
    assert (ROOT / "README.md") in DOCS and len(DOCS) >= 5


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_tables_have_the_same_number_of_cells_in_every_row(doc: Path) -> None:
    lines = doc.read_text(encoding="utf-8").splitlines()
    problems = []
    toks = tokens(doc)
    for i, t in enumerate(toks):
        if t.type == "table_open" and t.map:
            start, end = t.map
            header = _cells(lines[start])
            for n in range(start + 2, end):
                if _cells(lines[n]) != header:
                    problems.append(f"{doc.name}:{n + 1}: {_cells(lines[n])} cells, header has {header}")
        if t.type == "inline" and t.map and toks[i - 1].type == "paragraph_open":
            # A table row that renders as text: a blank line split it off its table.
            for n in range(*t.map):
                if lines[n].lstrip().startswith("|") and lines[n].rstrip().endswith("|"):
                    problems.append(f"{doc.name}:{n + 1}: a table row outside any table (a blank line above it?)")
    assert not problems, "\n".join(problems)


def _code(doc: Path) -> list[tuple[int, str]]:
    """(line, text) of every code span and code block, continuation lines joined."""
    out: list[tuple[int, str]] = []
    for t in tokens(doc):
        if t.type in ("fence", "code_block"):
            base = t.map[0] + (1 if t.type == "fence" else 0)
            joined, first = "", None
            for n, line in enumerate(t.content.splitlines()):
                first = base + n + 1 if first is None else first
                if line.rstrip().endswith("\\"):
                    joined += line.rstrip()[:-1] + " "
                    continue
                out.append((first, joined + line))
                joined, first = "", None
        elif t.type == "inline":
            for child in t.children or []:
                if child.type == "code_inline":
                    out.append((t.map[0] + 1 if t.map else 0, child.content))
    return out


def _promoter_commands(doc: Path) -> list[tuple[int, str]]:
    found = []
    for line, text in _code(doc):
        for segment in re.split(r"\s(?:&&|\|\||;)\s", text):
            segment = segment.strip().removeprefix("$ ").removeprefix("- run: ").removeprefix("run: ")
            m = PROMOTER_LINE.search(segment)
            if m and (m.start(1) == 0 or segment[: m.start(1)].strip() in ("", "-", "$")):
                found.append((line, m.group(1).split(" #", 1)[0].strip().rstrip(")")))
    return found


def _words(argv: list[str]) -> list[str]:
    from tests.commandlines import subcommand_words

    return subcommand_words(argv)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_promoter_command_line_parses_with_the_real_cli(doc: Path) -> None:
    problems = []
    for line, cmd in _promoter_commands(doc):
        if cmd == "promoter":
            continue
        if SYNOPSIS.search(cmd):
            # A synopsis (`promoter images [PATH…] [--image REPO]`): its command exists and has every option named.
            argv = [w for w in re.split(r"[\s\[\]()|]+", cmd)[1:] if w]
            words = _words(argv)
            if not words:
                problems.append(f"{doc.name}:{line}: {cmd!r}: no such promoter command")
                continue
            own = command_options(words)
            problems += [f"{doc.name}:{line}: {cmd!r}: no option {o}" for o in OPTION.findall(cmd) if o not in own]
            continue
        argv = shlex.split(cmd)[1:]
        if argv and _words(argv) == argv:
            continue  # the command named in prose (`promoter policy test`): it exists
        try:
            dry_parse(argv)
        except click.exceptions.Exit:
            pass  # --help, --version: parsed, and they would exit 0
        except (click.UsageError, ValueError) as exc:
            problems.append(f"{doc.name}:{line}: {cmd!r} does not parse: {exc}")
    assert not problems, "\n".join(problems)


@lru_cache(maxsize=1)
def all_options() -> frozenset[str]:
    from promoter.cli import cli

    out: set[str] = set()
    ctx = click.Context(cli, info_name="promoter")

    def visit(group: click.Group, path: list[str]) -> None:
        for name in group.list_commands(ctx):
            sub = group.get_command(ctx, name)
            assert sub is not None
            out.update(command_options([*path, name]))
            if isinstance(sub, click.Group):
                visit(sub, [*path, name])

    visit(cli, [])
    return frozenset(out | {"--version"})


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_option_named_exists(doc: Path) -> None:
    """`--flag` in a code span or block that is not another tool's command line is a promoter option."""
    problems = []
    for line, text in _code(doc):
        first = text.strip().split(" ", 1)[0] if text.strip() else ""
        if first in OTHER_TOOLS or (
            first.startswith(("-", "$")) is False and "promoter" not in text and not text.startswith("--")
        ):
            continue
        if "promoter" in text and not text.strip().startswith(("promoter", "--", "$ promoter", "- run: promoter")):
            # prose-like code (YAML with a `run:` line, say) is judged through its promoter command lines
            text = " ".join(cmd for _, cmd in _promoter_commands_of(text))
        for o in OPTION.findall(text):
            if o not in all_options() and o not in FOREIGN_OPTIONS:
                problems.append(f"{doc.name}:{line}: {o} is no promoter option (in {text.strip()[:80]!r})")
    assert not problems, "\n".join(problems)


def _promoter_commands_of(text: str) -> list[tuple[int, str]]:
    return [(0, m.group(1)) for m in re.finditer(r"(promoter\s+[a-z][^\n`\"]*)", text)]


def test_commands_reading_a_repository_take_repo_and_config() -> None:
    """The README says so; it must stay true of every command that reads a GitOps repository."""
    for command in ("init", "images", "bump", "promote", "rollback", "status", "check"):
        assert {"--repo", "--config"} <= command_options([command]), command
