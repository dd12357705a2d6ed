"""Fuzzers for the three readers of untrusted text: image references, the editor on generated YAML
(anchors, aliases, merge keys, flow collections), and the configuration loader. Each input is
either accepted (and then correct) or refused with one line naming where; nothing else escapes.

Bounded: a fixed number of examples each (CI replays a fixed set: tests/conftest.py); set
PROMOTER_FUZZ_EXAMPLES to explore longer on your machine.
"""

from __future__ import annotations

import os
import string
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promoter.config.loader import load_config
from promoter.edit.editor import FileEdit
from promoter.edit.rules import plan_reference
from promoter.locate.scan import extract
from promoter.model.errors import ConfigError, UsageError
from promoter.model.image import ImageRef, try_parse
from promoter.yamlio.document import YamlDoc
from tests.conftest import EXAMPLES

FUZZ = settings(
    max_examples=int(os.environ.get("PROMOTER_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


# ---- the reference parser ----------------------------------------------------------------------
lower = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=8)
component = st.one_of(
    lower, st.builds(lambda a, s, b: a + s + b, lower, st.sampled_from([".", "_", "__", "-", "--"]), lower)
)
odd = st.text(max_size=6)  # any Unicode: fullwidth digits, accents, controls, surrogates' neighbours
ascii_tag = st.from_regex(r"\A[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}\Z")
# Letters and digits outside ASCII (`é`, a fullwidth `０`): `\w` takes them, registries do not.
unicode_alnum = st.characters(categories=["Lu", "Ll", "Lo", "Nd"], min_codepoint=128)
tag = st.one_of(
    ascii_tag,
    st.builds(lambda t, c, i: t[:i] + c + t[i:], ascii_tag, unicode_alnum, st.integers(0, 20)),
    odd,
    st.text(min_size=120, max_size=140),
)
registry = st.sampled_from(["", "ghcr.io/", "localhost:5000/", "[::1]:5000/", "Registry.Example.com/", "x/"])
digest = st.one_of(
    st.just(""),
    st.builds(lambda h: "@sha256:" + h, st.text("0123456789abcdef", min_size=60, max_size=66)),
    st.builds(lambda h: "@" + h, odd),
)


@st.composite
def references(draw: st.DrawFn) -> str:
    path = "/".join(draw(st.lists(component, min_size=1, max_size=3)))
    t = draw(st.one_of(st.just(""), st.builds(lambda x: ":" + x, tag)))
    raw = draw(registry) + path + t + draw(digest)
    if draw(st.booleans()):  # splice in one odd character somewhere
        i = draw(st.integers(0, len(raw)))
        raw = raw[:i] + draw(st.characters()) + raw[i:]
    return raw


@FUZZ
@given(st.one_of(references(), st.text(max_size=300)))
def test_a_reference_is_parsed_exactly_or_refused_in_one_bounded_line(raw: str) -> None:
    try:
        ref = ImageRef.parse(raw)
    except UsageError as exc:
        message = str(exc)
        assert message.startswith("invalid image reference ")
        assert "\n" not in message and len(message) < 1000
        assert try_parse(raw) is None
        return
    written = str(ref)
    assert written.isascii(), f"accepted a non-ASCII reference: {written!r}"
    assert written == raw  # nothing normalised away silently
    assert ImageRef.parse(written) == ref
    if ref.tag is not None:
        assert ref.tag.isascii() and 1 <= len(ref.tag) <= 128


# ---- the editor, on YAML with anchors, aliases, merge keys and flow collections ----------------
REPO = "ghcr.io/acme/app"
plain_tag = st.from_regex(r"\A[0-9][0-9a-z.-]{0,8}\Z")
quoted = st.sampled_from(["{}", "'{}'", '"{}"'])


@st.composite
def yaml_files(draw: st.DrawFn) -> str:
    """A values file or manifest with the app's image somewhere, in block or flow style, anchored,
    aliased, merged, next to unrelated anchors and flow collections."""
    tag_text = draw(quoted).format(draw(plain_tag))
    image_text = draw(quoted).format(f"{REPO}:{draw(plain_tag)}")
    parts = []
    if draw(st.booleans()):
        parts.append("common: &common {pullPolicy: IfNotPresent, list: [a, b, {c: d}]}")
    form = draw(st.sampled_from(["block", "flow", "anchored", "merged", "container-flow", "container-block"]))
    if form == "block":
        parts.append(f"image:\n  repository: {REPO}\n  tag: {tag_text}")
    elif form == "flow":
        parts.append(f"image: {{repository: {REPO}, tag: {tag_text}}}")
    elif form == "anchored":
        parts.append(f"image: &img\n  repository: {REPO}\n  tag: {tag_text}")
        parts.append("sidecar:\n  image: *img")
    elif form == "merged":
        parts.append(f"defaults: &d\n  repository: {REPO}\n  tag: {tag_text}")
        parts.append("image:\n  <<: *d\n  pullPolicy: Always")
    elif form == "container-flow":
        parts.append(f"containers: [{{name: app, image: {image_text}}}, {{name: other, image: busybox}}]")
    else:
        parts.append(f"containers:\n  - name: app\n    image: &i {image_text}\n  - name: copy\n    image: *i")
    if draw(st.booleans()):
        parts.append("extra: {a: [1, 2, [3, {b: *common}]]}" if "&common" in parts[0] else "extra: [1, [2, [3]]]")
    if draw(st.booleans()):
        parts.append("# trailing comment")
    order = draw(st.permutations(parts)) if "&" not in "".join(parts) else parts  # an anchor precedes its aliases
    return "\n".join(order) + "\n"


def _bump(text: str, image: ImageRef) -> tuple[str, int]:
    doc = YamlDoc.from_text(text, "values.yaml")
    fe = FileEdit(doc)
    refs = [r for r in extract(doc) if r.matches(image)]
    for r in refs:
        plan_reference(fe, r, image)
    return (fe.apply() if fe.ops else doc.full_text()), len(refs)


@FUZZ
@given(yaml_files(), plain_tag)
def test_the_editor_changes_exactly_the_image_or_refuses_in_one_line(text: str, new_tag: str) -> None:
    image = ImageRef.parse(f"{REPO}:{new_tag}")
    try:
        new, matched = _bump(text, image)
    except UsageError as exc:
        assert str(exc).startswith("values.yaml") and "\n" not in str(exc)
        return
    if not matched:
        return
    after = [r for r in extract(YamlDoc.from_text(new, "values.yaml")) if r.matches(image)]
    assert after, "the reference disappeared"
    assert all(r.tag == new_tag for r in after), [(r.yaml_path, r.tag) for r in after]
    # Lines that held no reference are byte-identical.
    old_lines, new_lines = text.splitlines(), new.splitlines()
    if len(old_lines) == len(new_lines):
        touched = {r.line - 1 for r in after} | {r.line for r in after}
        assert all(a == b for i, (a, b) in enumerate(zip(old_lines, new_lines, strict=True)) if i not in touched)
    again, _ = _bump(new, image)
    assert again == new, "a second bump to the same image changed something"


# ---- the configuration loader ---------------------------------------------------------------------
EXAMPLE = (EXAMPLES / ".promoter.yaml").read_text()
keys = st.sampled_from(
    [
        "environments",
        "name",
        "gates",
        "apps",
        "image",
        "path",
        "paths",
        "defaults",
        "limits",
        "policies",
        "forge",
        "validation",
        "soak",
        "freeze",
        "targets",
        "file",
        "key",
        "<<",
        "version",
        "x",
    ]
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**12),
    st.text(max_size=12),
    st.sampled_from(["dev", "ghcr.io/a/b", "apps/{app}/{env}", "{app.__class__}", "1h", "{0}"]),
)
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=4), max_leaves=12
)


