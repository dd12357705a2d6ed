"""Bad input against both forges: one clear line naming what to fix, exit 1, nothing half-done; tokens never shown."""

from __future__ import annotations

import logging

import pytest
from forgeworld import REPO, TOKEN, World

from promoter.model.errors import EXIT_TOOL, ForgeError, one_line
from promoter.publish.publisher import publish_promotion
from promoter.publish.pullrequest import Provenance


def fails(world: World, **request: object) -> str:
    with pytest.raises(ForgeError) as err:
        publish_promotion(world.request(**request))  # type: ignore[arg-type]
    message = str(err.value)
    assert err.value.exit_code == EXIT_TOOL
    assert "\n" not in message and TOKEN not in message
    assert world.store.branches() == ["main"], "nothing half-done: no branch left behind"
    assert not world.fake.repo(REPO).pulls
    return message


def test_unknown_repository(world: World) -> None:
    message = fails(world, settings=world.settings(repository="acme/missing"))
    assert "acme/missing not found" in message and "forge.repository" in message


@pytest.mark.parametrize("world", ["gitlab"], indirect=True)  # a gitlab-only behaviour
def test_unknown_gitlab_project_by_id(world: World) -> None:
    message = fails(world, settings=world.settings(repository="4242"))
    assert "4242 not found" in message


def test_token_without_write_permission(world: World) -> None:
    world.fake.add_token("glpat-readonly0123456789abcd", write=False)
    message = fails(world, settings=world.settings(token="glpat-readonly0123456789abcd"))
    assert "cannot write" in message
    assert ("contents: write" in message) if world.kind == "github" else ("api scope" in message)
    assert "glpat-readonly0123456789abcd" not in message


def test_rejected_token(world: World) -> None:
    message = fails(world, settings=world.settings(token="not-a-valid-token"))
    assert "rejected the token" in message and "not-a-valid-token" not in message


def test_missing_base_branch(world: World) -> None:
    message = fails(world, base_branch="release")
    assert "base branch 'release' does not exist" in message and "forge.base_branch" in message


def test_protected_branch_refusing_the_commit(world: World) -> None:
    world.fake.repo(REPO).protected = ["promoter/*"]
    message = fails(world)
    assert "protected" in message and "forge.branch_template" in message


