"""YamlDoc: one YAML file read for editing: text, round-trip documents, and positions of values."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from promoter.model.errors import UsageError
from promoter.yamlio.files import read_regular
from promoter.yamlio.limits import (
    AliasBudgetExceeded,
    NestingTooDeep,
    check_data,
    check_depth,
    may_alias,
    may_nest_deep,
)
from promoter.yamlio.marked import Anchors, MarkedError, MarkedMap, MarkedSeq, Unusual, built_from_events, owner

BOM = "\ufeff"


class YamlParseError(UsageError):
    def __init__(self, file: str, line: int | None, column: int | None, problem: str) -> None:
        where = file + (f":{line}" if line else "") + (f":{column}" if line and column else "")
        super().__init__(f"{where}: {problem}")
        self.file, self.line, self.column, self.problem = file, line, column, problem


def parse_error(file: str, exc: Exception, text: str | None = None) -> YamlParseError:
    """Turn a ruamel/PyYAML exception into one line naming file, line and problem."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    col = mark.column + 1 if mark is not None else None
    if line is not None and text is not None:
        # "found <stream end>" marks the empty line after the last one; the reader wants the
        # last line that has content (where the unclosed `[`, `{` or quote usually is).
        lines = text.splitlines()
        if line > len(lines) or not lines[line - 1].strip():
            content = [
                i
                for i, text_line in enumerate(lines[: line - 1], 1)
                if text_line.strip() and not text_line.lstrip().startswith("#")
            ]
            if content:
                line, col = content[-1], 1
    rt: Any = None
    if type(exc).__module__.startswith("ruamel"):  # ruamel is loaded already: naming its errors costs nothing
        from promoter.yamlio import roundtrip

        rt = roundtrip
    if getattr(exc, "plain", False):
        problem = str(getattr(exc, "problem", exc))
    elif rt is not None and isinstance(exc, rt.DuplicateKeyError):
        problem = "duplicate key " + (str(exc.problem).split('"')[1] if '"' in str(exc.problem) else str(exc.problem))
    elif rt is not None and isinstance(exc, rt.MarkedYAMLError):
        problem = "YAML does not parse: " + " ".join(str(x) for x in (exc.context, exc.problem) if x)
    else:
        problem = "YAML does not parse: " + str(exc).splitlines()[0]
    return YamlParseError(file, line, col, problem)


