"""The built-in policy pack: where its Rego files are, and each rule's id, rationale and severity."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from promoter.model.errors import ToolError
from promoter.policy.source import RegoModule, rule_kind

_METADATA = re.compile(r"^# METADATA\n((?:#[^\n]*\n)+?)(?P<rule>[A-Za-z_]\w*) contains", re.MULTILINE)


@dataclass(frozen=True)
class PackRule:
    id: str  # "image-latest"
    rule: str  # the Rego rule, "deny_image_latest"
    title: str
    description: str  # the rationale paragraph
    severity: str  # default: "error" | "warning"
    file: str  # file name inside the pack
    kinds: tuple[str, ...] | str | None = None  # METADATA custom.kinds: a list, or a Rego set by path


def rule_id(rule: str) -> str:
    """The finding id of a Rego check rule: `deny_image_latest` -> `image-latest`; bare `deny` stays."""
    for prefix in ("deny_", "violation_", "warn_"):
        if rule.startswith(prefix) and len(rule) > len(prefix):
            return rule[len(prefix) :].replace("_", "-")
    return rule


DATA_FILE = "data.yaml"


def pack_data() -> dict[str, Any]:
    """The pack's data document (data.promoter defaults), the file `conftest test -d` is given."""
    doc = yaml.safe_load((pack_dir() / DATA_FILE).read_text(encoding="utf-8"))
    return doc if isinstance(doc, dict) else {}


def pack_kinds(modules: Sequence[RegoModule]) -> dict[str, frozenset[str]]:
    """Rule -> the kinds it applies to (METADATA custom.kinds), a named Rego set read from the pack."""
    from promoter.policy.engine import Engine

    out: dict[str, frozenset[str]] = {}
    engine: Engine | None = None
    for r in pack_rules():
        if isinstance(r.kinds, tuple):
            out[r.rule] = frozenset(r.kinds)
        elif isinstance(r.kinds, str):
            if engine is None:
                engine = Engine()
                for m in modules:
                    engine.add_module(m.file, m.source)
            value = engine.eval_rule(r.kinds)
            if not isinstance(value, list):
                raise ToolError(f"the built-in pack's {r.file}: custom.kinds names {r.kinds}, which is not a set")
            out[r.rule] = frozenset(str(k) for k in value)
    return out


def pack_dir() -> Path:
    """The pack's folder: inside the installed package, else the source tree's top-level policies/."""
    installed = resources.files("promoter").joinpath("policies")
    if installed.is_dir():
        return Path(str(installed))
    source = Path(__file__).resolve().parents[2] / "policies"
    if source.is_dir():
        return source
    raise ToolError("the built-in policy pack is missing from this installation (reinstall promoter)")


@lru_cache(maxsize=1)
def pack_rules() -> tuple[PackRule, ...]:
    """Every rule of the pack, read from the METADATA comment above it."""
    out = []
    for f in sorted(pack_dir().glob("*.rego")):
        if f.name.endswith("_test.rego"):
            continue
        text = f.read_text(encoding="utf-8")
        for m in _METADATA.finditer(text):
            meta = yaml.safe_load(
                "\n".join(line[2:] if line.startswith("# ") else line[1:] for line in m.group(1).splitlines())
            )
            custom = meta.get("custom", {})
            out.append(
                PackRule(
                    id=custom.get("id", rule_id(m["rule"])),
                    rule=m["rule"],
                    title=str(meta.get("title", "")),
                    description=" ".join(str(meta.get("description", "")).split()),
                    severity=custom.get("severity", "error" if rule_kind(m["rule"]) == "failure" else "warning"),
                    file=f.name,
                    kinds=tuple(custom["kinds"]) if isinstance(custom.get("kinds"), list) else custom.get("kinds"),
                )
            )
    return tuple(out)