def test_token_never_leaks_into_errors_logs_or_bodies(
    world: World, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    # A misbehaving server echoing credentials in its error text, a CI URL carrying the token.
    world.fake.echo_token_in_errors = True
    world.fake.add_token("ghp_READONLYtokenABCDEFGHIJ0123456789", write=False)
    readonly = world.settings(token="ghp_READONLYtokenABCDEFGHIJ0123456789")
    with pytest.raises(ForgeError) as err:
        publish_promotion(world.request(settings=readonly))
    provenance = Provenance(run_url=f"https://ci.example/run?token={TOKEN}", actor="ci")
    res = publish_promotion(world.request(provenance=provenance))
    pr = world.fake.repo(REPO).pulls[res.number]
    out = capsys.readouterr()
    captured = [
        str(err.value),
        repr(err.value),
        str(err.value.__cause__),
        str(err.value.__context__) if err.value.__suppress_context__ is False else "",
        pr.body,
        pr.title,
        out.out,
        out.err,
        str(res.to_dict()),
        *(r.getMessage() for r in caplog.records),
        *(str(r.exc_text) for r in caplog.records),
        *(str(r.body) for r in world.fake.log),  # what we sent: bodies never carry a token
    ]
    assert caplog.records, "the clients logged something to scan"
    for text in captured:
        assert TOKEN not in text
        assert "ghp_READONLYtokenABCDEFGHIJ0123456789" not in text
    assert "***" in pr.body, pr.body


@pytest.mark.parametrize("world", ["github"], indirect=True)  # a github-only behaviour
def test_signed_commits_rule_accepts_graphql_and_refuses_git_data(world: World) -> None:
    world.fake.repo(REPO).signed_only = ["promoter/*"]
    message = fails(world, settings=world.settings(commit_method="git-data"))
    assert "accepts only signed commits" in message and "commit_method: graphql" in message
    res = publish_promotion(world.request())
    assert res.operation == "created" and res.head_sha in world.fake.repo(REPO).signed


# Forge text with line breaks (a proxy's or a server's multi-line message): still one line. Before: GitHub's
# refusal text and GitLab's commit refusal were put into the message as sent, a second line and all.
MULTILINE = [
    ("github", r"GET .*/pulls$", 422, "Validation Failed\n  line two\r\nthird", "422 Validation Failed line two third"),
    (
        "github",
        r"POST .*/pulls$",
        422,
        "Validation Failed\n  line two\r\nthird",
        "422 Validation Failed line two third",
    ),
    (
        "gitlab",
        r"POST .*/repository/commits$",
        403,
        "You are not allowed to push into this branch.\n\nAsk a maintainer",
        "(You are not allowed to push into this branch. Ask a maintainer)",
    ),
    ("gitlab", r"POST .*/merge_requests$", 422, "Validation Failed\n  line two\r\nthird", "Validation Failed line two"),
]


@pytest.mark.parametrize(("world", "pattern", "status", "text", "says"), MULTILINE, indirect=["world"], ids=str)
def test_forge_text_with_line_breaks_is_one_line(world: World, pattern: str, status: int, text: str, says: str) -> None:
    world.fake.fail_next(pattern, status=status, message=text)
    with pytest.raises(ForgeError) as err:
        publish_promotion(world.request())
    message = str(err.value)
    assert "\n" not in message and "\r" not in message, repr(message)
    assert says in message, message


def test_one_line_is_the_cli_safety_net() -> None:
    """Whatever a message holds, the CLI prints one line (PromoterError goes through one_line)."""
    assert one_line("a\nb\r\n  c\u2028d\x85e\n") == "a b c d e"
    assert one_line("kept  as  is") == "kept  as  is"
    assert "\n" not in one_line("x\n" * 5000) and len(one_line("x\n" * 5000)) <= 2000


def test_a_forge_url_carrying_a_token_as_its_user_is_never_shown(world: World) -> None:
    """forge.url = https://TOKEN@host (git's way to pass a GitHub token) names the URL in "cannot reach":
    before, only user:password was hidden, and a bare user printed as it was."""
    secret = "s3cretUserToken0123456789"
    url = f"http://{secret}@127.0.0.1:1" + ("/api/v3" if world.kind == "github" else "")  # port 1: refused
    message = fails(world, settings=world.settings(url=url, max_retries=0))
    assert "cannot reach" in message and "http://***@127.0.0.1:1" in message, message
    assert secret not in message


def test_forge_text_quoted_in_a_message_never_shows_the_token(world: World) -> None:
    """A branch left with someone's commit: the refusal quotes its author as the forge names it. A forge that
    echoes the token there (a misbehaving server, a commit made with it) must not get it printed."""
    branch = "promoter/dev/checkout-api"
    world.fake.push_commit(REPO, branch, {"README.md": "theirs\n"}, "not promoter's", start="main")

    def author_is_the_token(data: dict) -> dict:
        # The refusal names the foreign commit the compare answer lists (every commit above the base).
        def renamed(commit: dict) -> dict:
            if world.kind == "github":
                return {
                    **commit,
                    "commit": {**commit["commit"], "author": {**commit["commit"]["author"], "name": TOKEN}},
                }
            return {**commit, "author_name": TOKEN}

        return {**data, "commits": [renamed(c) for c in data["commits"]]}

    world.fake.edit_next(r"GET .*/compare", author_is_the_token, times=5)
    with pytest.raises(ForgeError) as err:
        publish_promotion(world.request())
    message = str(err.value)
    assert "that promoter did not make" in message and "by ***" in message, message
    assert TOKEN not in message
