"""evaluate_policies: per-environment severity, policy folders from config and --policy, combine,
findings and subjects, and `promoter check` on the example repository with real kustomize."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from promoter.config.model import Config, Environment
from promoter.model.errors import ConfigError
from promoter.model.finding import Severity
from promoter.policy import evaluate_policies
from tests.conftest import EXAMPLES, invoke, make_repo
from tests.policy.resources import resource, with_container, workload

ENVS = [Environment("dev", 0), Environment("stage", 1), Environment("prod", 2, gates={"digest_required": True})]
LATEST = with_container(workload("Deployment", name="web"), image="nginx:latest")
CONFTEST = Path(__file__).resolve().parent / "conftest_examples"


def config(**policies: object) -> Config:
    return Config(
        file=".promoter.yaml",
        environments=ENVS,
        apps={},
        policies=dict(policies),
        validation={"kubernetes_version": "1.32"},
    )


def severities(cfg: Config, env: str, tmp_path: Path, rule: str = "image-latest") -> list[Severity]:
    result = evaluate_policies([resource(LATEST, env=env)], cfg, env, tmp_path)
    return [f.severity for f in result.findings if f.rule == rule]


def test_severity_per_environment_with_fallback(tmp_path: Path) -> None:
    cfg = config(severity={"image-latest": {"dev": "warning", "*": "error"}, "probes": {"prod": "error"}})
    assert severities(cfg, "dev", tmp_path) == [Severity.WARNING]
    assert severities(cfg, "stage", tmp_path) == [Severity.ERROR]
    assert severities(cfg, "prod", tmp_path) == [Severity.ERROR]
    no_probe = with_container(workload("Deployment"), readinessProbe=None)
    for env, expected in (("dev", Severity.WARNING), ("prod", Severity.ERROR)):
        result = evaluate_policies([resource(no_probe, env=env)], cfg, env, tmp_path)
        assert [f.severity for f in result.findings if f.rule == "probes"] == [expected]


def test_single_severity_and_off(tmp_path: Path) -> None:
    assert severities(config(severity={"image-latest": "info"}), "prod", tmp_path) == [Severity.INFO]
    assert severities(config(severity={"image-latest": "off"}), "prod", tmp_path) == []
    assert severities(config(severity={"image-latest": {"prod": "off"}}), "dev", tmp_path) == [Severity.ERROR]


def test_warning_in_dev_does_not_fail_but_error_in_prod_does(tmp_path: Path) -> None:
    cfg = config(severity={"image-latest": {"dev": "warning", "*": "error"}})
    hardened_but_latest = with_container(workload("Deployment"), image="ghcr.io/acme/app:latest")
    dev = evaluate_policies([resource(hardened_but_latest, env="dev")], cfg, "dev", tmp_path)
    prod = evaluate_policies([resource(hardened_but_latest, env="prod")], cfg, "prod", tmp_path)
    assert not dev.failed and dev.subjects[0].status.value == "passed"
    assert prod.failed and prod.subjects[0].status.value == "failed"


def test_unknown_environment_in_severity_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"policies\.severity\.image-latest: unknown environment 'prd'"):
        evaluate_policies([], config(severity={"image-latest": {"prd": "error"}}), "prod", tmp_path)


def test_findings_carry_rule_source_subject_location_target_env(tmp_path: Path) -> None:
    r = resource(LATEST, env="dev", target="apps/web/overlays/dev", file="apps/web/base/deployment.yaml")
    result = evaluate_policies([r], config(), "dev", tmp_path)
    (f,) = [f for f in result.findings if f.rule == "image-latest"]
    assert (f.source, f.subject, f.target, str(f.location)) == (
        "policy",
        "apps/v1/Deployment/shop/web",
        "apps/web/overlays/dev",
        "apps/web/base/deployment.yaml:1",
    )
    assert (
        f.evidence["env"] == "dev"
        and f.evidence["policy_set"] == "builtin"
        and f.evidence["rule"] == "deny_image_latest"
    )
    assert (
        f.message
        == 'container "app" uses image "nginx:latest" without a version: pin a tag other than latest, or a digest'
    )
    assert [(s.id, s.kind, s.target) for s in result.subjects] == [
        ("apps/v1/Deployment/shop/web", "policy", "apps/web/overlays/dev")
    ]


def test_env_none_takes_each_resources_env(tmp_path: Path) -> None:
    tagged = with_container(workload("Deployment"), image="ghcr.io/acme/app:1.0")
    result = evaluate_policies([resource(tagged, env="dev"), resource(tagged, env="prod")], config(), None, tmp_path)
    assert [f.evidence["env"] for f in result.findings if f.rule == "image-digest"] == ["prod"]


def test_user_folders_from_config_and_policy_flag(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(CONFTEST / "kubernetes" / "policy", repo / "policy")
    cfg = config(paths=["policy"], builtin=False)
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d"},
        "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x:1"}]}}},
    }
    result = evaluate_policies([resource(deployment, env="dev")], cfg, "dev", repo)
    assert result.stats["policy_sets"] == ["policy"]
    assert sorted(f.message for f in result.findings) == [
        "Container c must not allow privilege escalation",
        "Containers must not run as root in Deployment d",
        "Deployment d must provide app/release labels for pod selectors",
    ]
    assert {f.rule for f in result.findings} == {"deny"}
    both = evaluate_policies([resource(deployment, env="dev")], config(), "dev", repo, extra_dirs=[repo / "policy"])
    assert both.stats["policy_sets"] == ["builtin", "policy"]
    assert {f.evidence["policy_set"] for f in both.findings} == {"builtin", "policy"}


def test_missing_policy_folder_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"policies\.paths: policy folder nope does not exist"):
        evaluate_policies([], config(paths=["nope"]), "dev", tmp_path)
    with pytest.raises(ConfigError, match="--policy .*nowhere: no such policy folder or file"):
        evaluate_policies([], config(), "dev", tmp_path, extra_dirs=[tmp_path / "nowhere"])


def test_conftest_exception_becomes_a_waived_finding(tmp_path: Path) -> None:
    cfg = config(builtin=False)
    objs = [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": n},
            "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x:1"}]}}},
        }
        for n in ("cannot-run-as-root", "can-run-as-root")
    ]
    result = evaluate_policies(
        [resource(o, env="dev") for o in objs], cfg, "dev", tmp_path, extra_dirs=[CONFTEST / "exceptions" / "policy"]
    )
    assert sorted((f.rule, f.subject, f.waived) for f in result.findings) == [
        ("run-as-root", "apps/v1/Deployment/-/can-run-as-root", True),
        ("run-as-root", "apps/v1/Deployment/-/cannot-run-as-root", False),
    ]
    assert result.stats["policy_exceptions"] == 1


def test_combine_evaluates_one_environment_at_once(tmp_path: Path) -> None:
    import yaml

    objs = list(yaml.safe_load_all((CONFTEST / "combine" / "manifests.yaml").read_text()))
    res = [resource(o, env=env, file="apps/web/all.yaml") for env in ("dev", "prod") for o in objs]
    result = evaluate_policies(
        res, config(builtin=False, combine=True), None, tmp_path, extra_dirs=[CONFTEST / "combine" / "policy"]
    )
    assert sorted((f.subject, f.message) for f in result.findings) == [
        ("combined/dev", "Service orphan (apps/web/all.yaml) selects no Deployment's pods"),
        ("combined/prod", "Service orphan (apps/web/all.yaml) selects no Deployment's pods"),
    ]
    assert [s.id for s in result.subjects] == ["combined/dev", "combined/prod"]


def test_runtime_error_becomes_a_policy_error_finding(tmp_path: Path) -> None:
    folder = tmp_path / "pol"
    folder.mkdir()
    (folder / "p.rego").write_text(
        'package main\n\nimport rego.v1\n\nname := input.metadata.name\nname := "other" if true\n\ndeny contains name if input.kind == "Pod"\n'
    )
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {}}
    result = evaluate_policies([resource(pod, env="dev")], config(builtin=False), "dev", tmp_path, extra_dirs=[folder])
    (f,) = result.findings
    assert f.rule == "policy-error" and f.severity is Severity.ERROR and f.subject == "v1/Pod/-/p"
    assert "main.deny" in f.message and "pol/p.rego:6:1: rule conflicts with rule at pol/p.rego:5:1" in f.message


def test_parallel_evaluation_gives_the_same_findings(tmp_path: Path) -> None:
    from promoter import policy

    res = [
        resource(
            with_container(workload("Deployment", name=f"w{i}"), image="nginx:latest" if i % 2 else "ghcr.io/acme/a:1"),
            env="prod",
        )
        for i in range(40)
    ]
    old = policy.PARALLEL_MIN_RESOURCES
    policy.PARALLEL_MIN_RESOURCES = 10
    try:
        two = evaluate_policies(res, config(), "prod", tmp_path, jobs=2)
    finally:
        policy.PARALLEL_MIN_RESOURCES = old
    one = evaluate_policies(res, config(), "prod", tmp_path, jobs=1)
    assert [f.to_dict() for f in two.findings] == [f.to_dict() for f in one.findings]
    assert len([f for f in one.findings if f.rule == "image-latest"]) == 20


# --- promoter check on the example repository -------------------------------------------------------

SECRET = """apiVersion: v1
kind: Secret
metadata:
  name: checkout-db
