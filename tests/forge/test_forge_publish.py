"""End-to-end publishing against the fake forge, both forges: created, updated, superseded, no-op, races."""

from __future__ import annotations

import pytest
from forgeworld import DEPLOY, DIGEST_A, DIGEST_B, DIGEST_C, REPO, World, git, image

from promoter.model.errors import ForgeError
from promoter.publish.forge.base import PullOptions
from promoter.publish.publisher import publish_promotion
from promoter.publish.pullrequest import PromotedApp, commit_message, parse_marker

DEV = "apps/checkout-api/dev/deployment.yaml"
BRANCH = "promoter/dev/checkout-api"
OLD = "ghcr.io/acme/checkout-api:1.4.1"
WRITE = {"github": r"POST /api/graphql$", "gitlab": r"POST .*/repository/commits$"}
BASE_READ = r"GET .*/branches/main$"


def expected(text: str, ref: str) -> str:
    return text.replace(OLD, ref)


def open_pulls(world: World) -> list:
    return [p for p in world.fake.repo(REPO).pulls.values() if p.state == "open"]


def test_created_opens_one_pr_whose_branch_holds_exactly_the_change(
    world: World,
) -> None:
    img = image()
    res = publish_promotion(world.request(img))
    assert res.operation == "created"
    assert res.branch == BRANCH and res.number == 1
    assert res.head_sha == world.store.branch_sha(BRANCH)
    assert world.show(BRANCH, DEV) == expected(DEPLOY, str(img))
    base = world.store.branch_sha("main")
    assert world.store.commit_info(res.head_sha).parents == [base]
    assert world.store.changed_paths(base, res.head_sha) == [DEV]
    pr = world.fake.repo(REPO).pulls[1]
    assert pr.title == "promote checkout-api to dev: 1.4.2 (sha256:3f2a9c…)"
    assert pr.head == BRANCH and pr.base == "main" and pr.state == "open"
    marker = parse_marker(pr.body)
    assert marker is not None
    assert (
        marker["app"],
        marker["env"],
        marker["digest"],
        marker["tag"],
        marker["from"],
    ) == ("checkout-api", "dev", DIGEST_A, "1.4.2", OLD)
    assert marker["head"] == res.head_sha
    assert f"promoter rollback --app checkout-api --env dev --image {OLD}" in pr.body
    assert res.to_dict()["operation"] == "created" and res.url and res.url.endswith("/1")


def test_second_run_with_the_same_image_is_a_noop(world: World) -> None:
    first = publish_promotion(world.request())
    world.fake.reset_log()
    again = publish_promotion(world.request())
    assert again.operation == "none"
    assert (again.number, again.url, again.head_sha) == (
        first.number,
        first.url,
        first.head_sha,
    )
    assert "already promotes" in (again.reason or "")
    assert len(world.fake.log) <= 2 and all(r.method == "GET" for r in world.fake.log)
    assert world.store.branch_sha(BRANCH) == first.head_sha
    assert len(world.fake.repo(REPO).pulls) == 1


def test_newer_digest_updates_the_same_pr_and_supersedes_the_older(
    world: World,
) -> None:
    first = publish_promotion(world.request(image("1.4.2", DIGEST_A)))
    newer = image("1.4.3", DIGEST_B)
    second = publish_promotion(world.request(newer))
    assert second.operation == "updated"
    assert second.number == first.number and len(open_pulls(world)) == 1
    assert world.show(BRANCH, DEV) == expected(DEPLOY, str(newer))
    # Rebased onto the base: one commit of ours, on top of main.
    assert world.store.commit_info(second.head_sha).parents == [world.store.branch_sha("main")]
    pr = world.fake.repo(REPO).pulls[first.number]
    assert pr.title == "promote checkout-api to dev: 1.4.3 (sha256:b7c1d0…)"
    marker = parse_marker(pr.body)
    assert marker and marker["digest"] == DIGEST_B and marker["head"] == second.head_sha
    # The chain of images this PR carried: the older digest is named, the newer is current.
    assert marker["apps"][0]["chain"] == [str(image("1.4.2", DIGEST_A))]
    assert "`1.4.2@sha256:3f2a9caaaaaa` → **`1.4.3@sha256:b7c1d0bbbbbb`** (now)" in pr.body
    assert DIGEST_A in pr.body  # in full, in the details block
    # The environment still runs 1.4.1: that stays the rollback target.
    assert marker["from"] == OLD