@dataclass
class YamlDoc:
    """A YAML file: its exact text and its documents, which know where each node is written.

    `reader` says which: "c" (libyaml's marks, `read`: locating and editing) or "rt" (ruamel's
    round-trip loader, `from_text`: configuration, and any file libyaml cannot read)."""

    path: str  # repo-relative, for messages
    text: str  # without BOM; line endings as in the file
    bom: bool
    docs: list[Any]
    reader: str = "rt"
    anchors: Anchors | None = None  # the marked reader's anchors and aliases

    @classmethod
    def read(cls, text: str, path: str) -> YamlDoc:
        """Read with libyaml's marks; YAML libyaml refuses or this reader leaves alone goes to the
        round-trip loader, whose verdict (and error message) then stands."""
        from promoter.yamlio.marked import read

        bom = text.startswith(BOM)
        body = text[1:] if bom else text
        try:
            docs, anchors = read(body)
        except MarkedError as exc:
            from promoter.yamlio.marked import Lines

            line, col = Lines(body).pos(exc.offset)
            raise YamlParseError(path, line + 1, col + 1, exc.problem) from None
        except NestingTooDeep as exc:
            raise YamlParseError(path, None, None, exc.problem) from None
        except (yaml.YAMLError, Unusual, RecursionError, ValueError):
            return cls.from_text(text, path)
        # The event reader measured the nesting as it built; aliases can still deepen what walkers
        # see (a deep anchor repeated deep down), and the composed reader measured nothing.
        if (anchors or not built_from_events(body)) and may_nest_deep(body):
            _refuse_deep(docs, path)
        if anchors:
            # Aliases share subtrees: measure what walking them would cost before anything walks them.
            for root in docs:
                try:
                    check_data(root)
                except AliasBudgetExceeded as exc:
                    at = node_start(exc.at)
                    if at is None:
                        raise YamlParseError(path, None, None, exc.problem) from None
                    raise YamlParseError(path, at[0] + 1, at[1] + 1, exc.problem) from None
        return cls(path=path, text=body, bom=bom, docs=docs, reader="c", anchors=anchors)

    @classmethod
    def read_bytes(cls, raw: bytes, rel: str) -> YamlDoc:
        return cls.read(_decode(raw, rel), rel)

    @classmethod
    def read_file(cls, file: Path, rel: str) -> YamlDoc:
        """Read `file` (a regular file within the size limit: yamlio/files.py) with libyaml's marks."""
        return cls.read_bytes(read_checked(file, rel), rel)

    def again(self, text: str) -> YamlDoc:
        """`text` (without BOM) read by the same reader as this document."""
        if self.reader == "c":
            return YamlDoc.read(text, self.path)
        return YamlDoc.from_text(text, self.path)

    @classmethod
    def from_text(cls, text: str, path: str) -> YamlDoc:
        bom = text.startswith(BOM)
        if bom:
            text = text[1:]
        from promoter.yamlio import roundtrip

        try:
            docs = roundtrip.load_all(text, may_alias(text))
        except (roundtrip.YAMLError, roundtrip.DuplicateKeyError) as exc:
            raise parse_error(path, exc, text) from None
        except RecursionError:
            raise YamlParseError(path, None, None, "YAML nests too deep to read (hundreds of levels)") from None
        except Exception as exc:  # ruamel raises plain errors on some malformed inputs
            raise YamlParseError(path, None, None, f"YAML does not parse: {exc}") from None
        if may_nest_deep(text):
            _refuse_deep(docs, path)
        return cls(path=path, text=text, bom=bom, docs=docs)

    @classmethod
    def load(cls, file: Path, rel: str) -> YamlDoc:
        """Read `file` (a regular file within the size limit: yamlio/files.py), shown as `rel`."""
        return cls.from_bytes(read_checked(file, rel), rel)

    @classmethod
    def from_bytes(cls, raw: bytes, rel: str) -> YamlDoc:
        return cls.from_text(_decode(raw, rel), rel)

    def full_text(self, text: str | None = None) -> str:
        return (BOM if self.bom else "") + (self.text if text is None else text)


