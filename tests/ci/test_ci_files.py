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
            out.append(words[:words.index("|")] if "|" in words else words)
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