def test_image_already_on_base_is_a_noop_without_writes(world: World) -> None:
    img = image()
    (world.local / DEV).write_text(expected(DEPLOY, str(img)))
    git(world.local, "commit", "-qam", "already promoted")
    world.store.seed(world.local)
    world.fake.reset_log()
    res = publish_promotion(world.request(img))
    assert res.operation == "none" and res.url is None
    assert "already runs" in (res.reason or "")
    assert len(world.fake.log) <= 2
    assert world.store.branches() == ["main"]


def test_stale_local_checkout_is_replanned_on_the_forge_head(world: World) -> None:
    img = image()
    # The base already got the image from elsewhere; the local checkout does not know.
    world.fake.push_commit(REPO, "main", {DEV: expected(DEPLOY, str(img))}, "promoted by hand")
    res = publish_promotion(world.request(img))
    assert res.operation == "none"
    assert world.store.branches() == ["main"]


def test_concurrent_commit_before_the_base_read_is_kept_on_the_branch(
    world: World,
) -> None:
    img = image()
    edited = DEPLOY.replace("  name: checkout-api\n", "  name: checkout-api\n  labels: {team: payments}\n")

    def someone_pushes(fake) -> None:
        fake.push_commit(REPO, "main", {"README.md": "# gitops (edited)\n", DEV: edited})

    world.fake.on_request(someone_pushes, pattern=BASE_READ)
    res = publish_promotion(world.request(img))
    assert res.operation == "created"
    # The edit was re-applied on the new base: both their label and our image are on the branch.
    assert world.show(BRANCH, DEV) == expected(edited, str(img))
    assert world.show(BRANCH, "README.md") == "# gitops (edited)\n"
    world.fake.merge_pull(REPO, res.number)
    assert world.show("main", DEV) == expected(edited, str(img))


def test_concurrent_commit_to_another_file_during_the_run_survives(
    world: World,
) -> None:
    img = image()
    base_before = world.store.branch_sha("main")

    def someone_pushes(fake) -> None:
        fake.push_commit(REPO, "main", {"README.md": "# gitops (concurrent)\n"})

    world.fake.on_request(someone_pushes, pattern=WRITE[world.kind])
    res = publish_promotion(world.request(img))
    assert res.operation == "created"
    main = world.store.branch_sha("main")
    assert main != base_before and world.show("main", "README.md") == "# gitops (concurrent)\n"
    assert world.store.commit_info(res.head_sha).parents == [base_before]
    world.fake.merge_pull(REPO, res.number)
    assert world.show("main", "README.md") == "# gitops (concurrent)\n"
    assert world.show("main", DEV) == expected(DEPLOY, str(img))


def test_someone_elses_commit_on_the_promotion_branch_is_never_overwritten(
    world: World,
) -> None:
    publish_promotion(world.request(image("1.4.2", DIGEST_A)))
    fix = world.fake.push_commit(
        REPO,
        BRANCH,
        {"apps/checkout-api/dev/extra.yaml": "replicas: 3\n"},
        "reviewer's fix",
    )
    newer = image("1.4.3", DIGEST_B)
    res = publish_promotion(world.request(newer))
    assert res.operation == "updated"
    assert world.store.is_ancestor(fix, res.head_sha)
    assert world.show(BRANCH, "apps/checkout-api/dev/extra.yaml") == "replicas: 3\n"
    assert world.show(BRANCH, DEV) == expected(DEPLOY, str(newer))


def test_branch_moving_during_the_write_is_re_read_and_retried(world: World) -> None:
    publish_promotion(world.request(image("1.4.2", DIGEST_A)))
    on_branch = expected(DEPLOY, str(image("1.4.2", DIGEST_A)))
    first_fix = on_branch.replace("kind: Deployment\n", "kind: Deployment\n# reviewed\n")
    world.fake.push_commit(REPO, BRANCH, {DEV: first_fix}, "reviewer note")
    second_fix = first_fix.replace("metadata:\n", "metadata:\n  # second note\n")

    def pushes_during_write(fake) -> None:
        fake.push_commit(REPO, BRANCH, {DEV: second_fix}, "another note")

    world.fake.on_request(pushes_during_write, pattern=WRITE[world.kind])
    newer = image("1.4.3", DIGEST_B)
    res = publish_promotion(world.request(newer))
    assert res.operation == "updated" and res.attempts == 2
    assert any("moved" in n for n in res.notes)
    # Both notes kept, and the newer image on top.
    assert world.show(BRANCH, DEV) == second_fix.replace(str(image("1.4.2", DIGEST_A)), str(newer))


