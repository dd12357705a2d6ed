"""Repository policies are untrusted: a time and a memory limit per evaluation, no environment, and
`promoter policy test|verify` with conftest's interface."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from promoter.model.errors import ConfigError, ToolError
from promoter.policy import sandbox
from promoter.policy.policyset import PolicySet
from promoter.policy.sandbox import Item, Limits, evaluate, prestart

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}


def policy(tmp_path: Path, files: dict[str, str]) -> PolicySet:
    folder = tmp_path / "pol"
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return PolicySet.load([(folder, "pol")])


def items(n: int) -> list[Item]:
    return [Item(json.dumps({**POD, "metadata": {"name": f"p{i}"}}), f"f{i}.yaml", kind="Pod") for i in range(n)]


SLOW = 'package main\n\nimport rego.v1\n\ndeny contains "slow" if {\n\tcount([x | some x in numbers.range(1, 20000000); x % 7 == 0]) > 1\n}\n'
HUNGRY = 'package main\n\nimport rego.v1\n\ndeny contains "hungry" if {\n\txs := numbers.range(1, 100000000)\n\tcount(xs) > 1\n}\n'
FINE = (
    'package main\n\nimport rego.v1\n\nwarn contains sprintf("seen %s", [input.metadata.name]) if input.kind == "Pod"\n'
)


def test_time_limit_stops_the_rule_once_and_every_other_input_reports_it_not_evaluated(tmp_path: Path) -> None:
    ps = policy(tmp_path, {"slow.rego": SLOW, "fine.rego": FINE})
    verdicts = evaluate(ps, {}, items(3), limits=Limits(seconds=1, memory_mb=2048))
    errors = [[e for e in v.errors] for v in verdicts]
    assert [len(e) for e in errors] == [1, 1, 1], errors  # stopped once, and never a silent pass elsewhere
    first, *rest = [e[0] for e in errors]
    assert first.rule == "deny" and first.files == ["pol/slow.rego"]
    assert "took longer than 1 s on this input" in first.message and "PROMOTER_POLICY_TIMEOUT" in first.message
    for e in rest:
        assert e.rule == "deny" and e.files == ["pol/slow.rego"]
        assert "was not evaluated on this input: it took longer than 1 s on f0.yaml" in e.message, e.message
        assert "PROMOTER_POLICY_TIMEOUT" in e.message
    assert [v.successes for v in verdicts] == [0, 0, 0]  # the stopped rule is counted as no success anywhere
    assert [m.message for v in verdicts for m in v.warnings] == ["seen p0", "seen p1", "seen p2"]


def test_memory_limit_stops_the_rule_once_and_every_other_input_reports_it(tmp_path: Path) -> None:
    ps = policy(tmp_path, {"hungry.rego": HUNGRY, "fine.rego": FINE})
    verdicts = evaluate(ps, {}, items(2), limits=Limits(seconds=60, memory_mb=512))
    errors = [e for v in verdicts for e in v.errors]
    assert len(errors) == 2, errors
    assert all(e.files == ["pol/hungry.rego"] for e in errors)
    assert "more than 512 MB" in errors[0].message
    assert "was not evaluated on this input: it needed more than 512 MB on f0.yaml" in errors[1].message
    assert [m.message for v in verdicts for m in v.warnings] == ["seen p0", "seen p1"]


def test_a_rule_stopped_on_one_input_is_not_skipped_on_inputs_it_does_not_apply_to(tmp_path: Path) -> None:
    """Only the inputs the stopped rule applies to (its kinds) report it."""
    folder = tmp_path / "pol"
    folder.mkdir()
    (folder / "slow.rego").write_text(SLOW.replace("deny contains", "deny_slow contains"))
    (folder / "fine.rego").write_text(FINE)
    ps = PolicySet.load([(folder, "pol")], kinds={"deny_slow": frozenset({"Pod"})})
    svc = Item(json.dumps({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}}), "s.yaml", kind="Service")
    verdicts = evaluate(ps, {}, [*items(2), svc], limits=Limits(seconds=1, memory_mb=2048))
    assert [len(v.errors) for v in verdicts] == [1, 1, 0]


def test_inputs_left_when_the_time_budget_is_spent_are_errors_not_passes(tmp_path: Path) -> None:
    """The per-evaluation limit bounds one input; the budget bounds them all together. A budget
    spent before the worker even started (1 ms) leaves every input unevaluated: each is an error."""
    ps = policy(tmp_path, {"fine.rego": FINE})
    verdicts = evaluate(ps, {}, items(3), limits=Limits(seconds=10, memory_mb=2048, budget=0.001))
    for v in verdicts:
        (e,) = v.errors
        assert "used up this run's time budget (0.001 s" in e.message and "PROMOTER_POLICY_BUDGET" in e.message
        assert v.messages == [] and v.successes == 0
    # With the default budget the same set judges them.
    assert [m.message for v in evaluate(ps, {}, items(3)) for m in v.warnings] == ["seen p0", "seen p1", "seen p2"]


def test_limits_read_from_the_environment() -> None:
    limits = Limits.from_environ(
        {"PROMOTER_POLICY_TIMEOUT": "2", "PROMOTER_POLICY_MEMORY_MB": "512", "PROMOTER_POLICY_BUDGET": "60"}
    )
    assert limits == Limits(seconds=2, memory_mb=512, budget=60)
    assert Limits.from_environ({}) == Limits()
    for bad in ({"PROMOTER_POLICY_BUDGET": "soon"}, {"PROMOTER_POLICY_BUDGET": "0"}):
        with pytest.raises(ConfigError, match="PROMOTER_POLICY_BUDGET"):
            Limits.from_environ(bad)


def test_a_limit_error_fails_the_check(tmp_path: Path) -> None:
    from promoter.config.model import Config, Environment
    from promoter.policy import evaluate_policies
    from tests.policy.resources import resource

    folder = tmp_path / "slow"
    folder.mkdir()
    (folder / "slow.rego").write_text(SLOW)
    cfg = Config(file=None, environments=[Environment("dev", 0)], apps={}, policies={"builtin": False})
    import os

    old = os.environ.get("PROMOTER_POLICY_TIMEOUT")
    os.environ["PROMOTER_POLICY_TIMEOUT"] = "1"
    try:
        result = evaluate_policies([resource(POD, env="dev")], cfg, "dev", tmp_path, extra_dirs=[folder])
    finally:
        if old is None:
            del os.environ["PROMOTER_POLICY_TIMEOUT"]
        else:
            os.environ["PROMOTER_POLICY_TIMEOUT"] = old
    (f,) = result.findings
    assert f.rule == "policy-error" and f.blocking and "slow/slow.rego" in f.message
    assert result.failed


def test_workers_get_no_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Whatever the engine offers now or later, the process evaluating policies has no token to find.
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_" + "C" * 36)
    ps = policy(
        tmp_path,
        {"env.rego": 'package main\n\nimport rego.v1\n\nwarn contains sprintf("%v", [opa.runtime()]) if true\n'},
    )
    (v,) = evaluate(ps, {}, items(1))
    assert v.warnings and "ghp_" not in v.warnings[0].message and "GITHUB_TOKEN" not in v.warnings[0].message


def test_print_goes_to_stderr_not_into_reports(tmp_path: Path, run_cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "policy").mkdir()
    (tmp_path / "policy" / "p.rego").write_text(
        'package main\n\nimport rego.v1\n\ndeny contains msg if {\n\tprint("debug:", input.kind)\n\tmsg := "no pods"\n}\n'
    )
    (tmp_path / "pod.yaml").write_text("kind: Pod\n")
    out = run_cli("policy", "test", "-p", str(tmp_path / "policy"), str(tmp_path / "pod.yaml"), "-o", "json")
    assert out.exit_code == 3
    doc = json.loads(out.stdout)
    assert [f["message"] for f in doc["findings"]] == ["no pods"]
    assert "debug: Pod" in out.stderr and "debug" not in out.stdout


def test_policy_test_takes_a_policy_file_data_and_namespaces(
    tmp_path: Path, run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "one.rego").write_text(
        'package team\n\nimport rego.v1\n\ndeny contains msg if {\n\tnot input.owner in data.owners\n\tmsg := sprintf("owner %v is unknown", [input.owner])\n}\n'
    )
    (tmp_path / "data.yaml").write_text("owners: [alice]\n")
    (tmp_path / "a.json").write_text('[{"owner": "alice"}, {"owner": "mallory"}]')
    out = run_cli(
        "policy",
        "test",
        "--policy",
        str(tmp_path / "one.rego"),
        "--data",
        str(tmp_path / "data.yaml"),
        "-n",
        "team",
        str(tmp_path / "a.json"),
        "-o",
        "json",
    )
    assert out.exit_code == 3, out.stderr
    assert [f["message"] for f in json.loads(out.stdout)["findings"]] == ["owner mallory is unknown"]


def test_policy_test_refuses_a_silent_pass_shape_with_exit_2(
    tmp_path: Path, run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "policy").mkdir()
    (tmp_path / "policy" / "p.rego").write_text(
        'package main\n\nimport rego.v1\n\ndeny contains sprintf("%s", [c.image]) if some c in input.containers\n'
    )
    (tmp_path / "x.yaml").write_text("containers: [{name: a}]\n")
    out = run_cli("policy", "test", "x.yaml")
    assert out.exit_code == 2
    assert out.stderr.startswith("promoter: error: policy/p.rego:5:1: ") and "build it in the body" in out.stderr


def test_policy_verify_runs_the_pack_tests_and_reports_failures(
    tmp_path: Path, run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    from promoter.policy.pack import pack_dir

    ok = run_cli("policy", "verify", "--policy", str(pack_dir()), "-o", "junit")
    assert ok.exit_code == 0, ok.stderr
    assert ok.stdout.count("<testcase") >= 55 and "<failure" not in ok.stdout
    (tmp_path / "policy").mkdir()
    (tmp_path / "policy" / "p_test.rego").write_text(
        "package main\n\nimport rego.v1\n\ntest_good if true\n\ntest_bad if 1 == 2\n"
    )
    bad = run_cli("policy", "verify", "-o", "json")
    assert bad.exit_code == 3
    doc = json.loads(bad.stdout)
    assert [f["subject"] for f in doc["findings"]] == ["main.test_bad"]


def test_a_worker_killed_from_outside_is_an_error_naming_the_signal(tmp_path: Path) -> None:
    """What the out-of-memory killer does: one error naming SIGKILL, not the worker's start-up noise,
    and the check still fails closed."""
    import signal
    import threading
    import time

    ps = policy(tmp_path, {"slow.rego": SLOW})
    limits = Limits(seconds=120, memory_mb=2048)
    # The worker is started and loaded first, so the kill lands while it evaluates (not while it
    # loads, which is the next test): the timing no longer depends on how busy the machine is.
    prestart(ps, [{}], 1, limits)
    (worker,) = sandbox._STARTED[sandbox._started_key(ps, [{}], limits)]
    worker.ready()
    pid = worker.proc.pid

    def kill_when_busy() -> None:
        time.sleep(0.5)  # evaluate has sent the input; the slow rule runs for seconds
        os.kill(pid, signal.SIGKILL)

    killer = threading.Thread(target=kill_when_busy)
    killer.start()
    verdicts = evaluate(ps, {}, items(1), limits=limits)
    killer.join()
    errors = [e for v in verdicts for e in v.errors]
    assert len(errors) == 1, errors
    assert "killed by SIGKILL" in errors[0].message and "out-of-memory" in errors[0].message
    assert "RuntimeWarning" not in errors[0].message and errors[0].files == ["pol/slow.rego"]


def test_a_worker_killed_while_loading_is_a_tool_error_naming_the_signal(tmp_path: Path) -> None:
    """Killed before it said it is ready: no input to charge it to, so the run stops with one line
    that names the signal (it said "exit status None")."""
    import signal

    ps = policy(tmp_path, {"slow.rego": SLOW})
    limits = Limits(seconds=120, memory_mb=2048)
    prestart(ps, [{}], 1, limits)
    (worker,) = sandbox._STARTED[sandbox._started_key(ps, [{}], limits)]
    os.kill(worker.proc.pid, signal.SIGKILL)
    with pytest.raises(ToolError, match="did not start: it was killed by SIGKILL"):
        evaluate(ps, {}, items(1), limits=limits)


def test_a_worker_that_answers_something_else_is_stopped_not_waited_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker whose first answer is not "ready" and that keeps running: one error, not a wait without end."""
    import subprocess
    import sys

    monkeypatch.setattr(sandbox, "_DEATH_WAIT", 0.5)
    ps = policy(tmp_path, {"fine.rego": FINE})
    worker = sandbox._Worker(ps, [{}], Limits(seconds=120, memory_mb=2048))
    worker.close()
    script = (
        "import json, struct, sys, time\n"
        f"body = json.dumps({{'something': 'else'}}).encode()\n"
        f"sys.stdout.buffer.write(struct.pack({sandbox._HEADER.format!r}, len(body)) + body)\n"
        "sys.stdout.flush()\n"
        "time.sleep(60)\n"
    )
    worker.proc = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    with pytest.raises(ToolError, match="answered something else than ready"):
        worker.ready()
    assert worker.proc.poll() is not None  # stopped, not left running


