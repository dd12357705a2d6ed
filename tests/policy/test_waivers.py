"""Waivers: by resource annotation, by config (kind/name/namespace/file/env, rule globs), expiry."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from promoter.config.loader import load_config
from promoter.model.errors import ConfigError
from promoter.model.finding import CheckResult, Finding, Location, Severity
from promoter.policy import apply_waivers, evaluate_policies
from tests.conftest import make_repo
from tests.policy.resources import resource, with_container, workload

TODAY = dt.date(2026, 6, 15)
LATEST = with_container(workload("Deployment", name="web"), image="nginx:latest")

CONFIG_HEAD = "version: 1\nenvironments:\n  - name: dev\n  - name: prod\n"


def repo_with(tmp_path: Path, waivers: str = "", extra: str = "") -> Path:
    return make_repo(tmp_path / "repo", {".promoter.yaml": CONFIG_HEAD + extra + waivers})


def image_latest(result: CheckResult) -> list[Finding]:
    return [f for f in result.findings if f.rule == "image-latest"]


def annotated(obj: dict, rules: str, reason: str | None = None) -> dict:
    notes = {"promoter.dev/waive": rules}
    if reason:
        notes["promoter.dev/waive-reason"] = reason
    return {**obj, "metadata": {**obj["metadata"], "annotations": notes}}


def test_annotation_waives_named_rules_on_that_resource_only(tmp_path: Path) -> None:
    repo = repo_with(tmp_path)
    config = load_config(repo)
    waived = resource(annotated(LATEST, "image-latest, probes", "vendor image, tag pinned upstream"), env="dev")
    other = resource(with_container(workload("Deployment", name="api"), image="nginx:latest"), env="dev")
    result = evaluate_policies([waived, other], config, "dev", repo, today=TODAY)
    by_subject = {f.subject: f for f in image_latest(result)}
    assert by_subject[waived.id].waived is True
    assert by_subject[waived.id].waiver_reason == "vendor image, tag pinned upstream"
    assert by_subject[other.id].waived is False
    assert not result.failed or all(f.subject != waived.id for f in result.findings if f.blocking)


def test_annotation_without_reason_says_where_the_waiver_is(tmp_path: Path) -> None:
    repo = repo_with(tmp_path)
    result = evaluate_policies(
        [resource(annotated(LATEST, "image-*"), env="dev")], load_config(repo), "dev", repo, today=TODAY
    )
    (f,) = image_latest(result)
    assert f.waived and f.waiver_reason == "waived by the promoter.dev/waive annotation on Deployment shop/web"
    assert not f.blocking
    assert result.subjects[0].status.value == "passed"


def test_config_waiver_matches_kind_name_namespace_and_env(tmp_path: Path) -> None:
    waivers = (
        "waivers:\n"
        "  - rule: image-latest\n"
        "    match: {kind: Deployment, name: web, namespace: sh*, env: dev}\n"
        "    reason: legacy app, rewrite planned\n"
        "    expires: 2026-12-31\n"
    )
    repo = repo_with(tmp_path, waivers)
    config = load_config(repo)
    dev = evaluate_policies([resource(LATEST, env="dev")], config, "dev", repo, today=TODAY)
    assert [(f.waived, f.waiver_reason) for f in image_latest(dev)] == [(True, "legacy app, rewrite planned")]
    prod = evaluate_policies([resource(LATEST, env="prod")], config, "prod", repo, today=TODAY)
    assert [f.waived for f in image_latest(prod)] == [False]
    other_name = with_container(workload("Deployment", name="api"), image="nginx:latest")
    assert [
        f.waived
        for f in image_latest(evaluate_policies([resource(other_name, env="dev")], config, "dev", repo, today=TODAY))
    ] == [False]


def test_config_waiver_by_file_glob(tmp_path: Path) -> None:
    repo = repo_with(
        tmp_path, "waivers:\n  - rule: '*'\n    match: {file: 'vendor/**'}\n    reason: third-party manifests\n"
    )
    config = load_config(repo)
    vendored = resource(LATEST, env="dev", file="vendor/nginx/deploy.yaml")
    ours = resource(LATEST, env="dev", file="apps/web/deploy.yaml")
    result = evaluate_policies([vendored, ours], config, "dev", repo, today=TODAY)
    assert {f.location.file: f.waived for f in image_latest(result)} == {
        "vendor/nginx/deploy.yaml": True,
        "apps/web/deploy.yaml": False,
    }


def test_expired_waiver_fails_says_when_and_waives_nothing(tmp_path: Path) -> None:
    waivers = "waivers:\n  - rule: image-latest\n    match: {name: web}\n    reason: until the migration\n    expires: 2026-06-14\n"
    repo = repo_with(tmp_path, waivers)
    result = evaluate_policies([resource(LATEST, env="dev")], load_config(repo), "dev", repo, today=TODAY)
    assert [f.waived for f in image_latest(result)] == [False]
    (expired,) = [f for f in result.findings if f.rule == "waiver-expired"]
    assert expired.severity is Severity.ERROR and expired.blocking
    assert "expired on 2026-06-14" in expired.message and "until the migration" in expired.message
    assert expired.location == Location(".promoter.yaml", 6)
    assert result.failed


def test_waiver_holds_through_its_expiry_day(tmp_path: Path) -> None:
    waivers = "waivers:\n  - rule: image-latest\n    reason: last day\n    expires: 2026-06-15\n"
    repo = repo_with(tmp_path, waivers)
    result = evaluate_policies([resource(LATEST, env="dev")], load_config(repo), "dev", repo, today=TODAY)
    assert [f.waived for f in image_latest(result)] == [True]
    assert not [f for f in result.findings if f.rule == "waiver-expired"]


def test_apply_waivers_works_on_gate_findings_and_is_idempotent(tmp_path: Path) -> None:
    waivers = (
        "waivers:\n"
        "  - rule: gate-soak\n    match: {env: prod}\n    reason: hotfix approved by SRE\n"
        "  - rule: gate-freeze\n    reason: old\n    expires: 2026-01-01\n"
    )
    repo = repo_with(tmp_path, waivers)
    config = load_config(repo)
    gate = Finding(
        rule="gate-soak",
        severity=Severity.ERROR,
        message="soaked 10m of 1h in stage",
        source="gate",
        subject="gate:soak",
        target="prod",
        evidence={"env": "prod"},
    )
    once = apply_waivers(CheckResult(findings=[gate]), [], config, TODAY, repo=repo)
    assert [(f.rule, f.waived, f.waiver_reason) for f in once.findings] == [
        ("gate-soak", True, "hotfix approved by SRE"),
        ("waiver-expired", False, None),
    ]
    assert gate.waived is False  # the input result is not modified
    twice = apply_waivers(once, [], config, TODAY, repo=repo)
    assert [f.rule for f in twice.findings] == ["gate-soak", "waiver-expired"]


def test_bad_expiry_date_is_a_config_error(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, 'waivers:\n  - rule: x\n    reason: r\n    expires: "2026-02-30"\n')
    with pytest.raises(ConfigError, match=r"waivers\[0\]\.expires: '2026-02-30' is not a date"):
        apply_waivers(CheckResult(), [], load_config(repo), TODAY)


def test_a_resource_cannot_waive_promoters_own_evaluation_errors_but_the_config_can(tmp_path: Path) -> None:
    """A `policy-error` (a rule that errored or broke a sandbox limit) on a resource is not waived by
    that resource's annotation, globs included; a `.promoter.yaml` waiver (the platform team's) is."""
    error = Finding(
        rule="policy-error",
        severity=Severity.ERROR,
        message="policy rule main.deny in org failed while evaluating: took longer than 10 s",
        source="policy",
        subject="",
    )
    for rules in ("policy-error", "*", "policy-*"):
        res = resource(annotated(LATEST, rules, "flaky"), env="dev")
        f = dataclasses.replace(error, subject=res.id, target=res.target)
        out = apply_waivers(CheckResult(findings=[f]), [res], load_config(repo_with(tmp_path / rules)), TODAY)
        assert [(x.waived, x.blocking) for x in out.findings] == [(False, True)], rules
    repo = repo_with(
        tmp_path / "cfg", "waivers:\n  - rule: policy-error\n    match: {kind: Deployment}\n    reason: known slow\n"
    )
    res = resource(LATEST, env="dev")
    f = dataclasses.replace(error, subject=res.id, target=res.target)
    (out,) = apply_waivers(CheckResult(findings=[f]), [res], load_config(repo), TODAY).findings
    assert out.waived and out.waiver_reason == "known slow"
