"""Manifest: OCI and Docker v2 manifests and indexes, platforms, and what an image says about itself."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_SCHEMA1 = (
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
)
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
IMAGE_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
# Every manifest kind promoter reads; without it registries fall back to Docker schema 1 or
# answer with one platform's manifest where an index was pushed.
ACCEPT = ", ".join([OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST])

SOURCE = "org.opencontainers.image.source"
REVISION = "org.opencontainers.image.revision"
CREATED = "org.opencontainers.image.created"
# BuildKit stores provenance and SBOM as index entries of platform unknown/unknown.
_REFERENCE_TYPE = "vnd.docker.reference.type"

_PLATFORM_RE = re.compile(r"^([a-z0-9]+)/([a-z0-9_]+)(?:/([a-z0-9]+))?$")
MAX_LABELS = 50
MAX_VALUE = 500


@dataclass(frozen=True)
class Platform:
    """os/architecture[/variant], as `docker buildx --platform` writes it."""

    os: str
    architecture: str
    variant: str | None = None

    @classmethod
    def parse(cls, text: str) -> Platform:
        m = _PLATFORM_RE.match(text or "")
        if not m:
            raise ValueError(
                f"{text!r} is not a platform os/arch[/variant] (e.g. linux/amd64, linux/arm64, linux/arm/v7)"
            )
        return cls(m.group(1), m.group(2), m.group(3))

    @classmethod
    def from_json(cls, data: Any) -> Platform | None:
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("os"), str)
            or not isinstance(data.get("architecture"), str)
        ):
            return None
        variant = data.get("variant")
        return cls(data["os"], data["architecture"], variant if isinstance(variant, str) and variant else None)

    def _variant(self) -> str | None:
        # containerd's normalisation: arm64 means arm64/v8 unless a variant says otherwise.
        if self.architecture == "arm64" and self.variant in (None, "v8"):
            return None
        return self.variant

    def satisfies(self, wanted: Platform) -> bool:
        """An image for `self` runs where `wanted` is asked for (a wanted variant must match)."""
        if (self.os, self.architecture) != (wanted.os, wanted.architecture):
            return False
        return wanted._variant() is None or wanted._variant() == self._variant()

    def __str__(self) -> str:
        return f"{self.os}/{self.architecture}" + (f"/{self.variant}" if self.variant else "")


@dataclass(frozen=True)
class Descriptor:
    """An entry of an index: one platform's manifest (or an attestation)."""

    digest: str
    media_type: str
    platform: Platform | None
    annotations: dict[str, str]

    @property
    def attestation(self) -> bool:
        return _REFERENCE_TYPE in self.annotations or (
            self.platform is not None and (self.platform.os, self.platform.architecture) == ("unknown", "unknown")
        )


@dataclass
class Manifest:
    """A manifest or index as the registry served it, checked against its digest by the client."""

    digest: str
    media_type: str
    data: dict[str, Any]

    @classmethod
    def parse(cls, digest: str, content_type: str | None, body: bytes, where: str) -> Manifest:
        """`where` names the manifest in errors (ValueError)."""
        try:
            data = json.loads(body)
        except ValueError:
            raise ValueError(f"{where} is not JSON") from None
        if not isinstance(data, dict):
            raise ValueError(f"{where} is not a JSON object")
        declared = data.get("mediaType")
        media = declared if isinstance(declared, str) and declared else (content_type or "").split(";")[0].strip()
        if not media and isinstance(data.get("manifests"), list):
            media = OCI_INDEX  # an OCI index may leave mediaType out
        if not media and isinstance(data.get("config"), dict):
            media = OCI_MANIFEST
        if data.get("schemaVersion") == 1 or media in DOCKER_SCHEMA1:
            raise ValueError(
                f"{where} is a Docker schema 1 manifest (deprecated, no digest-stable content); push it again with a current client"
            )
        if media not in INDEX_TYPES | IMAGE_TYPES:
            raise ValueError(f"{where} has media type {media!r}, not an image manifest or index")
        return cls(digest, media, data)

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES

    @property
    def annotations(self) -> dict[str, str]:
        return _strings(self.data.get("annotations"))

    @property
    def children(self) -> list[Descriptor]:
        out = []
        for m in self.data.get("manifests") or []:
            if isinstance(m, dict) and isinstance(m.get("digest"), str):
                out.append(
                    Descriptor(
                        m["digest"],
                        str(m.get("mediaType") or ""),
                        Platform.from_json(m.get("platform")),
                        _strings(m.get("annotations")),
                    )
                )
        return out

    @property
    def images(self) -> list[Descriptor]:
        """The index's runnable images: attestations and platform-less entries left out."""
        return [d for d in self.children if not d.attestation and d.platform is not None]

    @property
    def config_digest(self) -> str | None:
        cfg = self.data.get("config")
        return cfg.get("digest") if isinstance(cfg, dict) and isinstance(cfg.get("digest"), str) else None


def _strings(data: Any) -> dict[str, str]:
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) for k, v in data.items() if isinstance(v, (str, int, float, bool))}


def _clip(text: str) -> str:
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


@dataclass
class ImageFacts:
    """What the registry says about a verified image: digest, platforms, creation date, labels.

    Everything but the digest comes from the image's own manifest and config, written by whoever
    built it: readers show it as data, never as markup (see promoter.pullrequest).
    """

    registry: str
    repository: str
    digest: str
    media_type: str
    tag: str | None = None
    tag_digest: str | None = None  # what the tag resolves to, when it differs (an index holding `digest`)
    platforms: list[str] = field(default_factory=list)
    created: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def source(self) -> str | None:
        return self.annotations.get(SOURCE) or self.labels.get(SOURCE)

    @property
    def revision(self) -> str | None:
        return self.annotations.get(REVISION) or self.labels.get(REVISION)

    def to_dict(self) -> dict[str, Any]:
        return {
            "registry": self.registry,
            "repository": self.repository,
            "digest": self.digest,
            "media_type": self.media_type,
            "tag": self.tag,
            "tag_digest": self.tag_digest,
            "platforms": list(self.platforms),
            "created": self.created,
            "labels": dict(self.labels),
            "annotations": dict(self.annotations),
            "source": self.source,
            "revision": self.revision,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImageFacts:
        return cls(
            registry=str(data.get("registry", "")),
            repository=str(data.get("repository", "")),
            digest=str(data.get("digest", "")),
            media_type=str(data.get("media_type", "")),
            tag=data.get("tag"),
            tag_digest=data.get("tag_digest"),
            platforms=[str(p) for p in data.get("platforms") or []],
            created=data.get("created"),
            labels=_strings(data.get("labels")),
            annotations=_strings(data.get("annotations")),
        )


def bounded_labels(data: Any) -> dict[str, str]:
    """Labels or annotations from an image, as strings, at most MAX_LABELS values of MAX_VALUE characters."""
    items = sorted(_strings(data).items())[:MAX_LABELS]
    return {_clip(k): _clip(v) for k, v in items}
