"""Flags: what a command asked of publishing (--pr and its options), as plain data the publisher reads."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class PrFlags:
    enabled: bool = False
    forge: str | None = None
    forge_url: str | None = None
    forge_repo: str | None = None
    base_branch: str | None = None
    draft: bool | None = None
    auto_merge: bool | None = None
    source_repo: str | None = None
    source_commit: str | None = None
    run_url: str | None = None
    actor: str | None = None

    def forge_args(self) -> list[str]:
        """The forge flags given on this command line, so a printed command pasted later reaches the same forge."""
        out: list[str] = []
        for flag, value in (
            ("--forge", self.forge),
            ("--forge-url", self.forge_url),
            ("--forge-repo", self.forge_repo),
            ("--base-branch", self.base_branch),
        ):
            if value:
                out += [flag, value]
        return out
