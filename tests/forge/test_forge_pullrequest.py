"""The words of a promotion PR: title, marker, and each section of the description, read as Markdown."""

from __future__ import annotations

import shlex
from datetime import UTC, datetime

import pytest
from forgeworld import DIGEST_A, DIGEST_B
from prbody import check_markdown, rendered_html, section

from promoter.model.finding import CheckResult, Finding, Location, Severity, Status, Subject
from promoter.publish.description import (
    BranchReview,
    Description,
    FileStat,
    HistoryEntry,
    compose,
    rollback_command,
)
from promoter.publish.forge.base import BranchCommit, TextLimit, WebLinks
from promoter.publish.pullrequest import (
    PromotedApp,
    Provenance,
    commit_message,
    commit_writer,
    has_trailer,
    is_promoter_commit,
    parse_marker,
    pull_title,
    render_marker,
)

OLD = "ghcr.io/acme/checkout-api:1.4.1"
APP = PromotedApp("checkout-api", f"ghcr.io/acme/checkout-api:1.4.2@{DIGEST_A}", "1.4.2", DIGEST_A, OLD)
DIFF = "--- a/x.yaml\n+++ b/x.yaml\n@@ -1 +1 @@\n-image: a\n+image: b\n"
GITHUB = WebLinks("https://github.com/acme/gitops", "github")
GITLAB = WebLinks("https://gitlab.com/acme/gitops", "gitlab")
HEAD = "f" * 40
BASE = "b" * 40


def describe(**kw: object) -> Description:
    base: dict[str, object] = {
        "env": "prod",
        "apps": [APP],
        "head": HEAD,
        "merge_base": BASE,
        "files": [FileStat("x.yaml", "modified", 1, 1)],
        "file_diff": DIFF,
        "links": GITHUB,
    }
    base.update(kw)
    return Description(**base)  # type: ignore[arg-type]


def gate_result(*findings: Finding, passed: dict[str, str] | None = None) -> CheckResult:
    r = CheckResult(findings=list(findings))
    for f in findings:
        if f.subject:
            r.subjects.append(
                Subject(f.subject, "gate", target="prod", status=Status.FAILED if f.blocking else Status.PASSED)
            )
    for gate, note in (passed or {}).items():
        r.subjects.append(Subject(f"gate/{gate}/checkout-api/prod", "gate", target="prod", reason=note))
    return r


def test_title_names_app_env_tag_and_short_digest() -> None:
    assert pull_title("prod", [APP]) == "promote checkout-api to prod: 1.4.2 (sha256:3f2a9c…)"
    digest_only = PromotedApp("api", f"r.io/a/api@{DIGEST_B}", None, DIGEST_B)
    assert pull_title("dev", [digest_only]) == "promote api to dev: sha256:b7c1d0…"
    tag_only = PromotedApp("api", "r.io/a/api:2.0", "2.0", None)
    assert pull_title("dev", [APP, tag_only]) == "promote 2 apps to dev: api 2.0, checkout-api 1.4.2"
    back = PromotedApp("api", "r.io/a/api:1.0", "1.0", None, rollback=True)
    assert pull_title("prod", [back]) == "roll back api in prod to 1.0"


def test_marker_round_trips_chain_and_provenance_and_cannot_close_the_comment_early() -> None:
    sneaky = PromotedApp("api", "r.io/a/api:x-->y", "x-->y", None, "-->", chain=["r.io/a/api:1"])
    sneaky.provenance = Provenance("acme/api", "abc1234", None, "octo")
    text = render_marker("dev", [sneaky], "abc", pure=False)
    assert text.count("-->") == 1 and text.endswith(" -->")
    data = parse_marker("hello\n" + text + "\n")
    assert data and data["apps"][0]["from"] == "-->" and data["tag"] == "x-->y" and data["head"] == "abc"
    assert data["pure"] is False and data["apps"][0]["chain"] == ["r.io/a/api:1"]
    assert parse_marker("no marker") is None and parse_marker("<!-- promoter:{broken -->") is None


