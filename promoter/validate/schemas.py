"""Schemas: where resource schemas come from, offline: packaged Kubernetes schemas, CRDs, catalog folders."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from promoter.model.errors import ConfigError, UsageError
from promoter.model.finding import repo_relative
from promoter.yamlio.loader import Loader

# The packaged schemas' files `$ref` one shared file under this prefix.
_SHARED_REF = "/api/_definitions.json#/$defs/"
_LOCAL_REF = "#/$defs/"
_VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?$")
CRD_API_VERSIONS = ("apiextensions.k8s.io/v1", "apiextensions.k8s.io/v1beta1")
# What kubeconform's -schema-location template expands to for our prepared folder (see its README).
KUBECONFORM_TEMPLATE = (
    "{{.NormalizedKubernetesVersion}}-standalone{{.StrictSuffix}}/{{.ResourceKind}}{{.KindSuffix}}.json"
)


@lru_cache(maxsize=1)
def schema_root() -> Path:
    """The folder of packaged schemas inside the installed `kubernetes-validate` package."""
    import importlib.util

    # Only the package's data folder is needed: finding it does not import the package (and its deps).
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover - a declared dependency
        raise ConfigError("the kubernetes-validate package is not installed (pip install kubernetes-validate)")
    return Path(list(spec.submodule_search_locations)[0]).resolve() / "kubernetes-json-schema"


@lru_cache(maxsize=1)
def shipped_versions() -> tuple[tuple[int, int, int], ...]:
    """Kubernetes versions with packaged schemas, ascending, e.g. ((1, 25, 0), ..., (1, 37, 0))."""
    out = []
    for entry in os.listdir(schema_root()):
        m = re.fullmatch(r"v(\d+)\.(\d+)\.(\d+)-local", entry)
        if m:
            out.append((int(m[1]), int(m[2]), int(m[3])))
    return tuple(sorted(out))


def _fmt(v: tuple[int, int, int]) -> str:
    return f"{v[0]}.{v[1]}.{v[2]}"


@dataclass(frozen=True)
class SchemaVersion:
    """A configured Kubernetes version mapped onto the packaged schemas that serve it."""

    requested: str
    version: str  # shipped, always X.Y.Z, e.g. "1.32.0"
    exact: bool

    @property
    def note(self) -> str | None:
        if self.exact:
            return None
        return f"Kubernetes {self.requested} validated with the schemas of {self.version} (nearest packaged version)"


def resolve_version(configured: str, *, what: str = "validation.kubernetes_version") -> SchemaVersion:
    """Map "1.32", "1.32.0", "v1.32" or "1.32.4" onto the packaged schemas of the same minor version.

    `what` names where the value came from in an error (a config key, or the flag)."""
    versions = shipped_versions()
    supported = f"{_fmt(versions[0])[:-2]}–{_fmt(versions[-1])[:-2]}" if versions else "none"
    m = _VERSION_RE.match(str(configured).strip())
    if not m:
        raise ConfigError(f"{what}: {configured!r} is not a Kubernetes version like 1.32 (supported: {supported})")
    major, minor, patch = int(m[1]), int(m[2]), int(m[3] or 0)
    same_minor = [v for v in versions if v[:2] == (major, minor)]
    if not same_minor:
        raise ConfigError(f"{what}: no packaged schemas for Kubernetes {major}.{minor} (supported: {supported})")
    # Schemas only change between minor releases; a patch other than the shipped one is served by it.
    best = min(same_minor, key=lambda v: abs(v[2] - patch))
    return SchemaVersion(requested=str(configured), version=_fmt(best), exact=best[2] == patch)


def _folder(version: str, strict: bool) -> Path:
    return schema_root() / (f"v{version}-local" + ("-strict" if strict else ""))


@lru_cache(maxsize=4)
def _definitions(version: str, strict: bool) -> dict[str, Any]:
    return json.loads((_folder(version, strict) / "_definitions.json").read_text())["$defs"]


def split_api_version(api_version: str) -> tuple[str, str]:
    """`apps/v1` → ("apps", "v1"); `v1` → ("", "v1")."""
    group, _, version = api_version.rpartition("/")
    return group, version


def kubeconform_filename(api_version: str, kind: str) -> str:
    """The file kubeconform looks for: `<kind>-<group first label>-<version>.json`; core: `<kind>-<version>.json`."""
    group, version = split_api_version(api_version)
    suffix = f"-{group.split('.')[0].lower()}-{version.lower()}" if group else f"-{version.lower()}"
    return f"{kind.lower()}{suffix}.json"


def bundle(top: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    """A standalone copy of `top`: every definition it reaches is copied under `$defs`, every `$ref` local."""
    defs: dict[str, Any] = {}
    todo: list[str] = []

    def local(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for k, v in node.items():
                if k == "$ref" and isinstance(v, str):
                    if v.startswith(_SHARED_REF):
                        name = v[len(_SHARED_REF) :]
                    elif v.startswith(_LOCAL_REF):
                        name = v[len(_LOCAL_REF) :]
                    else:
                        raise ValueError(f"unexpected $ref {v!r} in packaged schemas")
                    if name not in defs:
                        defs[name] = None
                        todo.append(name)
                    out[k] = _LOCAL_REF + name
                else:
                    out[k] = local(v)
            return out
        if isinstance(node, list):
            return [local(x) for x in node]
        return node

    root = local(top)
    while todo:
        name = todo.pop()
        defs[name] = local(definitions[name])
    root.pop("$id", None)  # the file's own URL would re-base refs; the bundle is self-contained
    root["$defs"] = dict(sorted(defs.items()))
    return root


@lru_cache(maxsize=512)
def _builtin_text(version: str, strict: bool, api_version: str, kind: str) -> str | None:
    path = _folder(version, strict) / kubeconform_filename(api_version, kind)
    if not path.is_file():
        return None
    top = json.loads(path.read_text())
    group, ver = split_api_version(api_version)
    # The folder also holds schemas of sub-objects (deploymentspec-apps-v1.json): only real kinds count.
    gvks = top.get("x-kubernetes-group-version-kind") or []
    if not any(g.get("group", "") == group and g.get("version") == ver and g.get("kind") == kind for g in gvks):
        return None
    return json.dumps(bundle(top, _definitions(version, strict)))


@lru_cache(maxsize=512)
def _builtin_shared(version: str, strict: bool, api_version: str, kind: str) -> dict[str, Any] | None:
    text = _builtin_text(version, strict, api_version, kind)
    return json.loads(text) if text is not None else None


def builtin_schema(version: str, strict: bool, api_version: str, kind: str) -> dict[str, Any] | None:
    """The standalone packaged schema of one kind (a fresh copy), or None when Kubernetes has no such kind."""
    text = _builtin_text(version, strict, api_version, kind)
    return json.loads(text) if text is not None else None


# --- custom resources ---------------------------------------------------------------------------


def is_crd(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and obj.get("kind") == "CustomResourceDefinition"
        and obj.get("apiVersion") in CRD_API_VERSIONS
    )


def _openapi_to_jsonschema(node: Any, strict: bool) -> Any:
    """OpenAPI v3 (as CRDs write it) → JSON Schema: `nullable`, int-or-string, and strictness where allowed."""
    if isinstance(node, list):
        return [_openapi_to_jsonschema(x, strict) for x in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for k, v in node.items():
        if k in ("properties", "patternProperties", "definitions", "$defs") and isinstance(v, dict):
            out[k] = {name: _openapi_to_jsonschema(sub, strict) for name, sub in v.items()}
        elif k in ("items", "additionalProperties", "not", "allOf", "anyOf", "oneOf", "additionalItems"):
            out[k] = _openapi_to_jsonschema(v, strict)
        else:
            out[k] = v
    if out.pop("nullable", False) is True and "type" in out:
        t = out["type"]
        out["type"] = list(dict.fromkeys([*(t if isinstance(t, list) else [t]), "null"]))
    if out.get("x-kubernetes-int-or-string") is True:
        out.pop("type", None)
        out.setdefault("anyOf", [{"type": "integer"}, {"type": "string"}])
    preserve = out.get("x-kubernetes-preserve-unknown-fields") is True
    if out.get("x-kubernetes-embedded-resource") is True and isinstance(out.get("properties"), dict):
        _add_object_header(out)
    is_object = out.get("type") == "object" or "properties" in out
    if strict and is_object and not preserve and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def _add_object_header(schema: dict[str, Any]) -> None:
    # The API server accepts these on every object even when a CRD's schema does not list them.
    props = schema.setdefault("properties", {})
    props.setdefault("apiVersion", {"type": "string"})
    props.setdefault("kind", {"type": "string"})
    props.setdefault("metadata", {"type": "object"})


def crd_schemas(crd: dict[str, Any], strict: bool) -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) → JSON Schema for every version a CustomResourceDefinition serves with a schema."""
    spec = crd.get("spec") or {}
    group = spec.get("group")
    kind = (spec.get("names") or {}).get("kind")
    if not isinstance(group, str) or not isinstance(kind, str):
        return {}
    out: dict[tuple[str, str], dict[str, Any]] = {}
    shared = (spec.get("validation") or {}).get("openAPIV3Schema")  # v1beta1: one schema for all versions
    versions = spec.get("versions") or ([{"name": spec["version"]}] if isinstance(spec.get("version"), str) else [])
    for v in versions:
        if not isinstance(v, dict) or not isinstance(v.get("name"), str):
            continue
        raw = ((v.get("schema") or {}).get("openAPIV3Schema")) or shared
        if not isinstance(raw, dict):
            continue
        schema = _openapi_to_jsonschema(copy.deepcopy(raw), strict)
        schema.setdefault("type", "object")
        if "properties" in schema or strict:
            _add_object_header(schema)
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        out[(f"{group}/{v['name']}", kind)] = schema
    return out