type: Opaque
stringData:
  password: hunter2
"""

CRONJOB = """apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly-report
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: report
              image: ghcr.io/acme/report:latest
"""


@pytest.fixture
def example_repo(tmp_path: Path) -> Path:
    """The example repository with a plaintext Secret and a :latest CronJob in checkout-api's base."""
    files = {str(p.relative_to(EXAMPLES)): p.read_text() for p in EXAMPLES.rglob("*") if p.is_file()}
    files["apps/checkout-api/base/secret.yaml"] = SECRET
    files["apps/checkout-api/base/cronjob.yaml"] = CRONJOB
    kustomization = files["apps/checkout-api/base/kustomization.yaml"]
    files["apps/checkout-api/base/kustomization.yaml"] = kustomization.replace(
        "resources:\n", "resources:\n  - secret.yaml\n  - cronjob.yaml\n", 1
    )
    # The shipped example already makes image-latest a warning in dev and an error elsewhere.
    assert 'image-latest: {dev: warning, "*": error}' in files[".promoter.yaml"]
    return make_repo(tmp_path / "gitops", files)


@pytest.mark.needs("kustomize")  # renders overlays (kubectl kustomize)
def test_check_reports_the_pack_with_per_environment_severities(example_repo: Path) -> None:
    assert "secret.yaml" in (example_repo / "apps/checkout-api/base/kustomization.yaml").read_text()
    out = invoke("check", "--repo", str(example_repo), "--all", "-o", "json")
    assert out.exit_code == 3, out.stderr
    report = json.loads(out.stdout)
    policy = [f for f in report["findings"] if f["source"] == "policy"]
    # one finding per line and severity: stage and prod share theirs, each names its environments
    by_env = {e: f["severity"] for f in policy if f["rule"] == "image-latest" for e in f["envs"]}
    assert by_env == {"dev": "warning", "stage": "error", "prod": "error"}
    secrets = [f for f in policy if f["rule"] == "secret-plaintext"]
    assert {e for f in secrets for e in f["envs"]} == {"dev", "stage", "prod"}
    assert all(f["severity"] == "error" and "SOPS" in f["message"] and "hunter2" not in f["message"] for f in secrets)
    assert report["stats"]["policy_sets"] == ["builtin"]