SLOW_ON_CONFIGMAPS = """package main

import rego.v1

deny contains msg if {
\tsome c in input.spec.template.spec.containers
\tendswith(c.image, ":latest")
\tmsg := sprintf("%s uses latest", [c.name])
}

deny contains "slow" if {
\tinput.kind == "ConfigMap"
\tcount([x | some x in numbers.range(1, 20000000); x % 7 == 0]) > 1
}
"""


def test_a_resource_cannot_turn_a_policy_off_by_timing_it_out_and_waiving_the_error(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    """The audit's repro: the slow resource waived `policy-error` for itself, and every later
    resource then passed the stopped rule unseen. Now the waiver does not hold for promoter's own
    evaluation errors and the later resource reports the rule not evaluated: exit 3."""
    from tests.conftest import make_repo

    configmap = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations:\n"
        '    promoter.dev/waive: "policy-error,*"\n    promoter.dev/waive-reason: "flaky"\ndata: {k: v}\n'
    )
    deployment = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: b}\nspec:\n  selector: {matchLabels: {a: b}}\n"
        "  template:\n    metadata: {labels: {a: b}}\n    spec:\n      containers:\n"
        '      - {name: web, image: "nginx:latest"}\n'
    )
    repo = make_repo(
        tmp_path / "repo",
        {
            ".promoter.yaml": "version: 1\nenvironments:\n  - name: dev\napps: {}\npolicies:\n  builtin: false\n",
            "org/p.rego": SLOW_ON_CONFIGMAPS,
            "apps/x/a.yaml": configmap,
            "apps/x/b.yaml": deployment,
        },
    )
    res = run_cli(
        "check",
        "--repo",
        str(repo),
        "--all",
        "--policy",
        str(repo / "org"),
        "-o",
        "json",
        env={"PROMOTER_POLICY_TIMEOUT": "1"},
    )
    assert res.exit_code == 3, res.stdout + res.stderr
    findings = {f["location"]["file"]: f for f in json.loads(res.stdout)["findings"]}
    assert set(findings) == {"apps/x/a.yaml", "apps/x/b.yaml"}, res.stdout
    a, b = findings["apps/x/a.yaml"], findings["apps/x/b.yaml"]
    assert a["rule"] == "policy-error" and not a["waived"]  # its own annotation does not waive promoter's error
    assert "took longer than 1 s on this input" in a["message"]
    assert not b["waived"] and b["severity"] == "error"
    # b is judged before a (the rule runs: its own failure) or after it (the rule is reported not run).
    if b["rule"] == "policy-error":
        assert "was not evaluated on this input: it took longer than 1 s on apps/x/a.yaml" in b["message"]
    else:
        assert (b["rule"], b["message"]) == ("deny", "web uses latest"), b


def test_policy_test_reports_the_rule_not_evaluated_on_later_files(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "slow").mkdir()
    (tmp_path / "slow" / "p.rego").write_text(SLOW)
    (tmp_path / "in.yaml").write_text("x: 1\n")
    (tmp_path / "in2.yaml").write_text("x: 2\n")
    res = run_cli(
        "policy", "test", "-p", str(tmp_path / "slow"), str(tmp_path / "in.yaml"), str(tmp_path / "in2.yaml"),
        "-o", "json", env={"PROMOTER_POLICY_TIMEOUT": "1"},
    )  # fmt: skip
    assert res.exit_code == 3, res.stdout + res.stderr
    doc = json.loads(res.stdout)
    assert [s["status"] for s in doc["subjects"]] == ["failed", "failed"]
    messages = [f["message"] for f in doc["findings"]]
    assert len(messages) == 2 and "was not evaluated on this input" in messages[1], messages
