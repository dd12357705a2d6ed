"""Masking: secret values found by the structure of the YAML on both sides of a diff, replaced before it is made.

A diff of text cannot know what a line means once the `data:` above it falls out of its three
lines of context; so both sides are parsed first, every secret value is located by where it sits
(a Secret's `data`/`stringData`, a key named like a credential anywhere, an env-style
`name: DB_PASSWORD` / `value: …` pair, `PASSWORD=…` lines inside a string, a secretGenerator
literal), and replaced by a placeholder, and only then are the two sides diffed. A value that
differs between the sides shows as "changed (value hidden)", so a reviewer still sees that a
secret changed. Every value found is remembered, so the whole description can be scrubbed of it
once more at the end (a finding message quoting a value, say).
"""

from __future__ import annotations

import base64
import binascii
import copy
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml

from promoter.model.errors import ConfigError

HIDDEN = "(value hidden)"
CHANGED = "changed (value hidden)"

# Words of a key that name a credential. A key is split into words first (camelCase, snake_case,
# kebab-case, dotted), so `DB_PASSWORD`, `dbPassword` and `db.password` all match `password`,
# and `monkey` does not match `key`.
DEFAULT_KEYS: tuple[str, ...] = (
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "token",
    "secret",
    "secrets",
    "key",
    "keys",
    "apikey",
    "credential",
    "credentials",
    "creds",
    "dsn",
    "connection_string",
    "private",
    "auth",
    "pem",
)
# Under a credential-named container (`secrets:`, `auth:`), these still show: they name the image
# being promoted, and hiding them would hide the promotion itself.
_VISIBLE_LEAVES = frozenset({"image", "repository", "tag", "digest", "registry", "pullPolicy", "newName", "newTag"})
# Keys that name a secret rather than hold one (`secretKeyRef`, `secretName`, `existingSecret`,
# `imagePullSecrets`, `secretGenerator`): their values stay visible, a reviewer needs them.
_REFERENCE = re.compile(r"(?:_refs?|_names?|_generator|_provider|_store|_class)$|^existing_|^image_pull_")
_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
# `KEY=value`, `KEY: value`, `"KEY": "value"` inside a string (a properties file in a ConfigMap,
# Helm values passed as text, a secretGenerator literal).
_EMBEDDED = re.compile(
    r"""(?m)^(?P<pre>[ \t]*(?:export[ \t]+)?["']?)(?P<key>[A-Za-z_][A-Za-z0-9_.\-]*)(?P<sep>["']?[ \t]*[:=][ \t]*)"""
    r"""(?P<value>[^\r\n]*?)(?P<post>[ \t]*,?[ \t]*\r?)$"""
)
# `--db-password=value`, `PGPASSWORD=value` inside a command line or argument string (not at a line's
# start: those are _EMBEDDED's). A value already hidden is not matched again.
_INLINE = re.compile(
    r"""(?:(?<=[\s"'(\[,])|(?<=^))(?P<pre>-{0,2})(?P<key>[A-Za-z_][A-Za-z0-9_.\-]*)(?P<sep>=)"""
    r"""(?P<value>(?!\(value hidden\)|changed \(value hidden\))[^\s"',;&)\]]+)"""
)
# With the default words, credential words run together in one key (`dbpassword`, `accesstoken`,
# `privatekey`, `htpasswd`, `clientsecret`) count too: a key is often written without separators.
_GLUED = re.compile(
    r"password|passwd|passphrase|secret|token|credential|apikey|"
    r"(?:private|access|secret|api|signing|encryption|master|ssh|client|account|service|auth)key"
)
# Credentials inside a URL (`postgres://user:pw@host`): hidden wherever they appear.
_URL_CREDENTIALS = re.compile(r"(?<=://)(?P<user>[^/\s:@]+):(?P<value>[^/\s@]+)(?=@)")
_STRUCTURED = (".yaml", ".yml", ".json")  # parsed and masked by structure, whatever the file is called
_SCRUB_MIN = 6  # shorter values are masked where they stand but not searched for in free text