@pytest.mark.needs("kustomize")  # renders overlays (kubectl kustomize)
def test_check_with_an_extra_policy_folder(example_repo: Path) -> None:
    out = invoke(
        "check",
        "--repo",
        str(example_repo),
        "--all",
        "--env",
        "dev",
        "--policy",
        str(CONFTEST / "kubernetes" / "policy"),
        "-o",
        "json",
    )
    report = json.loads(out.stdout)
    warns = [f for f in report["findings"] if f["source"] == "policy" and f["rule"] == "warn"]
    assert sorted(f["message"] for f in warns) == [
        "Found service checkout-api but services are not allowed",
        "Found service web-web but services are not allowed",  # the web chart, rendered in process
    ]


@pytest.mark.needs("kustomize")  # renders overlays (kubectl kustomize)
def test_check_with_a_broken_policy_exits_2_naming_file_and_line(example_repo: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad-policies"
    bad.mkdir()
    (bad / "bad.rego").write_text("package main\n\nimport rego.v1\n\ndeny contains msg if {\n\tinput.kind ==\n}\n")
    out = invoke("check", "--repo", str(example_repo), "--all", "--env", "dev", "--policy", str(bad))
    assert out.exit_code == 2
    assert "bad.rego:7:" in out.stderr and "Rego error" in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1
