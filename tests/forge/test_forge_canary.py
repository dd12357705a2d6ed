"""A canary forge token never leaves promoter: not through a policy reading the environment, not
through a policy echoing a token committed to the repository (raw, base64, Markdown-, HTML-, JSON-
or URL-escaped), in no report format, on stdout or stderr, nor in the pull request body."""

from __future__ import annotations

import base64
import json
import re
import secrets
from pathlib import Path

import pytest
from fakeforge import FakeForge
from forgeworld import REPO, invoke, make_repo

from tests.conftest import registry_gate_off

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# Not a ghp_ shape: the redaction must work from the value, not from what tokens usually look like.
CANARY = "canary" + secrets.token_hex(16)

LEAK = r"""package main

import rego.v1

# What a pull request author could try: read the token from the environment...
env_token := object.get(object.get(opa.runtime(), "env", {}), "GITHUB_TOKEN", "no environment")

warn_leak contains msg if {
	input.kind == "Deployment"
	msg := sprintf("env: %s", [env_token])
}

# ...or echo one that was committed by mistake, in every encoding that slips past a plain search.
warn_leak contains msg if {
	t := input.metadata.annotations.leak
	msg := sprintf("raw %s | b64 %s | b64url %s | json %s | url %s | under_%s_score", [
		t, base64.encode(sprintf("x%s", [t])), base64url.encode(sprintf("xy%s", [t])),
		json.marshal({"t": t}), urlquery.encode(t), t,
	])
}

deny_leak contains msg if {
	t := input.metadata.annotations.leak
	msg := sprintf("<b>%s</b> *%s*", [t, t])
}
"""


def forms(token: str) -> list[str]:
    """The token as any output could spell it."""
    out = [token, token.replace("_", "\\_"), base64.b64encode(token.encode()).decode()[:-4]]
    for prefix in ("x", "xy", "xyz"):
        encoded = base64.b64encode((prefix + token).encode()).decode()
        out.append(encoded[4 : 4 + len(token) // 2])
        out.append(base64.urlsafe_b64encode((prefix + token).encode()).decode()[4 : 4 + len(token) // 2])
    return out


def leaks(text: str, token: str) -> list[str]:
    return [f for f in forms(token) if f in text]


@pytest.mark.needs("kustomize")  # renders overlays (kubectl kustomize)
def test_canary_token_appears_nowhere(fake: FakeForge, tmp_path: Path) -> None:
    files = {p.relative_to(EXAMPLES).as_posix(): p.read_text() for p in EXAMPLES.rglob("*") if p.is_file()}
    files["policy/leak.rego"] = LEAK
    files[".promoter.yaml"] = registry_gate_off(files[".promoter.yaml"]).replace(
        "policies:\n", "policies:\n  paths: [policy]\n"
    )
    debug = "apps/checkout-api/overlays/dev/debug.yaml"
    files[debug] = files[debug].replace(
        "  name: checkout-api\n", f"  name: checkout-api\n  annotations:\n    leak: {CANARY}\n"
    )
    local = make_repo(tmp_path / "local", files)
    fake.add_token(CANARY, "promoter-bot")
    fake.create_repo(REPO, source=local)
    out = tmp_path / "out"
    out.mkdir()
    env = {"GITHUB_TOKEN": CANARY, "GITHUB_STEP_SUMMARY": str(out / "summary.md"), "GITHUB_ACTIONS": "true"}

    written: dict[str, str] = {}
    check = invoke(
        "check",
        "--repo",
        str(local),
        "--all",
        "--env",
        "dev",
        "-o",
        "text",
        "-o",
        f"json={out / 'r.json'}",
        "-o",
        f"sarif={out / 'r.sarif'}",
        "-o",
        f"junit={out / 'r.xml'}",
        "-o",
        f"codequality={out / 'cq.json'}",
        "-o",
        "github",
        "-o",
        f"markdown={out / 'r.md'}",
        env=env,
    )
    assert check.exit_code == 3, check.stderr  # deny_leak fires: the run is real, the token is masked
    written["check stdout"], written["check stderr"] = check.stdout, check.stderr
    report = json.loads((out / "r.json").read_text())
    messages = [f["message"] for f in report["findings"] if f["rule"] == "leak"]
    assert "env: no environment" in messages  # the sandbox gave the policy no environment
    assert any("raw ***" in m for m in messages), messages  # the committed token was echoed, and masked

    digest = "sha256:" + "1" * 64
    bump = invoke(
        "bump",
        "--repo",
        str(local),
        "--app",
        "checkout-api",
        "--env",
        "dev",
        "--image",
        f"ghcr.io/acme/checkout-api:1.5.0@{digest}",
        "--pr",
        "--forge",
        "github",
        "--forge-url",
        fake.github_url,
        "--forge-repo",
        REPO,
        "-o",
        "json",
        env=env,
    )
    written["bump stdout"], written["bump stderr"] = bump.stdout, bump.stderr
    assert bump.exit_code == 0, bump.stderr
    (pull,) = fake.repo(REPO).pulls.values()
    written["pull request body"] = pull.body
    assert "leak" in pull.body  # the checks section carries the policy's findings
    for f in out.iterdir():
        written[f.name] = f.read_text()
    assert set(written) >= {"r.json", "r.sarif", "r.xml", "cq.json", "r.md", "summary.md", "pull request body"}
    found = {name: leaks(text, CANARY) for name, text in written.items() if leaks(text, CANARY)}
    assert found == {}, found
    # The masked forms are there: the test would have seen a leak.
    assert re.search(r"\*\*\*", written["r.json"]) and "***" in written["pull request body"]
