"""Build hook: ship the top-level Rego policy pack (policies/) inside the package as promoter/policies.

The pack lives at the repository's top level so conftest users can point at it directly; wheels
(and so `pip install .`) need it inside the package, where promoter.policy.pack looks first.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithPolicies(build_py):
    def run(self) -> None:
        super().run()
        source = Path(__file__).resolve().parent / "policies"
        if source.is_dir():
            shutil.copytree(source, Path(self.build_lib) / "promoter" / "policies", dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildPyWithPolicies})
