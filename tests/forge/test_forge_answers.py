"""Answers promoter cannot read, on every request a promotion makes, both forges: an HTML page where JSON
belongs (a proxy's login page, a wrong forge.url), JSON of another shape. Each is one line,
"unexpected answer from GitHub/GitLab while … (…)", exit 1: never a KeyError or a traceback."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import pytest
from forgeworld import DIGEST_B, REPO, World, image

from promoter.model.errors import ForgeError
from promoter.model.finding import CheckResult
from promoter.publish.forge.client import DESCRIBED_BYTES, describe_answer
from promoter.publish.publisher import publish_promotion

HTML = "<!DOCTYPE html><html><head><title>Sign in · Corporate SSO</title></head><body>…</body></html>"

# (forge, request pattern, what it is doing, run a first promotion so this one updates)
ROUTES = [
    ("github", r"GET .*/branches/main$", "reading branch main", False),
    ("github", r"GET .*/pulls$", "looking for an open pull request", False),
    ("github", r"POST .*/git/refs$", "creating branch", False),
    ("github", r"POST /api/graphql$", "committing to", False),
    ("github", r"POST .*/pulls$", "opening a pull request", False),
    ("github", r"POST .*/statuses/", "setting the promoter/check status", False),
    ("github", r"PATCH .*/git/refs/heads/", "updating branch", True),
    ("github", r"GET .*/pulls/1/reviews$", "reading the reviews", True),
    ("github", r"PATCH .*/pulls/1$", "updating pull request #1", True),
    ("gitlab", r"GET .*/branches/main$", "reading branch main", False),
    ("gitlab", r"GET .*/merge_requests$", "looking for an open merge request", False),
    ("gitlab", r"POST .*/repository/commits$", "committing to", False),
    ("gitlab", r"POST .*/merge_requests$", "opening a merge request", False),
    ("gitlab", r"POST .*/statuses/", "setting the promoter/check status", False),
    ("gitlab", r"GET .*/merge_requests/1/approvals$", "reading the approvals", True),
    ("gitlab", r"PUT .*/merge_requests/1$", "updating merge request !1", True),
]

# Answers of the right type and the wrong shape, where promoter reads the answer.
SHAPES = [
    ("github", r"GET .*/branches/main$", {"name": "main"}, "JSON without the field 'commit'"),
    ("github", r"GET .*/pulls$", {"message": "not a list"}, "JSON of another shape"),
    ("github", r"POST /api/graphql$", {"data": {"createCommitOnBranch": None}}, "GraphQL createCommitOnBranch"),
    ("github", r"POST .*/pulls$", {"number": "one", "html_url": "x"}, "JSON of another shape"),
    ("github", r"GET .*/branches/main$", {"commit": {"sha": "../../../etc", "commit": {}}}, "a commit id that is none"),
    ("gitlab", r"GET .*/branches/main$", {"name": "main", "commit": None}, "JSON of another shape"),
    ("gitlab", r"GET .*/merge_requests$", {"message": "not a list"}, "JSON"),
    ("gitlab", r"POST .*/repository/commits$", {"id": None}, "JSON of another shape"),
    ("gitlab", r"POST .*/repository/commits$", {"id": "../../x"}, "a commit id that is none"),
    ("gitlab", r"POST .*/merge_requests$", ["not", "an", "object"], ""),
]


@pytest.mark.parametrize(("world", "pattern", "doing", "updating"), ROUTES, indirect=["world"], ids=str)
def test_an_html_page_instead_of_json(world: World, pattern: str, doing: str, updating: bool) -> None:
    name = "GitHub" if world.kind == "github" else "GitLab"
    if updating:
        publish_promotion(world.request(image(), checks=CheckResult()))
    world.fake.answer_next(pattern, HTML)
    with pytest.raises(ForgeError) as err:
        publish_promotion(world.request(image("1.4.3", DIGEST_B) if updating else image(), checks=CheckResult()))
    message = str(err.value)
    assert message.startswith(f"unexpected answer from {name} while {doing}"), message
    assert "(an HTML page: 'Sign in · Corporate SSO')" in message
    assert "forge.url" in message and "\n" not in message


@pytest.mark.parametrize(("world", "pattern", "body", "says"), SHAPES, indirect=["world"], ids=lambda v: str(v)[:40])
def test_json_of_another_shape(world: World, pattern: str, body: object, says: str) -> None:
    name = "GitHub" if world.kind == "github" else "GitLab"
    world.fake.answer_next(pattern, body, content_type="application/json; charset=utf-8")
    with pytest.raises(ForgeError) as err:
        publish_promotion(world.request(image()))
    message = str(err.value)
    assert message.startswith(f"unexpected answer from {name} while "), message
    assert says in message and "\n" not in message


# Compare answers whose ids or texts are not what they claim, edited from the forge's real answer. Before:
# an integer merge base reached read_file's ref[:12] (TypeError), a patch that is not text reached
# apply_hunks (AttributeError): "internal error" and a traceback hint instead of one line.
def _github_base(data: dict) -> dict:
    return {**data, "merge_base_commit": {**data["merge_base_commit"], "sha": 5}}


def _github_patch(data: dict) -> dict:
    return {**data, "files": [{**f, "patch": 5} for f in data["files"]]}


def _gitlab_parents(data: dict) -> dict:
    return {**data, "commits": [{**c, "parent_ids": [5]} for c in data["commits"]]}


def _gitlab_diff(data: dict) -> dict:
    return {**data, "diffs": [{**d, "diff": ["@@ -1 +1 @@"]} for d in data["diffs"]]}


COMPARES = [
    ("github", r"GET .*/compare/", _github_base, "a commit id that is none: 5"),
    ("github", r"GET .*/compare/", _github_patch, "a patch that is not text: 5"),
    ("gitlab", r"GET .*/repository/compare$", _gitlab_parents, "a commit id that is none: 5"),
    ("gitlab", r"GET .*/repository/compare$", _gitlab_diff, "a diff that is not text: ['@@ -1 +1 @@']"),
]


@pytest.mark.parametrize(
    ("world", "pattern", "edit", "says"), COMPARES, indirect=["world"], ids=lambda v: getattr(v, "__name__", str(v))
)
def test_a_compare_answer_of_another_shape(world: World, pattern: str, edit: Callable, says: str) -> None:
    name = "GitHub" if world.kind == "github" else "GitLab"
    publish_promotion(world.request(image(), checks=CheckResult()))
    world.fake.push_commit(REPO, "promoter/dev/checkout-api", {"README.md": "fix\n"}, "reviewer's fix")
    world.fake.edit_next(pattern, edit, times=5)
    with pytest.raises(ForgeError) as err:
        publish_promotion(world.request(image("1.4.3", DIGEST_B), checks=CheckResult(), local=False))
    message = str(err.value)
    assert message.startswith(f"unexpected answer from {name} while comparing "), message
    assert says in message and "\n" not in message
    assert world.fake.requests(pattern), "the compare was not asked"


# ---- describe_answer: a bounded look at an untrusted page -------------------------------------------
def test_describe_answer_reads_only_the_top_of_an_answer() -> None:
    """A title past the first DESCRIBED_BYTES is not looked for: the description costs the same whatever
    follows. Before: the whole answer (up to 64 MiB) was searched, by a regex quadratic in its "<title"s."""
    late = "<html><head>" + "<!-- -->" * (DESCRIBED_BYTES // 8) + "<title>Late</title>"
    described = describe_answer("text/html", late)
    assert described.startswith("an HTML page: '<html><head><!-- -->") and "Late" not in described, described
    assert describe_answer("text/html", late.encode()) == described
    early = "<html><title>Sign in</title>" + "<title>" * DESCRIBED_BYTES
    assert describe_answer("text/html; charset=utf-8", early) == "an HTML page: 'Sign in'"
    assert describe_answer("text/html", "<TITLE lang=en>502 Bad Gateway</TITLE>") == "an HTML page: '502 Bad Gateway'"


HANG_GUARD = """
from promoter.publish.forge.client import describe_answer
for body in ("<title>" * 150_000, "<title" * 150_000, "<html><title " + "a" * 1_000_000, "<title>" + "x<" * 500_000):
    describe_answer("text/html", body)
    describe_answer("text/plain", body.encode())
print("described")
"""


def test_describe_answer_of_a_page_full_of_title_tags_ends() -> None:
    """A hang guard, not a timing: 1 MB of "<title" shapes. Before, 140 KB of "<title>" took 12 s (quadratic)."""
    out = subprocess.run([sys.executable, "-c", HANG_GUARD], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "described", out.stderr
