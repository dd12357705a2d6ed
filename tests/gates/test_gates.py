"""Each built-in gate blocks the promotion that violates it and lets the compliant one through, on a real git history."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from promoter.config.loader import config_schema
from promoter.gates.builtin.no_downgrade import semver_key
from promoter.gates.engine import evaluate_gates
from promoter.gates.registry import GATES
from promoter.model.errors import UsageError
from promoter.model.finding import CheckResult, Severity, Status
from promoter.model.image import ImageRef

from .conftest import D0, D1, D2, D3, D4, T6_MERGE, UTC

TUESDAY = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # outside every freeze window used here


def judge(
    pipeline,
    env: str,
    image: str,
    gates: dict[str, Any],
    *,
    app: str = "api",
    now: datetime = TUESDAY,
    policies: dict[str, Any] | None = None,
    **kw: Any,
) -> CheckResult:
    repo, _ = pipeline
    config = repo.config(**{env: gates})
    if policies is not None:
        config.policies = policies
    return evaluate_gates(repo.path, config, app, env, ImageRef.parse(image), base_ref="main", now=now, **kw)


def only(result: CheckResult, rule: str):
    found = [f for f in result.findings if f.rule == rule]
    assert len(found) == 1, [f.rule for f in result.findings]
    return found[0]


def api(ref: str) -> str:
    return f"ghcr.io/acme/api{ref}"


# ---- digest_required ------------------------------------------------------------------------


def test_digest_required_blocks_a_tag_only_image(pipeline):
    result = judge(pipeline, "prod", api(":1.3.0"), {"digest_required": True})
    assert result.failed
    f = only(result, "gate-digest-required")
    assert f.severity is Severity.ERROR and f.source == "gate" and f.target == "prod"
    assert "digest_required" in f.message and "'1.3.0'" in f.message
    assert "@sha256:" in f.help
    assert f.evidence["tag"] == "1.3.0" and f.evidence["digest"] is None
    # The finding points at where prod pins the image today.
    assert (f.location.file, f.location.line) == ("apps/api/prod/kustomization.yaml", 6)


def test_digest_required_lets_a_digest_through(pipeline):
    result = judge(pipeline, "prod", api(f":1.3.0@{D3}"), {"digest_required": True})
    assert not result.failed and result.findings == []
    [s] = result.subjects
    assert (s.id, s.kind, s.status, s.target) == ("gate/digest_required/api/prod", "gate", Status.PASSED, "prod")


# ---- promotion_order ------------------------------------------------------------------------


def test_promotion_order_blocks_a_digest_stage_never_ran(pipeline):
    _, shas = pipeline
    result = judge(pipeline, "prod", api(f":1.4.0@{D4}"), {"promotion_order": True})
    f = only(result, "gate-promotion-order")
    assert result.failed and "never run in stage on main" in f.message
    assert f.evidence["previous_env"] == "stage"
    assert f.evidence["previous_env_runs"] == "1.3.0@sha256:333333333333"
    assert f.evidence["previous_env_commit"] == shas["T6_MERGE"]
    assert f.evidence["compared_by"] == "digest"
    assert "--env stage" in f.help


@pytest.mark.parametrize(
    "image, word",
    [(api(f":1.3.0@{D3}"), "runs it since"), (api(f"@{D2}"), "ran it from"), (api(f"@{D1}"), "ran it from")],
)
def test_promotion_order_lets_through_what_stage_runs_or_ran(pipeline, image, word):
    result = judge(pipeline, "prod", image, {"promotion_order": True})
    assert not result.failed
    [s] = result.subjects
    assert s.status is Status.PASSED and s.reason.startswith(f"stage {word} commit")


def test_promotion_order_explains_a_previous_env_pinned_by_tag_only(fresh_pipeline):
    repo, _ = fresh_pipeline
    repo.set_image("stage", "1.4.0", None, T6_MERGE.replace(day=20))
    config = repo.config(prod={"promotion_order": True})
    result = evaluate_gates(
        repo.path, config, "api", "prod", ImageRef.parse(api(f":1.4.0@{D4}")), base_ref="main", now=TUESDAY
    )
    f = only(result, "gate-promotion-order")
    assert "stage pins tags only" in f.help and f.evidence["previous_env_runs"] == "1.4.0"
    # Without a digest the same promotion is compared by tag and passes.
    assert not evaluate_gates(
        repo.path, config, "api", "prod", ImageRef.parse(api(":1.4.0")), base_ref="main", now=TUESDAY
    ).failed


def test_promotion_order_same_tag_other_digest_is_not_the_same_image(pipeline):
    result = judge(pipeline, "prod", api(f":1.3.0@{D4}"), {"promotion_order": True})
    assert result.failed


def test_promotion_order_into_stage_reads_dev(pipeline):
    assert not judge(pipeline, "stage", api(f"@{D3}"), {"promotion_order": True}).failed
    f = only(judge(pipeline, "stage", api(f"@{D4}"), {"promotion_order": True}), "gate-promotion-order")
    assert "never run in dev" in f.message


def test_promotion_order_compares_tags_when_there_is_no_digest(pipeline):
    assert not judge(pipeline, "prod", api(":1.2.0"), {"promotion_order": True}).failed
    f = only(judge(pipeline, "prod", api(":9.9.9"), {"promotion_order": True}), "gate-promotion-order")
    assert f.evidence["compared_by"] == "tag"


# ---- soak -----------------------------------------------------------------------------------


def test_soak_blocks_until_the_time_since_the_merge_has_passed(pipeline):
    _, shas = pipeline
    # Eleven hours after the merge into main (the PR branch's own commit is three days older:
    # only the merge counts, or a stale branch would soak without ever running).
    result = judge(pipeline, "prod", api(f"@{D3}"), {"soak": "24h"}, now=datetime(2026, 11, 16, 20, 0, tzinfo=UTC))
    f = only(result, "gate-soak")
    assert result.failed
    assert f.evidence["commit"] == shas["T6_MERGE"]
    assert f.evidence["time"] == "2026-11-16T09:00:00Z"
    assert (f.evidence["elapsed"], f.evidence["remaining"], f.evidence["required"]) == ("11h", "13h", "24h")
    assert f.evidence["ready_at"] == "2026-11-17T09:00:00Z"
    assert shas["T6_MERGE"][:12] in f.message and "13h to go" in f.message
    assert "2026-11-17 09:00 UTC" in f.help


@pytest.mark.parametrize("now", [T6_MERGE.replace(day=17), datetime(2026, 11, 20, 0, 0, tzinfo=UTC)])
def test_soak_lets_through_once_elapsed(pipeline, now):
    result = judge(pipeline, "prod", api(f"@{D3}"), {"soak": "24h"}, now=now)
    assert not result.failed
    assert result.subjects[0].status is Status.PASSED and ">= 24h" in result.subjects[0].reason


def test_soak_counts_a_stay_that_has_ended(pipeline):
    _, shas = pipeline
    # D1 ran in stage from T2 to T4: 26 hours, then 1.2.0 replaced it.
    assert not judge(pipeline, "prod", api(f"@{D1}"), {"soak": "1d"}).failed
    f = only(judge(pipeline, "prod", api(f"@{D1}"), {"soak": "2d"}), "gate-soak")
    assert f.evidence["elapsed"] == "1d2h" and f.evidence["left_commit"] == shas["T4"]
    assert "for only 1d2h" in f.message and shas["T4"][:12] in f.message


def test_soak_blocks_a_digest_the_previous_env_never_ran(pipeline):
    f = only(judge(pipeline, "prod", api(f"@{D4}"), {"soak": "30m"}), "gate-soak")
    assert "has not run in stage" in f.message and f.evidence["elapsed"] == "0s"


# ---- freeze ---------------------------------------------------------------------------------

FRIDAY_BERLIN = [
    {"days": ["fri"], "start": "16:00", "end": "23:59", "timezone": "Europe/Berlin", "reason": "no weekend deploys"}
]
NIGHTS_NY = [
    {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "22:00", "end": "06:00", "timezone": "America/New_York"}
]
HOLIDAYS = [{"from": "2026-12-20", "to": "2026-12-27", "timezone": "Europe/Berlin", "reason": "holidays"}]
MORNING = [{"from": "2026-12-01T08:00:00+01:00", "to": "2026-12-01T12:00"}]


@pytest.mark.parametrize(
    "windows, now, frozen",
    [
        (FRIDAY_BERLIN, "2026-11-20T16:00Z", True),  # Fri 17:00 in Berlin (CET)
        (FRIDAY_BERLIN, "2026-11-20T17:00Z", True),  # Fri 17:00 UTC = 18:00 Berlin
        (FRIDAY_BERLIN, "2026-11-19T16:00Z", False),  # Thursday 17:00 Berlin
        (FRIDAY_BERLIN, "2026-11-20T15:30Z", True),  # 16:30 Berlin although only 15:30 UTC
        (FRIDAY_BERLIN, "2026-11-20T14:30Z", False),  # 15:30 Berlin
        (FRIDAY_BERLIN, "2026-11-20T22:59:59Z", True),  # 23:59:59 Berlin: the end minute is inside
        (FRIDAY_BERLIN, "2026-11-20T23:30Z", False),  # still Friday in UTC, Saturday 00:30 in Berlin
        (FRIDAY_BERLIN, "2026-07-03T14:30Z", True),  # summer time: 16:30 CEST
        (FRIDAY_BERLIN, "2026-07-03T13:59Z", False),  # 15:59 CEST
        (NIGHTS_NY, "2026-11-21T08:00Z", True),  # Sat 03:00 New York: Friday night
        (NIGHTS_NY, "2026-11-23T08:00Z", False),  # Mon 03:00 New York: Sunday night is not listed
        (NIGHTS_NY, "2026-11-24T03:30Z", True),  # Mon 22:30 New York
        (HOLIDAYS, "2026-12-19T23:30Z", True),  # 20 Dec 00:30 Berlin
        (HOLIDAYS, "2026-12-19T22:30Z", False),  # 19 Dec 23:30 Berlin
        (HOLIDAYS, "2026-12-27T22:30Z", True),  # the last day is frozen to its end
        (HOLIDAYS, "2026-12-27T23:30Z", False),  # 28 Dec 00:30 Berlin
        (MORNING, "2026-12-01T07:30Z", True),
        (MORNING, "2026-12-01T06:59Z", False),
        (MORNING, "2026-12-01T11:59Z", True),
        (MORNING, "2026-12-01T12:00Z", False),  # `to` is exclusive
    ],
)
def test_freeze_windows_across_time_zones(pipeline, windows, now, frozen):
    moment = datetime.fromisoformat(now)
    result = judge(pipeline, "prod", api(f"@{D3}"), {"freeze": windows}, now=moment)
    assert result.failed is frozen
    assert [f.rule for f in result.findings] == (["gate-freeze"] if frozen else [])
    assert result.subjects[0].status is (Status.FAILED if frozen else Status.PASSED)


def test_freeze_finding_names_the_window_the_local_time_and_when_it_ends(pipeline):
    f = only(
        judge(
            pipeline, "prod", api(f"@{D3}"), {"freeze": FRIDAY_BERLIN}, now=datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
        ),
        "gate-freeze",
    )
    assert f.evidence["window"] == "fri 16:00-23:59 Europe/Berlin"
    assert f.evidence["reason"] == "no weekend deploys"
    assert f.evidence["local_time"] == "2026-11-20T17:00+01:00"
    assert f.evidence["ends_at"] == "2026-11-20T23:00:00Z"
    assert "no weekend deploys" in f.message and "--override-freeze" in f.help


def test_freeze_override_lets_it_through_and_is_recorded(pipeline):
    result = judge(
        pipeline,
        "prod",
        api(f"@{D3}"),
        {"freeze": FRIDAY_BERLIN},
        now=datetime(2026, 11, 20, 16, 0, tzinfo=UTC),
        override_freeze="CVE-2026-1234 hotfix, approved by SRE",
    )
    assert not result.failed
    f = only(result, "gate-freeze-override")
    assert f.severity is Severity.INFO and f.source == "gate"
    assert "CVE-2026-1234 hotfix" in f.message and "no weekend deploys" in f.message
    assert f.evidence["override_reason"] == "CVE-2026-1234 hotfix, approved by SRE"
    assert result.subjects[0].status is Status.PASSED and "overridden" in result.subjects[0].reason
    # Serialisable for the JSON report and the PR body.
    assert json.loads(json.dumps(result.to_dict()))["findings"][0]["rule"] == "gate-freeze-override"


def test_an_override_outside_a_freeze_records_nothing(pipeline):
    result = judge(pipeline, "prod", api(f"@{D3}"), {"freeze": FRIDAY_BERLIN}, override_freeze="just in case")
    assert result.findings == [] and not result.failed


def test_an_empty_override_reason_is_refused(pipeline):
    with pytest.raises(UsageError, match="needs a reason"):
        judge(pipeline, "prod", api(f"@{D3}"), {"freeze": FRIDAY_BERLIN}, override_freeze="  ")


# ---- allowed_registries ---------------------------------------------------------------------


def test_registry_allowlist_blocks_another_registry(pipeline):
    result = judge(pipeline, "prod", "quay.io/acme/cache:1.0.0", {"allowed_registries": ["ghcr.io/acme"]}, app="cache")
    f = only(result, "gate-allowed-registries")
    assert result.failed and f.evidence["registry"] == "quay.io" and f.evidence["allowed"] == ["ghcr.io/acme"]
    assert "quay.io" in f.message and "environments[2].gates.allowed_registries" in f.help


def test_registry_allowlist_lets_an_allowed_image_through(pipeline):
    assert not judge(pipeline, "prod", api(f"@{D3}"), {"allowed_registries": ["ghcr.io/acme"]}).failed
    assert not judge(pipeline, "prod", api(f"@{D3}"), {"allowed_registries": ["quay.io", "ghcr.io/"]}).failed


def test_registry_prefix_matches_on_a_path_boundary(pipeline):
    assert judge(pipeline, "prod", api(f"@{D3}"), {"allowed_registries": ["ghcr.io/acm"]}).failed


def test_registry_allowlist_falls_back_to_policies(pipeline):
    result = judge(
        pipeline, "prod", "quay.io/acme/cache:1.0.0", {}, app="cache", policies={"allowed_registries": ["ghcr.io"]}
    )
    f = only(result, "gate-allowed-registries")
    assert "policies.allowed_registries" in f.help
    assert not judge(pipeline, "prod", api(f"@{D3}"), {}, policies={"allowed_registries": ["ghcr.io"]}).failed


@pytest.mark.parametrize(
    "allowed, ok",
    [(["docker.io"], True), (["index.docker.io"], True), (["docker.io/library"], True), (["ghcr.io"], False)],
)
def test_registry_allowlist_knows_docker_hub_names(pipeline, allowed, ok):
    result = judge(pipeline, "prod", "redis:7.2", {"allowed_registries": allowed}, app="redis")
    assert result.failed is not ok


# ---- no_downgrade ---------------------------------------------------------------------------


def test_downgrade_is_blocked(pipeline):
    _, shas = pipeline
    result = judge(pipeline, "prod", api(f":0.9.0@{D4}"), {"no_downgrade": True})
    f = only(result, "gate-no-downgrade")
    assert result.failed
    assert (f.evidence["current_tag"], f.evidence["new_tag"], f.evidence["commit"]) == ("1.0.0", "0.9.0", shas["T0"])
    assert "prod runs 1.0.0" in f.message and "--rollback" not in f.help
    # The way out is the rollback command itself, with the image as given.
    assert f"`promoter rollback --app api --env prod --image {api(f':0.9.0@{D4}')}" in f.help


def test_downgrade_is_allowed_as_a_rollback_and_recorded(pipeline):
    result = judge(pipeline, "prod", api(f":0.9.0@{D4}"), {"no_downgrade": True}, rollback=True)
    assert not result.failed
    f = only(result, "gate-no-downgrade-rollback")
    assert f.severity is Severity.INFO and "rollback" in f.message and "1.0.0" in f.message


@pytest.mark.parametrize(
    "env, tag, blocked",
    [
        ("prod", "1.0.1", False),
        ("prod", "v1.1.0", False),  # a leading v is ignored
        ("prod", "v0.9.9", True),
        ("prod", "1.0.0-rc.1", True),  # a pre-release is older than its release
        ("prod", "1.0.0_build.5", False),  # build metadata (`_` for `+`, which tags cannot hold) does not order
        ("prod", "main-abc1234", False),  # not semver: not compared
        ("stage", "1.10.0", False),  # 10 > 3 as numbers, not as text
        ("stage", "1.2.9", True),
    ],
)
def test_downgrade_compares_semantic_versions(pipeline, env, tag, blocked):
    result = judge(pipeline, env, api(f":{tag}@{D4}"), {"no_downgrade": True})
    assert result.failed is blocked
    if tag == "main-abc1234":
        assert "not compared" in result.subjects[0].reason


def test_semver_precedence_follows_the_spec():
    ordered = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "2.0.0",
        "2.1.0",
        "2.1.1",
    ]
    keys = [semver_key(t) for t in ordered]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert semver_key("v1.2.3") == semver_key("1.2.3") == semver_key("1.2.3+b.7") == semver_key("1.2.3_b.7")
    for not_semver in ("1.0", "latest", "01.0.0", "1.0.0-", "sha-abc", None):
        assert semver_key(not_semver) is None


# ---- the engine -----------------------------------------------------------------------------


def test_every_configured_gate_is_a_subject_and_off_gates_are_not(pipeline):
    gates = {
        "digest_required": True,
        "promotion_order": True,
        "soak": "1h",
        "no_downgrade": True,
        "allowed_registries": ["ghcr.io"],
        "freeze": FRIDAY_BERLIN,
    }
    result = judge(pipeline, "prod", api(f":1.3.0@{D3}"), gates)
    assert not result.failed
    assert sorted(s.id for s in result.subjects) == sorted(f"gate/{g}/api/prod" for g in gates)
    assert all(s.kind == "gate" and s.status is Status.PASSED and s.reason for s in result.subjects)
    assert result.stats == {"gates": 6, "gates_failed": 0}
    off = judge(pipeline, "prod", api(f":1.3.0@{D3}"), {"digest_required": False, "no_downgrade": True})
    assert [s.id for s in off.subjects] == ["gate/no_downgrade/api/prod"]


def test_several_failures_are_reported_together(pipeline):
    gates = {"digest_required": True, "promotion_order": True, "soak": "1h", "no_downgrade": True}
    result = judge(pipeline, "prod", api(":0.1.0"), gates)
    assert sorted(f.rule for f in result.findings) == [
        "gate-digest-required",
        "gate-no-downgrade",
        "gate-promotion-order",
        "gate-soak",
    ]
    assert all(f.evidence["app"] == "api" and f.evidence["env"] == "prod" for f in result.findings)
    assert result.stats["gates_failed"] == 4


def test_an_image_of_another_app_is_refused(pipeline):
    with pytest.raises(UsageError, match="not app api's image"):
        judge(pipeline, "prod", "ghcr.io/acme/other:1.0.0", {"digest_required": True})


def test_a_naive_now_is_utc(pipeline):
    naive = judge(pipeline, "prod", api(f"@{D3}"), {"freeze": FRIDAY_BERLIN}, now=datetime(2026, 11, 20, 16, 0))
    assert naive.failed


def test_the_registry_and_the_schema_know_the_same_gates():
    schema_gates = set(config_schema()["definitions"]["gates"]["properties"])
    assert set(GATES) == schema_gates


def test_untouched_env_history_is_not_needed(pipeline):
    # dev has no previous env: only gates that read nothing from history may be set there.
    assert not judge(pipeline, "dev", api(f"@{D0}"), {"digest_required": True}).failed


def test_the_bundled_example_blocks_dev_to_prod_and_passes_stage_to_prod(tmp_path):
    from promoter.config.loader import load_config

    from .conftest import EXAMPLES_DIR, root_conftest

    files = {p.relative_to(EXAMPLES_DIR).as_posix(): p.read_text() for p in EXAMPLES_DIR.rglob("*") if p.is_file()}
    repo = root_conftest.make_repo(tmp_path / "gitops", files)
    config = load_config(repo)
    for env in config.environments:  # the example's images are fictional: no registry holds them
        env.gates["image_exists"] = False
    dev = ImageRef.parse(
        "ghcr.io/acme/checkout-api:1.4.2@sha256:3f2a9c1d5be4e0a7c8b6f1e2d3c4b5a69788766554433221100ffeeddccbbaa9"
    )
    stage = ImageRef.parse(
        "ghcr.io/acme/checkout-api:1.4.1@sha256:1b7e4f0c2d9a8b6e5f4d3c2b1a09f8e7d6c5b4a3928170605f4e3d2c1b0a9f8e"
    )
    later = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    # A Tuesday at noon, two days or more after the commit, outside the Friday-to-Sunday freeze.
    tuesday = later + timedelta(days=(1 - later.weekday()) % 7)
    tuesday = tuesday.replace(hour=12, minute=0)
    blocked = evaluate_gates(repo, config, "checkout-api", "prod", dev, now=tuesday)
    assert {f.rule for f in blocked.findings} == {"gate-promotion-order", "gate-soak", "gate-healthy"}
    # prod's healthy gate reads Argo CD's statuses from the forge; given none, it fails closed
    # (judged against the fake forge in tests/forge/test_forge_health.py).
    health = next(f for f in blocked.findings if f.rule == "gate-healthy")
    assert "has not run in stage" in health.message
    stayed = evaluate_gates(repo, config, "checkout-api", "prod", stage, now=tuesday)
    assert [f.rule for f in stayed.findings] == ["gate-healthy"]
    assert "cannot read the commit statuses" in stayed.findings[0].message
    assert "no forge access was given to the gates" in stayed.findings[0].message
    del config.env("prod").gates["healthy"]
    assert not evaluate_gates(repo, config, "checkout-api", "prod", stage, now=tuesday).failed
    friday = tuesday + timedelta(days=3, hours=5)  # Friday 17:00 UTC: 18:00 or 19:00 in Berlin
    assert [f.rule for f in evaluate_gates(repo, config, "checkout-api", "prod", stage, now=friday).findings] == [
        "gate-freeze"
    ]


def test_gates_without_history_run_outside_git(tmp_path):
    from .conftest import CONFIG, kustomization

    folder = tmp_path / "plain"
    (folder / "apps/api/prod").mkdir(parents=True)
    (folder / ".promoter.yaml").write_text(CONFIG)
    (folder / "apps/api/prod/kustomization.yaml").write_text(kustomization("1.0.0", D0))
    from promoter.config.loader import load_config

    config = load_config(folder)
    config.env("prod").gates = {"digest_required": True, "allowed_registries": ["ghcr.io"], "image_exists": False}
    result = evaluate_gates(folder, config, "api", "prod", ImageRef.parse(api(":1.0.1")), now=TUESDAY)
    assert [f.rule for f in result.findings] == ["gate-digest-required"] and result.findings[0].location is None
    config.env("prod").gates = {"no_downgrade": True, "image_exists": False}
    with pytest.raises(UsageError, match="not inside a git repository"):
        evaluate_gates(folder, config, "api", "prod", ImageRef.parse(api(":1.0.1")), now=TUESDAY)
