"""Run the bad-input catalogue (catalogue.py) through the real CLI: exit code, one line, nothing changed."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.badinput.catalogue import CASES, CONFIG, DEV_KUST, Case
from tests.conftest import EXAMPLES, ROOT, assert_registry_gate_off, invoke, make_repo


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    files = {p.relative_to(EXAMPLES).as_posix(): p.read_text() for p in EXAMPLES.rglob("*") if p.is_file()}
    # The example's own text (comments, line numbers kept): it switches the registry gate off already.
    assert_registry_gate_off(files[CONFIG])
    return make_repo(tmp_path_factory.mktemp("catalogue") / "gitops", files)


def snapshot(repo: Path) -> str:
    """Every path under the repository with its type and content (links by target, FIFOs by mode; never
    opened), and Git's HEAD, index and refs: 'nothing changed' means this is equal before and after."""
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(repo):
        dirnames.sort()
        rel_dir = Path(dirpath).relative_to(repo)
        if rel_dir.parts[:1] == (".git",):
            dirnames[:] = [d for d in dirnames if d in ("refs",) or rel_dir.parts[1:2] == ("refs",)]
        for name in sorted(filenames + [d for d in dirnames if (Path(dirpath) / d).is_symlink()]):
            p = Path(dirpath) / name
            rel = p.relative_to(repo).as_posix()
            if rel.startswith(".git/") and (
                name.startswith("promoter") or rel.count("/") == 1 and name not in ("HEAD", "index", "packed-refs")
            ):
                continue
            st = p.lstat()
            h.update(rel.encode() + b"\0" + oct(st.st_mode).encode() + b"\0")
            if stat.S_ISLNK(st.st_mode):
                h.update(os.readlink(p).encode())
            elif stat.S_ISREG(st.st_mode):
                h.update(p.read_bytes())
    return h.hexdigest()


def command_args(case: Case, repo: Path) -> list[str]:
    args = [a.replace("{repo}", str(repo)) for a in case.args]
    if case.cwd_repo or "--repo" in args:
        return args
    return [args[0], "--repo", str(repo), *args[1:]]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input(case: Case, template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "gitops"
    shutil.copytree(template, repo, symlinks=True)
    if case.setup is not None:
        case.setup(repo)
    before = snapshot(repo)
    if case.cwd_repo:
        monkeypatch.chdir(repo)
    if case.hold_lock:
        from promoter.model.lock import repository_lock

        with repository_lock(repo, what="bump ghcr.io/acme/checkout-api:9.9.9"):
            r = invoke(*command_args(case, repo))
    else:
        r = invoke(*command_args(case, repo))
    assert "Traceback" not in r.stderr + r.stdout
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert r.exit_code == case.code, r.stderr
    if case.warning:
        said = [line for line in lines if line.startswith("promoter: warning: ")]
        assert len(said) == 1, r.stderr
    else:
        assert len(lines) == 1 and lines[0].startswith("promoter: error: "), r.stderr
        said = lines
    assert len(said[0]) < 1000, f"{len(said[0])} characters: {said[0][:200]}"
    for fragment in case.says:
        assert fragment in said[0], said[0]
    assert snapshot(repo) == before, "the repository changed"


def test_the_catalogue_covers_sixty_cases_in_every_area() -> None:
    from tests.badinput import catalogue
    from tests.badinput.test_forge_answers import FORGE_CASES

    areas = {
        "arguments": catalogue.ARGUMENTS,
        "config": catalogue.CONFIGS,
        "yaml": catalogue.YAML,
        "filesystem": catalogue.FILESYSTEM,
        "git": catalogue.GIT,
        "forge answers": FORGE_CASES,
    }
    assert all(len(cases) >= 3 for cases in areas.values()), {k: len(v) for k, v in areas.items()}
    assert sum(len(cases) for cases in areas.values()) >= 60
    assert len({c.id for c in CASES}) == len(CASES)


# ---- what only a real process shows: its own stdout failing ---------------------------------------
def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess[str]:  # noqa: ANN003 - run's own keywords
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PROMOTER_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "promoter", *args], env=env, text=True, timeout=120, **kwargs)