# path → (mtime_ns, size, CRDs in it): a repository is scanned once per process, then only changed files are read.
_CRD_FILES: dict[str, tuple[int, int, list[dict[str, Any]]]] = {}


def find_crds(repo: Path) -> list[dict[str, Any]]:
    """CustomResourceDefinition objects in the repository's YAML/JSON files (files that fail to parse are ignored)."""
    found: list[dict[str, Any]] = []
    for path in _manifest_files(repo):
        try:
            st = path.stat()
        except OSError:
            continue
        key = str(path)
        cached = _CRD_FILES.get(key)
        if cached is None or cached[:2] != (st.st_mtime_ns, st.st_size):
            cached = _CRD_FILES[key] = (st.st_mtime_ns, st.st_size, _crds_in(path))
        found.extend(cached[2])
    return found


def _crds_in(path: Path) -> list[dict[str, Any]]:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    # Cheap text test first: parsing every file of a big repository would dominate a check.
    if "CustomResourceDefinition" not in text:
        return []
    try:
        docs = list(yaml.load_all(text, Loader=Loader))
    except yaml.YAMLError:
        return []
    return [d for d in docs if is_crd(d)]


def _manifest_files(repo: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(repo):
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d != "node_modules"]
        for name in filenames:
            if name.endswith((".yaml", ".yml", ".json")):
                yield Path(dirpath) / name