def test_body_holds_every_section_well_formed() -> None:
    checks = gate_result(passed={"soak": "3d5h in stage since commit 22648d7 (2026-01-02 10:00 UTC) >= 24h"})
    checks.findings.append(
        Finding("image-latest", Severity.WARNING, "uses latest", Location("x.yaml", 3), source="policy")
    )
    prov = Provenance(
        "acme/checkout", "0123456789abcdef", "https://ci/run/1", "octocat", "https://github.com", "github"
    )
    app = PromotedApp(APP.app, APP.image, APP.tag, APP.digest, APP.previous, provenance=prov)
    review = BranchReview(rendered_diff="--- base/d\n+++ head/d\n-a\n+b\n", checks=checks, objects={"Deployment": 1})
    body = compose(describe(apps=[app], review=review))
    assert check_markdown(body) == []
    # Short digests in the table, the full references in a details block.
    assert "| checkout-api | `1.4.1` | `1.4.2@sha256:3f2a9caaaaaa` | `1.4.2` | `sha256:3f2a9caaaaaa` |" in body
    full = body.split("<details><summary>Full image references</summary>", 1)[1].split("</details>", 1)[0]
    assert f"`{APP.image}`" in full and f"`{OLD}`" in full
    # The gate's evidence, not just PASS.
    assert "3d5h in stage since commit 22648d7" in section(body, "Gates") and "✅ passed" in section(body, "Gates")
    # Findings link to their file and line at the head commit.
    assert f"(https://github.com/acme/gitops/blob/{HEAD}/x.yaml#L3)" in section(body, "Validation and policies")
    # Summary: counts by kind, the compare view and the head commit linked.
    summary = section(body, "Summary")
    assert "**1 file** changed (+1 −1)" in summary and "1 Deployment" in summary
    assert f"https://github.com/acme/gitops/compare/{BASE}...{HEAD}" in summary
    assert f"https://github.com/acme/gitops/commit/{HEAD}" in summary
    # Provenance links to the source repository and commit.
    prov_text = section(body, "Provenance")
    assert "[acme/checkout](https://github.com/acme/checkout)" in prov_text
    assert "(https://github.com/acme/checkout/commit/0123456789abcdef)" in prov_text and "octocat" in prov_text
    assert parse_marker(body)["head"] == HEAD  # type: ignore[index]
    html = rendered_html(body)
    assert "<table>" in html and "<details>" in html and '<code class="language-diff">' in html


def test_the_forges_own_words() -> None:
    checks = CheckResult(findings=[Finding("schema", Severity.ERROR, "bad", Location("x.yaml", 1), source="schema")])
    gh = compose(describe(review=BranchReview(checks=checks)))
    gl = compose(describe(forge="gitlab", links=GITLAB, review=BranchReview(checks=checks)))
    assert "This pull request is a draft" in gh and "merge request" not in gh
    assert "This merge request is a draft" in gl and "pull request" not in gl
    assert f"https://gitlab.com/acme/gitops/-/commit/{HEAD}" in gl
    assert f"https://gitlab.com/acme/gitops/-/blob/{HEAD}/x.yaml#L1" in gl


def test_verdicts_name_what_blocks_and_what_was_not_rendered() -> None:
    ok = compose(describe(review=BranchReview(checks=CheckResult())))
    assert "✅ **Checks passed**" in ok
    skipped = CheckResult(
        subjects=[
            Subject(
                "render:apps/web/chart@dev",
                "render",
                target="apps/web/chart@dev",
                status=Status.SKIPPED,
                reason="helm is not on PATH",
            )
        ]
    )
    body = compose(describe(review=BranchReview(checks=skipped, unrendered=["values.yaml: nothing reads it"])))
    assert "✅" not in body.split("\n", 3)[2] and "2 changes were not rendered" in body
    rendered_part = section(body, "Rendered objects")
    assert "`apps/web/chart@dev` was **not rendered**: helm is not on PATH" in rendered_part
    assert "values.yaml: nothing reads it" in rendered_part
    failing = CheckResult(findings=[Finding("schema", Severity.ERROR, "bad", source="schema", baseline="new")])
    body = compose(describe(review=BranchReview(checks=failing)))
    assert "Not ready to merge: 1 blocking error (1 new)" in body and "`promoter/check`" in body
    none = compose(describe())
    assert "No checks ran" in none


def test_an_override_is_a_prominent_block_naming_who_and_why() -> None:
    override = Finding(
        "gate-freeze-override",
        Severity.INFO,
        "gate freeze overridden: prod is frozen Fri-Sun 16:00-23:59 (no weekend deploys)",
        source="gate",
        subject="gate/freeze/checkout-api/prod",
        evidence={"override_reason": "INC-42: payments down"},
    )
    prov = Provenance(actor="octocat", run_url="https://ci/run/9")
    app = PromotedApp(APP.app, APP.image, APP.tag, APP.digest, APP.previous, provenance=prov)
    body = compose(describe(apps=[app], review=BranchReview(checks=gate_result(override))))
    before_table = body.split("| App |", 1)[0]
    assert "> ⚠️ **Freeze overridden** by **octocat** in [this CI run](https://ci/run/9)" in before_table
    assert "**Why:** INC-42: payments down" in before_table
    assert "⚠️ overridden" in section(body, "Gates")
    # Frozen now: the pasted rollback carries the override flag.
    assert "--override-freeze '<why this cannot wait>'" in section(body, "Rollback")
    assert check_markdown(body) == []


