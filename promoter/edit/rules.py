"""Rules: how each reference style takes a new tag and digest (kustomize entries, Helm blocks, image strings)."""

from __future__ import annotations

from promoter.edit.editor import FileEdit
from promoter.model.errors import UsageError
from promoter.model.image import ImageRef
from promoter.model.reference import Reference


class DigestNotPinned(str):
    """A warning that a digest could not be pinned at a place (a Helm block, a tag parameter without a
    digest key): `where` names it. An environment with digest_required refuses such a bump (gates)."""

    where: str

    def __new__(cls, where: str, text: str) -> DigestNotPinned:
        out = super().__new__(cls, text)
        out.where = where
        return out


# ---- the rules: what each reference kind becomes ---------------------------------------------
def plan_reference(fe: FileEdit, ref: Reference, image: ImageRef) -> None:
    """Set `ref` to `image`'s tag and digest, keeping tag and digest consistent (see README)."""
    tag, digest = image.tag, image.digest
    if ref.kind == "string":
        s = ref.slots["image"]
        current = ImageRef.parse(str(s.value)[len(ref.prefix) :])
        new = current.with_(tag=tag, digest=digest)
        fe.set(ref, s, ref.prefix + str(new))
    elif ref.kind == "kustomize":
        _kustomize(fe, ref, tag, digest)
    elif ref.kind == "block":
        _block(fe, ref, tag, digest)
    elif ref.kind == "tag":
        _tag(fe, ref, tag, digest)
    elif ref.kind == "split":
        _split(fe, ref, tag, digest)
    else:  # pragma: no cover - a style returned an unknown kind
        raise ValueError(ref.kind)


def _kustomize(fe: FileEdit, ref: Reference, tag: str | None, digest: str | None) -> None:
    slots = ref.slots
    to_add: list[tuple[str, str]] = []
    if tag:
        if "newTag" in slots:
            fe.set(ref, slots["newTag"], tag)
        else:
            to_add.append(("newTag", tag))
    elif "newTag" in slots:
        fe.drop(ref, slots["newTag"], "newTag removed: a digest-only image keeps no stale tag")
    if digest:
        if "digest" in slots:
            fe.set(ref, slots["digest"], digest)
        else:
            to_add.append(("digest", digest))
    elif "digest" in slots and slots["digest"].value:
        fe.drop(ref, slots["digest"], "stale digest removed: kustomize would pin the old image")
    if to_add:
        after = slots["newTag"] if (tag and "newTag" in slots) else (slots.get("newName") or slots["name"])
        fe.add_after(ref, after, to_add, " and ".join(k for k, _ in to_add) + " key added")