def test_branch_left_by_a_failed_run_is_adopted(world: World) -> None:
    img = image()
    leftover = commit_message("dev", [PromotedApp("checkout-api", str(img), "1.4.2", DIGEST_A, OLD)])
    world.fake.push_commit(REPO, BRANCH, {DEV: expected(DEPLOY, str(img))}, leftover, start="main")
    res = publish_promotion(world.request(img))
    assert res.operation == "created" and len(open_pulls(world)) == 1
    assert any("adopted" in n for n in res.notes)
    assert world.show(BRANCH, DEV) == expected(DEPLOY, str(img))


def test_branch_with_someone_elses_work_is_refused_not_reset(world: World) -> None:
    theirs = world.fake.push_commit(REPO, BRANCH, {"README.md": "mine\n"}, "my experiment", start="main")
    with pytest.raises(ForgeError) as err:
        publish_promotion(world.request())
    assert "delete that branch or change forge.branch_template" in str(err.value)
    assert world.store.branch_sha(BRANCH) == theirs and not world.fake.repo(REPO).pulls


def test_open_pr_not_opened_by_promoter_is_refused(world: World) -> None:
    from fakeforge import PullRequest

    world.fake.push_commit(REPO, BRANCH, {"README.md": "x\n"}, "manual", start="main")
    world.fake.repo(REPO).pulls[1] = PullRequest(1, "manual", "no marker here", BRANCH, "main", "someone")
    with pytest.raises(ForgeError, match="not opened by promoter"):
        publish_promotion(world.request())


def test_lost_answer_to_the_create_call_does_not_duplicate_the_pr(world: World) -> None:
    world.fake.drop_next(r"POST .*/(pulls|merge_requests)$", after=True)
    res = publish_promotion(world.request())
    assert res.operation == "created"
    assert len(world.fake.repo(REPO).pulls) == 1
    assert len(world.fake.requests(r"POST .*/(pulls|merge_requests)$")) == 2


def test_release_train_holds_several_apps_in_one_pr(world: World) -> None:
    settings = world.settings(mode="train", branch_template="promoter/{env}")
    first = publish_promotion(world.request(image(), settings=settings))
    cart = image("2.1.0", DIGEST_C, repo="ghcr.io/acme/cart")
    second = publish_promotion(world.request(cart, app="cart", settings=settings))
    assert first.branch == second.branch == "promoter/dev"
    assert second.operation == "updated" and second.number == first.number
    assert world.show("promoter/dev", DEV) == expected(DEPLOY, str(image()))
    assert str(cart) in world.show("promoter/dev", "apps/cart/dev/deployment.yaml")
    pr = world.fake.repo(REPO).pulls[first.number]
    assert pr.title == "promote 2 apps to dev: cart 2.1.0, checkout-api 1.4.2"
    marker = parse_marker(pr.body)
    assert marker and sorted(a["app"] for a in marker["apps"]) == [
        "cart",
        "checkout-api",
    ]
    again = publish_promotion(world.request(image(), settings=settings))
    assert again.operation == "none"


def test_labels_reviewers_assignees_and_draft(world: World) -> None:
    world.fake.add_user("alice")
    world.fake.add_user("bob")
    options = PullOptions(
        labels=["promotion", "env:dev"],
        reviewers=["alice"],
        assignees=["bob"],
        draft=True,
    )
    res = publish_promotion(world.request(options=options))
    pr = world.fake.repo(REPO).pulls[res.number]
    assert pr.labels == ["promotion", "env:dev"]
    assert pr.reviewers == ["alice"] and pr.assignees == ["bob"] and pr.draft


def test_auto_merge_is_enabled_while_checks_are_pending(world: World) -> None:
    world.fake.repo(REPO).require_checks = True
    world.fake.repo(REPO).ci_on_push = True  # GitLab sets auto-merge only while a pipeline runs
    res = publish_promotion(world.request(options=PullOptions(auto_merge=True)))
    pr = world.fake.repo(REPO).pulls[res.number]
    assert pr.auto_merge and pr.state == "open"
    assert "auto-merge enabled" in res.notes


