"""`promoter rollback` on a real git history: the no-downgrade gate lets it through, recorded; others still apply."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import git, invoke, make_repo

API = "ghcr.io/acme/api"
D_OLD = "sha256:" + "0a" * 32
D_NEW = "sha256:" + "1b" * 32
KUST = "apps/api/overlays/prod/kustomization.yaml"
# image_exists off: these images are in no registry (tests/registry judges that gate for real).
CONFIG = """\
environments:
  - name: prod
    gates:
      image_exists: false
      digest_required: true
      no_downgrade: true
      allowed_registries: [ghcr.io]
apps:
  api:
    image: ghcr.io/acme/api
    path: apps/{app}/overlays/{env}
"""


def kustomization(tag: str, digest: str) -> str:
    return (
        f'resources:\n  - ../../base\nimages:\n  - name: {API}\n    newTag: "{tag}"  # promoted\n    digest: {digest}\n'
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """prod ran 1.4.1, then was promoted to 1.5.0: two commits."""
    r = make_repo(tmp_path / "gitops", {".promoter.yaml": CONFIG, KUST: kustomization("1.4.1", D_OLD)})
    (r / KUST).write_text(kustomization("1.5.0", D_NEW))
    git(r, "commit", "-qam", "promote 1.5.0")
    return r


def test_bump_to_an_older_version_is_blocked_by_no_downgrade(repo: Path) -> None:
    r = invoke("bump", "--repo", str(repo), "--app", "api", "--env", "prod", "--image", f"{API}:1.4.1@{D_OLD}")
    assert r.exit_code == 3
    assert "gate-no-downgrade" in r.stderr and "rollback" in r.stderr
    assert "1.5.0" in (repo / KUST).read_text()


@pytest.mark.parametrize("to", [f"{API}:1.4.1@{D_OLD}", f"1.4.1@{D_OLD}"])
def test_rollback_goes_through_and_is_recorded(repo: Path, to: str) -> None:
    r = invoke("rollback", "--repo", str(repo), "--app", "api", "--env", "prod", "--image", to, "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert (repo / KUST).read_text() == kustomization("1.4.1", D_OLD)
    out = json.loads(r.stdout)
    assert out["written"] is True
    assert any(f["rule"] == "gate-no-downgrade-rollback" and f["severity"] == "info" for f in out["gates"]["findings"])


def test_rollback_still_obeys_the_other_gates(repo: Path) -> None:
    # A tag without digest breaks digest_required, rollback or not.
    r = invoke("rollback", "--repo", str(repo), "--app", "api", "--env", "prod", "--image", "1.4.1")
    assert r.exit_code == 3
    assert "gate-digest-required" in r.stderr
    assert "1.5.0" in (repo / KUST).read_text()


def test_rollback_to_another_apps_image_is_one_line_exit_2(repo: Path) -> None:
    r = invoke(
        "rollback", "--repo", str(repo), "--app", "api", "--env", "prod", "--image", f"ghcr.io/acme/other:1.0@{D_OLD}"
    )
    assert r.exit_code == 2
    assert r.stderr.count("\n") == 1 and "not app api's image" in r.stderr


def test_rollback_of_an_unknown_app_is_exit_2(repo: Path) -> None:
    r = invoke("rollback", "--repo", str(repo), "--app", "nope", "--env", "prod", "--image", f"1.4.1@{D_OLD}")
    assert r.exit_code == 2 and "unknown app 'nope'" in r.stderr


def test_the_old_to_spelling_still_works_for_one_release_and_says_so(repo: Path) -> None:
    r = invoke("rollback", "--repo", str(repo), "--app", "api", "--env", "prod", "--to", f"1.4.1@{D_OLD}")
    assert r.exit_code == 0, r.stderr
    assert (repo / KUST).read_text() == kustomization("1.4.1", D_OLD)
    assert "promoter: warning: --to is deprecated and goes away in the next release" in r.stderr
    assert f"write --image 1.4.1@{D_OLD}" in r.stderr
    assert "--to" not in invoke("rollback", "--help").stdout  # hidden: --help shows one spelling


def test_both_spellings_with_different_images_is_exit_2(repo: Path) -> None:
    r = invoke(
        "rollback", "--repo", str(repo), "--app", "api", "--env", "prod", "--image", f"1.4.1@{D_OLD}", "--to", "1.3.0"
    )
    assert r.exit_code == 2 and "give --image or its old spelling --to, not both" in r.stderr
    assert "1.5.0" in (repo / KUST).read_text()


def test_a_digest_without_its_at_sign_is_the_apps_digest(repo: Path) -> None:
    """`docker inspect` prints `sha256:…`: rollback takes it as @sha256:… of the app's repository."""
    r = invoke("rollback", "--repo", str(repo), "--app", "api", "--env", "prod", "--image", D_OLD, "--tag", "1.4.1")
    assert r.exit_code == 0, r.stderr
    assert (repo / KUST).read_text() == kustomization("1.4.1", D_OLD)


@pytest.mark.parametrize(
    ("given", "why"),
    [
        ("sha256:abc", "64 hex"),
        ("sha256:zz", "non-hex"),  # was: "repository path component 'api:sha256' is malformed"
        ("sha256:", "64 hex"),
        ("@sha256:zz", "non-hex"),
        ("sha512:abc", "128 hex"),
    ],
)
def test_a_bad_image_is_named_as_the_user_typed_it(repo: Path, given: str, why: str) -> None:
    r = invoke("rollback", "--repo", str(repo), "--app", "api", "--env", "prod", "--image", given)
    assert r.exit_code == 2 and r.stderr.count("\n") == 1
    assert f"--image {given!r}" in r.stderr and why in r.stderr, r.stderr
    assert "ghcr.io/acme/api" not in r.stderr and "api:sha" not in r.stderr


def test_a_blocked_rollback_hints_the_rollback_command_with_image(repo: Path) -> None:
    r = invoke("rollback", "--repo", str(repo), "--app", "api", "--env", "prod", "--image", "1.4.1")
    assert r.exit_code == 3
    assert f"`promoter rollback --app api --env prod --image {API}:1.4.1@sha256:DIGEST --repo {repo}`" in r.stderr
