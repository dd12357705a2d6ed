"""Fastyaml: manifest text read by yaml-rs (a Rust YAML 1.2 parser) when that provably gives what
the go-yaml v2 reader in manifests.py gives, and `None` ("not mine") otherwise.

yaml-rs builds Python objects about 6x faster than libyaml plus Python, but it reads YAML 1.2
(core schema), not go-yaml v2 as kubectl does. It is used only for text inside a subset where
both readers agree; everything else, and any doubt, goes to the careful reader, which also names
problems. A false "mine" would let a wrong value through the gate; a false "not mine" only costs
speed. The guards, and why (each found or checked by tests/yamlio/test_fastyaml.py against
libyaml and resolve.py):

- plain scalars: every plain scalar that either reader resolves to a non-string starts with a
  sign, a digit, `.`, `_`, `~` or `<`, or is one of a few words (`yes`, `on`, `true`, `null`...).
  Every such run of characters in the text (a superset: block scalar lines, words of unquoted
  text) is resolved both ways, once per distinct run; any disagreement (`yes`, `0755`, `1.0`,
  `1e400`, `<<`, integers beyond int64...) means "not mine". A quoted scalar never starts a run
  (the quote is no separator), so the common `"true"` and `"8080"` cost nothing.
- anchors, aliases, tags, directives, reserved indicators, explicit keys (`?`), a `:` or `,`
  with nothing before it, `...`, `--- content`: not mine (alias budget, merge keys, custom tags;
  and rare in manifests). Text after ` #` with no quote after it on its line is a comment, or
  in a block or quoted scalar: when words there fail these checks (English: "based on"), they
  are made again without it.
- characters outside Python's printable set (so outside YAML's too), tabs, carriage returns,
  NEL/LS/PS (line breaks in YAML 1.1 only), byte order marks, white space other than the space:
  not mine (the readers disagree on some; all are rare).
- `|` or `>` at the start of a token that does not head a block scalar (yaml-rs reads `{>x: 1}`
  as a plain `>x`, libyaml refuses it), or heads one first on its line (a whole document may
  hold lines at column 0 for yaml-rs, not for libyaml); a block scalar with no content at the
  end of a document, or at the end of text with no final line break (the readers end it
  differently).
- a `:` right before `]`, `}` or `,` (yaml-rs reads `[a:]` as a key, libyaml refuses it).
- a line of 1,000+ characters with a `: ` late in it: libyaml refuses implicit keys over 1,024
  characters, yaml-rs does not.
- nesting: yaml-rs recurses on the C stack, and block nesting ~20,000 deep kills the process
  (flow nesting stops at 255 with an error). Text whose lines start with 100+ characters of
  indentation or `- `/`? ` indicators is not mine: that bounds block nesting to ~200, well inside
  what both readers handle.
- keys: yaml-rs makes a mapping or list used as a key (Helm's `{{ }}` left in a file) a tuple or
  frozenset key, the careful reader an error; and in a flow collection written over several
  lines, yaml-rs accepts a key written over lines, libyaml does not. Text with any flow
  collection beyond a flat one-line `[a, "b"]` or `{k: v}` has its result's keys checked.
- a plain key go-yaml reads as anything but a string (`1:`, `~:`, `true:`): not mine (the
  careful reader makes such keys JSON's strings as sigs.k8s.io/yaml does, or errors).
- duplicate keys and anything yaml-rs cannot parse: yaml-rs raises (it compares keys as Python
  does, like the careful reader), and the careful reader makes the finding.

Documents are split lexically at `---` lines (as manifests._documents does) and parsed one by
one, which also gives the line of each root node as libyaml reports it.
"""

from __future__ import annotations

import math
import re
from typing import Any

from promoter.yamlio.resolve import MERGE, STR, resolve

# The binding these guards were checked against: any other version is "not mine" until the
# differential tests have run against it (pyproject pins the same).
VERSION = "0.1.6"

_rs: Any
_loads: Any
try:
    import yaml_rs as _rs
    from yaml_rs._yaml_rs import _loads  # the call yaml_rs.loads makes, without its argument checks

    if getattr(_rs, "__version__", None) != VERSION:  # pragma: no cover - pinned in pyproject
        _rs = None
except ImportError:  # pragma: no cover - a platform without the wheel
    _rs = None

