"""The C-parser locate (libyaml's marks) and the round-trip locate (ruamel) find the same references at the
same lines and columns on generated files; the two C readers (composed, event by event) build the same trees."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from promoter.locate.scan import extract
from promoter.yamlio.document import YamlDoc
from promoter.yamlio.marked import MarkedMap, MarkedSeq, read_composed, read_events

KEYS = ["api", "worker", "web-ui", "sidecar", "db", "cache"]
REPOS = ["ghcr.io/acme/api", "nginx", "quay.io/prometheus/node-exporter", "registry.example.com:5000/team/app"]
OTHER = ["1", "true", "~", '"text with: colon"', "[a, b]"]
TAGS = ["v1.2.3", "1.27-alpine", "latest", "2024.01", "sha-9f1c2d"]


def quoted(value: str) -> st.SearchStrategy[str]:
    return st.sampled_from([value, f'"{value}"', f"'{value}'"])


@st.composite
def image_block(draw: Any, indent: int) -> list[str]:
    pad = " " * indent
    repo = draw(st.sampled_from(REPOS))
    lines = [f"{pad}repository: {draw(quoted(repo))}"]
    if draw(st.booleans()):
        lines.append(f"{pad}tag: {draw(quoted(draw(st.sampled_from(TAGS))))}")
    if draw(st.booleans()):
        lines.append(f"{pad}pullPolicy: IfNotPresent  # a comment")
    if draw(st.booleans()):
        lines.append(f'{pad}digest: ""')
    order = draw(st.permutations(lines))
    return list(order)


@st.composite
def component(draw: Any, indent: int, depth: int) -> list[str]:
    pad = " " * indent
    out: list[str] = []
    for key in draw(st.lists(st.sampled_from(KEYS), min_size=1, max_size=3, unique=True)):
        kind = draw(st.sampled_from(["block", "string", "flow", "nested", "other", "blank"]))
        if kind == "block":
            out.append(f"{pad}{key}:")
            out.append(f"{pad}  image:")
            out.extend(draw(image_block(indent + 4)))
        elif kind == "string":
            image = f"{draw(st.sampled_from(REPOS))}:{draw(st.sampled_from(TAGS))}"
            out.append(f"{pad}{key}:")
            out.append(f"{pad}  image: {draw(quoted(image))}")
        elif kind == "flow":
            out.append(
                f"{pad}{key}: {{image: {{repository: {draw(st.sampled_from(REPOS))}, tag: {draw(st.sampled_from(TAGS))}}}}}"
            )
        elif kind == "nested" and depth < 2:
            out.append(f"{pad}{key}:")
            out.extend(draw(component(indent + 2, depth + 1)))
        elif kind == "blank":
            out.append("")
            out.append(f"{pad}# {key} is documented here")
            out.append(f"{pad}{key}: {{}}")
        else:
            scalar = draw(st.sampled_from(OTHER))
            out.append(f"{pad}{key}: {scalar}")
    return out


@st.composite
def values_file(draw: Any) -> str:
    docs = []
    for _ in range(draw(st.integers(1, 2))):
        docs.append("\n".join(draw(component(0, 0))) + "\n")
    text = "---\n".join(docs)
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    return text


def _found(doc: YamlDoc) -> list[tuple[Any, ...]]:
    return [(r.style, r.yaml_path, r.line, r.column, r.repository, r.tag, r.digest) for r in extract(doc)]


@settings(max_examples=150, deadline=None)
@given(values_file())
def test_c_locate_and_round_trip_locate_agree(text: str):
    c = YamlDoc.read(text, "values.yaml")
    rt = YamlDoc.from_text(text, "values.yaml")
    assert c.reader == "c" and rt.reader == "rt"
    assert _found(c) == _found(rt)


def _marks(node: Any) -> Any:
    if isinstance(node, MarkedMap):
        return ("map", node.start, node.flow, dict(node.marks), {k: _marks(v) for k, v in node.items()})
    if isinstance(node, MarkedSeq):
        return ("seq", node.start, node.flow, list(node.marks), [_marks(v) for v in node])
    return (type(node).__name__, str(node))


@settings(max_examples=100, deadline=None)
@given(values_file())
def test_composed_and_event_readers_build_the_same_tree(text: str):
    composed, _ = read_composed(text)
    events, _ = read_events(text)
    assert [_marks(d) for d in composed] == [_marks(d) for d in events]
