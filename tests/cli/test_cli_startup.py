"""What `promoter --help` and each command's help import: start-up cost is paid on every CI step."""

from __future__ import annotations

import json
import subprocess
import sys

# The forge clients (about 260 ms together) only when publishing; the YAML parsers, schema and
# policy engines only when a command runs, never for help.
NEVER_FOR_HELP = (
    "github",
    "gitlab",
    "ruamel.yaml",
    "yaml",
    "jsonschema",
    "jsonschema_rs",
    "regorus",
    "promoter.flows",
    "promoter.edit",
    "promoter.locate",
    "promoter.render",
    "promoter.policy",
    "promoter.history",
    "promoter.registry",
    "helm_python",
    "requests",
)

PROBE = """
import contextlib, io, json, sys
from promoter.cli import run
with contextlib.redirect_stdout(io.StringIO()):
    codes = [run(args) for args in (["--help"], ["images", "--help"], ["bump", "--help"], ["check", "--help"], ["policy", "test", "--help"], ["plan", "--help"], ["report", "merge", "--help"], ["status", "--help"], ["promote", "--help"])]
print(json.dumps({"codes": codes, "modules": sorted(sys.modules)}))
"""


def test_help_of_every_command_imports_no_parser_engine_or_forge_client() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    data = json.loads(out.stdout)
    assert data["codes"] == [0] * 9
    loaded = [m for m in data["modules"] if any(m == n or m.startswith(n + ".") for n in NEVER_FOR_HELP)]
    assert loaded == []


CHECK_PROBE = """
import contextlib, io, json, sys
from promoter.cli import run
with contextlib.redirect_stdout(io.StringIO()):
    code = run(["check", "--repo", sys.argv[1], "--all"])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def test_check_imports_no_forge_or_registry_client(tmp_path) -> None:
    """`check --all` renders, validates and runs policies: the forge clients and the registry client
    (the image_exists gate's) are not what it needs, and cost about 400 ms to import."""
    from tests.conftest import ROOT

    out = subprocess.run([sys.executable, "-c", CHECK_PROBE, str(ROOT / "examples")], capture_output=True, text=True)
    data = json.loads(out.stdout)
    assert data["code"] == 0, out.stderr
    heavy = ("github", "gitlab", "requests", "urllib3", "promoter.registry.client", "promoter.publish.forge")
    loaded = [m for m in data["modules"] if any(m == n or m.startswith(n + ".") for n in heavy)]
    assert loaded == []
