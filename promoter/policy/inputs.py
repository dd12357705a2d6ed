"""Files under test as conftest reads them: YAML (several documents) or JSON, any shape, not only
Kubernetes objects; and `--data` documents.

conftest splits YAML on the literal "\\n---\\n" (so "---\\n---" leaves one chunk starting with
"---"), parses each chunk, and checks each document on its own; a top-level sequence (or a JSON
array) is one document per element. An empty chunk is a `null` document, evaluated without input.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from promoter.model.errors import ConfigError, UsageError
from promoter.yamlio.files import read_regular
from promoter.yamlio.loader import AliasBudget


class _Loader(AliasBudget, getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The safe loader, reading unknown tags (CloudFormation's `!Ref`, `!Sub`) as their plain value, as conftest does;
    aliases budgeted (yamlio/limits.py)."""


def _untagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)  # type: ignore[arg-type]


_Loader.add_multi_constructor("!", _untagged)
_LOADER = _Loader
DATA_SUFFIXES = (".json", ".yaml", ".yml")


@dataclass
class Document:
    file: str  # as given on the command line
    index: int  # position in the file
    value: Any
    null: bool = False  # an empty document: `input` is undefined
    line: int | None = None  # where the document starts in the file


def _yaml(text: str, where: str, offset: int = 0) -> Any:
    try:
        return yaml.load(text, Loader=_LOADER)  # noqa: S506 - the C/pure *safe* loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        place = f"{where}:{mark.line + 1 + offset}" if mark is not None else where
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise UsageError(f"{place}: not valid YAML: {problem}") from None


def _plain(value: Any) -> Any:
    # Dates and other YAML-only scalars reach policies as JSON would give them: strings.
    return json.loads(json.dumps(value, default=str))


def read_documents(path: Path, display: str | None = None) -> list[Document]:
    """The documents conftest would check in one file; UsageError naming file:line when it does not parse."""
    name = display or str(path)
    try:
        text = read_regular(path, name).decode("utf-8")  # never a FIFO or device; within the size limit
    except UnicodeDecodeError as exc:
        raise UsageError(f"{name}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise UsageError(f"{name}: cannot read: {exc.strerror}") from None
    if path.suffix.lower() == ".json":
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{name}:{exc.lineno}: not valid JSON: {exc.msg}") from None
        values = value if isinstance(value, list) else [value]
        return [Document(name, i, v) for i, v in enumerate(values)]
    chunks = text.split("\n---\n")
    if len(chunks) == 1:
        value = _plain(_yaml(text, name))
        if isinstance(value, list):
            return [Document(name, i, v, null=v is None) for i, v in enumerate(value)]
        return [Document(name, 0, value, null=value is None, line=1)]
    out, line = [], 1
    for i, chunk in enumerate(chunks):
        value = _plain(_yaml(chunk, name, line - 1))
        out.append(Document(name, i, value, null=value is None, line=line))
        line += chunk.count("\n") + 2  # the chunk, its newline and the `---` line
    return out


def read_data(paths: list[Path]) -> dict[str, Any]:
    """conftest's --data: JSON/YAML files (or folders of them) merged at the root of `data`;
    a file in a sub-folder of a given folder lands under that sub-folder's name, as OPA loads it."""
    out: dict[str, Any] = {}
    for root in paths:
        if not root.exists():
            raise UsageError(f"--data {root}: no such file or folder")
        files = (
            [root]
            if root.is_file()
            else sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in DATA_SUFFIXES)
        )
        for f in files:
            prefix = list(f.parent.relative_to(root).parts) if root.is_dir() else []
            docs = read_documents(f)
            for doc in docs:
                if doc.value is None:
                    continue
                if not isinstance(doc.value, dict):
                    raise ConfigError(f"--data {f}: a data document must be an object (got {type(doc.value).__name__})")
                node = out
                for part in prefix:
                    node = node.setdefault(part, {})
                _merge(node, doc.value, str(f))
    return out


def _merge(into: dict[str, Any], value: dict[str, Any], where: str, at: str = "data") -> None:
    for k, v in value.items():
        if k in into and isinstance(into[k], dict) and isinstance(v, dict):
            _merge(into[k], v, where, f"{at}.{k}")
        elif k in into and into[k] != v:
            raise ConfigError(f"--data {where}: {at}.{k} is already set by another data file")
        else:
            into[k] = v