@dataclass(frozen=True)
class MaskRules:
    """Which keys name a credential: regular expressions matched against a key's words."""

    patterns: tuple[str, ...] = DEFAULT_KEYS
    _compiled: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        compiled = tuple(re.compile(rf"(?:^|_)(?:{p})(?:_|$)", re.IGNORECASE) for p in self.patterns)
        object.__setattr__(self, "_compiled", compiled)
        object.__setattr__(self, "_memo", {})  # key -> (sensitive, reference): keys repeat across files

    @classmethod
    def from_config(cls, value: Any) -> MaskRules:
        """`forge.mask_keys` (a list of patterns) when set, else the defaults; a bad pattern is a ConfigError."""
        if not value:
            return cls()
        for i, v in enumerate(value):
            try:
                re.compile(str(v))
            except re.error as exc:
                raise ConfigError(f"forge.mask_keys[{i}]: {str(v)!r} is not a regular expression: {exc}") from None
        return cls(tuple(str(v) for v in value))

    def _judge(self, key: object) -> tuple[bool, bool]:
        text = str(key)
        memo: dict[str, tuple[bool, bool]] = self._memo  # type: ignore[attr-defined]
        found = memo.get(text)
        if found is None:
            words = _words(text)
            reference = bool(_REFERENCE.search(words))
            named = any(p.search(words) for p in self._compiled)
            if not named and self.patterns == DEFAULT_KEYS:
                named = bool(_GLUED.search(words.replace("_", "")))
            found = (bool(words) and not reference and named, reference)
            if len(memo) < 100_000:
                memo[text] = found
        return found

    def sensitive(self, key: object) -> bool:
        return self._judge(key)[0]

    def reference(self, key: object) -> bool:
        return self._judge(key)[1]


def _words(key: str) -> str:
    """`dbPassword` / `DB-PASSWORD` / `db.password` -> `db_password`."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", key)
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", spaced)
    return re.sub(r"[^a-z0-9]+", "_", spaced.lower()).strip("_")


# ---- where the secrets are: one walk over either parsed objects or YAML nodes ---------------------
@dataclass
class _Site:
    """One masked place: a whole scalar, or the values of credential lines inside a string."""

    path: tuple[Any, ...]
    handle: Any  # the YAML ScalarNode, or (container, key) of a parsed object
    value: str
    whole: bool
    encoded: bool = False  # a Secret's `data` value: base64 of the secret
    literal: bool = False  # a secretGenerator literal `KEY=value`: secret whatever KEY is called


class _Tree(ABC):
    """The shape of a document, whatever it was parsed into (parsed objects or YAML nodes)."""

    @abstractmethod
    def mapping(self, node: Any) -> list[tuple[str, Any, Any]] | None:  # (key, value node, handle)
        """The entries of a mapping node; None when `node` is not a mapping."""

    @abstractmethod
    def sequence(self, node: Any) -> list[tuple[Any, Any]] | None:  # (value node, handle)
        """The items of a sequence node; None when `node` is not a sequence."""

    @abstractmethod
    def scalar(self, node: Any) -> str | None:
        """A scalar node's text; None when `node` is not a string scalar."""

    def ident(self, node: Any) -> int:
        return id(node)


class _Objects(_Tree):
    def mapping(self, node: Any) -> list[tuple[str, Any, Any]] | None:
        if not isinstance(node, dict):
            return None
        return [(str(k), v, (node, k)) for k, v in node.items()]

    def sequence(self, node: Any) -> list[tuple[Any, Any]] | None:
        if not isinstance(node, list):
            return None
        return [(v, (node, i)) for i, v in enumerate(node)]

    def scalar(self, node: Any) -> str | None:
        if isinstance(node, (dict, list)) or node is None:
            return None
        if isinstance(node, bool):
            return "true" if node else "false"
        return str(node)


class _Nodes(_Tree):
    def mapping(self, node: Any) -> list[tuple[str, Any, Any]] | None:
        if not isinstance(node, yaml.MappingNode):
            return None
        return [(str(k.value) if isinstance(k, yaml.ScalarNode) else "", v, v) for k, v in node.value]

    def sequence(self, node: Any) -> list[tuple[Any, Any]] | None:
        if not isinstance(node, yaml.SequenceNode):
            return None
        return [(v, v) for v in node.value]

    def scalar(self, node: Any) -> str | None:
        return str(node.value) if isinstance(node, yaml.ScalarNode) else None