def test_rollback_command_opens_a_pr_and_reaches_the_same_forge() -> None:
    cmd = rollback_command("checkout-api", "prod", OLD, ["--forge-repo", "acme/gitops", "--forge", "github"])
    assert shlex.split(cmd) == [
        "promoter", "rollback", "--app", "checkout-api", "--env", "prod", "--image", OLD, "--pr",
        "--forge-repo", "acme/gitops", "--forge", "github",
    ]  # fmt: skip
    freeze_configured = gate_result(passed={"freeze": "outside 1 freeze window(s)"})
    body = compose(describe(review=BranchReview(checks=freeze_configured)))
    assert "During a freeze window of `prod` add `--override-freeze '<reason>'`" in body
    assert "--pr" in section(body, "Rollback") and "--override-freeze '<why" not in body


def test_the_image_chain_and_other_committers_are_shown() -> None:
    app = PromotedApp(
        "checkout-api",
        f"ghcr.io/acme/checkout-api:1.5.2@{DIGEST_B}",
        "1.5.2",
        DIGEST_B,
        OLD,
        chain=[f"ghcr.io/acme/checkout-api:1.5.0@{DIGEST_A}", "ghcr.io/acme/checkout-api:1.5.1"],
    )
    others = [BranchCommit("c" * 40, "Rita Reviewer", "raise replicas\n\nbody")]
    body = compose(describe(apps=[app], others=others, pure=False))
    assert "`1.5.0@sha256:3f2a9caaaaaa` → `1.5.1` → **`1.5.2@sha256:b7c1d0bbbbbb`** (now)" in body
    assert "**Others committed to this branch:** Rita Reviewer" in body and "raise replicas" in body
    assert f"https://github.com/acme/gitops/commit/{'c' * 40}" in body
    assert parse_marker(body)["pure"] is False  # type: ignore[index]


def test_new_and_existing_findings_are_told_apart() -> None:
    findings = [
        Finding("run-as-non-root", Severity.ERROR, f"pod {i}", source="policy", baseline="existing") for i in range(30)
    ]
    findings.append(Finding("image-latest", Severity.ERROR, "new one", source="policy", baseline="new"))
    body = compose(describe(review=BranchReview(checks=CheckResult(findings=findings))))
    part = section(body, "Validation and policies")
    assert "1 new, 30 already on `main`" in part
    assert "<details><summary>Findings already on main (30)</summary>" in part
    new_table = part.split("<details>", 1)[0]
    assert "new one" in new_table and "pod 1" not in new_table
    assert "(1 new)" in body and check_markdown(body) == []


def test_rollback_pr_lists_the_history_it_chose_from() -> None:
    back = PromotedApp("checkout-api", OLD, "1.4.1", None, "ghcr.io/acme/checkout-api:1.4.2", rollback=True)
    when = datetime(2026, 1, 2, 10, 0, tzinfo=UTC)
    history = [
        HistoryEntry("1.4.2", "ghcr.io/acme/checkout-api:1.4.2", "a" * 40, when, current=True),
        HistoryEntry("1.4.1", OLD, "b" * 40, when, chosen=True),
    ]
    body = compose(describe(apps=[back], history=history))
    assert body.startswith("## Roll back checkout-api in prod")
    hist = section(body, "History of `prod` this rollback chose from")
    assert "| `1.4.1` | 2026-01-02 10:00 UTC |" in hist and "⬅️ rolling back to this" in hist and "running now" in hist


@pytest.mark.parametrize(
    ("limit", "unit"),
    [(TextLimit(65_536, "bytes", 1_536), "bytes"), (TextLimit(1_048_576, "bytes", 48_576), "bytes")],
)
def test_the_cap_holds_in_the_forges_unit_and_the_summary_comes_before_any_cut(limit: TextLimit, unit: str) -> None:
    # Multi-byte text everywhere: a cap counted in characters would overrun a byte limit.
    n = 4000 if limit.maximum < 100_000 else 40_000
    huge = "".join(f"+ line {i}: {'ü€' * 20}\n" for i in range(n))
    files = [FileStat(f"apps/a{i % 37}/f{i}.yaml", "modified", 3, 1) for i in range(250)]
    findings = [
        Finding("r", Severity.WARNING, "ẞ" * 200, Location(f"f{i}.yaml", i), source="policy") for i in range(2000)
    ]
    review = BranchReview(rendered_diff=huge, checks=CheckResult(findings=findings), objects={"Deployment": 250})
    body = compose(describe(file_diff=huge, files=files, review=review, limit=limit))
    assert len(body.encode()) <= limit.cap and limit.size(body) <= limit.cap
    assert "shortened to stay under the forge's" in body and check_markdown(body) == []
    summary = section(body, "Summary")
    assert "**250 files** changed (+750 −250)" in summary and "250 Deployment" in summary
    assert "| `apps/a0` | 7 |" in summary  # the folder table is complete, not cut
    assert parse_marker(body) is not None and "promoter rollback" in body


