"""The words of a promotion PR: title, body sections, Secret masking, size limit, marker."""

from __future__ import annotations

import pytest
from forgeworld import DIGEST_A, DIGEST_B

from promoter.model.finding import CheckResult, Finding, Location, Severity
from promoter.publish.pullrequest import (
    GITHUB_BODY_LIMIT,
    PromotedApp,
    Provenance,
    commit_message,
    is_promoter_commit,
    mask_secrets,
    parse_marker,
    pull_body,
    pull_title,
    render_marker,
)

APP = PromotedApp(
    "checkout-api",
    f"ghcr.io/acme/checkout-api:1.4.2@{DIGEST_A}",
    "1.4.2",
    DIGEST_A,
    "ghcr.io/acme/checkout-api:1.4.1",
)
DIFF = "--- a/x.yaml\n+++ b/x.yaml\n@@ -1 +1 @@\n-image: a\n+image: b\n"


def test_title_names_app_env_tag_and_short_digest() -> None:
    assert pull_title("prod", [APP]) == "promote checkout-api to prod: 1.4.2 (sha256:3f2a9c…)"
    digest_only = PromotedApp("api", f"r.io/a/api@{DIGEST_B}", None, DIGEST_B)
    assert pull_title("dev", [digest_only]) == "promote api to dev: sha256:b7c1d0…"
    tag_only = PromotedApp("api", "r.io/a/api:2.0", "2.0", None)
    assert pull_title("dev", [tag_only]) == "promote api to dev: 2.0"
    assert pull_title("dev", [APP, tag_only]) == "promote 2 apps to dev: api 2.0, checkout-api 1.4.2"


def test_marker_round_trips_and_cannot_close_the_comment_early() -> None:
    sneaky = PromotedApp("api", "r.io/a/api:x-->y", "x-->y", None, "-->")
    text = render_marker("dev", [sneaky], "abc")
    assert text.count("-->") == 1 and text.endswith(" -->")
    data = parse_marker("hello\n" + text + "\n")
    assert data and data["apps"][0]["from"] == "-->" and data["tag"] == "x-->y" and data["head"] == "abc"
    assert parse_marker("no marker") is None and parse_marker("<!-- promoter:{broken -->") is None


def test_body_has_table_diff_checks_provenance_rollback_and_marker() -> None:
    checks = CheckResult(
        findings=[
            Finding(
                "image-latest",
                Severity.WARNING,
                "uses latest",
                Location("x.yaml", 3),
                source="policy",
            )
        ]
    )
    prov = Provenance("acme/checkout", "0123456789abcdef", "https://ci/run/1", "octocat")
    body = pull_body(
        env="prod",
        apps=[APP],
        file_diff=DIFF,
        head="f00",
        checks=checks,
        provenance=prov,
        superseded=[APP],
    )
    assert "| checkout-api | prod | `ghcr.io/acme/checkout-api:1.4.1` → `ghcr.io/acme/checkout-api:1.4.2@" in body
    assert "| `1.4.2` | `sha256:3f2a9caaaaaa` |" in body
    assert "```diff\n--- a/x.yaml" in body and "+image: b" in body
    assert "image-latest" in body and "uses latest" in body
    assert "- Source repository: acme/checkout" in body and "https://ci/run/1" in body and "octocat" in body
    assert "promoter rollback --app checkout-api --env prod --image ghcr.io/acme/checkout-api:1.4.1" in body
    assert "supersedes" in body
    assert body.rstrip().endswith("-->") and parse_marker(body)["head"] == "f00"  # type: ignore[index]


def test_long_rendered_diff_is_collapsed_and_secrets_are_masked() -> None:
    rendered = (
        "--- base\n+++ head\n@@ -1,9 +1,9 @@\n apiVersion: v1\n data:\n-  password: c2VjcmV0\n+  password: bmV3c2VjcmV0\n"
        " kind: Secret\n metadata:\n   name: db\n---\n apiVersion: v1\n data:\n   color: blue\n kind: ConfigMap\n"
        + "".join(f"+line{i}: x\n" for i in range(60))
    )
    body = pull_body(env="dev", apps=[APP], file_diff=DIFF, head="h", rendered_diff=rendered)
    assert "c2VjcmV0" not in body and "bmV3c2VjcmV0" not in body
    assert "password: '***'" in body
    assert "color: blue" in body  # a ConfigMap is not a Secret
    assert "<details><summary>Rendered diff (Secret values masked)" in body


def test_mask_secrets_hides_string_data_and_unknown_kinds_but_not_other_keys() -> None:
    diff = "@@ -1 +1 @@\n stringData:\n+  token: abc\n+  nested: |\n metadata:\n   name: x\n"
    out = mask_secrets(diff)
    assert "abc" not in out and "name: x" in out


def test_body_stays_within_the_limit_and_keeps_the_marker() -> None:
    huge = "".join(f"+line {i}: {'x' * 80}\n" for i in range(5000))
    body = pull_body(env="dev", apps=[APP], file_diff=huge, head="h", rendered_diff=huge)
    assert len(body) <= GITHUB_BODY_LIMIT
    assert "shortened to fit the 65,536-character limit" in body
    assert "more lines not shown" in body
    assert parse_marker(body) is not None and "promoter rollback" in body
    small = pull_body(env="dev", apps=[APP], file_diff=huge, head="h", limit=4000)
    assert len(small) <= 4000 and parse_marker(small) is not None


def test_checks_use_the_markdown_report_when_present() -> None:
    pytest.importorskip("promoter.report.markdown")
    checks = CheckResult(
        findings=[
            Finding(
                "schema",
                Severity.ERROR,
                "bad field",
                Location("a.yaml", 1),
                source="schema",
            )
        ]
    )
    body = pull_body(env="dev", apps=[APP], file_diff=DIFF, head="h", checks=checks)
    assert "Validation, policies and gates" in body and "bad field" in body


def test_commit_message_carries_the_trailer_promoter_recognises() -> None:
    message = commit_message("dev", [APP])
    assert message.startswith("promote checkout-api to dev: 1.4.2 (sha256:3f2a9c…)\n")
    assert is_promoter_commit(message) and not is_promoter_commit("fix typo")


def test_provenance_from_github_and_gitlab_ci() -> None:
    gh = Provenance.from_env(
        {
            "GITHUB_ACTIONS": "true",
            "GITHUB_SERVER_URL": "https://ghe.acme.io",
            "GITHUB_REPOSITORY": "acme/api",
            "GITHUB_RUN_ID": "77",
            "GITHUB_SHA": "abc",
            "GITHUB_ACTOR": "octo",
        }
    )
    assert gh == Provenance("acme/api", "abc", "https://ghe.acme.io/acme/api/actions/runs/77", "octo")
    gl = Provenance.from_env(
        {
            "GITLAB_CI": "true",
            "CI_PROJECT_PATH": "g/api",
            "CI_COMMIT_SHA": "def",
            "CI_PIPELINE_URL": "https://gl/p/1",
            "GITLAB_USER_LOGIN": "me",
        }
    )
    assert gl == Provenance("g/api", "def", "https://gl/p/1", "me")
    assert gh.merged(actor="release-bot").actor == "release-bot"
    assert Provenance.from_env({}) == Provenance()
