"""Chart values: a chart's values.yaml, which environment values files layer over (the registry they leave out).

One reader for every caller: bump and images read it from disk, history from Git at a commit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from promoter.config.model import Config
from promoter.locate.paths import safe_path
from promoter.model.errors import UsageError


def values_file(chart: str) -> str:
    """The repository-relative values.yaml of a chart folder."""
    return f"{chart.rstrip('/')}/values.yaml"


def parse_values(text: str, rel: str) -> Any:
    """A values.yaml's text as plain data; one that does not parse is a YamlParseError naming it."""
    import yaml

    from promoter.yamlio.document import parse_error
    from promoter.yamlio.loader import load

    try:
        return load(text)
    except yaml.YAMLError as exc:
        raise parse_error(rel, exc, text) from None


def chart_values(repo: Path, config: Config, app: str | None) -> Any:
    """The app's chart values.yaml on disk (plain data), for env values files that repeat only some keys."""
    chart = config.apps[app].chart if app and app in config.apps else None
    if not chart:
        return None
    rel = values_file(chart)
    values = safe_path(repo, rel, what=f"{config.file}: apps.{app}.chart")
    if not values.exists() and not values.is_symlink():
        return None  # anything else there (a FIFO, a dangling link) is refused by the read, naming it
    from promoter.yamlio.document import read_checked

    raw = read_checked(values, rel)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{rel}: not UTF-8 text (byte {exc.start})") from None
    return parse_values(text, rel)


def env_values_defaults(repo: Path, config: Config) -> dict[str, Any]:
    """Each configured environment values file → its app's chart values.yaml data (see chart_values)."""
    out: dict[str, Any] = {}
    for name, app in config.apps.items():
        if not app.chart:
            continue
        data = chart_values(repo, config, name)
        if data is None:
            continue
        for env in config.environments:
            where = app.location(env.name, config.default_path)
            if where and where.endswith((".yaml", ".yml")):
                out[where] = data
    return out
