"""The real-world corpus (PROMOTER_CORPUS): known references are found, and every one can be bumped byte-exact."""

from __future__ import annotations

import json
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

import pytest

from promoter.edit.editor import FileEdit
from promoter.edit.rules import plan_reference
from promoter.locate.scan import extract
from promoter.model.changeset import Change
from promoter.model.image import ImageRef
from promoter.yamlio.document import YamlDoc
from tests.conftest import invoke
from tests.corpus.properties import check_only_values_changed, check_values

pytestmark = pytest.mark.corpus

DIGEST = "sha256:" + "c0ffee00" * 8
FOLDERS = (
    "gitops/kargo-simple",
    "gitops/gitops-environment-promotion",
    "gitops/flux2-kustomize-helm-example",
    "gitops/argocd-example-apps",
    "helm-values/prometheus-community",
)


@lru_cache(maxsize=2)
def listed(corpus: Path) -> tuple[dict, ...]:
    """What `promoter images <corpus> --output json` lists (run once per session)."""
    r = invoke("images", str(corpus), "--repo", str(corpus), "--output", "json")
    assert r.exit_code == 0, r.stderr
    return tuple(json.loads(r.stdout))


def test_images_lists_references_from_all_five_folders(corpus: Path):
    refs = listed(corpus)
    for folder in FOLDERS:
        assert any(r["file"].startswith(folder + "/") for r in refs), f"no reference listed under {folder}"
    for r in refs:
        assert {"file", "line", "column", "yaml_path", "style", "repository", "tag", "digest"} <= set(r)
        assert not Path(r["file"]).is_absolute() and (corpus / r["file"]).is_file()


def _find(refs, file: str, **kw) -> list[dict]:
    return [r for r in refs if r["file"] == file and all(r[k] == v for k, v in kw.items())]


def test_known_references_are_found(corpus: Path):
    refs = listed(corpus)
    for env in ("dev", "staging", "prod"):
        assert _find(
            refs,
            f"gitops/kargo-simple/env/{env}/kustomization.yaml",
            style="kustomize-images",
            yaml_path="images[0]",
            repository="ghcr.io/akuity/guestbook",
        ), env
    versions = sorted((corpus / "gitops/gitops-environment-promotion/envs").glob("*/version.yml"))
    assert len(versions) >= 10
    for v in versions:
        rel = str(v.relative_to(corpus))
        found = _find(refs, rel, style="container")
        assert len(found) == sum(
            1 for line in v.read_text().splitlines() if line.strip().startswith(("image:", "- image:"))
        ), rel
    (redis,) = _find(
        refs, "gitops/flux2-kustomize-helm-example/apps/base/podinfo/release.yaml", style="flux-helmrelease"
    )
    assert (redis["yaml_path"], redis["repository"]) == ("spec.values.redis", "public.ecr.aws/docker/library/redis")
    assert redis["tag"]
    (guestbook,) = _find(refs, "gitops/argocd-example-apps/helm-guestbook/values.yaml", style="helm-values")
    assert (guestbook["yaml_path"], guestbook["repository"], guestbook["tag"]) == (
        "image",
        "gcr.io/google-samples/gb-frontend",
        "v5",
    )
    sock = corpus / "gitops/argocd-example-apps/sock-shop"
    for f in sorted(sock.rglob("*.yaml")):
        rel = str(f.relative_to(corpus))
        n = sum(1 for line in f.read_text().splitlines() if line.strip().startswith(("image:", "- image:")))
        assert len(_find(refs, rel, style="container")) == n, rel