def test_auto_merge_on_an_already_mergeable_pr_merges_it(world: World) -> None:
    img = image()
    res = publish_promotion(world.request(img, options=PullOptions(auto_merge=True)))
    assert world.fake.repo(REPO).pulls[res.number].state == "merged"
    assert world.show("main", DEV) == expected(DEPLOY, str(img))
    assert any(n.startswith("merged") for n in res.notes)


def test_crlf_and_bom_survive_byte_exact(world: World) -> None:
    text = "\ufeff" + DEPLOY.replace("\n", "\r\n")
    path = "apps/checkout-api/prod/deployment.yaml"
    (world.local / path).write_bytes(text.encode())
    git(world.local, "commit", "-qam", "crlf")
    world.store.seed(world.local)
    img = image()
    res = publish_promotion(world.request(img, env="prod"))
    assert res.operation == "created"
    raw = world.store.read_file("promoter/prod/checkout-api", path)
    assert raw == expected(text, str(img)).encode()


@pytest.mark.parametrize("write", ["branch", "commit"])
def test_lost_answer_to_a_write_is_recognised_on_retry(world: World, write: str) -> None:
    patterns = {
        ("github", "branch"): r"POST .*/git/refs$",
        ("github", "commit"): r"POST /api/graphql$",
        ("gitlab", "branch"): r"POST .*/repository/commits$",
        ("gitlab", "commit"): r"POST .*/repository/commits$",
    }
    world.fake.drop_next(patterns[(world.kind, write)], after=True)
    img = image()
    res = publish_promotion(world.request(img))
    assert res.operation == "created" and len(world.fake.repo(REPO).pulls) == 1
    assert world.show(BRANCH, DEV) == expected(DEPLOY, str(img))
    assert world.store.changed_paths("main", BRANCH) == [DEV]


def test_result_text_and_json(world: World) -> None:
    res = publish_promotion(world.request())
    word = "pull request" if world.kind == "github" else "merge request"
    kind = "pull request #1" if world.kind == "github" else "merge request !1"
    assert res.to_text().startswith(f"operation: created {kind}: {res.url} (branch {BRANCH}, head {res.head_sha[:12]})")  # type: ignore[index]
    again = publish_promotion(world.request())
    assert again.to_text() == f"operation: none: the open {word} already promotes this image ({kind}: {res.url})"
    assert set(again.to_dict()) >= {"operation", "url", "number", "branch", "head_sha"}


def test_after_a_merge_the_next_promotion_opens_a_new_pr(world: World) -> None:
    first = publish_promotion(world.request(image("1.4.2", DIGEST_A)))
    world.fake.merge_pull(REPO, first.number)
    # GitLab deleted the source branch on merge; GitHub left it: either way a new PR follows.
    assert (world.store.branch_sha(BRANCH) is None) == (world.kind == "gitlab")
    newer = image("1.4.3", DIGEST_B)
    second = publish_promotion(world.request(newer))
    assert second.operation == "created" and second.number == first.number + 1
    assert world.show(BRANCH, DEV) == expected(DEPLOY, str(newer))
    marker = parse_marker(world.fake.repo(REPO).pulls[second.number].body)
    assert marker and marker["from"] == str(image("1.4.2", DIGEST_A))  # what dev runs now


def test_body_carries_checks_and_what_describe_rendered(world: World) -> None:
    from promoter.model.finding import CheckResult, Finding, Location, Severity
    from promoter.publish.description import BranchReview

    checks = CheckResult(
        findings=[Finding("image-latest", Severity.WARNING, "uses latest", Location(DEV, 2), source="policy")]
    )
    seen: list[list[str]] = []

    def describe(files, apps):
        seen.append([f.path for f in files])
        return BranchReview(rendered_diff="--- base/x\n+++ head/x\n-a\n+b\n", checks=checks, objects={"Deployment": 1})

    res = publish_promotion(world.request(describe=describe))
    body = world.fake.repo(REPO).pulls[res.number].body
    assert seen == [[DEV]]  # describe saw the branch's files
    assert "uses latest" in body and "image-latest" in body and "1 Deployment" in body
    assert "```diff\n--- base/x" in body


