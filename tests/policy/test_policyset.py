"""Policy sets with conftest's semantics on the regorus engine: conftest's documented example
verdicts, namespaces, exceptions, combine, data.conftest.file, and what the checks made at load
refuse (each with file:line:col and the fix)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from promoter.model.errors import EXIT_USAGE, ConfigError
from promoter.policy.pack import pack_dir
from promoter.policy.policyset import PolicySet, Verdict, exception_name
from promoter.policy.source import read_modules, rule_kind

EXAMPLES = Path(__file__).resolve().parent / "conftest_examples"


def docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def load(path: Path, name: str, namespaces: tuple[str, ...] = ("main",)) -> PolicySet:
    return PolicySet.load([(path, name)], namespaces)


def conftest_test(
    policy: Path, files: list[Path], namespaces: tuple[str, ...] = ("main",)
) -> tuple[int, list[Verdict]]:
    """What `conftest test -p policy files` decides: exit code 1 on failures, and the verdicts."""
    ev = load(policy, policy.name, namespaces).evaluator({})
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
    assert sum(len(v.exceptions) for v in verdicts) == 1
    assert sum(v.successes for v in verdicts) == 0
    excepted = [m for v in verdicts for m in v.messages if m.excepted]
    assert [m.message for m in excepted] == ["Containers must not run as root in Deployment can-run-as-root"]


def test_combine_sees_every_file_at_once() -> None:
    policy = load(EXAMPLES / "combine" / "policy", "combine")
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
    assert exception_name("warn_x") == "x"  # conftest v0.69 exempts warn_ rules too
    assert exception_name("deny") == "" and exception_name("warn") == ""


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
    policy = load(write(tmp_path, NAMESPACED), "p", namespaces)
    assert sorted(m.message for m in policy.evaluator({}).evaluate(POD).messages) == expected


def test_all_namespaces_lists_every_package(tmp_path: Path) -> None:
    policy = load(write(tmp_path, NAMESPACED), "p", ("*",))
    assert sorted(policy.namespaces) == ["lib.util", "main", "security"]


def test_v0_syntax_is_a_parse_error_as_in_conftest(tmp_path: Path) -> None:
    old = write(tmp_path / "old", {"p.rego": 'package main\n\ndeny[msg] {\n  input.kind == "Pod"\n  msg := "pod"\n}\n'})
    with pytest.raises(ConfigError, match=r"^old/p\.rego:3:\d+: Rego error: `if` keyword is required"):
        load(old, "old")


def test_conftest_file_data_names_the_file(tmp_path: Path) -> None:
    folder = write(
        tmp_path,
        {
            "f.rego": 'package main\n\nimport rego.v1\n\ndeny contains msg if {\n\tendswith(data.conftest.file.name, "prod/app.yaml")\n\tmsg := concat(" ", ["in", data.conftest.file.dir])\n}\n'
        },
    )
    ev = load(folder, "f").evaluator({})
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
    ev = load(folder, "d").evaluator({"promoter": {"config": {"teams": ["shop"]}}})
    assert [m.message for m in ev.evaluate({**POD, "metadata": {"labels": {"team": "x"}}}).failures] == ["unknown team"]
    assert ev.evaluate({**POD, "metadata": {"labels": {"team": "shop"}}}).failures == []


def test_test_files_are_not_loaded(tmp_path: Path) -> None:
    folder = write(
        tmp_path,
        {
            "p.rego": "package main\n\nimport rego.v1\n\ndeny contains msg if { msg := upper(input.kind) }\n",
            "p_test.rego": 'package main\n\nimport rego.v1\n\ntest_pod if { deny == {"POD"} with input as {"kind": "Pod"} }\n',
        },
    )
    policy = load(folder, "p")
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
        load(folder, "pol")
    assert err.value.exit_code == EXIT_USAGE == 2
    assert str(err.value).startswith("pol/bad.rego:7:")
    assert "Rego error" in str(err.value)


def test_unterminated_string_names_file_and_line(tmp_path: Path) -> None:
    folder = write(
        tmp_path / "pol", {"s.rego": 'package main\n\nimport rego.v1\n\ndeny contains msg if {\n\tmsg := "no end\n}\n'}
    )
    with pytest.raises(ConfigError, match=r"^pol/s\.rego:6:\d+: Rego error"):
        load(folder, "pol")


def test_missing_and_empty_folders_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="policy path nowhere does not exist"):
        load(tmp_path / "nowhere", "nowhere")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.md").write_text("no rego here")
    with pytest.raises(ConfigError, match="policy folder empty holds no .rego files"):
        load(tmp_path / "empty", "empty")


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
    ev = load(folder, "r").evaluator({})
    v = ev.evaluate({"kind": "Deployment", "spec": {"replicas": 5}})
    assert [e.rule for e in v.errors] == ["deny_conflict"]
    assert v.errors[0].message.startswith("r/r.rego:") and v.errors[0].files == ["r/r.rego"]
    assert [m.message for m in v.warnings] == ["kind Deployment"]
    # The same set on an input without the conflict evaluates normally.
    ok = ev.evaluate({"kind": "Deployment", "spec": {"replicas": 3}})
    assert ok.errors == [] and [m.message for m in ok.failures] == ["too many"]


def test_object_without_msg_is_a_policy_error(tmp_path: Path) -> None:
    folder = write(
        tmp_path, {"o.rego": 'package main\n\nimport rego.v1\n\nviolation contains {"message": "wrong key"} if true\n'}
    )
    v = load(folder, "o").evaluator({}).evaluate(POD)
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
    assert [m.message for m in load(folder, "d").evaluator({}).evaluate(pod).failures] == ["2026-01-02"]


def test_call_to_a_missing_function_is_a_config_error_with_its_line(tmp_path: Path) -> None:
    folder = write(
        tmp_path / "pol",
        {
            "f.rego": "package main\n\nimport rego.v1\n\n# nofunc( in a comment does not count\ndeny contains x if {\n\tx := nofunc(1)\n}\n"
        },
    )
    with pytest.raises(ConfigError, match=r"^pol/f\.rego:7:\d+: Rego error: undefined function nofunc$"):
        load(folder, "pol")


def test_missing_function_behind_a_guard_is_refused_at_load(tmp_path: Path) -> None:
    folder = write(
        tmp_path / "g",
        {
            "g.rego": 'package main\n\nimport rego.v1\n\ndeny contains x if {\n\tinput.kind == "Pod"\n\tx := nofunc(1)\n}\n'
        },
    )
    with pytest.raises(ConfigError, match=r"^g/g\.rego:7:\d+: Rego error: undefined function nofunc"):
        load(folder, "g")


def test_function_of_another_package_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    folder = write(
        tmp_path / "h",
        {
            "lib.rego": "package lib\n\nimport rego.v1\n\nf(x) := x\n",
            "m.rego": "package main\n\nimport rego.v1\n\nimport data.lib\n\ndeny contains lib.g(1) if true\n",
        },
    )
    with pytest.raises(ConfigError, match=r"^h/m\.rego:7:\d+: Rego error: undefined function lib\.g"):
        load(folder, "h")


# --- the checks made at load: regorus' silent pass, stricter-than-conftest shapes, the sandbox ----


def test_head_computed_from_a_body_variable_is_refused_with_the_fix(tmp_path: Path) -> None:
    folder = write(
        tmp_path / "p",
        {
            "p.rego": 'package main\n\nimport rego.v1\n\ndeny contains sprintf("%s uses %s", [c.name, c.image]) if some c in input.containers\n'
        },
    )
    with pytest.raises(ConfigError) as err:
        load(folder, "p")
    text = str(err.value)
    assert text.startswith("p/p.rego:5:1: `deny contains sprintf(")
    assert "would pass silently" in text and "msg := sprintf(" in text
    assert err.value.exit_code == 2


def test_the_silent_pass_is_real_without_the_check() -> None:
    """What the check guards against: regorus drops every element when one head is undefined."""
    from promoter.policy.engine import Engine

    e = Engine()
    e.add_module(
        "p.rego",
        'package main\nimport rego.v1\ndeny contains sprintf("%s uses %s", [c.name, c.image]) if some c in input.containers\n',
    )
    e.set_input({"containers": [{"name": "a", "image": "x"}, {"name": "b"}]})
    assert e.eval_rule("data.main.deny") == []  # OPA: ["a uses x"]


@pytest.mark.parametrize(
    "head",
    [
        'deny contains msg if { some c in input.containers; msg := sprintf("%s", [c.name]) }',
        'deny contains sprintf("n=%d", [count(input.containers)]) if true',
        'deny contains sprintf("%s", [n]) if { some c in input.containers; n := c.name }',
        'deny contains {"msg": m, "n": 1} if { some c in input.containers; m := c.name }',
        'deny contains "constant" if input.kind == "Pod"',
    ],
)
def test_safe_heads_load(tmp_path: Path, head: str) -> None:
    load(write(tmp_path / "ok", {"p.rego": f"package main\n\nimport rego.v1\n\n{head}\n"}), "ok")


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (
            "imgs[c.image] := true if some c in input.containers",
            "`imgs[c.image] := true` computes the object's key in the rule head from c: ",
        ),
        (
            "byname[c.name] := c.image if {\n\tsome c in input.containers\n}",
            "`byname[c.name] := c.image` computes the object's key and value in the rule head from c: ",
        ),
        (
            "byname[n] := c.image if { some c in input.containers; n := c.name }",
            "`byname[n] := c.image` computes the object's value in the rule head from c: ",
        ),
        ('y[k] := input.z[k] if some k in ["q", "r"]', "`y[k] := input.z[k]` computes the object's value"),
    ],
)
def test_the_partial_object_silent_pass_shape_is_refused_with_the_fix(tmp_path: Path, head: str, expected: str) -> None:
    folder = write(tmp_path / "o", {"p.rego": f"package main\n\nimport rego.v1\n\n{head}\n"})
    with pytest.raises(ConfigError) as err:
        load(folder, "o")
    text = str(err.value)
    assert text.startswith(f"o/p.rego:5:1: {expected}"), text
    assert "returns an empty object" in text and "would pass silently; build it in the body" in text
    assert err.value.exit_code == 2


def test_the_partial_object_silent_pass_is_real_without_the_check() -> None:
    """What that check guards against: one element without the field empties the whole object."""
    from promoter.policy.engine import Engine

    e = Engine()
    e.add_module(
        "p.rego",
        "package main\nimport rego.v1\nbyname[c.name] := c.image if some c in input.containers\n"
        "deny contains k if some k, _ in byname\n",
    )
    e.set_input({"containers": [{"name": "a", "image": "x"}, {"name": "b"}]})
    assert e.eval_rule("data.main.byname") == {}  # OPA: {"a": "x"}
    assert e.eval_rule("data.main.deny") == []  # OPA: ["a"]


@pytest.mark.parametrize(
    "head",
    [
        "byname[k] := v if { some c in input.containers; k := c.name; v := c.image }",
        'x["a"] := 1',
        "y[k] := true if some k in input.names",
        "z[input.kind] := input.metadata.name if true",
        'w[k] := sprintf("%s", [k]) if some k in input.names',
    ],
)
def test_safe_partial_object_heads_load(tmp_path: Path, head: str) -> None:
    load(write(tmp_path / "ok", {"p.rego": f"package main\n\nimport rego.v1\n\n{head}\n"}), "ok")


def test_the_pack_never_uses_the_silent_pass_head_shape() -> None:
    # Loading runs the check over every module; and no rule head of the pack computes anything.
    modules = read_modules(pack_dir(), "builtin")
    PolicySet("builtin", modules)
    for m in modules:
        for line in m.source.splitlines():
            if " contains " in line and " if" in line and not line.lstrip().startswith("#"):
                assert line.split(" contains ", 1)[1].startswith("msg if"), f"{m.file}: {line}"


def test_deny_brackets_if_is_refused_with_the_fix(tmp_path: Path) -> None:
    folder = write(tmp_path / "b", {"p.rego": 'package main\n\nimport rego.v1\n\ndeny[msg] if {\n\tmsg := "x"\n}\n'})
    with pytest.raises(
        ConfigError, match=r"^b/p\.rego:5:1: `deny\[msg\] if` defines an object .* write `deny contains msg if`"
    ):
        load(folder, "b")


def test_empty_message_fails_instead_of_passing(tmp_path: Path) -> None:
    folder = write(
        tmp_path / "e",
        {"p.rego": 'package main\n\nimport rego.v1\n\ndeny contains m if m := object.get(input, "reason", "")\n'},
    )
    (m,) = load(folder, "e").evaluator({}).evaluate(POD).failures
    assert "empty message" in m.message


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            'package main\n\nimport rego.v1\n\nf(x) := y if {\n\ty := f(x)\n}\n\ndeny contains "x" if f(1)\n',
            r"^r/p\.rego:5:1: Rego error: recursion: main\.f -> main\.f",
        ),
        (
            'package main\n\nimport rego.v1\n\na if b\n\nb if a\n\ndeny contains "x" if a\n',
            r"^r/p\.rego:\d+:1: Rego error: recursion: main\.(a|b) -> ",
        ),
    ],
)
def test_recursion_is_refused_at_load(tmp_path: Path, source: str, expected: str) -> None:
    # A recursive function would overflow regorus' stack (SIGSEGV): it never reaches the engine.
    with pytest.raises(ConfigError, match=expected) as err:
        load(write(tmp_path / "r", {"p.rego": source}), "r")
    assert err.value.exit_code == EXIT_USAGE


HEAD = "package main\n\nimport rego.v1\n\n"


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        # Unsafe variables: OPA refuses them at compile time (rego_unsafe_var_error).
        (
            {"p.rego": HEAD + 'deny contains msg if {\n\tx == 1\n\tmsg := "a"\n}\n'},
            r"^k/p\.rego:6:\d+: Rego error: .*`x` is unsafe",
        ),
        (
            {"p.rego": HEAD + 'warn contains "ok" if true\n\nf(a) := b if {\n\tb := a + y\n}\n'},
            r"^k/p\.rego:8:\d+: Rego error: .*`y` is unsafe",
        ),
        # In a library package no check rule reads, for a kind no input has: still refused.
        (
            {
                "p.rego": HEAD + 'warn contains "ok" if true\n',
                "lib.rego": "package lib\n\nimport rego.v1\n\nnames contains n if {\n\tsome n in input.a\n\tz > 1\n}\n",
            },
            r"^k/lib\.rego:7:\d+: Rego error: .*`z` is unsafe",
        ),
        # One rule defined as two kinds: OPA's conflicting rules (rego_type_error).
        (
            {"p.rego": HEAD + 'deny contains "a" if true\n\ndeny := 5\n'},
            r"^k/p\.rego:7:1: Rego error: conflicting rules main\.deny: defined here as a complete rule .* and at "
            r"k/p\.rego:5:1 as a partial set",
        ),
        (
            {"a.rego": HEAD + 'deny contains "a" if true\n', "b.rego": HEAD + 'deny[k] := 1 if some k in ["x"]\n'},
            r"^k/b\.rego:5:1: Rego error: conflicting rules main\.deny: defined here as a partial object .* at k/a\.rego:5:1",
        ),
        (
            {"p.rego": HEAD + 'helper := 1\n\nhelper(x) := x\n\nwarn contains "ok" if true\n'},
            r"^k/p\.rego:7:1: Rego error: conflicting rules main\.helper: defined here as a function",
        ),
    ],
)
def test_compile_time_faults_are_refused_at_load_not_at_run_time(
    tmp_path: Path, files: dict[str, str], expected: str
) -> None:
    """OPA refuses these when compiling; regorus only when an input reaches the rule (a policy-error,
    exit 3; none at all, so a pass, when no input does)."""
    with pytest.raises(ConfigError, match=expected) as err:
        load(write(tmp_path / "k", files), "k")
    assert err.value.exit_code == EXIT_USAGE
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "source",
    [
        'default allow := false\n\nallow if input.kind == "Pod"\n\ndeny contains "x" if not allow\n',
        'deny contains "a" if true\n\ndeny contains msg if {\n\tsome c in input.containers\n\tmsg := c.name\n}\n',
        'labels[k] := v if some k, v in input.metadata.labels\n\nlabels["x"] := "y"\n\nwarn contains k if labels[k]\n',
        'f(x) := 1 if x > 1\n\nf(x) := 2 if x <= 1\n\ndeny contains sprintf("%d", [f(input.n)]) if input.n\n',
        'deny contains msg if {\n\tsome i\n\tinput.a[i] == 1\n\tmsg := sprintf("%d", [i])\n}\n',
    ],
)
def test_valid_rule_shapes_still_load(tmp_path: Path, source: str) -> None:
    load(write(tmp_path / "ok", {"p.rego": HEAD + source}), "ok")


def test_what_only_regorus_refuses_is_not_refused_at_load(tmp_path: Path) -> None:
    """A comprehension using a variable defined after it (conformance case cx-combine-users): OPA
    reorders it, regorus' analysis refuses it. That is regorus' limit, not a fault of the policy:
    the set loads and the rule stays a policy-error on each input it runs on, as before."""
    source = (
        HEAD + "deny contains msg if {\n\tname := input[_].name\n"
        "\tseen := [name | some i; input[i].name == name; name := input[i].id]\n"
        '\tcount(seen) > 1\n\tmsg := sprintf("duplicate %s", [name])\n}\n'
    )
    ps = load(write(tmp_path / "r", {"p.rego": source}), "r")
    (error,) = ps.evaluator({}).evaluate([{"name": "a", "id": "a"}]).errors
    assert "used before definition" in error.message


def test_policy_test_refuses_compile_time_faults_with_one_line_and_exit_2(
    tmp_path: Path, run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "u", {"p.rego": 'package main\nimport rego.v1\ndeny contains msg if { x == 1; msg := "a" }\n'})
    write(tmp_path / "c", {"p.rego": 'package main\nimport rego.v1\ndeny contains "a" if true\ndeny := 5\n'})
    (tmp_path / "in.yaml").write_text("x: 1\n")
    for folder, line in (("u", "promoter: error: u/p.rego:3:24: "), ("c", "promoter: error: c/p.rego:4:1: ")):
        out = run_cli("policy", "test", "-p", folder, "in.yaml")
        assert out.exit_code == 2, out.stdout + out.stderr
        assert out.stderr.startswith(line) and out.stderr.count("\n") == 1, out.stderr
        assert out.stdout == ""


@pytest.mark.parametrize(
    "call", ['http.send({"method": "get", "url": "http://127.0.0.1:9/"})', 'net.lookup_ip_addr("example.com")']
)
def test_network_builtins_are_refused(tmp_path: Path, call: str) -> None:
    folder = write(
        tmp_path / "n",
        {
            "p.rego": f'package main\n\nimport rego.v1\n\ndeny contains msg if {{\n\tr := {call}\n\tmsg := sprintf("%v", [r])\n}}\n'
        },
    )
    with pytest.raises(ConfigError, match=r"^n/p\.rego:6:\d+: .* is not available: policies run sandboxed"):
        load(folder, "n")


def test_opa_runtime_has_no_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMOTER_CANARY", "canary-value")
    folder = write(
        tmp_path / "r",
        {
            "p.rego": 'package main\n\nimport rego.v1\n\nwarn contains sprintf("%v", [object.get(opa.runtime(), "env", "no env")]) if true\n'
        },
    )
    (w,) = load(folder, "r").evaluator({}).evaluate(POD).warnings
    assert w.message == "no env"


def test_print_and_trace_stay_out_of_the_verdict(tmp_path: Path) -> None:
    folder = write(
        tmp_path / "t",
        {
            "p.rego": 'package main\n\nimport rego.v1\n\ndeny contains msg if {\n\tprint("looking at", input.kind)\n\ttrace("tracing")\n\tmsg := "seen"\n}\n'
        },
    )
    v = load(folder, "t").evaluator({}).evaluate(POD)
    assert [m.message for m in v.failures] == ["seen"]
    assert v.prints == ["t/p.rego:6: looking at Pod"]
