"""The GitHub Action and GitLab include: well-formed, injection-safe, and calling options that exist."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

from tests.conftest import ROOT, invoke


def test_action_passes_inputs_only_through_env() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    scripts = [s["run"] for s in steps if "run" in s]
    assert scripts, "the action runs promoter in a shell step"
    for script in scripts:
        # Pasting ${{ inputs.x }} into a script is script injection; inputs go through env:.
        assert "${{" not in script, script


def test_action_inputs_are_all_used() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    text = (ROOT / "action.yml").read_text()
    for name in action["inputs"]:
        assert f"inputs.{name}" in text, f"input {name} is declared but never passed to a step"


def _promoter_commands(script: str) -> list[list[str]]:
    out = []
    for line in re.split(r"\n(?=\S)", script):
        words = shlex.split(line.replace("\n", " "))
        if words and words[0] == "promoter":
            out.append(words[: words.index("|")] if "|" in words else words)
    return out


def test_gitlab_template_uses_real_options() -> None:
    data = yaml.safe_load((ROOT / ".gitlab-ci-template.yml").read_text())
    jobs = {k: v for k, v in data.items() if isinstance(v, dict) and "script" in v}
    assert {".promoter-check", ".promoter-bump"} <= set(jobs)
    assert data[".promoter-check"]["artifacts"]["reports"]["codequality"] == "gl-code-quality-report.json"
    for name, job in jobs.items():
        for script in job["script"]:
            for words in _promoter_commands(script):
                sub = words[1]
                help_text = invoke(sub, "--help").stdout
                for w in words[2:]:
                    if w.startswith("--"):
                        assert w.split("=")[0] in help_text, f"{name}: promoter {sub} has no option {w}"


def _action_script() -> str:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    return next(s["run"] for s in action["runs"]["steps"] if s.get("id") == "run")


def _run_action(tmp_path: Path, **inputs: str) -> tuple[int, list[str], dict[str, str]]:
    """Run the action's script with a stand-in `promoter` that records its argv and answers JSON."""
    import json
    import os
    import subprocess

    bindir = tmp_path / "bin"
    bindir.mkdir()
    argv_file = tmp_path / "argv.json"
    fake = bindir / "promoter"
    fake.write_text(
        "#!/usr/bin/env python3\nimport json, sys\n"
        f"json.dump(sys.argv[1:], open({str(argv_file)!r}, 'w'))\n"
        "print(json.dumps({'pull_request': {'operation': 'created', 'url': 'https://example.test/pr/7', 'number': 7}}))\n"
    )
    fake.chmod(0o755)
    out_file = tmp_path / "github_output"
    out_file.write_text("")
    env = {
        "PATH": f"{bindir}:{os.environ['PATH']}",
        "GITHUB_OUTPUT": str(out_file),
        "RUNNER_TEMP": str(tmp_path),
        "P_COMMAND": "bump",
        "P_REPO": ".",
        "P_CONFIG": "",
        "P_BASE": "",
        "P_ALL": "false",
        "P_ENV": "dev",
        "P_APP": "api",
        "P_IMAGE": "",
        "P_PR": "true",
        "P_OUTPUTS": "github",
        **inputs,
    }
    proc = subprocess.run(["bash", "-c", _action_script()], env=env, cwd=tmp_path, capture_output=True, text=True)
    outputs = dict(line.split("=", 1) for line in out_file.read_text().splitlines() if "=" in line)
    return proc.returncode, json.loads(argv_file.read_text()), outputs


def test_action_bump_passes_inputs_as_arguments_and_sets_pr_outputs(tmp_path: Path) -> None:
    hostile = "ghcr.io/acme/api:1.0 $(touch pwned) `touch pwned2`"
    code, argv, outputs = _run_action(tmp_path, P_IMAGE=hostile)
    assert code == 0
    # the input arrives as one literal argument: nothing was executed
    assert argv[argv.index("--image") + 1] == hostile
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "pwned2").exists()
    assert {"--pr", "--app", "--env"} <= set(argv) and argv[0] == "bump"
    assert outputs == {
        "exit-code": "0",
        "operation": "created",
        "pr-url": "https://example.test/pr/7",
        "pr-number": "7",
    }


def test_action_rollback_uses_to_and_check_uses_base(tmp_path: Path) -> None:
    _, argv, _ = _run_action(tmp_path, P_COMMAND="rollback", P_IMAGE="1.4.1")
    assert argv[0] == "rollback" and argv[argv.index("--image") + 1] == "1.4.1"
    (tmp_path / "bin" / "promoter").unlink()
    (tmp_path / "bin").rmdir()
    _, argv, outputs = _run_action(tmp_path, P_COMMAND="check", P_ALL="true", P_OUTPUTS="github sarif=out.sarif")
    assert argv[:1] == ["check"] and "--all" in argv
    assert argv.count("--output") == 2 and "sarif=out.sarif" in argv
    assert "pr-url" not in outputs


def test_ci_installs_the_real_registry_after_updating_the_package_lists() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    install = script.index("apt-get install -y -qq docker-registry")
    assert script.rfind("apt-get update", 0, install) != -1
    # Installed before the README's test command runs.
    assert install < script.index("python3 -m pytest")
