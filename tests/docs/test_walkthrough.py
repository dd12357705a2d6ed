"""docs/walkthrough.md, run: every `bash` block in order, in one shell, as a reader would type them.

The registry is the real CNCF distribution registry on loopback (tests/registry), holding the
build the walkthrough promotes; the forge is the stateful fake forge (tests/fakeforge), holding
the repository the walkthrough pushes. A block marked ```` ```bash exit=N ```` must end with
that exit status; in every other block, every command must succeed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from tests.commandlines import hint_problems
from tests.conftest import ROOT
from tests.fakeforge import FakeForge
from tests.registry.realregistry import Pusher, RegistryServer

DOC = ROOT / "docs" / "walkthrough.md"
TOKEN = "ghp_WALKTHROUGHtoken0123456789abcdefABCD"


def blocks() -> list[tuple[int, str, int]]:
    """(line, script, expected exit) of every ```bash block."""
    out = []
    for t in MarkdownIt("commonmark").parse(DOC.read_text(encoding="utf-8")):
        if t.type == "fence" and t.info.split()[:1] == ["bash"]:
            m = re.search(r"\bexit=(\d+)", t.info)
            out.append((t.map[0] + 1, t.content, int(m.group(1)) if m else 0))
    return out


def test_the_walkthrough_has_the_steps_it_promises() -> None:
    scripts = "\n".join(s for _, s, _ in blocks())
    for step in (
        "promoter init\n",
        "promoter init --write",
        "--pr --forge github",
        "promoter check --base origin/main",
    ):
        assert step in scripts, step


@pytest.mark.needs("kustomize", "git")
def test_every_command_of_the_walkthrough_runs_as_written(tmp_path: Path) -> None:
    registry = RegistryServer(tmp_path / "registry", auth={})
    (tmp_path / "registry").mkdir()
    registry.start()
    forge = FakeForge(tmp_path / "forge")
    try:
        forge.add_token(TOKEN, "promoter-bot")
        remote = forge.create_repo("acme/gitops")
        # CI built and pushed the new version: a real image in the registry, tag and digest.
        digest, _ = Pusher(registry.url).image("acme/hello", "linux/amd64", tag="1.1.0")
        image = f"{registry.host}/acme/hello:1.1.0@{digest}"
        empty_docker = tmp_path / "docker"
        empty_docker.mkdir()
        env = {
            **{k: v for k, v in os.environ.items() if not k.endswith("TOKEN") and not k.startswith(("GITHUB_", "CI"))},
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "REGISTRY": registry.host,
            "IMAGE": image,
            "GITOPS_REMOTE": str(remote.store.path),
            "GITHUB_TOKEN": TOKEN,
            "GITHUB_API_URL": forge.github_url,
            "DOCKER_CONFIG": str(empty_docker),
            "GIT_AUTHOR_NAME": "Walkthrough",
            "GIT_AUTHOR_EMAIL": "walkthrough@example.com",
            "GIT_COMMITTER_NAME": "Walkthrough",
            "GIT_COMMITTER_EMAIL": "walkthrough@example.com",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "HOME": str(tmp_path),
        }
        outputs = _run(blocks(), tmp_path / "reader", env)
    finally:
        forge.close()
        registry.stop()

    gitops = tmp_path / "reader" / "gitops"
    # init wrote the config and pinned the image per overlay; the PR changed dev only.
    assert (gitops / ".promoter.yaml").is_file()
    pulls = list(remote.pulls.values())
    assert len(pulls) == 1 and pulls[0].head == "promoter/dev/hello" and pulls[0].base == "main"
    pr_file = remote.store.read_file("promoter/dev/hello", "apps/hello/overlays/dev/kustomization.yaml")
    assert pr_file is not None and f"digest: {digest}".encode() in pr_file and b'newTag: "1.1.0"' in pr_file
    assert remote.store.read_file("promoter/dev/hello", "apps/hello/overlays/prod/kustomization.yaml") == (
        remote.store.read_file("main", "apps/hello/overlays/prod/kustomization.yaml")
    )
    # What the reader saw: the hint to run init, the explained proposal, the check's verdict.
    first_bump, init = outputs[1], outputs[2]
    assert "`promoter init` proposes one" in first_bump
    assert "reads it only from apps/hello/base/deployment.yaml" in init and "+images:" in init
    assert "PASS" in outputs[-1]


def _run(scripts: list[tuple[int, str, int]], home: Path, env: dict[str, str]) -> list[str]:
    """Run the blocks in one bash, in order (a `cd` or `export` carries on); per block: its output."""
    home.mkdir()
    parts = ["set -u"]
    for i, (_, script, _) in enumerate(scripts):
        block = home / f".block{i}.sh"
        block.write_text(script)
        # Every failing command of a block is recorded (ERR trap), and the block's last status.
        parts.append(
            f"trap 'echo \"$BASH_COMMAND\" >> {home}/.failed{i}' ERR; "
            f"source {block} > {home}/.out{i} 2>&1; echo $? > {home}/.rc{i}; trap - ERR"
        )
    proc = subprocess.run(
        ["bash", "-c", "\n".join(parts)], cwd=home, env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr
    outputs = []
    for i, (line, script, want) in enumerate(scripts):
        out = (home / f".out{i}").read_text()
        rc = int((home / f".rc{i}").read_text())
        failed = (home / f".failed{i}").read_text().splitlines() if (home / f".failed{i}").exists() else []
        failed = [c for c in failed if not c.startswith("source ")]  # the block as a whole: its status is rc
        where = f"docs/walkthrough.md:{line}"
        assert rc == want, f"{where}: exit {rc}, the page says {want}:\n{out}"
        if want == 0:
            assert not failed, f"{where}: these commands failed: {failed}\n{out}"
        else:
            assert failed == [script.strip().splitlines()[-1]], f"{where}: {failed}\n{out}"
        assert not hint_problems([], out), hint_problems([], out)
        outputs.append(out)
    return outputs