# Characters after which a plain scalar or an indicator may start: white space (only the space
# and the line break get this far), flow indicators, and `:` (JSON-like `{"a":1}`).
_SEP = frozenset(" \n[]{},:")
_ASCII_OK = bytes(range(0x20, 0x7F)) + b"\n"
# In a word (white-space separated): an indicator at the start of a token; a collection key `]:`;
# a `:` right before `]`, `}` or `,` (yaml-rs reads `[a:]` as a key "a", libyaml refuses it).
_BAD_IN_WORD = re.compile(r"^[&*!%@`?:,]|[\[\]{},:][&*!%@`?:,|>]|[\]}]:|:[\]},]")
_RUNS = re.compile(r"[,\[\]{}:]")  # a word's runs: where a plain scalar could start and end
_RISKY_START = frozenset("-+._0123456789~<")
# go-yaml v2's booleans and nulls in their three spellings (yaml-rs resolves some of them too)
_RISKY_WORDS = frozenset(
    spelling
    for word in ("y", "n", "yes", "no", "on", "off", "true", "false", "null")
    for spelling in (word, word.capitalize(), word.upper())
)
# At a line start: `...`; indentation nesting 200 block levels deep; a line of 1,000+ characters.
_LINE_START = re.compile(r"\n(?:\.\.\.|[ ?-]{100}|[^\n]{1000})")
_DEEP = re.compile(r"\n[ ?-]{100}")
_LONG_KEY = re.compile(r":(?=[ \n,\[\]{}]|\Z)")
_MARKER = re.compile(r"---(?:[ ]+(?:#[^\n]*)?)?(?:\n|\Z)")
_INDICATORS = r"(?:[1-9][-+]?|[-+][1-9]?)?"  # a block scalar's indentation and chomping
_HEADER = re.compile(rf"[|>]{_INDICATORS}[ ]*(?:[ ]#[^\n]*)?(?:\n|\Z)")
# A block scalar heading the last line of a document (no content): yaml-rs reads "\n", libyaml "".
_HEADER_AT_END = re.compile(rf"(?:^|[ \[\]{{}},:])[|>]{_INDICATORS}[ ]*(?:[ ]#.*)?\Z")
# A flat flow collection closed on its own line: plain or simply quoted scalars (no escapes).
# (the plain branch written so that a run of spaces can be read one way only: `x*?[ ]*` tried every
# split of the spaces inside a scalar, quadratic in a long line)
_SCALAR = r"""[ ]*(?:"[^"\\\n]*"|'[^'\n]*'|[^\s,\[\]{}:#"'&*!|>%@`?-](?:[ ]*[^ ,\[\]{}\n#:])*)[ ]*"""
_FLAT_FLOW = re.compile(
    rf"(?:\[(?:{_SCALAR},)*(?:{_SCALAR},?)?\]|\{{(?:{_SCALAR}:[ ]{_SCALAR},)*(?:{_SCALAR}:[ ]{_SCALAR},?)?\}})"
    r"[ ]*(?:[ ]#[^\n]*)?(?:\n|\Z)"
)
_CONTENT = re.compile(r"^[ ]*[^ \n#]", re.MULTILINE)
# In a word, a plain scalar before a `:` that ends the word or comes before a flow indicator: a key.
_KEY_RUN = re.compile(r"(?:^|(?<=[\[\]{},]))([^\[\]{},]+?):(?=$|[\[\]{},])")

# Caches hold at most 100,000 entries of at most 200 characters (~30 MB): untrusted text must not
# make them grow with the size of the repository.
_CACHE_LIMIT = 100_000
_CACHED_LEN = 200
_agree: dict[str, bool] = {}
# Words already found harmless: manifests repeat the same keys and values, so most files add few.
_fine_words: set[str] = set()


def _same(go: Any, rs: Any) -> bool:
    if type(go) is not type(rs):
        return False
    if isinstance(go, float) and math.isnan(go):
        return math.isnan(rs)
    return bool(go == rs)


def _agrees(run: str) -> bool:
    """Whether go-yaml v2 (resolve.py) and yaml-rs read the plain scalar `run` alike."""
    known = _agree.get(run)
    if known is not None:
        return known
    try:
        tag, go = resolve(run)
        rs = _rs.loads(f"[{run}]", parse_datetime=False)
    except Exception:  # noqa: BLE001 - whatever yaml-rs makes of it, it is no agreement
        ok = False
    else:
        ok = (
            tag != MERGE
            and isinstance(rs, list)
            and len(rs) == 1
            and (_same(run, rs[0]) if tag == STR else _same(go, rs[0]))
        )
    if len(run) <= _CACHED_LEN:
        if len(_agree) > _CACHE_LIMIT:
            _agree.clear()
        _agree[run] = ok
    return ok