def _mutations(text: str) -> st.SearchStrategy[str]:
    @st.composite
    def mutate(draw: st.DrawFn) -> str:
        out = text
        for _ in range(draw(st.integers(1, 4))):
            i = draw(st.integers(0, len(out)))
            what = draw(st.sampled_from(["delete", "insert", "duplicate-line", "anchor"]))
            if what == "delete":
                out = out[:i] + out[i + draw(st.integers(1, 8)) :]
            elif what == "insert":
                out = (
                    out[:i]
                    + draw(
                        st.sampled_from(
                            ["*", "&a ", "*a", "{", "[", ":", "- ", "\t", "\n", "'", "<<: *a\n", "ä", "\x00"]
                        )
                    )
                    + out[i:]
                )
            elif what == "duplicate-line":
                lines = out.splitlines(keepends=True)
                j = draw(st.integers(0, max(len(lines) - 1, 0)))
                out = "".join(lines[: j + 1] + lines[j:])
            else:
                out = out[:i] + " &a " + out[i:]
        return out

    return mutate()


def _load(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / ".promoter.yaml").write_text(text)
        try:
            load_config(Path(tmp))
        except ConfigError as exc:
            message = str(exc)
            assert message.startswith(".promoter.yaml"), message
            assert "\n" not in message and len(message) < 2000


@FUZZ
@given(st.dictionaries(keys, values, max_size=6))
def test_any_config_shape_loads_or_is_one_config_error(data: dict) -> None:
    import yaml

    _load(yaml.safe_dump(data, allow_unicode=True))


@FUZZ
@given(_mutations(EXAMPLE))
def test_a_mangled_example_config_loads_or_is_one_config_error(text: str) -> None:
    _load(text)
