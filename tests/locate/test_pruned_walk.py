"""A bump's scan of a big values file walks only the subtrees whose text names the repository
(`styles.base.walk_maps_naming`). It must find exactly what the whole walk finds: checked here with
the size threshold lowered to 0 so every file is pruned, on every YAML file of the real corpus (for
each repository referenced in it) and on shapes chosen to break a text-based prune."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from promoter.locate.scan import extract
from promoter.locate.styles import base
from promoter.model.image import ImageRef
from promoter.yamlio.document import YamlDoc, YamlParseError


def _refs(doc: YamlDoc, image: ImageRef, defaults: Any = None) -> list[tuple[Any, ...]]:
    return [
        (r.file, r.line, r.column, r.yaml_path, r.repository, r.tag, r.digest, r.kind, tuple(sorted(r.slots)))
        for r in extract(doc, defaults, image)
    ]


def _both(monkeypatch: pytest.MonkeyPatch, doc: YamlDoc, image: ImageRef, defaults: Any = None) -> tuple[list, list]:
    monkeypatch.setattr(base, "PRUNE_MIN_BYTES", 10**12)
    whole = _refs(doc, image, defaults)
    monkeypatch.setattr(base, "PRUNE_MIN_BYTES", 0)
    pruned = _refs(doc, image, defaults)
    return whole, pruned


def test_the_prune_is_in_force_when_the_threshold_is_met(monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards the test itself: with the threshold at 0 a plain values file is pruned."""
    calls: list[str] = []
    real = base.walk_maps_naming

    def spy(*args: Any) -> Any:
        calls.append(args[3])
        return real(*args)

    monkeypatch.setattr("promoter.locate.styles.helm.walk_maps_naming", spy)
    monkeypatch.setattr(base, "PRUNE_MIN_BYTES", 0)
    doc = YamlDoc.read("a:\n  image:\n    repository: acme/x\n    tag: '1'\n", "values.yaml")
    assert len(extract(doc, None, ImageRef.parse("acme/x:2"))) == 1
    assert calls == ["x"]


def test_every_corpus_file_and_repository_gives_the_same_references(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked = 0
    for f in sorted(corpus.rglob("*.y*ml")):
        if not f.is_file():
            continue
        rel = f.relative_to(corpus).as_posix()
        try:
            doc = YamlDoc.read(f.read_text(encoding="utf-8", errors="replace"), rel)
        except YamlParseError:
            continue
        repositories = {r.repository for r in extract(doc) if r.repository}
        for repo in sorted(repositories):
            image = ImageRef.parse(f"{repo}:0.0.1-test")
            whole, pruned = _both(monkeypatch, doc, image)
            assert pruned == whole, f"{rel} {repo}"
            checked += 1
    assert checked > 50  # the corpus holds about a hundred references


# Top-level keys never contain the repository's last part ("web"): a subtree is kept for its value only.
SHAPES = {
    # registry and repository split; the global registry completes the name
    "split-registry": "global:\n  imageRegistry: ghcr.io\nsvc:\n  image:\n    repository: acme/web\n    tag: '1'\n",
    "root-block": "repository: acme/web\ntag: '1'\nother:\n  x: 1\n",
    "root-string": "image: ghcr.io/acme/web:1\nsidecar:\n  image: ghcr.io/acme/other:2\n",
    "flow": "svc: {image: {repository: acme/web, tag: '1'}}\nnext: {a: 1}\n",
    "folded": "svc:\n  image:\n    repository: >-\n      acme/web\n    tag: '1'\n",
    "sibling-tag": "svc:\n  image: acme/web\n  imageTag: '1'\n",
    "name-key": "svc:\n  image:\n    name: acme/web\n    tag: '1'\n",
    "quoted-key": "'svc':\n  \"image\":\n    repository: 'acme/web'\n    tag: '1'\n",
    "last-key": "a: 1\nb:\n  c:\n    image: ghcr.io/acme/web:3\n",
    "many": "".join(f"c{i}:\n  image:\n    repository: acme/web\n    tag: '{i}'\n" for i in range(5)),
    "documents": "a:\n  image: ghcr.io/acme/web:1\n---\nb:\n  image: ghcr.io/acme/web:2\n",
    "list-root": "- image: ghcr.io/acme/web:1\n- image: ghcr.io/acme/x:2\n",
    "escaped": 'svc:\n  image:\n    repository: "acme/w\\x65b"\n    tag: "1"\n',
    "anchored": "base: &r acme/web\nsvc:\n  image:\n    repository: *r\n    tag: '1'\n",
    "merge": "d: &d {repository: acme/web}\nsvc:\n  image:\n    <<: *d\n    tag: '1'\n",
}


@pytest.mark.parametrize("name", sorted(SHAPES))
@pytest.mark.parametrize("wanted", ["ghcr.io/acme/web", "acme/web", "docker.io/acme/web"])
def test_shapes_meant_to_break_a_text_prune(name: str, wanted: str, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = YamlDoc.read(SHAPES[name], "values.yaml")
    whole, pruned = _both(monkeypatch, doc, ImageRef.parse(f"{wanted}:9"))
    assert pruned == whole


def test_chart_defaults_naming_the_repository_are_walked_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """An environment's values file that sets only the tag: the repository is in the chart's values."""
    doc = YamlDoc.read("svc:\n  image:\n    tag: '2'\nfiller:\n  a: 1\n", "env/values-dev.yaml")
    defaults = {"svc": {"image": {"repository": "acme/web", "tag": "1"}}}
    whole, pruned = _both(monkeypatch, doc, ImageRef.parse("acme/web:3"), defaults)
    assert whole and pruned == whole


def test_a_prune_that_skipped_a_naming_subtree_would_be_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison can fail: a prune looking for the wrong text loses the reference."""
    real = base.walk_maps_naming
    monkeypatch.setattr(
        "promoter.locate.styles.helm.walk_maps_naming", lambda node, path, text, name: real(node, path, text, "zz")
    )
    doc = YamlDoc.read(SHAPES["split-registry"], "values.yaml")
    whole, pruned = _both(monkeypatch, doc, ImageRef.parse("ghcr.io/acme/web:9"))
    assert whole and pruned != whole