def _printable(text: str) -> bool:
    if text.isascii():
        return not text.encode().translate(None, _ASCII_OK)
    # str.isprintable() is False for every character YAML does not allow, and for many it does.
    return text.replace("\n", "").isprintable()


def _tokens_fine(text: str) -> bool:
    """Whether no token starts with an indicator but a block scalar header, and no plain scalar
    is read differently by the two readers."""
    if _words_fine(text) and _headers_fine(text):
        return True
    # English in comments ("based on", "no", `backticks`, "x > 1"): a comment that holds no quote is
    # dropped and the rest tried again. From ` #` to the end of a line, text is a comment, or in a
    # block scalar (then all of it is), or in a quoted scalar: that one has no closing quote on
    # the line, so the rest of the line is in it. None of it is a plain scalar or an indicator.
    stripped = _strip_quoteless_comments(text)
    return stripped != text and _words_fine(stripped) and _headers_fine(stripped)


def _strip_quoteless_comments(text: str) -> str:
    """Each line without what follows its first ` #` (or `#` at its start) that no quote follows:
    line by line, linear (the regex `(?:^|[ ])#[^\\n"']*$` rescanned the line from every `#`)."""
    out = []
    for line in text.split("\n"):
        i = line.find("#", max(line.rfind('"'), line.rfind("'")) + 1)
        while i > 0 and line[i - 1] != " ":
            i = line.find("#", i + 1)
        out.append(line if i < 0 else line[: i - 1] if i > 0 else "")  # the space before ` #` goes too
    return "\n".join(out)


def _words_fine(text: str) -> bool:
    """Whether no word holds an indicator where a token starts, or a plain scalar the readers disagree on."""
    new = set(text.split())
    new -= _fine_words
    keep = []
    for word in new:
        if _BAD_IN_WORD.search(word):
            return False
        for run in _RUNS.split(word):
            # (a lone `-` is a sequence entry, or a plain "-" in both readers)
            if run and (run[0] in _RISKY_START or run in _RISKY_WORDS) and run != "-" and not _agrees(run):
                return False
        if ":" in word and not _string_keys(word):
            return False
        if len(word) <= _CACHED_LEN:
            keep.append(word)
    if len(_fine_words) > _CACHE_LIMIT:
        _fine_words.clear()
    _fine_words.update(keep)
    return True


def _string_keys(word: str) -> bool:
    """Whether every plain scalar before a `:` in `word` is a string to go-yaml (so to yaml-rs, which
    `_agrees` on it). A key `1:`, `~:` or `true:` is the careful reader's: it makes JSON's string key
    as sigs.k8s.io/yaml does (`1e3` is "1000"), or an error (a null key). A `:` inside a word (`1:30`)
    is part of the scalar. A key written `1 :` is not seen here, but a word starting with `:` is not
    mine already; a key with no `:` (`{1, a: b}`) is in a flow that is not flat, whose keys
    `_odd_key` checks."""
    for m in _KEY_RUN.finditer(word):
        run = m.group(1)
        if (run[0] in _RISKY_START or run in _RISKY_WORDS) and resolve(run)[0] != STR:
            return False
    return True


def _positions(text: str, chars: str) -> list[int]:
    """Where the characters `chars` are in `text`, each at the start of a token."""
    out = []
    for c in chars:
        i = text.find(c)
        while i >= 0:
            if i == 0 or text[i - 1] in _SEP:
                out.append(i)
            i = text.find(c, i + 1)
    return out


def _headers_fine(text: str) -> bool:
    """Whether every `|` and `>` starting a token heads a block scalar, after a key or `- `.

    A block scalar that is a whole document (its header first on its line) may hold lines at
    column 0 for yaml-rs (YAML 1.2), not for libyaml."""
    for i in _positions(text, "|>"):
        if not _HEADER.match(text, i) or not text[text.rfind("\n", 0, i) + 1 : i].strip(" "):
            return False
    return True


