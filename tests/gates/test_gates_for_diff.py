"""gates_for_diff: `promoter check` judges every env whose image a pull request changes, by that env's gates."""

from __future__ import annotations

from datetime import datetime

from promoter.gates.engine import gates_for_diff
from promoter.model.finding import Status

from .conftest import D3, D4, T6_MERGE, UTC, git, kustomization

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # a Tuesday, long after every merge
GATES = {
    "stage": {"promotion_order": True},
    "prod": {"digest_required": True, "promotion_order": True, "soak": "24h", "no_downgrade": True},
}


def branch(repo, name: str = "pr") -> None:
    git(repo.gitdir, "checkout", "-q", "-b", name)


def test_a_hand_written_pr_that_skips_stage_is_caught(fresh_pipeline):
    repo, shas = fresh_pipeline
    branch(repo)
    repo.set_image("prod", "1.4.0", D4, NOW)
    result = gates_for_diff(repo.path, repo.config(**GATES), "main", now=NOW)
    assert result.failed
    assert result.targets == ["api/prod"]
    assert sorted(f.rule for f in result.findings) == ["gate-promotion-order", "gate-soak"]
    order = next(f for f in result.findings if f.rule == "gate-promotion-order")
    assert order.evidence["image"] == f"ghcr.io/acme/api:1.4.0@{D4}"
    assert order.evidence["previous_env_commit"] == shas["T6_MERGE"]


def test_a_pr_changing_stage_and_prod_at_once_fails_both(fresh_pipeline):
    repo, _ = fresh_pipeline
    branch(repo)
    repo.set_image("stage", "1.4.0", D4, NOW)
    repo.set_image("prod", "1.4.0", D4, NOW)
    result = gates_for_diff(repo.path, repo.config(**GATES), "main", now=NOW)
    # stage reads dev, prod reads stage on main: the PR's own stage change does not count.
    assert sorted((f.target, f.rule) for f in result.findings if f.rule == "gate-promotion-order") == [
        ("prod", "gate-promotion-order"),
        ("stage", "gate-promotion-order"),
    ]
    assert result.targets == ["api/stage", "api/prod"]


def test_a_compliant_pr_passes_with_every_gate_listed(fresh_pipeline):
    repo, _ = fresh_pipeline
    branch(repo)
    repo.set_image("prod", "1.3.0", D3, NOW)
    result = gates_for_diff(repo.path, repo.config(**GATES), "main", now=NOW)
    assert not result.failed and result.findings == []
    assert sorted(s.id for s in result.subjects) == sorted(f"gate/{g}/api/prod" for g in GATES["prod"])
    assert all(s.status is Status.PASSED for s in result.subjects)


def test_soak_is_judged_at_the_time_given(fresh_pipeline):
    repo, _ = fresh_pipeline
    branch(repo)
    repo.set_image("prod", "1.3.0", D3, NOW)
    early = gates_for_diff(repo.path, repo.config(**GATES), "main", now=T6_MERGE.replace(hour=12))
    assert [f.rule for f in early.findings] == ["gate-soak"]


def test_uncommitted_changes_count(fresh_pipeline):
    repo, _ = fresh_pipeline
    repo.write({"apps/api/prod/kustomization.yaml": kustomization("1.4.0", None)})
    result = gates_for_diff(repo.path, repo.config(**GATES), "main", now=NOW)
    assert {"gate-digest-required", "gate-promotion-order"} <= {f.rule for f in result.findings}


def test_changes_that_do_not_move_an_image_are_not_gated(fresh_pipeline):
    repo, _ = fresh_pipeline
    branch(repo)
    repo.commit(NOW, "replicas", {"apps/api/prod/replicas.yaml": "replicas: 3\n"})
    repo.set_image("dev", "1.4.0", D4, NOW)  # dev has no gates
    result = gates_for_diff(repo.path, repo.config(**GATES), "main", now=NOW)
    assert result.findings == [] and result.subjects == [] and result.targets == []


def test_history_is_read_on_the_base_branch_tip(fresh_pipeline):
    repo, _ = fresh_pipeline
    branch(repo)
    repo.set_image("prod", "1.4.0", D4, NOW)
    git(repo.gitdir, "checkout", "-q", "main")
    # After the PR branched, main promoted 1.4.0 to stage (two days before NOW).
    repo.set_image("stage", "1.4.0", D4, NOW.replace(day=22))
    git(repo.gitdir, "checkout", "-q", "pr")
    result = gates_for_diff(repo.path, repo.config(**GATES), "main", now=NOW)
    assert not result.failed, [f.message for f in result.findings]
    # The PR's diff is taken from the merge base: only prod changed, stage is not re-judged.
    assert result.targets == ["api/prod"]


def test_without_a_config_nothing_is_gated(fresh_pipeline):
    repo, _ = fresh_pipeline
    from promoter.config.model import Config

    assert gates_for_diff(repo.path, Config.empty(), "main").findings == []


def test_an_env_file_that_does_not_parse_is_an_errored_subject_not_a_crash(fresh_pipeline):
    repo, _ = fresh_pipeline
    repo.write({"apps/api/prod/kustomization.yaml": "images: [\n"})
    result = gates_for_diff(repo.path, repo.config(**GATES), "main", now=NOW)
    [s] = result.subjects
    assert s.status is Status.ERROR and "apps/api/prod/kustomization.yaml" in s.reason
    assert result.findings == []


def test_an_app_without_a_path_in_an_env_is_skipped(fresh_pipeline):
    repo, _ = fresh_pipeline
    config = repo.config(**GATES)
    config.default_path = None  # apps without an explicit path now live nowhere...
    config.apps["api"].path = "apps/{app}/{env}"  # ...except api
    branch(repo)
    repo.set_image("prod", "1.4.0", D4, NOW)
    result = gates_for_diff(repo.path, config, "main", now=NOW)
    assert result.targets == ["api/prod"] and result.failed