def _decode(raw: bytes, rel: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{rel}: not UTF-8 text (byte {exc.start})") from None


def read_checked(file: Path | str, rel: str) -> bytes:
    """The bytes of a file promoter reads: a regular file, within the size limit; else one UsageError naming `rel`."""
    try:
        return read_regular(file, rel)
    except OSError as exc:
        raise UsageError(f"{rel}: cannot read: {exc.strerror or exc}") from None


def key_line(node: Any, key: Any) -> tuple[int, int] | None:
    """0-based (line, column) of `key`'s *value* in a round-trip mapping or sequence."""
    return _position(node, key, of_value=True)


def key_pos(node: Any, key: Any) -> tuple[int, int] | None:
    """0-based (line, column) of the *key* itself in a mapping (of the item in a sequence)."""
    return _position(node, key, of_value=False)


def _position(node: Any, key: Any, *, of_value: bool) -> tuple[int, int] | None:
    if isinstance(node, MarkedMap):
        node = owner(node, key)
        mark = node.marks.get(key)
        return None if mark is None else node.lines.pos(mark[1] if of_value else mark[0])
    if isinstance(node, MarkedSeq):
        if isinstance(key, int) and 0 <= key < len(node.marks):
            return node.lines.pos(node.marks[key][0])
        return None
    rt = sys.modules.get("promoter.yamlio.roundtrip")  # a round-trip node exists only once it is loaded
    if rt is None:
        return None
    try:
        if isinstance(node, rt.CommentedMap):
            line, col = node.lc.value(key) if of_value else node.lc.key(key)
            return line, col
        if isinstance(node, rt.CommentedSeq):
            line, col = node.lc.item(key)
            return line, col
    except (KeyError, IndexError, TypeError):
        return None
    return None


def value_span(node: Any, key: Any) -> tuple[int, int] | None:
    """[start, end) offsets of a value as libyaml marked it (its `&anchor`/`!tag` included); None
    for round-trip nodes, which know only where a value starts."""
    if isinstance(node, MarkedMap):
        mark = owner(node, key).marks.get(key)
        return None if mark is None else (mark[1], mark[2])
    if isinstance(node, MarkedSeq) and isinstance(key, int) and 0 <= key < len(node.marks):
        return node.marks[key]
    return None


def node_start(node: Any) -> tuple[int, int] | None:
    """0-based (line, column) where a mapping or sequence starts."""
    if isinstance(node, (MarkedMap, MarkedSeq)):
        return node.lines.pos(node.start)
    lc = getattr(node, "lc", None)
    return (lc.line, lc.col) if lc is not None else None


def is_flow(node: Any) -> bool:
    """Whether a mapping or sequence is written in flow style (`{…}`, `[…]`)."""
    if isinstance(node, (MarkedMap, MarkedSeq)):
        return node.flow
    fa = getattr(node, "fa", None)
    return bool(fa is not None and fa.flow_style())


def owns(node: Any, key: Any) -> bool:
    """Whether `key` is written in `node` itself (not brought in by a merge key)."""
    if isinstance(node, MarkedMap):
        return key in node.marks
    own = getattr(node, "_ok", None)
    return not isinstance(own, set) or key in own


def merge_sources(node: Any) -> list[Any]:
    """The mappings a merge key (`<<`) brings keys from, transitively."""
    out = []
    direct = node.merges or [] if isinstance(node, MarkedMap) else getattr(node, "merge", None) or []
    for src in direct:
        src = src[1] if isinstance(src, tuple) else src  # ruamel < 0.19 keeps (position, mapping)
        if isinstance(src, dict):
            out.append(src)
            out.extend(merge_sources(src))
    return out


def owner_of(node: Any, key: Any) -> Any:
    """The mapping that holds `key` as written: `node` itself, or the anchored mapping a merge key (`<<: *b`) takes it from."""
    if isinstance(node, MarkedMap):
        return owner(node, key)
    own = getattr(node, "_ok", None)
    if not isinstance(own, set) or key in own:
        return node
    for src in getattr(node, "merge", None) or []:
        src = src[1] if isinstance(src, tuple) else src  # ruamel < 0.19 keeps (position, mapping)
        if isinstance(src, dict) and key in src:
            return owner_of(src, key)
    return node


def line_of_path(root: Any, path: list[Any] | tuple[Any, ...]) -> int | None:
    """1-based line of the deepest existing node along `path` (for error messages)."""
    node, line = root, None
    for part in path:
        pos = key_pos(node, part)
        if pos is None:
            break
        line = pos[0] + 1
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
    if line is None:
        start = node_start(root)
        line = start[0] + 1 if start is not None else None
    return line


def walk(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any, Any]]:
    """Yield (path, parent, key) for every value under node, depth first, in document order."""
    if isinstance(node, dict):
        for k in node:
            yield path + (k,), node, k
            yield from walk(node[k], path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield path + (i,), node, i
            yield from walk(v, path + (i,))


def format_path(path: tuple[Any, ...] | list[Any]) -> str:
    """`spec.template.spec.containers[0].image`: the YAML path shown to users."""
    out = ""
    for p in path:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            s = str(p)
            out += ("." if out else "") + (s if s and all(c.isalnum() or c in "-_/" for c in s) else f'"{s}"')
    return out


def _refuse_deep(docs: list[Any], path: str) -> None:
    """Nesting that every walker would overflow on is refused where it is read, naming the file."""
    try:
        for root in docs:
            check_depth(root)
    except NestingTooDeep as exc:
        raise YamlParseError(path, None, None, exc.problem) from None
