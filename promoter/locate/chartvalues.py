"""Chart values: a chart's values.yaml, which environment values files layer over (the registry they leave out).

One reader for every caller: bump and images read it from disk, history from Git at a commit.
"""

from __future__ import annotations

import os
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
    return chart_defaults(repo, chart, own=True)


def env_values_apps(config: Config) -> dict[str, str]:
    """Each configured environment values file → its app (apps with a chart), nothing read."""
    out: dict[str, str] = {}
    for name, app in config.apps.items():
        if not app.chart:
            continue
        for env in config.environments:
            where = app.location(env.name, config.default_path)
            if where and where.endswith((".yaml", ".yml")):
                out.setdefault(where, name)
    return out


def env_values_defaults(repo: Path, config: Config) -> dict[str, Any]:
    """Each configured environment values file → its app's chart values.yaml data (see chart_values)."""
    data = {name: chart_values(repo, config, name) for name in set(env_values_apps(config).values())}
    return {where: data[name] for where, name in env_values_apps(config).items() if data[name] is not None}


# ---- charts found from the files themselves (no configuration needed) --------------------------
MAX_VENDORED = 8 * 1024 * 1024  # a vendored chart's values.yaml larger than this is not read


def chart_folder(repo: Path, rel: str) -> str | None:
    """The chart a values file belongs to: its own folder, when that folder has a Chart.yaml."""
    folder = rel.rpartition("/")[0] or "."
    if not rel.rpartition("/")[2].startswith("values"):
        return None
    return folder if os.path.isfile(os.path.join(repo, folder, "Chart.yaml")) else None


def chart_defaults(repo: Path, chart: str, *, own: bool) -> Any:
    """What a values file of `chart` layers over: the chart's values.yaml (`own`: for an environment's
    values file, not for values.yaml itself) and, under each dependency's name or alias, the values.yaml
    of the subchart vendored in charts/ (a folder or a .tgz), so `grafana: {image: {tag: …}}` in an
    umbrella chart knows grafana's repository."""
    base: Any = None
    if own:
        values = repo / values_file(chart)
        if values.exists() or values.is_symlink():  # anything but a regular file is refused by the read, naming it
            base = parse_values(_read_text(values, values_file(chart)), values_file(chart))
    out: dict[str, Any] = dict(base) if isinstance(base, dict) else {}
    for key, sub in _subchart_values(repo, chart).items():
        mine = out.get(key)
        out[key] = _merge(sub, mine) if isinstance(mine, dict) else sub
    return out or base


def _read_text(path: Path, rel: str) -> str:
    """A chart file's text: a regular file within the size limit (yamlio/files.py), UTF-8; else one UsageError."""
    from promoter.yamlio.document import read_checked

    raw = read_checked(path, rel)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{rel}: not UTF-8 text (byte {exc.start})") from None


def _merge(low: Any, high: Any) -> Any:
    if not (isinstance(low, dict) and isinstance(high, dict)):
        return high
    out = dict(low)
    for k, v in high.items():
        out[k] = _merge(low.get(k), v) if k in low else v
    return out


def _subchart_values(repo: Path, chart: str) -> dict[str, Any]:
    """Dependency key (alias or name) → the vendored subchart's values (Chart.yaml `dependencies`)."""
    meta = parse_values(_read_text(repo / chart / "Chart.yaml", f"{chart}/Chart.yaml"), f"{chart}/Chart.yaml")
    deps = meta.get("dependencies") if isinstance(meta, dict) else None
    out: dict[str, Any] = {}
    for dep in deps if isinstance(deps, list) else []:
        if not isinstance(dep, dict) or not isinstance(dep.get("name"), str):
            continue
        values = _vendored_values(repo / chart / "charts", dep["name"])
        if isinstance(values, dict):
            out[str(dep.get("alias") or dep["name"])] = values
    return out


def _vendored_values(charts: Path, name: str) -> Any:
    """A subchart's values.yaml from charts/NAME/ or charts/NAME-VERSION.tgz; None when not vendored."""
    folder = charts / name / "values.yaml"
    if folder.is_file() and not folder.is_symlink() and folder.stat().st_size <= MAX_VENDORED:
        return parse_values(folder.read_text(errors="replace"), str(folder))
    import tarfile

    for archive in sorted(charts.glob(f"{name}-*.tgz")) if charts.is_dir() else []:
        try:
            with tarfile.open(archive, "r:gz") as tar:
                member = tar.getmember(f"{name}/values.yaml")
                if not member.isfile() or member.size > MAX_VENDORED:
                    continue
                data = tar.extractfile(member)
                if data is None:
                    continue
                return parse_values(data.read().decode("utf-8", "replace"), f"{archive.name}:{name}/values.yaml")
        except (tarfile.TarError, KeyError, OSError, EOFError):
            continue
    return None


def discovered_defaults(repo: Path, rel: str, cache: dict[str, Any] | None = None) -> Any:
    """The defaults of a values file found from the repository itself (see chart_folder, chart_defaults)."""
    if not rel.rpartition("/")[2].startswith("values"):
        return None
    folder = rel.rpartition("/")[0] or "."
    if cache is not None and f"{folder}\0chart" in cache:
        chart = cache[f"{folder}\0chart"]
    else:
        chart = chart_folder(repo, rel)
        if cache is not None:
            cache[f"{folder}\0chart"] = chart
    if chart is None:
        return None
    own = rel.rpartition("/")[2] not in ("values.yaml", "values.yml")
    key = f"{chart}\0{own}"
    if cache is not None and key in cache:
        return cache[key]
    try:
        data = chart_defaults(repo, chart, own=own)
    except UsageError:
        data = None  # the chart's own files are reported where they are read
    if cache is not None:
        cache[key] = data
    return data