def test_a_cut_through_fixed_parts_still_closes_fences_and_details() -> None:
    tiny = TextLimit(3_000, "bytes", 0)
    others = [BranchCommit(f"{i:040x}", "x" * 50, "y" * 80) for i in range(40)]
    body = compose(describe(others=others, limit=tiny))
    assert len(body.encode()) <= 3_000 and check_markdown(body) == []


def test_commit_message_carries_the_trailer_promoter_recognises() -> None:
    message = commit_message("dev", [APP])
    assert message.startswith("promote checkout-api to dev: 1.4.2 (sha256:3f2a9c…)\n")
    assert has_trailer(message) and not has_trailer("fix typo")


def test_a_commit_is_promoters_only_as_promoter_wrote_it() -> None:
    msg = commit_message("dev", [APP])
    bot = ("promoter-bot", "bot@example.com")

    def commit(author: tuple[str, str], committer: tuple[str, str], *, verified: bool = False) -> BranchCommit:
        return BranchCommit("a" * 40, author[0], msg, author[1], committer[0], committer[1], verified)

    api = commit(bot, bot)  # GitHub Git Data API, GitLab commits API: the account commits itself
    graphql = commit(bot, ("GitHub", "noreply@github.com"), verified=True)  # GitHub commits and signs it
    assert commit_writer(api) == commit_writer(graphql) == ("promoter-bot", "bot@example.com")
    assert is_promoter_commit(api, commit_writer(api)) and is_promoter_commit(graphql, commit_writer(api))
    rita = ("Rita Reviewer", "rita@example.com")
    assert commit_writer(commit(bot, rita)) is None  # amended or rebased by someone
    assert commit_writer(commit(bot, ("GitHub", "noreply@github.com"))) is None  # not signed by GitHub
    assert commit_writer(commit(bot, ("", ""))) is None  # the forge did not say: not verifiable
    reset = commit(rita, rita)  # amend --reset-author: one identity, but not promoter's
    assert not is_promoter_commit(reset, commit_writer(api)) and not is_promoter_commit(api, None)
    assert not is_promoter_commit(BranchCommit("b" * 40, *bot[:1], "fix typo", bot[1], *bot), commit_writer(api))


def test_provenance_from_github_and_gitlab_ci() -> None:
    gh = Provenance.from_env(
        {
            "GITHUB_ACTIONS": "true",
            "GITHUB_SERVER_URL": "https://ghe.acme.io",
            "GITHUB_REPOSITORY": "acme/api",
            "GITHUB_RUN_ID": "77",
            "GITHUB_SHA": "abc1234",
            "GITHUB_ACTOR": "octo",
        }
    )
    assert gh == Provenance(
        "acme/api", "abc1234", "https://ghe.acme.io/acme/api/actions/runs/77", "octo", "https://ghe.acme.io", "github"
    )
    assert gh.commit_url() == "https://ghe.acme.io/acme/api/commit/abc1234"
    gl = Provenance.from_env(
        {
            "GITLAB_CI": "true",
            "CI_SERVER_URL": "https://gl.acme.io",
            "CI_PROJECT_PATH": "g/api",
            "CI_COMMIT_SHA": "def4567",
            "CI_PIPELINE_URL": "https://gl/p/1",
            "GITLAB_USER_LOGIN": "me",
        }
    )
    assert gl.commit_url() == "https://gl.acme.io/g/api/-/commit/def4567"
    assert gh.merged(actor="release-bot").actor == "release-bot"
    assert Provenance.from_env({}) == Provenance()


def test_a_partial_file_list_is_counted_as_a_floor() -> None:
    """GitHub's compare lists at most 300 files: the summary must not state that count as the branch's."""
    files = [FileStat(f"f{i}.yaml", "modified", 1, 1) for i in range(300)]
    full = compose(describe(files=files))
    assert "**300 files** changed (+300 −300)" in full and "at least" not in full
    part = compose(describe(files=files, compare_truncated=True))
    assert "**at least 300 files** changed (at least +300 −300)" in part
    assert "listed only part of this branch's changes" in part