def _lookup(tree: _Tree, node: Any, key: str) -> Any:
    for k, v, _ in tree.mapping(node) or []:
        if k == key:
            return v
    return None


class _Walk:
    def __init__(self, tree: _Tree, rules: MaskRules) -> None:
        self.tree = tree
        self.rules = rules
        self.sites: list[_Site] = []
        self._seen: set[int] = set()  # aliases share nodes: visit each once (a billion laughs stays small)

    def document(self, root: Any, index: int) -> None:
        t = self.tree
        kind = t.scalar(_lookup(t, root, "kind")) if t.mapping(root) is not None else None
        base: tuple[Any, ...] = (index,)
        if kind == "Secret":
            for key, value, handle in t.mapping(root) or []:
                if key in ("data", "stringData"):
                    self.hide_all(value, handle, (*base, key), encoded=key == "data")
                elif key == "metadata":
                    annotations = _lookup(t, value, "annotations")
                    for akey, avalue, ahandle in t.mapping(annotations) or []:
                        if akey == _LAST_APPLIED:
                            self.hide_all(avalue, ahandle, (*base, "metadata", "annotations", akey))
        # A document that is one string (a `.env` file reads as YAML too) has its lines looked at.
        self.visit(root, root, base, generator=False)

    def visit(self, node: Any, handle: Any, path: tuple[Any, ...], *, generator: bool) -> None:
        t = self.tree
        items = t.mapping(node)
        if items is not None:
            if t.ident(node) in self._seen:
                return
            self._seen.add(t.ident(node))
            name = t.scalar(_lookup(t, node, "name"))
            env_like = name is not None and self.rules.sensitive(name)
            for key, value, child in items:
                sub = (*path, key)
                if (env_like and key == "value") or self.rules.sensitive(key):
                    self.hide_all(value, child, sub)
                elif key == "secretGenerator":
                    self.visit(value, child, sub, generator=True)
                elif self.rules.reference(key):
                    continue  # names of secrets (secretKeyRef: {name, key}), not their values
                elif generator and key == "literals":
                    for i, (v, h) in enumerate(t.sequence(value) or []):
                        self.literal(v, h, (*sub, i))
                else:
                    self.visit(value, child, sub, generator=key == "secretGenerator" or generator)
            return
        seq = t.sequence(node)
        if seq is not None:
            if t.ident(node) in self._seen:
                return
            self._seen.add(t.ident(node))
            for i, (value, child) in enumerate(seq):
                self.visit(value, child, (*path, i), generator=generator)
            return
        text = t.scalar(node)
        if text is not None and handle is not None and ("=" in text or ":" in text):
            masked = [m for m in _EMBEDDED.finditer(text) if self.rules.sensitive(m.group("key")) and m["value"]]
            masked += [m for m in _INLINE.finditer(text) if self.rules.sensitive(m.group("key"))]
            if masked or _URL_CREDENTIALS.search(text):
                self.sites.append(_Site(path, handle if isinstance(handle, tuple) else node, text, whole=False))

    def literal(self, node: Any, handle: Any, path: tuple[Any, ...]) -> None:
        # A secretGenerator literal is `KEY=value` and secret whatever KEY is called.
        text = self.tree.scalar(node)
        if text is not None and "=" in text:
            name = text.split("=", 1)[0].strip()
            where = handle if isinstance(handle, tuple) else node
            self.sites.append(_Site((*path[:-1], name), where, text, whole=False, literal=True))

    def hide_all(self, node: Any, handle: Any, path: tuple[Any, ...], *, encoded: bool = False) -> None:
        t = self.tree
        text = t.scalar(node)
        if text is not None:
            self.sites.append(_Site(path, handle if isinstance(handle, tuple) else node, text, True, encoded))
            return
        items = t.mapping(node)
        if items is not None:
            if t.ident(node) in self._seen:
                return
            self._seen.add(t.ident(node))
            for key, value, child in items:
                if key in _VISIBLE_LEAVES and t.scalar(value) is not None and not encoded:
                    continue
                self.hide_all(value, child, (*path, key), encoded=encoded)
            return
        for i, (value, child) in enumerate(t.sequence(node) or []):
            self.hide_all(value, child, (*path, i), encoded=encoded)