def test_parallel_runs_for_one_target_leave_one_consistent_pr(world: World) -> None:
    import threading

    images = [
        image("1.4.2", DIGEST_A),
        image("1.4.3", DIGEST_B),
        image("1.4.4", DIGEST_C),
    ]
    results: list[object] = []

    def run(img) -> None:
        import time

        try:
            settings = world.settings(max_retries=3, sleep=time.sleep, backoff=0.05)
            results.append(publish_promotion(world.request(img, settings=settings)))
        except ForgeError as exc:  # collected to fail below: parallel runs converge (test_forge_races.py)
            results.append(exc)

    threads = [threading.Thread(target=run, args=(img,)) for img in images]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 3
    assert not [r for r in results if isinstance(r, ForgeError)], results
    prs = open_pulls(world)
    assert len(prs) == 1, "never a duplicate"
    marker = parse_marker(prs[0].body)
    head = world.store.branch_sha(BRANCH)
    # The description tells the truth about the branch: its marker names the image the branch holds.
    on_branch = world.show(BRANCH, DEV)
    assert marker and marker["image"] in on_branch
    assert marker["head"] == head, "the marker names the branch's head commit"
    assert on_branch in {expected(DEPLOY, str(img)) for img in images}


def test_refused_pr_settings_become_notes_not_failures(world: World) -> None:
    # "promoter-bot" opens the PR: GitHub refuses it as its own reviewer; GitLab knows no "ghost".
    reviewer = "promoter-bot" if world.kind == "github" else "ghost"
    res = publish_promotion(world.request(options=PullOptions(reviewers=[reviewer], labels=["promotion"])))
    assert res.operation == "created"
    assert any("review" in n and (reviewer in n or "author" in n) for n in res.notes), res.notes
    assert world.fake.repo(REPO).pulls[res.number].labels == ["promotion"]


def test_caps_hold_on_both_forges_with_a_summary_before_any_cut(world: World) -> None:
    from forgeworld import plan
    from prbody import check_markdown, section

    from promoter.model.finding import CheckResult
    from promoter.publish.publisher import PromotionRequest

    # 250 files, each pinning the image 40 times between lines of multi-byte text: a diff of
    # megabytes, more than either forge takes, counted in bytes and characters apart.
    text = "".join(f"# ünïcødé → 日本語 {i}\n  image: {OLD}\n" for i in range(40))
    paths = [f"apps/checkout-api/dev/many/f{i:03}.yaml" for i in range(250)]
    world.fake.push_commit(REPO, "main", dict.fromkeys(paths, text), "many files")
    git(world.local, "fetch", "-q", str(world.store.path), "main")
    git(world.local, "reset", "-q", "--hard", "FETCH_HEAD")
    img = image()

    def local_read(p: str) -> str | None:
        f = world.local / p
        return f.read_text() if f.exists() else None

    req = PromotionRequest(
        settings=world.settings(),
        env="dev",
        image=img,
        apps=["checkout-api"],
        changeset=plan(img, paths, local_read),
        replan=lambda read: plan(img, paths, read),
        repo=world.local,
        checks=CheckResult(),
    )
    res = publish_promotion(req)
    assert res.operation == "created"  # the fake forge refuses an oversized description: it was not
    body = world.fake.repo(REPO).pulls[res.number].body
    limit = 65_536 if world.kind == "github" else 1_048_576
    assert len(body.encode()) <= limit - 1_000 and len(body) <= limit
    assert "shortened to stay under the forge's" in body and check_markdown(body) == []
    summary = section(body, "Summary")
    assert "**250 files** changed (+10000 −10000)" in summary
    assert "| `apps/checkout-api/dev/many` | 250 | 10000 | 10000 |" in summary
    assert "more lines not shown" in section(body, "File changes")


def test_a_binary_file_someone_added_is_named_not_decoded(world: World) -> None:
    from promoter.model.finding import CheckResult

    publish_promotion(world.request(image("1.4.2", DIGEST_A), checks=CheckResult()))
    store = world.store
    sha = store.commit_files(store.branch_sha(BRANCH), {"docs/logo.png": b"\x89PNG\xff\xfe\x00\x01"}, "add a logo")
    store.update_ref(BRANCH, sha)
    res = publish_promotion(world.request(image("1.4.3", DIGEST_B), checks=CheckResult()))
    assert res.operation == "updated" and store.is_ancestor(sha, res.head_sha)
    body = world.fake.repo(REPO).pulls[res.number].body
    assert "+++ b/docs/logo.png\nBinary file added, not shown" in body
    assert "`docs/logo.png` (added, +0 −0)" in body