def _flows_flat(text: str) -> bool:
    """Whether every flow collection (but the empty ones) is a flat one closed on its own line."""
    for i in _positions(text, "[{"):
        if text[i + 1 : i + 2] not in ("]", "}") and not _FLAT_FLOW.match(text, i):
            return False
    return True


def _lines_fine(text: str) -> bool:
    """No `...`, no nesting too deep, and no implicit key libyaml finds too long (1,024 characters)."""
    scan = "\n" + text
    for m in _LINE_START.finditer(scan):
        if m.group().startswith("\n...") or _DEEP.match(scan, m.start()):
            return False
        line_end = scan.find("\n", m.start() + 1)
        if _LONG_KEY.search(scan, m.start() + 1001, line_end if line_end >= 0 else len(scan)):
            return False
    return True


def _odd_key(obj: Any) -> bool:
    """Whether `obj` holds a key that is not a string (a collection: "invalid map key"; a number,
    boolean or null: the careful reader's, see _string_keys), or a string key with white space: one written over lines in a flow, which libyaml refuses, may have
    been joined with a space or a line break."""
    stack = [obj]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for k, v in node.items():
                if isinstance(k, str):
                    if not k.isprintable() or " " in k:
                        return True
                else:  # a collection, or a key without `:` in a flow (`{.nan, a: b}`) go-yaml reads as no string
                    return True
                stack.append(v)
        elif isinstance(node, list):
            stack.extend(node)
    return False


def _ends_in_header(chunk: str) -> bool:
    """Whether the last line with content (not a comment) of `chunk` heads a block scalar."""
    # Line by line from the end (slicing and stripping what is left at each comment line was
    # quadratic in a chunk ending in many comment lines).
    for line in reversed(chunk.split("\n")):
        line = line.rstrip()
        if line and not line.lstrip().startswith("#"):
            return _HEADER_AT_END.search(line) is not None
    return False


def _content_at(chunk: str) -> int:
    """Where the line of the first content (not a comment) starts, -1 if none."""
    if chunk[:1] not in ("", " ", "\n", "#"):
        return 0
    m = _CONTENT.search(chunk)
    return -1 if m is None else m.start()


def _parse(chunk: str) -> tuple[bool, Any]:
    try:
        return True, _loads(chunk, parse_datetime=False, duplicate_key_policy=_rs.DuplicateKeyPolicy.Error)
    except Exception:  # noqa: BLE001 - a parse error, a duplicate key, a limit: the careful reader names it
        return False, None


def _end_line(text: str) -> int:
    # libyaml ends the stream on a line of its own: after the last line break, or after the last line.
    return text.count("\n") + (0 if text.endswith("\n") or not text else 1)


def documents(text: str) -> list[tuple[int, Any]] | None:
    """(0-based line of the root node, object) of every document, exactly as
    manifests._fast_documents gives them; None when the text is not provably read alike."""
    if _rs is None or not _printable(text) or not _lines_fine(text) or not _tokens_fine(text):
        return None
    # Chunks between `---` lines: (first line, text, line of the `---` that opened it or -1).
    chunks: list[tuple[int, str, int]] = []
    start, line, marker = 0, 0, -1
    at = 0 if text.startswith("---") else text.find("\n---") + 1 or -1
    while at >= 0:
        m = _MARKER.match(text, at)
        if m is None:
            return None  # `--- content`, `---x`: no plain document marker line
        chunks.append((line, text[start:at], marker))
        marker = line + text.count("\n", start, at)
        start, line = m.end(), marker + 1
        at = text.find("\n---", m.end() - 1) + 1 or -1
    chunks.append((line, text[start:], marker))
    out: list[tuple[int, Any]] = []
    for i, (first, chunk, opened_at) in enumerate(chunks):
        content = _content_at(chunk)
        if content < 0:
            if opened_at >= 0:  # an empty document: libyaml puts it at the next token, a marker or the end
                out.append((chunks[i + 1][2] if i + 1 < len(chunks) else _end_line(text), None))
            continue
        if ("|" in chunk or ">" in chunk) and (_ends_in_header(chunk) or not chunk.endswith("\n")):
            return None  # yaml-rs and libyaml end such a block scalar differently
        ok, obj = _parse(chunk)
        if not ok:
            return None
        out.append((first + chunk.count("\n", 0, content), obj))
    if not _flows_flat(text) and ("\\\n" in text or any(_odd_key(obj) for _, obj in out)):
        # A key written over lines in a flow mapping may join them with an escaped line break.
        return None
    return out
