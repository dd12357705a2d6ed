"""The pack ships inside the package: a build copies policies/ to promoter/policies, where it is found."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_build_ships_the_pack_and_the_installed_copy_is_used(tmp_path: Path) -> None:
    build = tmp_path / "lib"
    subprocess.run(
        [sys.executable, "setup.py", "-q", "build_py", "--build-lib", str(build)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    shipped = sorted(
        p.relative_to(build / "promoter" / "policies").as_posix()
        for p in (build / "promoter" / "policies").rglob("*.rego")
    )
    source = sorted(p.relative_to(ROOT / "policies").as_posix() for p in (ROOT / "policies").rglob("*.rego"))
    assert shipped == source and "lib/kubernetes.rego" in shipped
    # Run from elsewhere with only the built package importable: the pack inside it is the one used.
    probe = "from promoter.policy.pack import pack_dir, pack_rules; print(pack_dir()); print(len(pack_rules()))"
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(build), "PYTHONNOUSERSITE": "1"},
    ).stdout.split()
    assert out == [str(build / "promoter" / "policies"), "15"]
