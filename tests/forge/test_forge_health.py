"""The healthy gate reads commit statuses (and GitHub check runs) through the real clients, on both fake forges."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fakeforge import FakeForge
from forgeworld import REPO, TOKEN, git, invoke
from pipeline import DIGESTS, NOW, TAGS, Pipeline, commit_at, gitops, kustomization

from promoter.config.loader import load_config
from promoter.flows.forgeaccess import ForgeAccess
from promoter.gates.engine import evaluate_gates
from promoter.gates.statuses import Waiting
from promoter.model.finding import CheckResult
from promoter.model.image import ImageRef
from promoter.publish.flags import PrFlags

PROD = """\
    gates:
      healthy:
        contexts: ["argocd/{app}-{previous_env}", e2e]
        timeout: 30m
        interval: 30s
"""
ARGO = "argocd/api-stage"
IMAGE = ImageRef.parse(f"ghcr.io/acme/api:{TAGS['api']}@{DIGESTS['api']}")
STAGED = NOW + timedelta(minutes=5)


@pytest.fixture(params=["github", "gitlab"])
def health(request: pytest.FixtureRequest, fake: FakeForge, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """api 1.1.0 entered stage at STAGED (commit `staged`); two unrelated commits followed on main."""
    local = gitops(tmp_path / "local", prod=PROD)
    commit_at(
        local,
        STAGED,
        "api stage",
        {"apps/api/stage/kustomization.yaml": kustomization("api", TAGS["api"], DIGESTS["api"])},
    )
    staged = git(local, "rev-parse", "HEAD").strip()
    commit_at(local, STAGED + timedelta(minutes=1), "cart docs", {"apps/cart/README.md": "cart\n"})
    commit_at(local, STAGED + timedelta(minutes=2), "web docs", {"apps/web/README.md": "web\n"})
    fake.create_repo(REPO, source=local)
    p = Pipeline(fake, request.param, local, monkeypatch)
    return p, staged


def judge(p: Pipeline, *, waiting: Waiting | None = None, token: bool = True) -> CheckResult:
    environ = ({"GITHUB_TOKEN": TOKEN} if p.kind == "github" else {"GITLAB_TOKEN": TOKEN}) if token else {}
    flags = PrFlags(forge=p.kind, forge_url=p.url, forge_repo=REPO)
    config = load_config(p.local)
    with ForgeAccess(config, flags, environ) as access:
        return evaluate_gates(
            p.local, config, "api", "prod", IMAGE, now=STAGED + timedelta(hours=1), statuses=access, waiting=waiting
        )


def healthy(result: CheckResult) -> tuple[str, str]:
    """(subject status, message of its finding or its note)"""
    subject = next(s for s in result.subjects if s.id == "gate/healthy/api/prod")
    found = [f for f in result.findings if f.rule == "gate-healthy"]
    return subject.status.value, found[0].message if found else str(subject.reason)


def test_green_statuses_on_the_commit_that_staged_it_pass(health) -> None:
    p, staged = health
    p.set_status(staged, ARGO, "success", "Healthy")
    p.check_run(staged, "e2e")
    status, note = healthy(judge(p))
    assert status == "passed" and note == f"{ARGO}, e2e: success on {staged[:12]}"


def test_no_status_yet_blocks_and_names_what_is_missing(health) -> None:
    p, staged = health
    result = judge(p)
    status, message = healthy(result)
    assert status == "failed"
    assert f"no status or check run named {ARGO}, e2e; read on commit {staged[:12]}" in message
    assert "and the 2 after it" in message  # the commits that followed it on main are read too
    f = next(f for f in result.findings if f.rule == "gate-healthy")
    assert f.evidence["commit"] == staged and f.evidence["missing"] == [ARGO, "e2e"]
    assert len(f.evidence["commits_read"]) == 3 and "--wait" in (f.help or "")


def test_one_red_context_blocks_without_waiting(health) -> None:
    p, staged = health
    p.set_status(staged, ARGO, "failure", "Degraded")
    p.check_run(staged, "e2e")
    waits: list[float] = []
    status, message = healthy(judge(p, waiting=Waiting(True, sleep=waits.append, clock=lambda: 0.0)))
    word = "failure" if p.kind == "github" else "failed"
    assert status == "failed" and f"{ARGO} is {word} on {staged[:12]} (Degraded)" in message
    assert waits == []  # a red status does not turn green by waiting: no poll


def test_the_newest_word_counts(health) -> None:
    p, staged = health
    later = git(p.local, "rev-parse", "HEAD").strip()
    # Argo CD synced (and reported on) a later commit of main, where api still ran the digest.
    p.set_status(staged, ARGO, "success")
    p.set_status(later, ARGO, "failure", "Degraded")
    p.check_run(staged, "e2e")
    status, message = healthy(judge(p))
    assert status == "failed" and f"on {later[:12]}" in message
    # Reported only on the later commit (two merges applied at once): that counts too.
    p.set_status(later, ARGO, "success")
    assert healthy(judge(p))[0] == "passed"


def test_wait_polls_until_green_within_the_timeout(health) -> None:
    p, staged = health
    p.check_run(staged, "e2e")
    clock = [0.0]

    def sleep(seconds: float) -> None:
        clock[0] += seconds
        if clock[0] >= 90:  # Argo CD reports healthy after a minute and a half
            p.set_status(staged, ARGO, "success")

    status, note = healthy(judge(p, waiting=Waiting(True, sleep=sleep, clock=lambda: clock[0])))
    assert status == "passed" and note.endswith("after waiting 1m")
    assert clock[0] == 90  # four polls, 30 s apart


def test_wait_gives_up_at_its_timeout(health) -> None:
    p, staged = health
    p.check_run(staged, "e2e")
    p.set_status(staged, ARGO, "pending", "Progressing")
    clock, sleeps = [0.0], []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock[0] += seconds

    result = judge(p, waiting=Waiting(True, sleep=sleep, clock=lambda: clock[0]))
    status, message = healthy(result)
    assert status == "failed" and f"{ARGO} is still pending" in message
    assert "(waited 30m, timeout 30m)" in message
    assert sum(sleeps) == 1800 and len(sleeps) == 60  # every 30 s, never past the deadline
    # One run waits once: a second app judged in the same run (promote --all) gets no more time.
    waiting = Waiting(True, sleep=sleep, clock=lambda: clock[0])
    sleeps.clear()
    judge(p, waiting=waiting)
    assert sum(sleeps) == 1800
    assert healthy(judge(p, waiting=waiting))[0] == "failed" and sum(sleeps) == 1800


def test_without_a_token_it_fails_closed_saying_why(health) -> None:
    p, staged = health
    p.set_status(staged, ARGO, "success")
    status, message = healthy(judge(p, token=False))
    assert status == "failed"
    assert message.startswith("gate healthy: cannot read the commit statuses of commit")
    assert "no forge token: set" in message


def test_running_neutral_and_reruns(health) -> None:
    """GitHub check runs (in_progress, neutral, a re-run) and GitLab statuses (running, skipped, success again)."""
    p, staged = health
    p.set_status(staged, ARGO, "success")
    if p.kind == "github":
        p.check_run(staged, "e2e", None)  # in progress
        assert "e2e is still in_progress" in healthy(judge(p))[1]
        p.check_run(staged, "e2e", "neutral")
        assert "e2e is neutral" in healthy(judge(p))[1]  # only success is healthy
        p.check_run(staged, "e2e", "success")  # a re-run: the latest run of a name counts
    else:
        p.set_status(staged, "e2e", "running")
        assert "e2e is still running" in healthy(judge(p))[1]
        p.set_status(staged, "e2e", "skipped")
        assert "e2e is skipped" in healthy(judge(p))[1]  # only success is healthy
        p.set_status(staged, "e2e", "success")  # a later status of the name counts
    assert healthy(judge(p))[0] == "passed"


def test_an_image_that_never_ran_in_stage_is_not_healthy(health) -> None:
    p, _ = health
    config = load_config(p.local)
    other = ImageRef.parse(f"ghcr.io/acme/api:9.9.9@{DIGESTS['web']}")
    with ForgeAccess(config, PrFlags(forge=p.kind, forge_url=p.url, forge_repo=REPO), {}) as access:
        result = evaluate_gates(p.local, config, "api", "prod", other, statuses=access)
    status, message = healthy(result)
    assert status == "failed" and "has not run in stage" in message


def test_check_judges_a_hand_written_prod_change_by_stage_health(health) -> None:
    """`promoter check` on a pull request that edits prod by hand: the same gate, the forge from the config."""
    p, staged = health
    config = (p.local / ".promoter.yaml").read_text()
    config += f"forge: {{type: {p.kind}, url: '{p.url}', repository: {REPO}}}\n"
    commit_at(p.local, STAGED + timedelta(minutes=3), "forge settings", {".promoter.yaml": config})
    git(p.local, "push", "-q", str(p.repo.store.path), "main")  # main is the forge's main
    git(p.local, "checkout", "-q", "-b", "by-hand")
    prod = "apps/api/prod/kustomization.yaml"
    commit_at(
        p.local, STAGED + timedelta(minutes=4), "api to prod", {prod: kustomization("api", TAGS["api"], DIGESTS["api"])}
    )
    token = {"GITHUB_TOKEN": TOKEN} if p.kind == "github" else {"GITLAB_TOKEN": TOKEN}

    def check(env: dict[str, str]):
        return invoke("check", "--repo", str(p.local), "--base", "main", env=env)

    r = check(token)
    assert r.exit_code == 3 and "gate-healthy" in r.stdout + r.stderr
    assert f"no status or check run named {ARGO}, e2e" in r.stdout + r.stderr
    p.set_status(staged, ARGO)
    p.check_run(staged, "e2e")
    r = check(token)
    assert r.exit_code == 0, r.stdout + r.stderr
    # The check job without a token: fails closed, saying what is missing.
    r = check({"GITHUB_TOKEN": "", "GITLAB_TOKEN": "", "GH_TOKEN": ""})
    assert r.exit_code == 3 and "no forge token" in r.stdout + r.stderr
