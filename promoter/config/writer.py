"""Writer: a `.promoter.yaml` as text, with a comment above each part saying why it is there.

`promoter init` proposes a configuration a person will read and keep: the text is written by
hand (not dumped), so its order, its comments and its quoting are the ones a person would write,
and `load_config` reads it back (the caller checks that it does).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

_PLAIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n"}


def scalar(value: str) -> str:
    """A string as a YAML scalar that reads back as the same string."""
    if _PLAIN.match(value) and value.lower() not in _RESERVED and not re.match(r"^[-+]?[0-9._]+$", value):
        return value
    return json.dumps(value)


@dataclass
class EnvEntry:
    name: str
    comment: list[str] = field(default_factory=list)


@dataclass
class AppEntry:
    name: str
    image: str
    path: str | None = None
    paths: dict[str, str] = field(default_factory=dict)
    chart: str | None = None
    comment: list[str] = field(default_factory=list)


def _comments(lines: list[str], indent: str) -> list[str]:
    return [f"{indent}# {c}".rstrip() for c in lines]


def render_config(
    environments: list[EnvEntry],
    apps: list[AppEntry],
    *,
    default_path: str | None = None,
    header: list[str] | None = None,
) -> str:
    """The configuration's text: version, environments in order, defaults, apps."""
    out = _comments(header or [], "")
    out.append("version: 1")
    out.append("")
    out.append("environments:  # promotion order: builds land in the first, the last is production")
    for e in environments:
        out += _comments(e.comment, "  ")
        out.append(f"  - name: {scalar(e.name)}")
    if default_path:
        out.append("")
        out.append("defaults:")
        out.append(f"  path: {scalar(default_path)}  # where an app's environment lives")
    out.append("")
    out.append("apps:" if apps else "apps: {}")
    for a in apps:
        out += _comments(a.comment, "  ")
        out.append(f"  {scalar(a.name)}:")
        out.append(f"    image: {scalar(a.image)}")
        if a.chart:
            out.append(f"    chart: {scalar(a.chart)}")
        if a.path:
            out.append(f"    path: {scalar(a.path)}")
        if a.paths:
            out.append("    paths:")
            for env, where in a.paths.items():
                out.append(f"      {scalar(env)}: {scalar(where)}")
    return "\n".join(out) + "\n"
