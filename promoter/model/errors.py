"""Errors a user can act on, each carrying the documented exit code of the CLI."""

from __future__ import annotations

import signal

# Exit codes shared by every command (documented in README.md).
EXIT_OK = 0
EXIT_TOOL = 1  # the tool itself, or a remote service, failed
EXIT_USAGE = 2  # bad input: arguments, configuration, files the user pointed at
EXIT_FINDINGS = 3  # the check ran and found error-severity findings

# Inputs are echoed in messages so the user sees what was refused; a 10,000-character argument
# or YAML value is echoed by its start and its length, and no message line grows without end.
MAX_SHOWN = 200
MAX_MESSAGE = 2000
# What str.splitlines breaks at: any of them would start a second line on a terminal or in a log.
_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"


def shorten(value: object, limit: int = MAX_SHOWN) -> str:
    """`value` as text of at most about `limit` characters: a longer one keeps its start and says its length."""
    text = str(value)
    if len(text) <= limit:
        return text
    return f"{text[: max(limit - 24, 8)]}…[{len(text)} characters]"


def killed_by(returncode: int) -> str | None:
    """For a child process that a signal ended (a negative return code): "killed by SIGKILL (perhaps the
    out-of-memory killer: …)", the news a user needs on a small runner; None for an exit."""
    if returncode >= 0:
        return None
    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        name = f"signal {-returncode}"
    hint = " (perhaps the out-of-memory killer: give the job more memory)" if -returncode == signal.SIGKILL else ""
    return f"killed by {name}{hint}"


def one_line(message: str, limit: int = MAX_MESSAGE) -> str:
    """A message as printed: one line (text from outside, a forge's refusal say, may hold line breaks:
    each run of them becomes one space), at most `limit` characters, cut in the middle when longer."""
    if any(c in message for c in _BREAKS):
        message = " ".join(part.strip() for part in message.splitlines() if part.strip())
    if len(message) <= limit:
        return message
    keep = (limit - 40) // 2
    return f"{message[:keep]} …[{len(message) - 2 * keep} characters cut]… {message[-keep:]}"


class PromoterError(Exception):
    """An error shown to the user as one line; never a traceback."""

    exit_code = EXIT_TOOL

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"


class UsageError(PromoterError):
    """Bad input from the user: arguments, config, or files. Exit 2."""

    exit_code = EXIT_USAGE


class ConfigError(UsageError):
    """`.promoter.yaml` (or a policy/gate setting) is invalid. Exit 2."""


class ToolError(PromoterError):
    """promoter or something it runs failed. Exit 1."""

    exit_code = EXIT_TOOL


class ForgeError(ToolError):
    """The forge (GitHub/GitLab) refused or failed. Exit 1."""
