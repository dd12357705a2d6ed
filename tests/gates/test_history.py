"""history: what an app ran in an environment, read from real git histories."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from promoter.config.loader import load_config
from promoter.history.timeline import current_image, image_history, image_stints
from promoter.locate.scope import env_scope
from promoter.model.errors import UsageError
from promoter.model.image import ImageRef

from .conftest import (
    D0,
    D1,
    D2,
    D3,
    T0,
    T2,
    T4,
    T5,
    T6_MERGE,
    UTC,
    GitOps,
    build_pipeline,
    git,
    init,
    kustomization,
)


def test_history_lists_each_image_with_the_commit_and_time_that_put_it_there(pipeline):
    repo, shas = pipeline
    states = image_history(repo.path, load_config(repo.path), "api", "stage", "main")
    assert [(s.tag, s.digest) for s in states] == [("1.0.0", D0), ("1.1.0", D1), ("1.2.0", D2), ("1.3.0", D3)]
    assert [s.commit for s in states] == [shas["T0"], shas["T2"], shas["T4"], shas["T6_MERGE"]]
    assert [s.time for s in states] == [T0, T2, T4, T6_MERGE]
    # Each state ends where the next begins; the last is still running.
    assert [s.until for s in states] == [T2, T4, T6_MERGE, None]
    assert [s.until_commit for s in states] == [shas["T2"], shas["T4"], shas["T6_MERGE"], None]
    assert states[-1].file == "apps/api/stage/kustomization.yaml" and states[-1].line == 6


def test_a_merged_change_counts_from_the_merge_not_from_the_branch_commit(pipeline):
    repo, shas = pipeline
    last = image_history(repo.path, load_config(repo.path), "api", "stage", "main")[-1]
    # The PR branch commit is three days older; the base branch got the change at the merge.
    assert last.commit == shas["T6_MERGE"] != shas["T6_BRANCH"]
    assert last.time == T6_MERGE


def test_commits_to_other_envs_do_not_make_new_states(pipeline):
    repo, _ = pipeline
    states = image_history(repo.path, load_config(repo.path), "api", "prod", "main")
    assert len(states) == 1 and states[0].time == T0 and states[0].until is None


def test_current_image_at_a_ref_an_older_commit_and_the_working_tree(pipeline, tmp_path):
    repo, shas = pipeline
    config = load_config(repo.path)
    now = current_image(repo.path, config, "api", "stage", "main")
    assert now is not None and (now.tag, now.digest, now.commit) == ("1.3.0", D3, shas["T6_MERGE"])
    then = current_image(repo.path, config, "api", "stage", shas["T5"])
    assert then is not None and (then.tag, then.digest, then.commit, then.time) == ("1.2.0", D2, shas["T4"], T4)
    work = current_image(repo.path, config, "api", "dev", None)
    assert work is not None and (work.tag, work.digest, work.commit, work.time) == ("1.3.0", D3, None, None)


def test_working_tree_edits_are_seen_only_without_a_ref(fresh_pipeline):
    repo, shas = fresh_pipeline
    config = load_config(repo.path)
    repo.write({"apps/api/prod/kustomization.yaml": kustomization("9.9.9", D1)})
    assert current_image(repo.path, config, "api", "prod", None).tag == "9.9.9"
    assert current_image(repo.path, config, "api", "prod", "HEAD").tag == "1.0.0"


def test_runs_compares_digests_and_falls_back_to_tags(pipeline):
    repo, _ = pipeline
    state = current_image(repo.path, load_config(repo.path), "api", "stage", "main")

    def runs(image: str) -> bool:
        return any(p.runs(ImageRef.parse(image)) for p in state.pins)

    assert runs(f"ghcr.io/acme/api@{D3}")
    assert not runs(f"ghcr.io/acme/api:1.3.0@{D2}")  # same tag, other bytes
    assert runs("ghcr.io/acme/api:1.3.0")
    assert not runs("ghcr.io/acme/api:1.2.0")


def test_a_gitops_repo_in_a_subfolder_of_a_work_tree(tmp_path):
    outer = tmp_path / "mono"
    repo, shas = build_pipeline(outer / "deploy" / "gitops", gitdir=outer)
    (outer / "README.md").write_text("not gitops\n")
    config = load_config(repo.path)
    states = image_history(repo.path, config, "api", "stage", "main")
    assert [s.digest for s in states] == [D0, D1, D2, D3]
    # Paths are relative to the GitOps folder, not to the work tree's root.
    assert states[-1].file == "apps/api/stage/kustomization.yaml"
    assert current_image(repo.path, config, "api", "stage", shas["T5"]).digest == D2


def test_removed_env_file_ends_the_state_and_broken_old_yaml_is_skipped(tmp_path):
    repo = init(tmp_path / "gitops")
    config = load_config(repo.path)
    broken = repo.commit(T2, "broken", {"apps/api/dev/kustomization.yaml": "images: [\n"})
    fixed = repo.set_image("dev", "1.1.0", D1, T4)
    gone = repo.commit(T5, "remove", {"apps/api/dev/kustomization.yaml": None, "apps/api/dev/deployment.yaml": None})
    states = image_history(repo.path, config, "api", "dev", "HEAD")
    # While kustomization.yaml did not parse, only the deployment's bare `image: ghcr.io/acme/api` was left.
    assert [(s.tag, s.digest, s.commit, s.until_commit) for s in states] == [
        ("1.0.0", D0, states[0].commit, broken),
        (None, None, broken, fixed),
        ("1.1.0", D1, fixed, gone),
    ]
    assert current_image(repo.path, config, "api", "dev", "HEAD") is None


def test_explicit_targets_are_followed_through_history(tmp_path):
    repo = init(tmp_path / "gitops")
    cfg = (repo.path / ".promoter.yaml").read_text() + (
        "  web:\n    image: ghcr.io/acme/web\n    targets:\n      prod:\n        - {file: values/prod.yaml, key: web.version}\n"
    )
    first = repo.commit(T2, "web", {".promoter.yaml": cfg, "values/prod.yaml": "web:\n  version: 2.0.0\n"})
    second = repo.commit(T4, "web 2.1", {"values/prod.yaml": "web:\n  version: 2.1.0  # bumped\n"})
    repo.commit(T5, "comment only", {"values/prod.yaml": "# prod\nweb:\n  version: 2.1.0  # bumped\n"})
    states = image_history(repo.path, load_config(repo.path), "web", "prod", "HEAD")
    # A reflowed file pinning the same value is not a new state.
    assert [(s.tag, s.commit) for s in states] == [("2.0.0", first), ("2.1.0", second)]


def test_history_reads_git_a_fixed_number_of_times_however_long_it_is(tmp_path, monkeypatch):
    """One git log and one cat-file batch, not one `git show` per commit."""

    def count(n_changes: int) -> int:
        repo = init(tmp_path / f"r{n_changes}")
        for i in range(n_changes):
            repo.set_image("stage", f"1.{i}.0", D1 if i % 2 else D2, T2.replace(hour=i % 24, day=10 + i // 24))
        config = load_config(repo.path)
        calls: list[list[str]] = []
        real = subprocess.run

        def spy(args, *a, **kw):
            if args and args[0] == "git":
                calls.append(list(args))
            return real(args, *a, **kw)

        monkeypatch.setattr(subprocess, "run", spy)
        try:
            states = image_history(repo.path, config, "api", "stage", "HEAD")
        finally:
            monkeypatch.setattr(subprocess, "run", real)
        assert len(states) == n_changes + 1
        assert sum(1 for c in calls if c[1] == "log") == 1
        assert sum(1 for c in calls if c[1] == "cat-file") == 1
        return len(calls)

    assert count(2) == count(12)


def test_env_scope_refuses_paths_that_leave_the_repository(tmp_path):
    repo = init(tmp_path / "gitops")
    cfg = (
        repo.path / ".promoter.yaml"
    ).read_text() + "  evil:\n    image: ghcr.io/acme/evil\n    paths:\n      dev: ../../etc\n"
    repo.write({".promoter.yaml": cfg})
    with pytest.raises(UsageError, match=r"\.\.") as exc:
        env_scope(load_config(repo.path), "evil", "dev")
    assert exc.value.exit_code == 2


def test_unknown_base_ref_is_a_usage_error(pipeline):
    repo, _ = pipeline
    with pytest.raises(UsageError, match="no-such-branch"):
        image_history(repo.path, load_config(repo.path), "api", "stage", "no-such-branch")


def test_times_are_aware_utc(pipeline):
    repo, _ = pipeline
    for s in image_history(repo.path, load_config(repo.path), "api", "dev", "main"):
        assert s.time.tzinfo is not None and s.time.utcoffset().total_seconds() == 0
    assert git(repo.path, "log", "-1", "--format=%cI", "main").strip().startswith("2026-11-16T09:00:00")
    assert UTC is not None and isinstance(repo, GitOps) and isinstance(repo.path, Path)


def test_current_image_keeps_the_commit_that_set_the_image_through_unrelated_changes(fresh_pipeline):
    repo, shas = fresh_pipeline
    repo.commit(T6_MERGE.replace(day=20), "scale stage", {"apps/api/stage/replicas.yaml": "replicas: 3\n"})
    repo.commit(
        T6_MERGE.replace(day=21),
        "comment",
        {"apps/api/stage/kustomization.yaml": "# stage\n" + kustomization("1.3.0", D3)},
    )
    state = current_image(repo.path, load_config(repo.path), "api", "stage", "HEAD")
    assert (state.commit, state.time) == (shas["T6_MERGE"], T6_MERGE)


def test_stints_are_the_stretches_an_image_ran(fresh_pipeline):
    repo, shas = fresh_pipeline
    back = repo.set_image("stage", "1.1.0", D1, T6_MERGE.replace(day=20))  # D1 returns to stage
    config = load_config(repo.path)
    stints = image_stints(repo.path, config, "api", "stage", ImageRef.parse(f"ghcr.io/acme/api@{D1}"), "HEAD")
    assert [(s.commit, s.until_commit) for s in stints] == [(shas["T2"], shas["T4"]), (back, None)]
    by_tag = image_stints(repo.path, config, "api", "stage", ImageRef.parse("ghcr.io/acme/api:1.2.0"), "HEAD")
    assert [(s.time, s.until) for s in by_tag] == [(T4, T6_MERGE)]
    assert (
        image_stints(
            repo.path, config, "api", "stage", ImageRef.parse(f"ghcr.io/acme/api@{D3.replace('3', '9')}"), "HEAD"
        )
        == []
    )


def test_gates_parse_only_the_versions_they_need(tmp_path, monkeypatch):
    """Judging prod reads two long histories but parses a handful of file versions, not all."""
    from datetime import datetime

    from promoter.gates.engine import evaluate_gates
    from promoter.yamlio import document as yamldoc

    repo = init(tmp_path / "gitops")
    digests = [f"sha256:{i:064x}" for i in range(1, 21)]
    for i, d in enumerate(digests):
        repo.set_image("stage", f"1.{i + 1}.0", d, T2.replace(day=1 + i))
    config = repo.config(prod={"promotion_order": True, "soak": "1h", "no_downgrade": True})
    parsed: list[str] = []
    real = yamldoc.YamlDoc.read.__func__

    def spy(cls, text, path):
        parsed.append(path)
        return real(cls, text, path)

    monkeypatch.setattr(yamldoc.YamlDoc, "read", classmethod(spy))
    result = evaluate_gates(
        repo.path,
        config,
        "api",
        "prod",
        ImageRef.parse(f"ghcr.io/acme/api:1.5.0@{digests[4]}"),
        now=datetime(2026, 12, 30, tzinfo=UTC),
    )
    assert not result.failed, [f.message for f in result.findings]
    # stage: the one version holding the digest; prod: its current files (kustomization + deployment).
    assert sorted(parsed) == sorted(
        ["apps/api/stage/kustomization.yaml", "apps/api/prod/kustomization.yaml", "apps/api/prod/deployment.yaml"]
    )


def test_helm_values_over_chart_defaults_in_the_bundled_example(tmp_path):
    from .conftest import EXAMPLES_DIR, root_conftest

    files = {p.relative_to(EXAMPLES_DIR).as_posix(): p.read_text() for p in EXAMPLES_DIR.rglob("*") if p.is_file()}
    repo = root_conftest.make_repo(tmp_path / "gitops", files)
    config = load_config(repo)
    # values-prod.yaml says `repository: acme/web`; the chart's values.yaml adds `registry: ghcr.io`.
    state = current_image(repo, config, "web", "prod", "HEAD")
    assert (state.repository, state.tag, state.digest, state.file) == (
        "ghcr.io/acme/web",
        "2.7.0",
        "sha256:5d1f3b8a9c0e2f4a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c",  # prod takes digests only
        "apps/web/env/values-prod.yaml",
    )
    root_conftest.git(repo, "rm", "-q", "apps/web/chart/values.yaml")
    root_conftest.git(repo, "commit", "-q", "-m", "drop chart defaults")
    # Without the registry the values name docker.io/acme/web: not the app's image.
    assert current_image(repo, config, "web", "prod", "HEAD") is None


def test_scope_membership_mirrors_the_files_bump_reads():
    from promoter.locate.scope import Scope

    image = ImageRef.parse("ghcr.io/acme/api")
    scope = Scope(("apps/api/dev",), (("values/dev.yaml", "image.tag"),), "api in dev", "api", "dev", image)
    known = {"apps/api/dev/chart/Chart.yaml"}
    assert scope.contains("apps/api/dev/kustomization.yaml", known)
    assert scope.contains("apps/api/dev/sub/patch.yml", known)
    assert scope.contains("apps/api/dev/Kustomization", known)
    assert scope.contains("values/dev.yaml", known)
    assert not scope.contains("apps/api/dev/README.md", known)
    assert not scope.contains("apps/api/dev/.hidden/x.yaml", known)
    assert not scope.contains("apps/api/dev/chart/templates/deployment.yaml", known)  # Go templates
    assert not scope.contains("apps/api/devel/kustomization.yaml", known)
    everything = Scope((".",), (), "api in dev", "api", "dev", image)
    assert everything.contains("kustomization.yaml", set()) and everything.contains("a/b.yaml", set())
    assert not everything.contains(".github/workflows/ci.yaml", set())
