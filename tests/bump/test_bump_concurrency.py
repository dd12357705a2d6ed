"""Concurrent bumps on one working tree, and writes killed half-way: nothing lost, nothing left behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, git, make_repo

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
spec:
  template:
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:1.0.0
        - name: worker
          image: ghcr.io/acme/worker:1.0.0
"""

# One child process per image: each waits for the parent's "go" of a round, bumps its image in
# the shared file through the real CLI entry, and says it is done. Both start a round together.
CHILD = """
import os, sys, time
from pathlib import Path
from promoter.cli import run
repo, image, sync, rounds = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
me = image.rsplit("/", 1)[-1]
for i in range(rounds):
    go = sync / f"go-{i}"
    while not go.exists():
        time.sleep(0.0005)
    code = run(["bump", "--repo", str(repo), "--path", "deploy.yaml", "--image", f"{image}:2.0.{i}"])
    (sync / f"part-{i}-{me}").write_text(str(code))
    os.replace(sync / f"part-{i}-{me}", sync / f"done-{i}-{me}")
"""


def _python(*args: str, **kwargs):  # noqa: ANN003, ANN202 - Popen's own keywords
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, *args], env=env, **kwargs)


def test_twenty_rounds_of_two_concurrent_bumps_of_one_file_lose_nothing(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"deploy.yaml": DEPLOY})
    sync = tmp_path / "sync"
    sync.mkdir()
    rounds = 20
    children = [
        _python(
            "-c", CHILD, str(repo), image, str(sync), str(rounds), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for image in ("ghcr.io/acme/api", "ghcr.io/acme/worker")
    ]
    lost = []
    try:
        for i in range(rounds):
            (repo / "deploy.yaml").write_text(DEPLOY)
            (sync / f"go-{i}").touch()
            deadline = time.monotonic() + 120
            while not all((sync / f"done-{i}-{who}").exists() for who in ("api", "worker")):
                assert time.monotonic() < deadline, f"round {i} did not finish"
                assert all(c.poll() in (None, 0) for c in children), "a bump process died"
                time.sleep(0.002)
            codes = [(sync / f"done-{i}-{who}").read_text() for who in ("api", "worker")]
            assert codes == ["0", "0"], f"round {i}: exit codes {codes}"
            text = (repo / "deploy.yaml").read_text()
            if f"ghcr.io/acme/api:2.0.{i}" not in text or f"ghcr.io/acme/worker:2.0.{i}" not in text:
                lost.append(i)
    finally:
        for c in children:
            try:
                c.wait(timeout=60)
            except subprocess.TimeoutExpired:  # a failed round: the children still wait for the next
                c.kill()
                c.wait()
    assert lost == [], f"a change was lost in rounds {lost}"
    assert all(c.returncode == 0 for c in children)
    # No temporary file, lock or anything else appeared in the working tree.
    assert git(repo, "status", "--porcelain", "--untracked-files=all").splitlines() == [" M deploy.yaml"]


def test_a_second_bump_waits_a_bounded_time_then_names_who_holds_the_lock(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {"deploy.yaml": DEPLOY, ".promoter.yaml": "environments:\n  - name: dev\nlimits:\n  lock_wait_seconds: 0.3\n"},
    )
    holder = _python(
        "-c",
        "import sys, time\n"
        "from pathlib import Path\n"
        "from promoter.model.lock import repository_lock\n"
        "with repository_lock(Path(sys.argv[1]), what='bump ghcr.io/acme/api:9'):\n"
        "    print('held', flush=True)\n"
        "    time.sleep(60)\n",
        str(repo),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        before = (repo / "deploy.yaml").read_text()
        out = subprocess.run(
            [sys.executable, "-m", "promoter", "bump", "--repo", str(repo), "--path", "deploy.yaml"]
            + ["--image", "ghcr.io/acme/worker:3.0.0"],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            timeout=60,
        )
    finally:
        holder.kill()
        holder.wait()
    assert out.returncode == 1, out.stderr
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("promoter: error: "), out.stderr
    assert f"pid {holder.pid}" in lines[0] and "bump ghcr.io/acme/api:9" in lines[0] and "waited 0.3 s" in lines[0]
    assert (repo / "deploy.yaml").read_text() == before
    # The holder was killed: the kernel released its lock, and the next bump runs.
    again = subprocess.run(
        [sys.executable, "-m", "promoter", "bump", "--repo", str(repo), "--path", "deploy.yaml"]
        + ["--image", "ghcr.io/acme/worker:3.0.0"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
    )
    assert again.returncode == 0, again.stderr
    assert "ghcr.io/acme/worker:3.0.0" in (repo / "deploy.yaml").read_text()


# kill -9 exactly between writing the temporary copy and renaming it over the file.
KILLED_AT_RENAME = """
import os, signal, sys
from promoter.cli import run
real_replace = os.replace
def replace(src, dst):
    print(src, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
os.replace = replace
run(["bump", "--repo", sys.argv[1], "--path", "deploy.yaml", "--image", "ghcr.io/acme/api:6.6.6"])
"""


def test_kill_9_at_the_write_leaves_nothing_git_add_would_commit_and_the_next_run_cleans_up(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"deploy.yaml": DEPLOY})
    proc = _python("-c", KILLED_AT_RENAME, str(repo), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    temp = Path(out.strip())
    assert temp.is_file(), "the child was killed with its temporary copy written"
    assert (repo / ".git") in temp.parents  # where git never looks
    assert (repo / "deploy.yaml").read_text() == DEPLOY  # the file itself untouched
    git(repo, "add", "-A")
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    # The next bump (any write to that file) removes what the killed one left.
    r = subprocess.run(
        [sys.executable, "-m", "promoter", "bump", "--repo", str(repo), "--path", "deploy.yaml"]
        + ["--image", "ghcr.io/acme/api:7.0.0"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert not temp.exists()
    assert list((repo / ".git" / "promoter-tmp").iterdir()) == []


def test_a_bump_keeps_the_owner_and_group_of_the_file_it_rewrites(tmp_path: Path, run_cli) -> None:
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("this test needs root (to give a file another owner); CI runs as root", pytrace=False)
        pytest.skip("needs root to give a file another owner")
    repo = make_repo(tmp_path / "repo", {"deploy.yaml": DEPLOY})
    f = repo / "deploy.yaml"
    os.chown(f, 4321, 8765)
    f.chmod(0o664)
    r = run_cli("bump", "--repo", str(repo), "--path", "deploy.yaml", "--image", "ghcr.io/acme/api:2.0.0")
    assert r.exit_code == 0, r.stderr
    st = f.stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (4321, 8765, 0o664)
    assert "ghcr.io/acme/api:2.0.0" in f.read_text()


def test_a_file_changed_between_reading_and_writing_is_not_overwritten(tmp_path: Path, monkeypatch) -> None:
    """Someone (not promoter: no lock) edits the file while the bump plans: the bump writes nothing."""
    from promoter.config.model import Config
    from promoter.edit import plan as plan_module
    from promoter.flows.bump import bump
    from promoter.model.changeset import ChangedMeanwhile
    from promoter.model.image import ImageRef

    repo = make_repo(tmp_path / "repo", {"deploy.yaml": DEPLOY, "other.yaml": DEPLOY.replace("shop", "other")})
    real_plan = plan_module.plan_bump
    edited = DEPLOY.replace("replicas", "x") + "# edited by hand meanwhile\n"

    def plan_then_someone_edits(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        cs = real_plan(*args, **kwargs)
        (repo / "deploy.yaml").write_text(edited)
        return cs

    monkeypatch.setattr("promoter.flows.bump.plan_bump", plan_then_someone_edits)
    with pytest.raises(ChangedMeanwhile, match=r"^deploy.yaml changed since promoter read it"):
        bump(repo, Config.empty(), ImageRef.parse("ghcr.io/acme/api:2.0.0"), paths=["."])
    assert (repo / "deploy.yaml").read_text() == edited
    assert (repo / "other.yaml").read_text() == DEPLOY.replace("shop", "other")  # all or nothing
    assert json.loads(json.dumps(git(repo, "status", "--porcelain")))  # only the hand edit


def test_a_planted_lock_symlink_is_never_followed(tmp_path: Path, run_cli) -> None:
    """`.git/promoter.lock` made a link to another file: the lock must not truncate that file."""
    repo = make_repo(tmp_path / "repo", {"deploy.yaml": DEPLOY})
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    os.symlink(victim, repo / ".git" / "promoter.lock")
    r = run_cli("bump", "--repo", str(repo), "--path", "deploy.yaml", "--image", "ghcr.io/acme/api:2.0.0")
    assert r.exit_code == 0, r.stderr
    assert victim.read_text() == "precious\n"
    assert "ghcr.io/acme/api:2.0.0" in (repo / "deploy.yaml").read_text()