# ---- the masker ---------------------------------------------------------------------------------
class Masker:
    """Masks pairs (base, head) of objects or file texts; remembers every value it hid."""

    def __init__(self, rules: MaskRules | None = None) -> None:
        self.rules = rules or MaskRules()
        self.values: set[str] = set()

    # ---- parsed objects (rendered output) ----------------------------------------------------
    def objects(self, base: Any, head: Any) -> tuple[Any, Any]:
        """Deep copies of two versions of one object with their secret values replaced."""
        base, head = copy.deepcopy(base), copy.deepcopy(head)
        base_sites = self._walk(_Objects(), [base])
        head_sites = self._walk(_Objects(), [head])
        before = {s.path: s.value for s in base_sites}
        for site in base_sites:
            self._set(site, self._hide(site, None))
        for site in head_sites:
            self._set(site, self._hide(site, before))
        return base, head

    @staticmethod
    def _set(site: _Site, new: str) -> None:
        if not isinstance(site.handle, tuple):
            return  # a whole document that is one string: not a rendered object
        container, key = site.handle
        container[key] = new

    # ---- file texts (the file diff) ----------------------------------------------------------
    def texts(self, path: str, base: str | None, head: str | None) -> tuple[str | None, str | None]:
        """Both versions of one file with their secret values replaced; the line structure is kept."""
        if not path.endswith(_STRUCTURED) and self.rules.sensitive(_stem(path)):
            # A file named like a credential (`db-password.txt`, `tls.key`, `secrets.env`) is secret whole.
            return self._hide_lines(base, None), self._hide_lines(head, base)
        base_sites = self._text_sites(base)
        head_sites = self._text_sites(head)
        if base_sites is None or head_sites is None:
            # Not YAML (a .env or .properties file, a Helm template): mask credential lines.
            return self._embedded_only(base, None), self._embedded_only(head, base)
        before = {s.path: s.value for s in base_sites}
        return self._apply(base, base_sites, None), self._apply(head, head_sites, before)

    def _text_sites(self, text: str | None) -> list[_Site] | None:
        if text is None:
            return []
        body = text[1:] if text.startswith("\ufeff") else text
        try:
            docs = [d for d in yaml.compose_all(body, Loader=_Loader) if d is not None]
        except (yaml.YAMLError, RecursionError, ValueError):
            return None
        return self._walk(_Nodes(), docs)

    def _apply(self, text: str | None, sites: list[_Site], before: dict[tuple[Any, ...], str] | None) -> str | None:
        if text is None:
            return None
        shift = 1 if text.startswith("\ufeff") else 0
        spans: dict[int, tuple[int, str]] = {}
        for site in sites:
            node = site.handle
            start, end = node.start_mark.index + shift, node.end_mark.index + shift
            raw = text[start:end]
            if site.whole:
                spans[start] = (end, _same_lines(raw, self._hide(site, before)))
            else:
                # A quoted scalar's quotes stay where they are: only what is between them is masked
                # (else `"PW=x"` would lose its closing quote to the value).
                q = getattr(node, "style", None)
                inner = q in ('"', "'") and len(raw) >= 2 and raw[0] == raw[-1] == q
                body = raw[1:-1] if inner else raw
                masked = self._embedded(body, site.path, before, literal=site.literal)
                spans[start] = (end, f"{q}{masked}{q}" if inner else masked)
        out, pos = [], 0
        for start in sorted(spans):
            end, new = spans[start]
            if start < pos:
                continue  # nested in a span already replaced
            out.append(text[pos:start])
            out.append(new)
            pos = end
        out.append(text[pos:])
        return "".join(out)

    # ---- the rules applied -------------------------------------------------------------------
    def _walk(self, tree: _Tree, docs: Iterable[Any]) -> list[_Site]:
        walk = _Walk(tree, self.rules)
        for i, doc in enumerate(docs):
            walk.document(doc, i)
        return walk.sites

    def _hide(self, site: _Site, before: dict[tuple[Any, ...], str] | None) -> str:
        if not site.whole:
            return self._embedded(site.value, site.path, before, literal=site.literal)
        self._remember(site.value, encoded=site.encoded)
        if before is not None and site.path in before and before[site.path] != site.value:
            return CHANGED
        return HIDDEN

    def _embedded(
        self, text: str, path: tuple[Any, ...], before: dict[tuple[Any, ...], str] | None, *, literal: bool = False
    ) -> str:
        """`text` with the values of its credential lines (and URL passwords) replaced."""
        old = _embedded_values(before.get(path, "")) if before is not None else {}

        def line(m: re.Match[str]) -> str:
            if not m["value"] or not (literal or self.rules.sensitive(m["key"])):
                return m.group(0)
            self._remember(m["value"].strip("\"'"))
            changed = before is not None and m["key"] in old and old[m["key"]] != m["value"]
            return f"{m['pre']}{m['key']}{m['sep']}{CHANGED if changed else HIDDEN}{m['post']}"

        out = _EMBEDDED.sub(line, text)
        old_inline = (
            {m["key"]: m["value"] for m in _INLINE.finditer(before.get(path, ""))} if before is not None else {}
        )

        def inline(m: re.Match[str]) -> str:
            if not self.rules.sensitive(m["key"]):
                return m.group(0)
            self._remember(m["value"])
            changed = before is not None and m["key"] in old_inline and old_inline[m["key"]] != m["value"]
            return f"{m['pre']}{m['key']}{m['sep']}{CHANGED if changed else HIDDEN}"

        out = _INLINE.sub(inline, out)
        return _URL_CREDENTIALS.sub(lambda m: f"{m['user']}:{self._url(m['value'])}", out)

    def _url(self, value: str) -> str:
        self._remember(value)
        return "***"

    def _embedded_only(self, text: str | None, before: str | None) -> str | None:
        if text is None:
            return None
        return self._embedded(text, ("<file>",), {("<file>",): before} if before is not None else None)

    def _hide_lines(self, text: str | None, before: str | None) -> str | None:
        if text is None:
            return None
        old = (before or "").splitlines()
        out = []
        for i, line in enumerate(text.splitlines(keepends=True)):
            body = line.rstrip("\r\n")
            self._remember(body.strip())
            mark = HIDDEN if before is None or (i < len(old) and old[i] == body) else CHANGED
            out.append((mark if body.strip() else body) + line[len(body) :])
        return "".join(out)

    def _remember(self, value: str, *, encoded: bool = False) -> None:
        value = value.strip()
        if len(value) >= _SCRUB_MIN:
            self.values.add(value)
        if encoded:
            try:
                plain = base64.b64decode(value, validate=True).decode("utf-8").strip()
            except (binascii.Error, UnicodeDecodeError, ValueError):
                return
            if len(plain) >= _SCRUB_MIN:
                self.values.add(plain)

    # ---- free text ---------------------------------------------------------------------------
    def scrub(self, text: str) -> str:
        """`text` with every value this masker hid replaced, wherever it appears (longest first)."""
        for value in sorted(self.values, key=len, reverse=True):
            if value in (HIDDEN, CHANGED):
                continue
            text = text.replace(value, HIDDEN)
        return text


class _Loader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):  # type: ignore[misc]
    """Compose only: nodes with their positions; nothing is constructed, so no alias is expanded."""


def _stem(path: str) -> str:
    """The file name as words to match: `tls.key` -> `tls.key` (its extension counts: `.key`, `.pem`)."""
    return path.rsplit("/", 1)[-1].lstrip(".")


def _same_lines(raw: str, placeholder: str) -> str:
    """The placeholder over `raw`, keeping its line breaks and indents so line numbers stay true."""
    lines = raw.split("\n")
    rest = [re.match(r"[ \t]*", ln).group() + ("⋯" if ln.strip() else "") for ln in lines[1:]]  # type: ignore[union-attr]
    return "\n".join([placeholder, *rest])


def _embedded_values(text: str) -> dict[str, str]:
    return {m["key"]: m["value"] for m in _EMBEDDED.finditer(text)}