def _block(fe: FileEdit, ref: Reference, tag: str | None, digest: str | None) -> None:
    slots = ref.slots
    where = f"{ref.file}:{ref.line} ({ref.yaml_path or 'top level'})"
    digest_slot = slots.get("digest") or slots.get("sha")
    if digest and digest_slot is None and not tag:
        raise UsageError(
            f"{where}: the image is given by digest only, but this Helm block has no `digest` key, so the digest "
            "cannot be pinned there; pass the tag too (--image repo:tag@digest or --tag), or add a `digest:` key "
            "if the chart reads one"
        )
    if digest and not tag and "tag" in slots and slots["tag"].value:
        # The tag key stays (the chart may require it), so its old value would sit, stale, beside
        # the new digest: a reviewer would read the wrong version. Ask for the tag instead.
        raise UsageError(
            f"{where}: the image is given by digest only, but this Helm block also pins tag "
            f"{slots['tag'].value}, which would go stale beside the new digest; pass the tag too "
            "(--image repo:tag@digest or --tag TAG)"
        )
    if tag:
        if "tag" in slots:
            fe.set(ref, slots["tag"], tag)
        elif "tag" in ref.declared:
            # The chart's values.yaml declares `tag` at this path: the chart reads it, so the key may be added.
            fe.add_after(ref, slots[ref.anchor_key or "repository"], [("tag", tag)], "tag key added")
            fe.warnings.append(
                f"{where}: tag key added: this block had none; the chart's values.yaml declares `tag` at "
                f"{ref.yaml_path}, so the chart reads it"
            )
        elif digest and digest_slot is not None:
            fe.warnings.append(
                f"{where}: tag {tag} not written: this Helm block has no `tag` key (promoter adds one only where the "
                "chart's values.yaml declares it); the digest pins the image"
            )
        else:
            raise UsageError(
                f"{where}: this Helm block has no `tag` key and the chart's values.yaml declares none there, so "
                "promoter will not invent one the chart may not read; add `tag:` to the block (promoter then sets "
                "it), or name the value as an explicit target in .promoter.yaml"
            )
    if digest:
        if digest_slot is not None:
            if "sha" in slots and "digest" not in slots:
                algo, _, hexpart = digest.partition(":")
                if algo != "sha256":
                    raise UsageError(f"{where}: the chart's `sha` key holds a sha256 digest; got {algo}")
                fe.set(ref, digest_slot, hexpart)
            else:
                fe.set(ref, digest_slot, digest)
        else:
            fe.warnings.append(
                DigestNotPinned(
                    where,
                    f"{where}: digest not pinned: this Helm block has no digest key (promoter does not invent keys a "
                    "chart may not read); the tag alone was set",
                )
            )
    elif digest_slot is not None and digest_slot.value:
        fe.set(ref, digest_slot, "", note="stale digest cleared: it would pin the old image")


def _tag(fe: FileEdit, ref: Reference, tag: str | None, digest: str | None) -> None:
    slots = ref.slots
    where = f"{ref.file}:{ref.line} ({ref.yaml_path})"
    if digest and "digest" not in slots and not tag:
        raise UsageError(f"{where}: the image is given by digest only, but only a tag is set here; pass the tag too")
    if digest and not tag and "tag" in slots and slots["tag"].value:
        raise UsageError(
            f"{where}: the image is given by digest only, but tag {slots['tag'].value} is set here and would go stale "
            "beside the new digest; pass the tag too (--image repo:tag@digest or --tag TAG)"
        )
    if tag:
        if "tag" not in slots:
            raise UsageError(f"{where}: no tag value to set here; pass a digest-only image or add a tag parameter")
        fe.set(ref, slots["tag"], tag)
    if digest and "digest" in slots:
        fe.set(ref, slots["digest"], digest)
    elif digest:
        fe.warnings.append(
            DigestNotPinned(where, f"{where}: digest not pinned: there is no digest parameter; the tag alone was set")
        )
    elif "digest" in slots and slots["digest"].value:
        fe.set(ref, slots["digest"], "", note="stale digest cleared")


def _split(fe: FileEdit, ref: Reference, tag: str | None, digest: str | None) -> None:
    """An untagged image string with a sibling tag key: the tag goes there, the string stays as it is."""
    slots = ref.slots
    where = f"{ref.file}:{ref.line} ({ref.yaml_path})"
    tag_key = slots["tag"].key
    if digest and not tag and text_of(slots["tag"].value):
        raise UsageError(
            f"{where}: the image is given by digest only, but `{tag_key}` beside it pins {slots['tag'].value}, which "
            "would go stale; pass the tag too (--image repo:tag@digest or --tag TAG)"
        )
    if tag:
        fe.set(ref, slots["tag"], tag)
    if digest:
        if "digest" in slots:
            fe.set(ref, slots["digest"], digest)
        else:
            fe.warnings.append(
                DigestNotPinned(
                    where,
                    f"{where}: digest not pinned: the chart joins `{slots['image'].key}` and `{tag_key}`, and there "
                    "is no digest key beside them (promoter does not invent one); the tag alone was set",
                )
            )
    elif "digest" in slots and text_of(slots["digest"].value):
        fe.set(ref, slots["digest"], "", note="stale digest cleared: it would pin the old image")


def text_of(value: object) -> str | None:
    return None if value is None or value == "" else str(value)
