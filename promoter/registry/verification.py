"""Verification: is the promoted tag/digest the image it claims to be, in the registry, for the platforms asked?

Asks the registry (HEAD the digest, HEAD the tag, then GET the manifest, one platform's
manifest and its config) and answers with the facts of the image, or with a Problem that says
which of the two values is wrong: the digest (not there), the tag (not there, or it names other
bytes), both, the platforms, or the content (a manifest whose parts are missing).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from promoter.model.image import ImageRef
from promoter.registry.client import RegistryClient
from promoter.registry.errors import Unreadable
from promoter.registry.manifest import CREATED, ImageFacts, Manifest, Platform, bounded_labels


@dataclass
class Problem:
    wrong: str  # digest | tag | both | platforms | content
    message: str
    help: str
    evidence: dict[str, Any] = field(default_factory=dict)
    # Images to promote instead, in the order `help` names them: the gate turns each into a command.
    instead: tuple[str, ...] = ()


@dataclass
class Verification:
    facts: ImageFacts | None = None
    problem: Problem | None = None


def _short(digest: str | None) -> str:
    if not digest:
        return "?"
    algo, _, hexpart = digest.partition(":")
    return f"{algo}:{hexpart[:12]}"


def verify_image(client: RegistryClient, image: ImageRef, platforms: list[Platform]) -> Verification:
    ep = client.endpoint
    where = f"{ep.registry}/{ep.repository}"
    digest, tag = image.digest, image.tag
    evidence: dict[str, Any] = {"registry": ep.registry, "repository": ep.repository, "digest": digest, "tag": tag}

    digest_head = client.head_manifest(digest) if digest else None
    tag_head = client.head_manifest(tag) if tag else None
    tag_manifest: Manifest | None = None
    tag_digest: str | None = None
    if tag and tag_head is not None:
        tag_digest = tag_head.digest
        if not tag_digest:  # a registry that leaves Docker-Content-Digest out: hash the manifest ourselves
            tag_manifest = client.get_manifest(tag)
            tag_digest = tag_manifest.digest if tag_manifest else None
    evidence.update(
        digest_found=digest_head is not None if digest else None,
        tag_found=tag_head is not None if tag else None,
        tag_digest=tag_digest,
    )

    if digest and digest_head is None:
        if tag and tag_head is None:
            return Verification(
                problem=Problem(
                    "both",
                    f"neither tag {tag} nor digest {_short(digest)} exists in {where}: was the image pushed to another repository, or not at all?",
                    f"push the image, or promote the reference your build printed (`docker buildx imagetools inspect {image.name}:{tag}`)",
                    evidence,
                )
            )
        also = f"; tag {tag} names {_short(tag_digest)}" if tag else ""
        return Verification(
            problem=Problem(
                "digest",
                f"digest {_short(digest)} is not in {where}{also}: the digest is wrong (from another build or repository, "
                "or deleted/garbage-collected since)",
                "if the tag is right, promote the digest it names"
                if tag and tag_digest
                else f"promote a digest that exists in {where}; `crane digest {image.name}:TAG` prints one",
                evidence,
                instead=(f"{image.name}:{tag}@{tag_digest}",) if tag and tag_digest else (),
            )
        )
    if tag and tag_head is None:
        if digest:
            return Verification(
                problem=Problem(
                    "tag",
                    f"tag {tag} does not exist in {where}, but digest {_short(digest)} does: the tag is wrong",
                    f"push the tag (`crane tag {image.name}@{digest} {tag}`), or promote by digest alone",
                    evidence,
                    instead=(f"{image.name}@{digest}",),
                )
            )
        return Verification(
            problem=Problem(
                "tag",
                f"tag {tag} does not exist in {where}",
                f"push {image.name}:{tag} first, or fix the tag",
                evidence,
            )
        )

    subject = digest or tag_digest
    assert subject is not None
    if digest and tag and tag_digest and tag_digest != digest:
        tag_manifest = tag_manifest or client.get_manifest(tag_digest)
        if tag_manifest is None or not (
            tag_manifest.is_index and any(c.digest == digest for c in tag_manifest.children)
        ):
            return Verification(
                problem=Problem(
                    "tag",
                    f"tag {tag} in {where} names {_short(tag_digest)}, not {_short(digest)}: the tag was moved to other bytes "
                    "(re-pushed) or the digest is from another build; the digest exists",
                    f"promote by digest alone, or, after checking it is the build you mean, what {tag} names now",
                    evidence,
                    instead=(f"{image.name}@{digest}", f"{image.name}:{tag}@{tag_digest}"),
                )
            )

    manifest = client.get_manifest(subject)
    if manifest is None:  # deleted between the HEAD and the GET
        raise Unreadable(
            ep.registry, f"{where}: manifest {_short(subject)} disappeared while it was being read; run again"
        )
    facts = ImageFacts(
        registry=ep.registry,
        repository=ep.repository,
        digest=subject,
        media_type=manifest.media_type,
        tag=tag,
        tag_digest=tag_digest if digest and tag_digest != digest else None,
    )
    return _describe(client, manifest, facts, platforms, evidence, where)


def _pick(manifest: Manifest, wanted: list[Platform]) -> str | None:
    """The index entry whose config tells the image's date and labels: the first wanted platform, else linux/amd64."""
    images = manifest.images
    for w in [*wanted, Platform("linux", "amd64")]:
        for d in images:
            if d.platform is not None and d.platform.satisfies(w):
                return d.digest
    return images[0].digest if images else None


