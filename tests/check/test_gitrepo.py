"""The git wrapper on real repositories: what differs from a base, seen from the repository folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from promoter.history.git import GitError, GitRepo, run_git
from promoter.model.errors import UsageError


def changes(repo: Path, ref: str = "main") -> list[tuple[str, str, str | None]]:
    return sorted((d.status, d.path, d.old_path) for d in GitRepo.open(repo).changed_files(ref))


def test_committed_staged_unstaged_untracked_deleted_and_renamed_all_count(new_repo, git_cmd) -> None:
    repo = new_repo(
        {"a.yaml": "a: 1\n", "b.yaml": "b: 1\n", "c.yaml": "c: 1\n", "d.yaml": "long enough to be renamed: 1\n"}
    )
    git_cmd(repo, "checkout", "-q", "-b", "feature")
    (repo / "a.yaml").write_text("a: 2\n")
    git_cmd(repo, "commit", "-qam", "committed on the branch")
    (repo / "b.yaml").write_text("b: 2\n")
    git_cmd(repo, "add", "b.yaml")  # staged
    (repo / "c.yaml").unlink()  # deleted, not staged
    git_cmd(repo, "mv", "d.yaml", "e.yaml")  # renamed
    (repo / "new.yaml").write_text("n: 1\n")  # untracked
    assert changes(repo) == [
        ("?", "new.yaml", None),
        ("D", "c.yaml", None),
        ("M", "a.yaml", None),
        ("M", "b.yaml", None),
        ("R", "e.yaml", "d.yaml"),
    ]


def test_changes_on_the_base_branch_after_forking_do_not_count(new_repo, git_cmd) -> None:
    repo = new_repo({"a.yaml": "a: 1\n", "b.yaml": "b: 1\n"})
    git_cmd(repo, "checkout", "-q", "-b", "feature")
    (repo / "a.yaml").write_text("a: 2\n")
    git_cmd(repo, "commit", "-qam", "feature work")
    git_cmd(repo, "checkout", "-q", "main")
    (repo / "b.yaml").write_text("b: 2\n")
    git_cmd(repo, "commit", "-qam", "main moved on")
    git_cmd(repo, "checkout", "-q", "feature")
    # like a pull request: only what the branch changed since it forked
    assert changes(repo) == [("M", "a.yaml", None)]


def test_a_subfolder_sees_only_its_own_files_relative_to_itself(new_repo) -> None:
    repo = new_repo({"README.md": "x\n", "gitops/apps/a.yaml": "a: 1\n"})
    (repo / "README.md").write_text("y\n")
    (repo / "gitops/apps/a.yaml").write_text("a: 2\n")
    (repo / "gitops/apps/new file.yaml").write_text("n: 1\n")
    sub = GitRepo.open(repo / "gitops")
    assert sub.prefix == "gitops"
    assert changes(repo / "gitops") == [("?", "apps/new file.yaml", None), ("M", "apps/a.yaml", None)]
    assert sub.show("HEAD", "apps/a.yaml") == "a: 1\n"
    assert sub.show("HEAD", "apps/missing.yaml") is None


def test_an_unknown_base_is_a_usage_error_naming_it(new_repo) -> None:
    repo = new_repo({"a.yaml": "a: 1\n"})
    with pytest.raises(UsageError, match=r"--base no-such-branch: no such commit"):
        GitRepo.open(repo).changed_files("no-such-branch")
    with pytest.raises(UsageError, match="--base --output: no such commit"):  # not taken as an option
        GitRepo.open(repo).resolve("--output")


def test_not_a_repository_and_git_failures_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not inside a git repository"):
        GitRepo.open(tmp_path)
    with pytest.raises(GitError) as err:
        run_git(tmp_path, "log")
    assert "\n" not in str(err.value) and str(err.value).startswith("git log failed: ")


def test_log_runs_in_the_repository(new_repo) -> None:
    repo = new_repo({"a.yaml": "a: 1\n"})
    assert GitRepo.open(repo).log("--format=%s").strip() == "initial"


def test_export_writes_the_kept_files_of_a_commit_not_the_working_tree(new_repo, git_cmd, tmp_path) -> None:
    from promoter.history.git import GitRepo

    repo = new_repo({"a/x.yaml": "one\n", "a/run.sh": "#!/bin/sh\n", "b/y.yaml": "two\n"})
    (repo / "a/link.yaml").symlink_to("x.yaml")
    (repo / "a/leak.yaml").symlink_to("/etc/hostname")
    (repo / "a/run.sh").chmod(0o755)
    git_cmd(repo, "add", "-A")
    git_cmd(repo, "commit", "-qm", "links")
    (repo / "a/x.yaml").write_text("changed in the working tree\n")
    dest = tmp_path / "base"
    dest.mkdir()
    n = GitRepo.open(repo).export("main", dest, lambda p: p.startswith("a/"))
    assert n == 4
    assert (dest / "a/x.yaml").read_text() == "one\n"  # the commit's bytes
    assert (dest / "a/link.yaml").is_symlink() and (dest / "a/link.yaml").read_text() == "one\n"
    assert not (dest / "a/leak.yaml").exists() and not (dest / "a/leak.yaml").is_symlink()  # leaves the tree
    assert (dest / "a/run.sh").stat().st_mode & 0o111
    assert not (dest / "b").exists()
