"""Property: in generated values files of many styles, a bump changes only the values' bytes, and a second bump nothing."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promoter.model.image import ImageRef
from promoter.yamlio.loader import load

D_OLD = "sha256:" + "2" * 64
REPO = "ghcr.io/acme/app"


@dataclass
class Value:
    """A scalar the bump may rewrite: its old text as written, its quoting, and what it must mean afterwards."""

    text: str
    style: str  # plain | single | double | null
    new: str | None  # the string it must read back as; None: must stay as it was


def render(value: str, style: str) -> str:
    return {"plain": value, "single": f"'{value}'", "double": f'"{value}"'}[style]


def candidates(v: Value) -> list[str]:
    """The spellings an edit may give v.new: the old quoting, or double quotes where plain would not read back."""
    assert v.new is not None
    if v.style == "single":
        return [f"'{v.new}'"]
    if v.style == "double":
        return [f'"{v.new}"']
    if v.style == "null":
        # `tag:` or `tag: ~`: the value goes where the null was (a space is added after a bare colon)
        lead = "" if v.text else " "
        return [lead + v.new, f'{lead}"{v.new}"'] if v.new else [f'{lead}""']
    return [v.new, f'"{v.new}"'] if v.new else ['""']


tags = st.from_regex(r"\A[A-Za-z0-9_][A-Za-z0-9_.-]{0,15}\Z")
quote = st.sampled_from(["plain", "single", "double"])
comment = st.sampled_from(["", "  # set by CI", " #c", '    # {"$imagepolicy": "flux-system:app:tag"}'])
extra_lines = st.lists(
    st.sampled_from(
        [
            "replicaCount: 2",
            "# a comment",
            "",
            "name: 'web'",
            "enabled: true",
            "list:\n- a\n- b",
            "empty: {}",
            'other:\n  image:\n    repository: ghcr.io/acme/other\n    tag: "1.0"',
        ]
    ),
    max_size=5,
    unique=True,
)


@st.composite
def values_files(draw):
    """(pieces, new image): pieces alternate literal text and Values, joined they are the file."""
    new_tag = draw(tags)
    new_digest = draw(st.sampled_from([None, "sha256:" + "1" * 64]))
    indent = " " * draw(st.sampled_from([2, 4]))
    nested = draw(st.booleans())
    form = draw(st.sampled_from(["block", "flow", "string"]))
    pieces: list[object] = []

    def lit(s: str) -> None:
        pieces.append(s)

    extras = draw(extra_lines)
    split = draw(st.integers(0, len(extras)))
    for line in extras[:split]:
        lit(line + "\n")
    pad = indent if nested else ""
    if nested:
        lit("web:" + draw(comment) + "\n")
    if form == "string":
        old_tag = draw(tags)
        old = f"{REPO}:{old_tag}" + (f"@{D_OLD}" if draw(st.booleans()) else "")
        style = draw(quote)
        new = f"{REPO}:{new_tag}" + (f"@{new_digest}" if new_digest else "")
        lit(f"{pad}image: ")
        pieces.append(Value(render(old, style), style, new))
        lit(draw(comment) + "\n")
    else:
        keys = (
            ["repository", "tag"]
            + (["digest"] if draw(st.booleans()) else [])
            + (["pullPolicy"] if draw(st.booleans()) else [])
        )
        keys = draw(st.permutations(keys))
        entries: list[tuple[str, object]] = []
        for k in keys:
            if k == "repository":
                s = draw(quote)
                entries.append((k, render(REPO, s)))
            elif k == "tag":
                s = draw(st.sampled_from(["plain", "single", "double", "null"]))
                if s == "null":
                    text = draw(st.sampled_from(["", "~"])) if form == "block" else "~"
                    entries.append((k, Value(text, "null", new_tag)))
                else:
                    old_tag = draw(tags | st.sampled_from(["1.4", "2", "latest"]))
                    if s == "plain" and not isinstance(load(old_tag), str):
                        s = "double"  # a numeric plain old tag has rules of its own, tested by example
                    entries.append((k, Value(render(old_tag, s), s, new_tag)))
            elif k == "digest":
                old_d = draw(st.sampled_from(["", D_OLD]))
                s = draw(quote) if old_d else draw(st.sampled_from(["single", "double"]))
                want = new_digest or ""
                entries.append((k, Value(render(old_d, s), s, want if want != old_d else None)))
            else:
                entries.append((k, "IfNotPresent"))
        if form == "block":
            lit(f"{pad}image:" + draw(comment) + "\n")
            for k, v in entries:
                lit(f"{pad}{indent}{k}:" + ("" if isinstance(v, Value) and v.text == "" else " "))
                pieces.append(v if isinstance(v, Value) else str(v))
                lit(draw(comment) + "\n")
                if draw(st.booleans()):
                    lit("\n")  # blank line inside the block
        else:
            sep = draw(st.sampled_from([", ", ",", " , "]))
            lit(f"{pad}image: {{")
            for i, (k, v) in enumerate(entries):
                if i:
                    lit(sep)
                lit(f"{k}: ")
                pieces.append(v if isinstance(v, Value) else str(v))
            lit("}" + draw(comment) + "\n")
    for line in extras[split:]:
        lit(line + "\n")
    crlf = draw(st.booleans())
    bom = draw(st.booleans())
    if crlf:
        pieces = [p.replace("\n", "\r\n") if isinstance(p, str) else p for p in pieces]
    if bom:
        pieces.insert(0, "\ufeff")
    image = REPO + f":{new_tag}" + (f"@{new_digest}" if new_digest else "")
    return pieces, image


def join(pieces: list[object], chosen: dict[int, str] | None = None) -> str:
    out = []
    for i, p in enumerate(pieces):
        if isinstance(p, Value):
            out.append(chosen[i] if chosen and i in chosen else p.text)
        else:
            out.append(p)
    return "".join(out)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values_files())
def test_bump_changes_only_value_bytes_and_is_idempotent(bump, case):
    pieces, image = case
    old = join(pieces)
    b = bump(old, image)
    # Outside the values' spans the texts are identical: the new text is the old pieces with each
    # changing value replaced by one of its allowed spellings, and nothing else.
    changing = {i: p for i, p in enumerate(pieces) if isinstance(p, Value) and p.new is not None and p.text != p.new}
    spellings = [candidates(v) if i in changing else [v.text] for i, v in changing.items()]
    options = [dict(zip(changing, combo, strict=False)) for combo in itertools.product(*spellings)] or [{}]
    assert b.new in {join(pieces, o) for o in options}, (old, b.new)
    # The values read back as the new strings, with both YAML 1.1 and 1.2 readers.
    data = yaml.safe_load(b.new.lstrip("\ufeff"))
    node = data.get("web", data)["image"]
    if isinstance(node, str):
        assert node == image
    else:
        assert node["tag"] == ImageRef.parse(image).tag
        assert node["repository"] == REPO
    # A second bump changes nothing.
    again = bump(b.new, image)
    assert again.edit.ops == [] and again.new == b.new