def _describe(
    client: RegistryClient,
    manifest: Manifest,
    facts: ImageFacts,
    wanted: list[Platform],
    evidence: dict[str, Any],
    where: str,
) -> Verification:
    image_manifest: Manifest | None = manifest
    annotations = dict(manifest.annotations)
    available: list[Platform] = []
    if manifest.is_index:
        available = [d.platform for d in manifest.images if d.platform is not None]
        child = _pick(manifest, wanted)
        image_manifest = client.get_manifest(child) if child else None
        if child and image_manifest is None:
            return Verification(
                problem=Problem(
                    "content",
                    f"index {_short(manifest.digest)} in {where} lists manifest {_short(child)}, which the registry does not have: "
                    "the image cannot be pulled",
                    "push the image again (all platforms) and promote the new digest",
                    {**evidence, "missing_manifest": child},
                )
            )
        if image_manifest is not None:
            annotations = {**image_manifest.annotations, **annotations}
    config: dict[str, Any] = {}
    if image_manifest is not None and not image_manifest.is_index:
        cfg_digest = image_manifest.config_digest
        blob = client.get_blob(cfg_digest) if cfg_digest else None
        if blob is None:
            return Verification(
                problem=Problem(
                    "content",
                    f"manifest {_short(image_manifest.digest)} in {where} has no config blob in the registry "
                    f"({_short(cfg_digest)}): the image cannot be pulled",
                    "push the image again and promote the new digest",
                    {**evidence, "missing_blob": cfg_digest},
                )
            )
        try:
            loaded = json.loads(blob)
        except ValueError:
            raise Unreadable(
                facts.registry, f"{where}: the config of {_short(image_manifest.digest)} is not JSON"
            ) from None
        config = loaded if isinstance(loaded, dict) else {}
        if not manifest.is_index:
            own = Platform.from_json(config)
            available = [own] if own else []
    inner = config["config"] if isinstance(config.get("config"), dict) else {}
    facts.platforms = [str(p) for p in available]
    facts.labels = bounded_labels(inner.get("Labels"))
    facts.annotations = bounded_labels(annotations)
    created = config.get("created") or facts.annotations.get(CREATED)
    facts.created = str(created)[:64] if created else None

    missing = [w for w in wanted if not any(p.satisfies(w) for p in available)]
    if missing:
        have = ", ".join(facts.platforms) or "no platform"
        kind = "an index" if manifest.is_index else "a single-platform image"
        return Verification(
            facts=facts,
            problem=Problem(
                "platforms",
                f"{_short(facts.digest)} in {where} is {kind} for {have}; missing required platform(s) "
                f"{', '.join(map(str, missing))}",
                "build and push for every platform (`docker buildx build --platform "
                f"{','.join(map(str, wanted))} --push`) and promote that index's digest",
                {
                    **evidence,
                    "platforms": facts.platforms,
                    "required_platforms": [str(w) for w in wanted],
                    "missing_platforms": [str(m) for m in missing],
                },
            ),
        )
    return Verification(facts=facts)
