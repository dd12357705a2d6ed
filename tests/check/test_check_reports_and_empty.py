"""`promoter check` never leaves a user guessing: reports written only to files still leave one line
on stderr, and `--all` over a repository with nothing to check fails closed."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import invoke, make_repo

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:1.0.0
"""


def test_reports_only_to_files_still_say_the_verdict_on_stderr(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"manifests/deployment.yaml": DEPLOYMENT})
    sarif = tmp_path / "out.sarif"
    r = invoke("check", "--repo", str(repo), "--all", "--output", f"sarif={sarif}")
    assert r.stdout == ""
    assert r.stderr.startswith("promoter check: ") and r.stderr.count("\n") == 1
    verdict = "FAIL" if r.exit_code == 3 else "PASS"
    assert f"promoter check: {verdict}: " in r.stderr and f"reports: sarif={sarif}" in r.stderr
    assert json.loads(sarif.read_text())["version"] == "2.1.0"
    # With a report on stdout, stderr stays quiet: the report says it all.
    plain = invoke("check", "--repo", str(repo), "--all", "--output", "json")
    assert "promoter check:" not in plain.stderr


def test_check_all_with_nothing_to_check_fails_closed(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "empty", {"README.md": "nothing deployable here\n"})
    r = invoke("check", "--repo", str(repo), "--all", "--output", "json")
    assert r.exit_code == 3
    out = json.loads(r.stdout)
    assert out["passed"] is False
    (finding,) = out["findings"]
    assert finding["rule"] == "no-targets" and "--all found nothing to check" in finding["message"]
    text = invoke("check", "--repo", str(repo), "--all")
    assert text.exit_code == 3 and "no-targets" in text.stdout