def test_stdout_on_a_full_disk_is_one_line_exit_1(template: Path, tmp_path: Path) -> None:
    repo = tmp_path / "gitops"
    shutil.copytree(template, repo, symlinks=True)
    with open("/dev/full", "w") as full:
        r = _run(["check", "--repo", str(repo), "--all", "-o", "json"], stdout=full, stderr=subprocess.PIPE)
    assert r.returncode == 1
    assert r.stderr == "promoter: error: cannot write to stdout: No space left on device\n"


def test_a_bump_diff_to_a_full_disk_fails_rather_than_claiming_success(template: Path, tmp_path: Path) -> None:
    repo = tmp_path / "gitops"
    shutil.copytree(template, repo, symlinks=True)
    with open("/dev/full", "w") as full:
        r = _run(
            [
                "bump",
                "--repo",
                str(repo),
                "--app",
                "checkout-api",
                "--env",
                "dev",
                "--image",
                "ghcr.io/acme/checkout-api:1.5.0",
                "--dry-run",
                "-o",
                "json",
            ],
            stdout=full,
            stderr=subprocess.PIPE,
        )
    assert r.returncode == 1 and r.stderr.splitlines() == [
        "promoter: error: cannot write to stdout: No space left on device"
    ]


def test_a_reader_that_goes_away_is_one_line_exit_1(template: Path, tmp_path: Path) -> None:
    repo = tmp_path / "gitops"
    shutil.copytree(template, repo, symlinks=True)
    read, write = os.pipe()
    os.close(read)  # nobody reads: the first write fails with EPIPE
    try:
        r = _run(["images", "--repo", str(repo), str(repo / "apps")], stdout=write, stderr=subprocess.PIPE)
    finally:
        os.close(write)
    assert r.returncode == 1
    assert r.stderr.splitlines() == ["promoter: error: cannot write to stdout: Broken pipe"]
    assert (repo / DEV_KUST).is_file()


def test_check_reports_an_alias_bomb_in_a_manifest_as_an_error_finding(template: Path, tmp_path: Path) -> None:
    """`check` does not stop at the first bad file: the bomb is one error finding naming file and line
    (exit 3), found in bounded time, and the other objects are still checked."""
    import json

    from tests.badinput.catalogue import billion_laughs

    repo = tmp_path / "gitops"
    shutil.copytree(template, repo, symlinks=True)
    (repo / "plain").mkdir()
    (repo / "plain/app.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fine}\ndata: {a: b}\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n" + billion_laughs("  ")
    )
    before = snapshot(repo)
    r = invoke("check", "--repo", str(repo), "--all", "-o", "json")
    assert r.exit_code == 3, r.stderr
    report = json.loads(r.stdout)
    bombs = [f for f in report["findings"] if "alias bomb" in f["message"]]
    assert len(bombs) == 1 and bombs[0]["severity"] == "error"
    assert bombs[0]["location"]["file"] == "plain/app.yaml" and bombs[0]["location"]["line"] > 5
    assert any("fine" in s["id"] for s in report["subjects"]), "the good object of the file is still checked"
    assert snapshot(repo) == before


def test_yaml_notes_of_the_parser_never_reach_stderr(template: Path, tmp_path: Path) -> None:
    """A reused anchor is legal YAML; ruamel says so with a multi-line Python warning. A real process
    (pytest would capture warnings in process) prints only promoter's own lines."""
    repo = tmp_path / "gitops"
    shutil.copytree(template, repo, symlinks=True)
    values = repo / "apps/web/env/values-dev.yaml"
    values.write_text(values.read_text() + "x: &a 1\ny: &a 2\nz: *a\n")
    config = (repo / CONFIG).read_text()
    config = config.replace("image: ghcr.io/acme/checkout-api", "image: &n ghcr.io/acme/checkout-api")
    (repo / CONFIG).write_text(config.replace("image: ghcr.io/acme/web", "image: &n ghcr.io/acme/web"))
    r = _run(
        ["bump", "--repo", str(repo), "--app", "web", "--env", "dev", "--image", "ghcr.io/acme/web:3.0.0", "--dry-run"],
        capture_output=True,
    )
    assert r.returncode == 0, r.stderr
    assert "Warning" not in r.stderr and "anchor" not in r.stderr, r.stderr
