"""The pin cache under .git/promoter/: a second `status` parses nothing, a new commit only its new texts,
and a cache that is damaged, forged in shape, too big or written by other code is ignored, never trusted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promoter.history import pincache
from promoter.history.pincache import FILE_NAME, PinCache
from promoter.history.status import status
from promoter.yamlio import document as yamldoc

from .conftest import D1, D4, T6_MERGE, kustomization


@pytest.fixture
def parsed(monkeypatch) -> list[str]:
    """The paths of every parse of the GitOps files from now on (not of .promoter.yaml)."""
    seen: list[str] = []
    real = yamldoc.YamlDoc.read.__func__

    def spy(cls, text, path):
        if path != ".promoter.yaml":
            seen.append(path)
        return real(cls, text, path)

    monkeypatch.setattr(yamldoc.YamlDoc, "read", classmethod(spy))
    return seen


_CONFIGS: dict[Path, object] = {}


def rows(repo, ref: str | None = "HEAD") -> list[dict]:
    """`status` of app api (the config is read once per repository: its own parse is not history's)."""
    if repo.path not in _CONFIGS:
        _CONFIGS[repo.path] = repo.config()
    return [r.to_dict() for r in status(repo.path, _CONFIGS[repo.path], apps=["api"], ref=ref)]


def cache_file(repo) -> Path:
    return repo.path / ".git" / "promoter" / FILE_NAME


def test_a_second_status_parses_nothing_and_a_new_commit_only_its_texts(fresh_pipeline, parsed):
    repo, _ = fresh_pipeline
    first = rows(repo)
    cold = len(parsed)
    assert cold > 3 and cache_file(repo).is_file()
    parsed.clear()
    assert rows(repo) == first
    assert parsed == []
    repo.set_image("prod", "1.4.0", D4, T6_MERGE.replace(day=20))
    after = rows(repo)
    assert parsed == ["apps/api/prod/kustomization.yaml"]  # the one new text; the rest came from the cache
    assert [(r["env"], r["tag"]) for r in after] == [("dev", "1.3.0"), ("stage", "1.3.0"), ("prod", "1.4.0")]


def test_the_working_tree_is_read_through_the_cache_too(fresh_pipeline, parsed):
    repo, _ = fresh_pipeline
    rows(repo, None)
    parsed.clear()
    repo.write({"apps/api/dev/kustomization.yaml": kustomization("9.9.9", D1)})
    assert [r["tag"] for r in rows(repo, None)] == ["9.9.9", "1.3.0", "1.0.0"]
    assert parsed == ["apps/api/dev/kustomization.yaml"]


def test_a_text_that_did_not_parse_in_history_is_still_an_error_in_the_working_tree(fresh_pipeline):
    repo, _ = fresh_pipeline
    repo.commit(T6_MERGE.replace(day=20), "broken", {"apps/api/dev/kustomization.yaml": "images: [\n"})
    committed = rows(repo)  # history: the broken version pins nothing (the deployment's bare image is left)
    assert committed[0]["error"] is None and committed[0]["tag"] is None
    assert pincache.UNPARSED in json.loads(cache_file(repo).read_bytes().partition(b"\n")[2]).values()
    work = rows(repo, None)  # the same text on disk must parse: the cached verdict does not hide its error
    assert "apps/api/dev/kustomization.yaml" in work[0]["error"]


def test_other_code_empties_the_cache(fresh_pipeline, parsed, monkeypatch):
    repo, _ = fresh_pipeline
    first = rows(repo)
    cold = len(parsed)
    parsed.clear()
    monkeypatch.setattr(pincache, "_fingerprint", ["another promoter"])
    assert PinCache.load(cache_file(repo)).ignored == "written by other code"
    assert rows(repo) == first
    assert len(parsed) == cold


def _damage(kind: str, path: Path, monkeypatch) -> None:
    raw = path.read_bytes()
    head, _, body = raw.partition(b"\n")
    header = json.loads(head)
    entries = json.loads(body)

    def rewrite(data: dict) -> None:  # a self-consistent file (its checksum fits) with the given entries
        new = json.dumps(data).encode()
        header["sha256"] = pincache.hashlib.sha256(new).hexdigest()
        path.write_bytes(json.dumps(header).encode() + b"\n" + new)

    key = next(k for k, v in entries.items() if v != pincache.UNPARSED and v)
    if kind == "truncated":
        path.write_bytes(raw[: len(raw) // 2])
    elif kind == "a flipped byte":
        i = raw.index(b'"1.3.0"')
        path.write_bytes(raw[:i] + b'"6.6.6"' + raw[i + 7 :])  # the lie the checksum catches
    elif kind == "no header":
        path.write_bytes(body)
    elif kind == "a line that is not a number":
        rewrite({**entries, key: [["7", "6.6.6", None]]})
    elif kind == "a key that is no digest":
        rewrite({**entries, "../../etc/passwd": [[1, "6.6.6", None]]})
    elif kind == "an entry of another shape":
        rewrite({**entries, key: {"__class__": "os.system", "args": ["true"]}})
    elif kind == "more entries than allowed":
        monkeypatch.setattr(pincache, "MAX_ENTRIES", len(entries) - 1)
    elif kind == "too big":
        monkeypatch.setattr(pincache, "MAX_BYTES", len(raw) - 1)
    else:
        raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind",
    [
        "truncated",
        "a flipped byte",
        "no header",
        "a line that is not a number",
        "a key that is no digest",
        "an entry of another shape",
        "more entries than allowed",
        "too big",
    ],
)
def test_a_damaged_cache_is_ignored_and_rewritten(fresh_pipeline, parsed, monkeypatch, kind):
    repo, _ = fresh_pipeline
    first = rows(repo)
    cold = len(parsed)
    parsed.clear()
    _damage(kind, cache_file(repo), monkeypatch)
    assert PinCache.load(cache_file(repo)).ignored
    assert rows(repo) == first  # nothing of it was believed
    assert len(parsed) == cold
    monkeypatch.undo()
    again = PinCache.load(cache_file(repo))
    assert again.ignored is None and again.entries  # written anew, whole


def test_a_symlinked_cache_is_neither_read_nor_written_through(fresh_pipeline, parsed, tmp_path):
    repo, _ = fresh_pipeline
    first = rows(repo)
    cold = len(parsed)
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_bytes(cache_file(repo).read_bytes())
    cache_file(repo).unlink()
    cache_file(repo).symlink_to(elsewhere)
    before = elsewhere.read_bytes()
    parsed.clear()
    assert rows(repo) == first
    assert len(parsed) == cold
    assert elsewhere.read_bytes() == before and cache_file(repo).is_symlink()


def test_the_cache_is_bounded(fresh_pipeline, monkeypatch):
    repo, _ = fresh_pipeline
    monkeypatch.setattr(pincache, "MAX_ENTRIES", 2)
    rows(repo)
    body = cache_file(repo).read_bytes().partition(b"\n")[2]
    assert len(json.loads(body)) == 2


def test_no_cache_where_it_cannot_be_written_or_is_turned_off(fresh_pipeline, monkeypatch):
    repo, _ = fresh_pipeline
    monkeypatch.setenv("PROMOTER_CACHE_DIR", "off")
    first = rows(repo)
    assert not (repo.path / ".git" / "promoter").exists()
    monkeypatch.delenv("PROMOTER_CACHE_DIR")
    (repo.path / ".git" / "promoter").write_text("a file where the folder would be\n")
    assert rows(repo) == first  # a cache that cannot be written only costs time
