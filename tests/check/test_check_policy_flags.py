"""`check --combine` and `--namespace`: the conftest flags, on the example repository with real kustomize."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, invoke

COMBINED = """\
package main

import rego.v1

deny contains msg if {
	is_array(input)
	kinds := {r.contents.kind | some r in input}
	not "NetworkPolicy" in kinds
	msg := "no NetworkPolicy among this environment's resources"
}
"""

CUSTOM = """\
package custom

import rego.v1

warn contains msg if {
	input.kind == "Service"
	msg := concat("", ["Service ", input.metadata.name, " seen by the custom namespace"])
}
"""


@pytest.fixture
def example(tmp_path: Path) -> Path:
    dst = tmp_path / "gitops"
    shutil.copytree(EXAMPLES, dst)
    return dst


def _policy(tmp_path: Path, name: str, text: str) -> Path:
    d = tmp_path / name
    d.mkdir()
    (d / "policy.rego").write_text(text)
    return d


def _findings(out: str, rule: str) -> list[dict]:
    return [f for f in json.loads(out)["findings"] if f["source"] == "policy" and f["rule"] == rule]


@pytest.mark.needs("kustomize")  # renders overlays (kubectl kustomize)
def test_combine_gives_the_policy_a_whole_environment(example: Path, tmp_path: Path) -> None:
    policy = _policy(tmp_path, "combined", COMBINED)
    args = ["check", "--repo", str(example), "--all", "--env", "dev", "--policy", str(policy), "-o", "json"]
    alone = invoke(*args)
    assert alone.exit_code == 0, alone.stderr
    assert _findings(alone.stdout, "deny") == []  # one resource at a time: the rule never applies
    combined = invoke(*args, "--combine")
    assert combined.exit_code == 3, combined.stderr
    found = _findings(combined.stdout, "deny")
    assert [f["message"] for f in found] == ["no NetworkPolicy among this environment's resources"]


@pytest.mark.needs("kustomize")  # renders overlays (kubectl kustomize)
def test_namespace_selects_the_rego_package(example: Path, tmp_path: Path) -> None:
    policy = _policy(tmp_path, "custom", CUSTOM)
    args = ["check", "--repo", str(example), "--all", "--env", "dev", "--policy", str(policy), "-o", "json"]
    assert _findings(invoke(*args).stdout, "warn") == []  # package main by default
    out = invoke(*args, "--namespace", "custom")
    assert out.exit_code == 0, out.stderr
    # the kustomize overlay's Service and the Helm chart's (rendered in process)
    assert sorted(f["message"] for f in _findings(out.stdout, "warn")) == [
        "Service checkout-api seen by the custom namespace",
        "Service web-web seen by the custom namespace",
    ]


OWNERS = """\
package main

import rego.v1

deny_owner contains msg if {
	input.kind == "Service"
	not input.metadata.name in data.owners.services
	msg := sprintf("Service %s has no owner in data.owners", [input.metadata.name])
}
"""


@pytest.mark.needs("kustomize")  # renders overlays (kubectl kustomize)
def test_policy_file_and_data_like_conftest(example: Path, tmp_path: Path) -> None:
    rego = tmp_path / "owners.rego"
    rego.write_text(OWNERS)
    args = ["check", "--repo", str(example), "--all", "--env", "dev", "--policy", str(rego), "-o", "json"]
    (tmp_path / "none.yaml").write_text("owners: {services: []}\n")
    (tmp_path / "owned.yaml").write_text("owners: {services: [checkout-api, web-web]}\n")
    unowned = invoke(*args, "--data", str(tmp_path / "none.yaml"))
    assert unowned.exit_code == 3, unowned.stderr
    assert sorted(f["message"] for f in _findings(unowned.stdout, "owner")) == [
        "Service checkout-api has no owner in data.owners",
        "Service web-web has no owner in data.owners",  # the web chart, rendered in process
    ]
    owned = invoke(*args, "--data", str(tmp_path / "owned.yaml"))
    assert owned.exit_code == 0, owned.stderr and _findings(owned.stdout, "owner") == []
    missing = invoke(*args, "--data", str(tmp_path / "nowhere.yaml"))
    assert missing.exit_code == 2 and "--data" in missing.stderr