def _bump_file(corpus: Path, rel: str, wanted: list[dict], reader: str = "c") -> list[str]:
    """Bump every listed reference in one file to a new tag and digest; return property violations."""
    doc = YamlDoc.read_file(corpus / rel, rel) if reader == "c" else YamlDoc.load(corpus / rel, rel)
    refs = {(r.line, r.column): r for r in extract(doc)}
    fe = FileEdit(doc)
    images = []
    for w in wanted:
        ref = refs.get((w["line"], w["column"]))
        if ref is None:
            return [f"{rel}:{w['line']}: listed by `promoter images` but not found again"]
        if ref.written is None:  # a lone tag of an unknown repository: needs an explicit target
            continue
        image = ImageRef.parse(f"{ref.written}:9.9.9-corpus@{DIGEST}")
        images.append((ref, image))
        plan_reference(fe, ref, image)
    new = fe.apply() if fe.ops else doc.full_text()
    old = doc.full_text()
    problems = [f"{rel}: {p}" for p in check_only_values_changed(old, new, fe.changes)]
    problems += [f"{rel}: {p}" for p in check_values(old, new, fe.changes)]
    if new == old and any(ref.tag != "9.9.9-corpus" for ref, _ in images):
        problems.append(f"{rel}: nothing changed")
    # Property 3: the same bump again changes nothing.
    again = doc.again(new.removeprefix("\ufeff"))
    fe2 = FileEdit(again)
    by_pos = {(r.line, r.column): r for r in extract(again)}
    for ref, image in images:
        ref2 = by_pos.get((ref.line, ref.column)) or next(
            (r for r in by_pos.values() if r.yaml_path == ref.yaml_path and r.style == ref.style), None
        )
        if ref2 is None:
            problems.append(f"{rel}: {ref.yaml_path} is no longer found after the bump")
            continue
        plan_reference(fe2, ref2, image)
    if fe2.ops:
        problems.append(f"{rel}: a second bump still changes {len(fe2.ops)} value(s)")
    return problems


@pytest.mark.parametrize("reader", ["c", "rt"])
def test_every_listed_reference_bumps_with_the_three_properties(corpus: Path, reader: str):
    by_file: dict[str, list[dict]] = defaultdict(list)
    for r in listed(corpus):
        by_file[r["file"]].append(r)
    assert len(by_file) > 50
    problems: list[str] = []
    for rel, wanted in sorted(by_file.items()):
        try:
            problems += _bump_file(corpus, rel, wanted, reader)
        except Exception as exc:  # report every file, not only the first failure
            problems.append(f"{rel}: {type(exc).__name__}: {exc}")
    assert problems == []


def test_cli_bump_on_a_copy_of_kargo_simple(corpus: Path, tmp_path: Path):
    import shutil

    from tests.conftest import make_repo

    repo = make_repo(tmp_path / "kargo")
    shutil.copytree(corpus / "gitops/kargo-simple", repo, dirs_exist_ok=True)
    before = (repo / "env/staging/kustomization.yaml").read_text()
    args = (
        "bump",
        "--repo",
        str(repo),
        "--image",
        f"ghcr.io/akuity/guestbook:v0.0.2@{DIGEST}",
        "--path",
        "env/staging",
        "-o",
        "json",
    )
    r = invoke(*args)
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    changes = [Change(**c) for c in out["changes"]]
    assert [(c.yaml_path, c.new) for c in changes] == [("images[0].newTag", "v0.0.2"), ("images[0].digest", DIGEST)]
    after = (repo / "env/staging/kustomization.yaml").read_text()
    assert check_only_values_changed(before, after, changes) == []
    assert check_values(before, after, changes) == []
    again = json.loads(invoke(*args).stdout)
    assert again["changed"] is False and again["changes"] == []
    for env in ("dev", "prod"):
        rel = f"env/{env}/kustomization.yaml"
        assert (repo / rel).read_text() == (corpus / "gitops/kargo-simple" / rel).read_text()


def test_images_with_a_relative_path_outside_the_current_folder(corpus: Path, monkeypatch: pytest.MonkeyPatch):
    """The README's `promoter images ../shared/corpus --output json`, run from the project folder."""
    import os

    from tests.conftest import ROOT

    monkeypatch.chdir(ROOT)
    r = invoke("images", os.path.relpath(corpus, ROOT), "--output", "json")
    assert r.exit_code == 0, r.stderr
    refs = json.loads(r.stdout)
    # Paths are shown relative to the folder the listing starts from: the corpus itself, or a git work
    # tree or current folder holding it. Wherever the corpus sits, it is one prefix on the same files.
    files = {x["file"] for x in refs}
    inner = {x["file"] for x in listed(corpus)}
    prefixes = {f[: len(f) - len(g)] for f in files for g in inner if f == g or f.endswith("/" + g)}
    assert len(prefixes) == 1, sorted(prefixes)[:5]
    prefix = prefixes.pop()
    assert {prefix + g for g in inner} == files
    assert prefix == "" or corpus.as_posix().endswith("/" + prefix.rstrip("/"))
    for folder in FOLDERS:
        assert any(x["file"].startswith(prefix + folder + "/") for x in refs), folder