@dataclass(frozen=True)
class Schema:
    """A schema found for one kind: the JSON Schema (read-only), where it came from, and a key unique to its content."""

    schema: dict[str, Any]
    origin: (
        str  # "kubernetes 1.32.0", "CRD certificates.cert-manager.io", "schemas/cert-manager.io/certificate_v1.json"
    )
    key: tuple[Any, ...]


@dataclass
class SchemaSource:
    """Every schema a check may use, looked up in order: packaged Kubernetes, repository CRDs, catalog folders."""

    version: SchemaVersion
    strict: bool = True
    schema_dirs: Sequence[Path] = ()
    repo: Path | None = None
    _custom: dict[tuple[str, str], Schema] = field(default_factory=dict)
    _catalog: dict[tuple[str, str], Schema | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for d in self.schema_dirs:
            if not Path(d).is_dir():
                shown = repo_relative(Path(d), self.repo)
                raise ConfigError(f"validation.schema_dirs: schema folder {shown} does not exist")

    def add_crds(self, crds: Iterable[dict[str, Any]]) -> None:
        for crd in crds:
            name = ((crd.get("metadata") or {}).get("name")) or "?"
            for key, schema in crd_schemas(crd, self.strict).items():
                digest = hashlib.sha1(json.dumps(schema, sort_keys=True).encode()).hexdigest()
                self._custom.setdefault(key, Schema(schema, f"CRD {name}", ("crd", self.strict, *key, digest)))

    def lookup(self, api_version: str, kind: str) -> Schema | None:
        v = self.version.version
        shared = _builtin_shared(v, self.strict, api_version, kind)
        if shared is not None:
            # Shared between lookups (read-only): validators are cached per key, the dict is not copied per check.
            return Schema(shared, f"kubernetes {v}", ("k8s", v, self.strict, api_version, kind))
        if (api_version, kind) in self._custom:
            return self._custom[(api_version, kind)]
        return self._from_catalog(api_version, kind)

    def has_custom(self, api_version: str, kind: str) -> bool:
        return (api_version, kind) in self._custom

    def is_builtin(self, api_version: str, kind: str) -> bool:
        return _builtin_text(self.version.version, self.strict, api_version, kind) is not None

    def _from_catalog(self, api_version: str, kind: str) -> Schema | None:
        key = (api_version, kind)
        if key in self._catalog:
            return self._catalog[key]
        group, version = split_api_version(api_version)
        hit: Schema | None = None
        for d in self.schema_dirs:
            path = Path(d) / (group or "core") / f"{kind.lower()}_{version}.json"
            if path.is_file():
                shown = repo_relative(path, self.repo)
                try:
                    schema = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, UnicodeDecodeError, ValueError) as exc:
                    raise UsageError(f"{shown}: not a readable JSON schema: {exc}") from None
                if not isinstance(schema, dict):
                    raise UsageError(f"{shown}: a JSON schema must be an object")
                hit = Schema(schema, shown, ("catalog", str(path.resolve()), path.stat().st_mtime_ns))
                break
        self._catalog[key] = hit
        return hit


def write_kubeconform_folder(
    directory: Path, source: SchemaSource, kinds: Iterable[tuple[str, str]]
) -> tuple[str, dict[tuple[str, str], str]]:
    """Write standalone schemas for `kinds` in kubeconform's layout under `directory`.

    Returns the `-schema-location` template and, per (apiVersion, kind) written, its file path.
    Kinds without a schema are not written (kubeconform then reports them missing, like builtin).
    """
    version = source.version.version
    folder = directory / (f"v{version}-standalone" + ("-strict" if source.strict else ""))
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[tuple[str, str], str] = {}
    taken: dict[str, tuple[str, str]] = {}
    for api_version, kind in sorted(set(kinds)):
        hit = source.lookup(api_version, kind)
        if hit is None:
            continue
        name = kubeconform_filename(api_version, kind)
        if name in taken:
            # Two groups sharing a first label and kind: kubeconform's layout cannot tell them apart.
            continue
        taken[name] = (api_version, kind)
        path = folder / name
        path.write_text(json.dumps(hit.schema))
        written[(api_version, kind)] = str(path)
    return str(directory / KUBECONFORM_TEMPLATE), written
