"""Command lines: the `promoter …` commands that hints print, quoted so they work when pasted.

A hint that names an option is only useful if the option exists and the line runs: every
suggestion promoter prints is built here, as a whole command (`promoter bump --app … --env …
--image …`), with the repository and config options the user gave, quoted for a POSIX shell.
The test suite parses every such line it sees with the real CLI.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# The names `--config` is not needed for: the repository's own config file.
DEFAULT_CONFIG_NAMES = (".promoter.yaml", ".promoter.yml")

Option = tuple[str, "str | None"]


def workspace_options(repo: Path | str | None, config_file: str | None = None) -> list[Option]:
    """`--repo` and `--config` as the user would repeat them: omitted when they are the defaults.

    `config_file` is the config as `Config.file` names it (relative to the repository, or absolute)."""
    out: list[Option] = []
    shown = None if repo is None else str(repo)
    if shown not in (None, "", "."):
        out.append(("--repo", shown))
    if config_file and config_file not in DEFAULT_CONFIG_NAMES:
        path = Path(config_file)
        if not path.is_absolute() and shown not in (None, "", "."):
            path = Path(str(shown)) / path
        out.append(("--config", path.as_posix()))
    return out


def command_line(words: Sequence[str], options: Sequence[Option] = ()) -> str:
    """`promoter WORDS OPTIONS`, shell-quoted, without decoration."""
    parts = ["promoter", *words]
    for flag, value in options:
        parts.append(flag)
        if value is not None:
            parts.append(value)
    return shlex.join(parts)


def command(words: Sequence[str], options: Sequence[Option] = ()) -> str:
    """A command line as hints print it: in backticks, so it stands out of the sentence and can be found."""
    return f"`{command_line(words, options)}`"


@dataclass(frozen=True)
class Invocation:
    """The promotion command the user ran (bump, promote or rollback), so a hint can repeat it with one change."""

    verb: str
    options: tuple[Option, ...]

    def line(self, *extra: Option) -> str:
        return command([self.verb], [*self.options, *extra])


def bump_invocation(
    app: str, env: str, image: str, *, repo: Path | str | None = None, config_file: str | None = None
) -> Invocation:
    """`promoter bump --app APP --env ENV --image IMAGE` (with --repo/--config when they were given)."""
    return Invocation(
        "bump", (("--app", app), ("--env", env), ("--image", image), *workspace_options(repo, config_file))
    )
