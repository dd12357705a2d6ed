"""The Rego engine against conftest's semantics: its documented example verdicts, namespaces,
exceptions, combine, data.conftest.file, both syntaxes, and what bad policies turn into."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from promoter.model.errors import EXIT_USAGE, ConfigError
from promoter.policy.rego import PolicySet, Verdict, exception_name, rule_kind

EXAMPLES = Path(__file__).resolve().parent / "conftest_examples"


def docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def conftest_test(
    policy: Path, files: list[Path], namespaces: tuple[str, ...] = ("main",)
) -> tuple[int, list[Verdict]]:
    """What `conftest test -p policy files` decides: exit code 1 on failures, and the verdicts."""
    ev = PolicySet.load(policy, policy.name, namespaces).evaluator({})
    verdicts = [ev.evaluate(d, str(f)) for f in files for d in docs(f)]
    return (1 if any(v.failures for v in verdicts) else 0), verdicts


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


# --- conftest's example verdicts (acceptance tests of open-policy-agent/conftest) -------------------

K8S = EXAMPLES / "kubernetes"


def test_deployment_with_root_containers_fails() -> None:
    code, (v,) = conftest_test(K8S / "policy", [K8S / "deployment.yaml"])
    assert code == 1
    assert "Containers must not run as root in Deployment hello-kubernetes" in [m.message for m in v.failures]
    assert len(v.failures) == 3 and v.warnings == []


def test_service_passes_with_a_warning_and_fails_on_warn() -> None:
    code, (v,) = conftest_test(K8S / "policy", [K8S / "service.yaml"])
    assert code == 0
    assert [m.message for m in v.warnings] == ["Found service hello-kubernetes but services are not allowed"]
    fail_on_warn = 1 if v.warnings or v.failures else 0
    assert fail_on_warn == 1
    # conftest counts each rule definition as a test: 3 deny + 1 violation pass, 1 warn warns.
    assert v.successes == 4


def test_violation_objects_keep_metadata() -> None:
    code, (v,) = conftest_test(K8S / "policy", [K8S / "loadbalancer.yaml"])
    assert code == 1
    (m,) = [m for m in v.failures if m.rule == "violation"]
    assert m.message == "Service public-entry has type LoadBalancer which is not allowed"
    assert m.metadata == {"details": {"type": "LoadBalancer"}}


def test_multi_file_run_fails_when_the_last_file_is_fine() -> None:
    code, _ = conftest_test(K8S / "policy", [K8S / "deployment.yaml", K8S / "service.yaml"])
    assert code == 1


def test_namespace_that_is_not_present_passes() -> None:
    code, (v,) = conftest_test(K8S / "policy", [K8S / "deployment.yaml"], namespaces=("notpresent",))
    assert code == 0 and v.messages == [] and v.successes == 0


def test_exceptions_reported_like_conftest() -> None:
    # conftest: "2 tests, 0 passed, 0 warnings, 1 failure, 1 exception"
    code, verdicts = conftest_test(EXAMPLES / "exceptions" / "policy", [EXAMPLES / "exceptions" / "deployments.yaml"])
    assert code == 1
    assert sum(len(v.failures) for v in verdicts) == 1
    assert sum(v.exceptions for v in verdicts) == 1
    assert sum(v.successes for v in verdicts) == 0
    excepted = [m for v in verdicts for m in v.messages if m.excepted]
    assert [m.message for m in excepted] == ["Containers must not run as root in Deployment can-run-as-root"]


def test_combine_sees_every_file_at_once() -> None:
    policy = PolicySet.load(EXAMPLES / "combine" / "policy", "combine")
    combined = [
        {"path": "combine/manifests.yaml", "contents": d} for d in docs(EXAMPLES / "combine" / "manifests.yaml")
    ]
    v = policy.evaluator({}).evaluate(combined, "Combined")
    assert [m.message for m in v.failures] == ["Service orphan (combine/manifests.yaml) selects no Deployment's pods"]


def test_rule_names_and_exception_names_follow_conftest() -> None:
    assert [
        rule_kind(n)
        for n in ("deny", "deny_run_as_root", "violation_x", "warn", "warn_a1", "denyx", "exception", "deny_")
    ] == [
        "failure",
        "failure",
        "failure",
        "warning",
        "warning",
        None,
        None,
        None,
    ]
    assert exception_name("deny_run_as_root") == "run_as_root"
    assert exception_name("violation_x") == "x"
    assert exception_name("warn_x") == "warn_x"
    assert exception_name("deny") == "deny"


# --- namespaces, syntaxes, data ---------------------------------------------------------------------

NAMESPACED = {
    "main.rego": 'package main\n\nimport rego.v1\n\ndeny contains "main says no" if input.kind == "Pod"\n',
    "security.rego": 'package security\n\nimport rego.v1\n\nwarn_host contains "security warns" if input.spec.hostNetwork\n',
    "lib/util.rego": 'package lib.util\n\nimport rego.v1\n\nis_pod if input.kind == "Pod"\n',
}
POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"hostNetwork": True}}


@pytest.mark.parametrize(
    ("namespaces", "expected"),
    [
        (("main",), ["main says no"]),
        (("security",), ["security warns"]),
        (("main", "security"), ["main says no", "security warns"]),
        (("*",), ["main says no", "security warns"]),
    ],
)
def test_namespaces_are_selectable(tmp_path: Path, namespaces: tuple[str, ...], expected: list[str]) -> None:
    policy = PolicySet.load(write(tmp_path, NAMESPACED), "p", namespaces)
    assert sorted(m.message for m in policy.evaluator({}).evaluate(POD).messages) == expected


def test_all_namespaces_lists_every_package(tmp_path: Path) -> None:
    policy = PolicySet.load(write(tmp_path, NAMESPACED), "p", ("*",))
    assert sorted(policy.namespaces) == ["lib.util", "main", "security"]


def test_old_and_new_syntax_give_the_same_verdict(tmp_path: Path) -> None:
    old = write(
        tmp_path / "old",
        {
            "p.rego": 'package main\n\ndeny[msg] {\n  input.kind == "Pod"\n  msg := sprintf("pod %s", [input.metadata.name])\n}\n\nviolation_obj[{"msg": "o", "n": 1}] {\n  input.kind == "Pod"\n}\n'
        },
    )
    new = write(
        tmp_path / "new",
        {
            "p.rego": 'package main\n\nimport rego.v1\n\ndeny contains msg if {\n\tinput.kind == "Pod"\n\tmsg := sprintf("pod %s", [input.metadata.name])\n}\n\nviolation_obj contains {"msg": "o", "n": 1} if input.kind == "Pod"\n'
        },
    )
    for folder in (old, new):
        v = PolicySet.load(folder, folder.name).evaluator({}).evaluate(POD)
        assert sorted((m.rule, m.message, tuple(m.metadata.items())) for m in v.failures) == [
            ("deny", "pod p", ()),
            ("violation_obj", "o", (("n", 1),)),
        ]


def test_conftest_file_data_names_the_file(tmp_path: Path) -> None:
    folder = write(
        tmp_path,
        {
            "f.rego": 'package main\n\nimport rego.v1\n\ndeny contains msg if {\n\tendswith(data.conftest.file.name, "prod/app.yaml")\n\tmsg := concat(" ", ["in", data.conftest.file.dir])\n}\n'
        },
    )
    ev = PolicySet.load(folder, "f").evaluator({})
    assert [m.message for m in ev.evaluate(POD, "apps/x/prod/app.yaml").failures] == ["in apps/x/prod"]
    assert ev.evaluate(POD, "apps/x/dev/app.yaml").failures == []
    assert [m.message for m in ev.evaluate(POD, "apps/y/prod/app.yaml").failures] == ["in apps/y/prod"]


def test_data_document_reaches_policies(tmp_path: Path) -> None:
    folder = write(
        tmp_path,
        {
            "d.rego": 'package main\n\nimport rego.v1\n\ndeny contains msg if {\n\tnot input.metadata.labels.team in data.promoter.config.teams\n\tmsg := "unknown team"\n}\n'
        },
    )
    ev = PolicySet.load(folder, "d").evaluator({"promoter": {"config": {"teams": ["shop"]}}})
    assert [m.message for m in ev.evaluate({**POD, "metadata": {"labels": {"team": "x"}}}).failures] == ["unknown team"]
    assert ev.evaluate({**POD, "metadata": {"labels": {"team": "shop"}}}).failures == []


def test_sprintf_of_computed_strings_is_read_even_when_rego_cpp_breaks_the_json(tmp_path: Path) -> None:
    # rego-cpp prints computed strings JSON-quoted inside sprintf and emits unescaped quotes.
    folder = write(
        tmp_path,
        {
            "q.rego": 'package main\n\nimport rego.v1\n\ndeny contains msg if {\n\tmsg := sprintf("kind %s", [upper(input.kind)])\n}\n'
        },
    )
    (m,) = PolicySet.load(folder, "q").evaluator({}).evaluate(POD).failures
    assert "POD" in m.message


def test_test_files_are_not_loaded(tmp_path: Path) -> None:
    folder = write(
        tmp_path,
        {
            "p.rego": "package main\n\nimport rego.v1\n\ndeny contains msg if { msg := upper(input.kind) }\n",
            # `with input as` crashes rego-cpp when the rules it evaluates call a builtin.
            "p_test.rego": 'package main\n\nimport rego.v1\n\ntest_pod if { deny == {"POD"} with input as {"kind": "Pod"} }\n',
        },
    )
    policy = PolicySet.load(folder, "p")
    assert [m.file for m in policy.modules] == ["p/p.rego"]
    assert [m.message for m in policy.evaluator({}).evaluate(POD).failures] == ["POD"]


# --- bad policies ------------------------------------------------------------------------------------


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    folder = write(
        tmp_path / "pol",
        {
            "ok.rego": "package main\n",
            "bad.rego": "package main\n\nimport rego.v1\n\ndeny contains msg if {\n\tinput.kind ==\n}\n",
        },
    )
    with pytest.raises(ConfigError) as err:
        PolicySet.load(folder, "pol")
    assert err.value.exit_code == EXIT_USAGE == 2
    assert str(err.value).startswith("pol/bad.rego:6:")
    assert "Rego error" in str(err.value)


def test_unterminated_string_names_file_and_line(tmp_path: Path) -> None:
    folder = write(
        tmp_path / "pol", {"s.rego": 'package main\n\nimport rego.v1\n\ndeny contains msg if {\n\tmsg := "no end\n}\n'}
    )
    with pytest.raises(ConfigError, match=r"^pol/s\.rego:6:\d+: Rego error"):
        PolicySet.load(folder, "pol")


def test_missing_package_is_a_config_error(tmp_path: Path) -> None:
    folder = write(tmp_path / "pol", {"n.rego": 'deny contains "x" if true\n'})
    with pytest.raises(ConfigError, match=r"^pol/n\.rego:1: Rego module has no `package` declaration"):
        PolicySet.load(folder, "pol")


def test_with_input_outside_tests_is_refused_with_its_line(tmp_path: Path) -> None:
    folder = write(
        tmp_path / "pol",
        {"w.rego": "package main\n\nimport rego.v1\n\nok if true\n\nx := y if {\n\ty := ok with input as {}\n}\n"},
    )
    with pytest.raises(ConfigError, match=r"^pol/w\.rego:8: `with input as`"):
        PolicySet.load(folder, "pol")


def test_missing_and_empty_folders_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="policy folder nowhere does not exist"):
        PolicySet.load(tmp_path / "nowhere", "nowhere")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.md").write_text("no rego here")
    with pytest.raises(ConfigError, match="policy folder empty holds no .rego files"):
        PolicySet.load(tmp_path / "empty", "empty")


def test_runtime_error_is_reported_and_other_rules_still_count(tmp_path: Path) -> None:
    folder = write(
        tmp_path,
        {
            "r.rego": (
                "package main\n\nimport rego.v1\n\n"
                "replicas := input.spec.replicas\nreplicas := 3 if input.spec.replicas\n\n"
                'deny_conflict contains "too many" if replicas > 2\n\n'
                'warn_kind contains msg if { msg := concat(" ", ["kind", input.kind]) }\n'
            )
        },
    )
    ev = PolicySet.load(folder, "r").evaluator({})
    v = ev.evaluate({"kind": "Deployment", "spec": {"replicas": 5}})
    assert [(e.rule, e.message) for e in v.errors] == [
        ("deny_conflict", "complete rules must not produce multiple outputs")
    ]
    assert [m.message for m in v.warnings] == ["kind Deployment"]
    # The same set on an input without the conflict evaluates normally.
    ok = ev.evaluate({"kind": "Deployment", "spec": {"replicas": 3}})
    assert ok.errors == [] and [m.message for m in ok.failures] == ["too many"]


def test_object_without_msg_is_a_policy_error(tmp_path: Path) -> None:
    folder = write(
        tmp_path, {"o.rego": 'package main\n\nimport rego.v1\n\nviolation contains {"message": "wrong key"} if true\n'}
    )
    v = PolicySet.load(folder, "o").evaluator({}).evaluate(POD)
    assert v.failures == []
    assert len(v.errors) == 1 and "without a string `msg`" in v.errors[0].message


def test_yaml_dates_reach_policies_as_strings(tmp_path: Path) -> None:
    import datetime as dt

    folder = write(
        tmp_path,
        {
            "d.rego": 'package main\n\nimport rego.v1\n\ndeny contains input.metadata.annotations.since if input.kind == "Pod"\n'
        },
    )
    pod = {**POD, "metadata": {"name": "p", "annotations": {"since": dt.date(2026, 1, 2)}}}
    assert [m.message for m in PolicySet.load(folder, "d").evaluator({}).evaluate(pod).failures] == ["2026-01-02"]


def test_call_to_a_missing_function_is_a_config_error_with_its_line(tmp_path: Path) -> None:
    folder = write(
        tmp_path / "pol",
        {
            "f.rego": "package main\n\nimport rego.v1\n\n# nofunc( in a comment does not count\ndeny contains x if {\n\tx := nofunc(1)\n}\n"
        },
    )
    with pytest.raises(ConfigError, match=r"^pol/f\.rego:7:7: Rego error: function nofunc is not defined$"):
        PolicySet.load(folder, "pol")


def test_missing_function_behind_a_guard_is_a_runtime_error_not_a_crash(tmp_path: Path) -> None:
    folder = write(
        tmp_path,
        {
            "g.rego": 'package main\n\nimport rego.v1\n\ndeny contains x if {\n\tinput.kind == "Pod"\n\tx := nofunc(1)\n}\n\nwarn contains "still here" if true\n'
        },
    )
    v = PolicySet.load(folder, "g").evaluator({}).evaluate(POD)
    assert [(e.rule, e.message) for e in v.errors] == [("deny", "Function not found: nofunc")]
    assert [m.message for m in v.warnings] == ["still here"]


def test_a_policy_that_crashes_the_interpreter_is_a_config_error(tmp_path: Path) -> None:
    # `with input` split over two lines passes the line check, and aborts rego-cpp when compiled:
    # the child process that compiles user folders first turns that into a config error.
    folder = write(
        tmp_path / "pol",
        {
            "c.rego": 'package main\n\nimport rego.v1\n\nname := upper(input.kind)\n\ndeny contains msg if {\n\tmsg := name with input\n\t\tas {"kind": "x"}\n}\n'
        },
    )
    with pytest.raises(
        ConfigError,
        match=r"^pol: the Rego interpreter \(rego-cpp, via regopy\) crashed compiling these policies: .*rego-localref",
    ):
        PolicySet.load(folder, "pol")
