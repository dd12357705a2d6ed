"""Workspace: the repository and its configuration, checked beyond the schema, as every command opens them."""

from __future__ import annotations

from pathlib import Path

from promoter.config.loader import load_config
from promoter.config.model import Config
from promoter.model.errors import UsageError
from promoter.yamlio.limits import Limits, configure


def open_workspace(repo: Path, config_file: Path | None) -> tuple[Path, Config]:
    """The repository folder and its config; bad gate settings fail here, at load, not mid-promotion."""
    if not repo.is_dir():
        raise UsageError(f"--repo {repo} is not a folder")
    config = open_config(repo, config_file)
    # Values the schema cannot judge (time zones, date order, a soak on the first env). The gates
    # (and the history reading they import) are loaded only when some environment has gates.
    if any(e.gates for e in config.environments):
        from promoter.gates.engine import validate_gate_config

        validate_gate_config(config, repo)
    return repo, config


def open_config(repo: Path, config_file: Path | None = None) -> Config:
    """The config, read under the default limits; every later read obeys its `limits:` section."""
    configure(Limits())
    config = load_config(repo, config_file)
    configure(Limits.from_config(config.raw.get("limits")))
    return config
