"""Answers promoter cannot read, on every request a promotion makes, both forges: an HTML page where JSON
belongs (a proxy's login page, a wrong forge.url), JSON of another shape. Each is one line,
"unexpected answer from GitHub/GitLab while … (…)", exit 1: never a KeyError or a traceback."""

from __future__ import annotations

import pytest
from forgeworld import DIGEST_B, World, image

from promoter.model.errors import ForgeError
from promoter.model.finding import CheckResult
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
