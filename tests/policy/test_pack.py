"""The built-in pack: its Rego unit tests, each rule failing and passing through the engine, every
pod-bearing kind and container list, the batch entry point agreeing with the rules, its metadata."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest

from promoter.config.model import Config, Environment
from promoter.policy import builtin_set, evaluate_policies
from promoter.policy.pack import pack_dir, pack_rules, rule_id
from promoter.policy.policyset import PolicySet
from promoter.policy.runner import verify
from promoter.policy.source import read_modules
from tests.policy.resources import (
    DIGEST,
    POD_KINDS,
    resource,
    with_container,
    with_pod,
    workload,
)

ROOT = Path(__file__).resolve().parents[2]


def rego_unit_tests(folder: Path) -> tuple[list[str], Any]:
    """Every `test_` rule of the folder run the way `promoter policy verify` runs them."""
    policy_set = PolicySet.load([(folder, "pack")], verify=True)
    return [r.name for r in policy_set.checks], verify(policy_set, {})


@pytest.fixture(scope="module")
def pack_tests() -> tuple[list[str], Any]:
    return rego_unit_tests(pack_dir())


def _pack_test_names() -> list[str]:
    return [
        n
        for f in sorted(pack_dir().glob("*_test.rego"))
        for n in re.findall(r"^(test_\w+)\s+if\b", f.read_text(), re.MULTILINE)
    ]


def test_every_pack_test_ran(pack_tests: tuple[list[str], Any]) -> None:
    names, verdict = pack_tests
    assert sorted(names) == sorted(_pack_test_names()) and len(names) >= 55


@pytest.mark.parametrize("name", _pack_test_names())
def test_rego_unit_test_passes(pack_tests: tuple[list[str], Any], name: str) -> None:
    _, verdict = pack_tests
    failed = {m.rule: m.message for m in verdict.messages} | {e.rule: e.message for e in verdict.errors}
    assert name not in failed, failed.get(name)


def test_rego_unit_test_runner_catches_a_failing_test(tmp_path: Path) -> None:
    for f in pack_dir().rglob("*.rego"):
        dest = tmp_path / f.relative_to(pack_dir())
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(f.read_text())
    (tmp_path / "broken_test.rego").write_text(
        "package main\n\nimport rego.v1\n\n"
        'test_latest_is_fine if {\n\tcount(deny_image_latest) == 0 with input as {"kind": "Pod", "spec": {"containers": [{"name": "a", "image": "x:latest"}]}}\n}\n'
    )
    names, verdict = rego_unit_tests(tmp_path)
    assert "test_latest_is_fine" in names
    assert [m.rule for m in verdict.messages] == ["test_latest_is_fine"]


def test_pack_tests_pass_without_promoter_data() -> None:
    """`conftest verify -p policies` gives no data: every test sets what it reads with `with`."""
    _, verdict = rego_unit_tests(pack_dir())
    assert verdict.messages == [] and verdict.errors == []


def test_every_rule_file_has_passing_and_failing_rego_tests() -> None:
    tests = " ".join(f.read_text() for f in pack_dir().glob("*_test.rego"))
    for rule in pack_rules():
        name = rule.rule.split("_", 1)[1]
        assert re.search(rf"^test_{name}_\w*fails", tests, re.MULTILINE), f"{rule.id}: no failing-resource Rego test"
        assert re.search(rf"^test_{name}_\w*passes", tests, re.MULTILINE), f"{rule.id}: no passing-resource Rego test"


def test_every_rule_has_id_rationale_and_default_severity() -> None:
    rules = pack_rules()
    assert len(rules) == 15
    rego_files = {f.name for f in pack_dir().glob("*.rego") if not f.name.endswith("_test.rego")}
    assert {r.file for r in rules} == rego_files  # one rule per file
    for r in rules:
        assert r.id == rule_id(r.rule)
        assert r.title and len(r.description) > 150, r.id
        assert r.severity in ("error", "warning")
        assert r.severity == ("error" if r.rule.startswith("deny_") else "warning")


def test_docs_list_every_rule() -> None:
    docs = (ROOT / "docs" / "policies.md").read_text()
    for r in pack_rules():
        assert f"`{r.id}`" in docs, f"docs/policies.md does not describe {r.id}"


# --- each rule failing and passing through the engine ---------------------------------------------

ENVS = [Environment("dev", 0), Environment("prod", 1, gates={"digest_required": True})]


def config(**policies: Any) -> Config:
    validation = policies.pop("validation", {"kubernetes_version": "1.32"})
    return Config(file=None, environments=ENVS, apps={}, policies=policies, validation=validation)


HARDENED = workload("Deployment")
PLAIN_SECRET = {
    "apiVersion": "v1",
    "kind": "Secret",
    "metadata": {"name": "db", "namespace": "shop"},
    "type": "Opaque",
    "data": {"password": "aHVudGVyMg=="},
}
SOPS_SECRET = {
    **PLAIN_SECRET,
    "data": {"password": "ENC[AES256_GCM,data:Tr7o1Q==,iv:aa==,tag:bb==,type:str]"},
    "sops": {
        "mac": "ENC[AES256_GCM,data:cc,iv:dd,tag:ee,type:str]",
        "lastmodified": "2026-01-01T00:00:00Z",
        "version": "3.9.0",
    },
}
SEALED = {
    "apiVersion": "bitnami.com/v1alpha1",
    "kind": "SealedSecret",
    "metadata": {"name": "db"},
    "spec": {"encryptedData": {"password": "AgBy3i4OJSWK"}},
}
EXTERNAL = {
    "apiVersion": "external-secrets.io/v1",
    "kind": "ExternalSecret",
    "metadata": {"name": "db"},
    "spec": {"data": [{"secretKey": "password", "remoteRef": {"key": "db"}}]},
}
HPA = {"kind": "HorizontalPodAutoscaler", "metadata": {"name": "app"}, "spec": {"maxReplicas": 3}}

# rule id -> (failing object, passing object, policies config, env)
CASES: dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, Any], str]] = {
    "image-latest": (with_container(HARDENED, image="nginx:latest"), HARDENED, {}, "dev"),
    "image-digest": (with_container(HARDENED, image="ghcr.io/acme/app:1.4.2"), HARDENED, {}, "prod"),
    "container-resources": (with_container(HARDENED, resources=None), HARDENED, {}, "dev"),
    "run-as-non-root": (with_pod(HARDENED, securityContext={}), HARDENED, {}, "dev"),
    "privileged": (with_container(HARDENED, securityContext={"privileged": True}), HARDENED, {}, "dev"),
    "privilege-escalation": (
        with_container(HARDENED, securityContext={"allowPrivilegeEscalation": True}),
        HARDENED,
        {},
        "dev",
    ),
    "host-namespaces": (with_pod(HARDENED, hostPID=True), HARDENED, {}, "dev"),
    "host-path": (with_pod(HARDENED, volumes=[{"name": "etc", "hostPath": {"path": "/etc"}}]), HARDENED, {}, "dev"),
    "readonly-root-filesystem": (
        with_container(HARDENED, securityContext={"readOnlyRootFilesystem": False}),
        HARDENED,
        {},
        "dev",
    ),
    "capabilities-drop": (
        with_container(HARDENED, securityContext={"capabilities": {"drop": ["NET_RAW"]}}),
        HARDENED,
        {},
        "dev",
    ),
    "probes": (with_container(HARDENED, readinessProbe=None), HARDENED, {}, "dev"),
    "secret-plaintext": (PLAIN_SECRET, SOPS_SECRET, {}, "dev"),
    "api-removed": (
        {"apiVersion": "batch/v1beta1", "kind": "CronJob", "metadata": {"name": "c"}},
        {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c"}},
        {},
        "dev",
    ),
    "api-deprecated": (
        {**HPA, "apiVersion": "autoscaling/v2beta2"},
        {**HPA, "apiVersion": "autoscaling/v2"},
        {"validation": {"kubernetes_version": "1.24"}},
        "dev",
    ),
    "registry-allowlist": (
        with_container(HARDENED, image=f"docker.io/library/nginx:1.27@{DIGEST}"),
        HARDENED,
        {"allowed_registries": ["ghcr.io/acme"]},
        "dev",
    ),
}


def rules_reported(obj: dict[str, Any], cfg: Config, env: str, tmp_path: Path) -> dict[str, list[str]]:
    result = evaluate_policies([resource(obj, env=env)], cfg, env, tmp_path)
    out: dict[str, list[str]] = {}
    for f in result.findings:
        out.setdefault(f.rule, []).append(f.message)
    return out


def test_cases_cover_every_rule() -> None:
    assert set(CASES) == {r.id for r in pack_rules()}


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_fails_on_bad_resource(rule: str, tmp_path: Path) -> None:
    bad, _, policies, env = CASES[rule]
    reported = rules_reported(bad, config(**copy.deepcopy(policies)), env, tmp_path)
    assert rule in reported, f"{rule} not reported; got {sorted(reported)}"


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_passes_on_good_resource(rule: str, tmp_path: Path) -> None:
    _, good, policies, env = CASES[rule]
    reported = rules_reported(good, config(**copy.deepcopy(policies)), env, tmp_path)
    assert rule not in reported, reported.get(rule)


def test_hardened_workload_passes_the_whole_pack_in_prod(tmp_path: Path) -> None:
    cfg = config(allowed_registries=["ghcr.io/acme"])
    objs = [workload(kind) for kind in POD_KINDS] + [SOPS_SECRET, SEALED, EXTERNAL]
    result = evaluate_policies([resource(o, env="prod") for o in objs], cfg, "prod", tmp_path)
    assert [f.to_dict() for f in result.findings] == []
    assert len(result.subjects) == len(objs)


def test_image_digest_only_where_the_environment_requires_it(tmp_path: Path) -> None:
    tagged = with_container(HARDENED, image="ghcr.io/acme/app:1.4.2")
    assert "image-digest" not in rules_reported(tagged, config(), "dev", tmp_path)
    assert "image-digest" in rules_reported(tagged, config(), "prod", tmp_path)


def test_registry_allowlist_absent_means_pass(tmp_path: Path) -> None:
    outside = with_container(HARDENED, image=f"quay.io/other/app:1@{DIGEST}")
    assert "registry-allowlist" not in rules_reported(outside, config(), "dev", tmp_path)
    msgs = rules_reported(outside, config(allowed_registries=["ghcr.io/acme", "docker.io"]), "dev", tmp_path)[
        "registry-allowlist"
    ]
    assert msgs == [
        'container "app" pulls "quay.io/other/app:1@'
        + DIGEST
        + '" from quay.io, which is not an allowed registry (allowed: ghcr.io/acme, docker.io)'
    ]


def test_secret_message_says_how_to_encrypt_and_never_shows_values(tmp_path: Path) -> None:
    (msg,) = rules_reported(PLAIN_SECRET, config(), "dev", tmp_path)["secret-plaintext"]
    for hint in ("SOPS", "sops --encrypt", "SealedSecret", "ExternalSecret", "keys: password"):
        assert hint in msg
    assert "aHVudGVyMg==" not in msg and "hunter2" not in msg


@pytest.mark.parametrize("secret", [SEALED, EXTERNAL, SOPS_SECRET, {**PLAIN_SECRET, "data": {}}])
def test_secret_forms_without_plaintext_pass(secret: dict[str, Any], tmp_path: Path) -> None:
    assert "secret-plaintext" not in rules_reported(secret, config(), "dev", tmp_path)


def test_api_removed_uses_the_configured_kubernetes_version(tmp_path: Path) -> None:
    old = {"apiVersion": "policy/v1beta1", "kind": "PodDisruptionBudget", "metadata": {"name": "p"}}
    assert "api-deprecated" in rules_reported(old, config(validation={"kubernetes_version": "1.22"}), "dev", tmp_path)
    reported = rules_reported(old, config(validation={"kubernetes_version": "1.25"}), "dev", tmp_path)
    assert reported["api-removed"] == [
        "policy/v1beta1 PodDisruptionBudget was removed in Kubernetes 1.25 (target is 1.25.0): use policy/v1"
    ]
    assert "api-deprecated" not in reported


@pytest.mark.parametrize("kind", POD_KINDS)
@pytest.mark.parametrize("field", ["containers", "initContainers", "ephemeralContainers"])
def test_pod_spec_rules_cover_every_kind_and_container_list(kind: str, field: str, tmp_path: Path) -> None:
    obj = with_container(workload(kind), field, image="nginx:latest", securityContext={"privileged": True})
    reported = rules_reported(obj, config(), "dev", tmp_path)
    name = "app" if field == "containers" else f"{field.lower()}-1"
    assert any(f'container "{name}"' in m for m in reported.get("privileged", [])), reported
    assert any(f'container "{name}"' in m for m in reported.get("image-latest", [])), reported


# --- what the speed-ups rely on ---------------------------------------------------------------------


def test_every_removed_api_version_is_a_beta() -> None:
    """api-removed and api-deprecated skip the table unless the apiVersion says beta."""
    from promoter.policy.engine import Engine

    e = Engine()
    for m in read_modules(pack_dir(), "builtin"):
        e.add_module(m.file, m.source)
    table = e.eval_rule("data.lib.api_removals")
    assert len(table) > 20 and all("beta" in version for version in table)


def test_rules_limited_to_kinds_say_nothing_about_other_kinds() -> None:
    """The kind index (METADATA custom.kinds) only skips rules that would say nothing: each such rule,
    given every spoilt resource re-labelled with a kind outside its list, stays silent."""
    policy_set = builtin_set()
    assert policy_set.kinds and "deny_secret_plaintext" in policy_set.kinds
    data = {
        "promoter": {
            "env": "prod",
            "kubernetes_version": "1.24",
            "allowed_registries": ["ghcr.io/acme"],
            "require_digest": True,
            "config": {},
        }
    }
    every = PolicySet("builtin", policy_set.modules).evaluator(data)  # no kind index
    others = [
        "Service",
        "ConfigMap",
        "Ingress",
        "HorizontalPodAutoscaler",
        "SealedSecret",
        "CustomThing",
        "Secret",
        *POD_KINDS,
    ]
    spoilt = [bad for bad, _, _, _ in CASES.values()]
    checked = 0
    for rule, kinds in policy_set.kinds.items():
        for kind in others:
            if kind in kinds:
                continue
            for obj in spoilt:
                verdict = every.evaluate({**obj, "kind": kind})
                assert not [m for m in verdict.messages if m.rule == rule], (rule, kind)
                checked += 1
    assert checked > 100


def test_kind_index_gives_the_same_verdicts_as_every_rule() -> None:
    data = {
        "promoter": {
            "env": "prod",
            "kubernetes_version": "1.24",
            "allowed_registries": ["ghcr.io/acme"],
            "require_digest": True,
            "config": {},
        }
    }
    indexed = builtin_set().evaluator(data)
    every = PolicySet("builtin", builtin_set().modules).evaluator(data)
    objs = [o for bad, good, _, _ in CASES.values() for o in (bad, good)] + [workload(k) for k in POD_KINDS]

    def key(v: Any) -> list[tuple[str, str]]:
        return sorted((m.rule, m.message) for m in v.messages)

    assert [key(indexed.evaluate(o)) for o in objs] == [key(every.evaluate(o)) for o in objs]
    assert sum(len(key(every.evaluate(o))) for o in objs) > 15


def test_each_rule_is_written_once() -> None:
    """No batch function restating the rules, no helper function per rule: each check rule's body is
    the rule (tests evaluate the rule itself `with input as`)."""
    text = "\n".join(f.read_text() for f in pack_dir().rglob("*.rego") if not f.name.endswith("_test.rego"))
    assert not re.search(r"\bchecks\(", text) and "msg := concat(" not in text
    for r in pack_rules():
        name = r.rule.split("_", 1)[1]
        assert not re.search(rf"^{name}\(", text, re.MULTILINE), f"{r.rule} is restated as a function {name}()"
