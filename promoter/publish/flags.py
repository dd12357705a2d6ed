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
