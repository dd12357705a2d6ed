"""Errors a user can act on, each carrying the documented exit code of the CLI."""

from __future__ import annotations

# Exit codes shared by every command (documented in README.md).
EXIT_OK = 0
EXIT_TOOL = 1  # the tool itself, or a remote service, failed
EXIT_USAGE = 2  # bad input: arguments, configuration, files the user pointed at
EXIT_FINDINGS = 3  # the check ran and found error-severity findings


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
