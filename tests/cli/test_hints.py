"""Every hint is a command that works when pasted: blocked promotions and bad input, through the real CLI.

`invoke` (tests/conftest.py) already fails any test whose output holds a command line that does
not parse or names an option its command lacks. Here each gate and each usage error that
suggests a command is provoked on purpose, its hint is required to be there, and the command
it prints is run as printed.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import click
import pytest

from tests.commandlines import dry_parse, hint_problems, promoter_lines
from tests.conftest import git, invoke, make_repo

API = "ghcr.io/acme/api"
D1 = "sha256:" + "1a" * 32
D2 = "sha256:" + "2b" * 32
D3 = "sha256:" + "3c" * 32
CONFIG = """\
environments:
  - name: dev
    gates: {image_exists: false}
  - name: stage
    gates: {promotion_order: true, image_exists: false}
  - name: prod
    gates:
      image_exists: false
      promotion_order: true
      digest_required: true
      no_downgrade: true
apps:
  api:
    image: ghcr.io/acme/api
    path: apps/{app}/{env}
"""


def kust(tag: str, digest: str) -> str:
    return f"images:\n  - name: {API}\n    newTag: '{tag}'\n    digest: {digest}\n"


def path(env: str) -> str:
    return f"apps/api/{env}/kustomization.yaml"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """dev, stage and prod all run 1.1; then dev gets 1.2."""
    r = make_repo(
        tmp_path / "gitops",
        {".promoter.yaml": CONFIG, **{path(e): kust("1.1.0", D1) for e in ("dev", "stage", "prod")}},
    )
    (r / path("dev")).write_text(kust("1.2.0", D2))
    git(r, "commit", "-qam", "dev gets 1.2.0")
    return r


def run_printed(line: str, **env: str) -> tuple[int, str]:
    """Run a printed `promoter …` line exactly as a shell would split it."""
    r = invoke(*shlex.split(line)[1:], env=env or None)
    return r.exit_code, r.stderr


def only_hint(text: str, verb: str) -> str:
    lines = [c for c in promoter_lines(text) if c.startswith(f"promoter {verb} ")]
    assert lines, f"no `promoter {verb} …` hint in:\n{text}"
    return lines[0]


# ---- the checker itself can fail ----------------------------------------------------------------
def test_the_checker_flags_options_that_do_not_exist() -> None:
    bad = "promoter: error: gate-no-downgrade: ...\n  how to proceed: promote it as a rollback (--rollback)\n"
    assert hint_problems(["bump", "--app", "a"], "", bad) == [
        "`promoter bump` has no --rollback, named in: how to proceed: promote it as a rollback (--rollback)"
    ]
    assert hint_problems(["promote"], "", "  how to proceed: run `promoter promote --app a --env stage`\n")
    assert hint_problems(["rollback"], "", "promoter: error: run `promoter rollback --app a --env b --to x`\n") == []
    # Other tools' options in their own command lines are theirs to judge.
    assert hint_problems(["bump"], "", "  how to proceed: `docker buildx build --platform linux/amd64 --push`\n") == []


def test_dry_parse_checks_names_choices_and_required_options() -> None:
    dry_parse(["bump", "--image", "x:1", "--app", "a", "--env", "b"])
    dry_parse(["policy", "test", "f.yaml", "--output", "sarif=x"])
    for argv in (["bump", "--app", "a"], ["images", "--output", "xml"], ["promote", "--env", "x"], ["nope"]):
        with pytest.raises(click.UsageError):
            dry_parse(argv)


# ---- each gate's hint, pasted -------------------------------------------------------------------
def test_promotion_order_hint_promotes_to_the_previous_env_first(repo: Path) -> None:
    r = invoke("bump", "--repo", str(repo), "--app", "api", "--env", "prod", "--image", f"{API}:1.2.0@{D2}")
    assert r.exit_code == 3 and "gate-promotion-order" in r.stderr
    first = only_hint(r.stderr, "bump")
    assert first == f"promoter bump --app api --env stage --image {API}:1.2.0@{D2} --repo {repo}"
    code, err = run_printed(first)
    assert code == 0, err
    assert (repo / path("stage")).read_text() == kust("1.2.0", D2)
    git(repo, "commit", "-qam", "stage gets 1.2")
    again = [c for c in promoter_lines(r.stderr) if "--env prod" in c]
    assert again and run_printed(again[0])[0] == 0  # "then run … again" now goes through


def test_no_downgrade_hint_is_the_rollback_command(repo: Path) -> None:
    (repo / path("prod")).write_text(kust("1.2.0", D2))
    git(repo, "commit", "-qam", "prod gets 1.2")
    r = invoke("bump", "--repo", str(repo), "--app", "api", "--env", "prod", "--image", f"{API}:1.1.0@{D1}")
    assert r.exit_code == 3 and "gate-no-downgrade" in r.stderr and "--rollback" not in r.stderr
    code, err = run_printed(only_hint(r.stderr, "rollback"))
    assert code == 0, err
    assert (repo / path("prod")).read_text() == kust("1.1.0", D1)


def test_digest_required_hint_keeps_the_command_that_was_run(repo: Path) -> None:
    r = invoke("promote", "--repo", str(repo), "--app", "api", "--from", "stage", "--to", "prod")
    assert r.exit_code == 0, r.stderr  # nothing to change: prod runs 1.1 already
    r = invoke("bump", "--repo", str(repo), "--app", "api", "--env", "prod", "--image", f"{API}:1.1.0")
    assert r.exit_code == 3 and "gate-digest-required" in r.stderr
    assert (
        only_hint(r.stderr, "bump")
        == f"promoter bump --app api --env prod --image {API}:1.1.0@sha256:DIGEST --repo {repo}"
    )


def test_freeze_hint_overrides_with_a_reason_and_the_override_is_said_once(repo: Path) -> None:
    frozen = CONFIG.replace(
        "  - name: dev\n    gates: {image_exists: false}\n",
        "  - name: dev\n    gates:\n      image_exists: false\n      freeze: [{from: '2000-01-01', reason: change freeze}]\n",
    )
    (repo / ".promoter.yaml").write_text(frozen)
    git(repo, "commit", "-qam", "freeze dev")
    r = invoke("bump", "--repo", str(repo), "--app", "api", "--env", "dev", "--image", f"{API}:1.3.0@{D3}")
    assert r.exit_code == 3 and "gate-freeze" in r.stderr
    override = [c for c in promoter_lines(r.stderr) if "--override-freeze" in c]
    assert override == [
        f"promoter bump --app api --env dev --image {API}:1.3.0@{D3} --repo {repo} --override-freeze REASON"
    ]
    code, err = run_printed(override[0])
    assert code == 0, err
    line = next(x for x in err.splitlines() if "gate-freeze-override" in x)
    # The window and its end are named once, the reason given once.
    assert line.count("until") == 1 and line.count("change freeze") == 1 and line.count("REASON") == 1


def test_promote_names_its_own_command_when_a_gate_blocks(repo: Path) -> None:
    r = invoke("promote", "--repo", str(repo), "--app", "api", "--from", "dev", "--to", "prod")
    assert r.exit_code == 3 and "gate-promotion-order" in r.stderr
    assert f"then run `promoter promote --app api --from dev --to prod --repo {repo}` again" in r.stderr


def test_soak_hints_wait_and_run_the_same_command_again(repo: Path) -> None:
    soaking = CONFIG.replace(
        "gates: {promotion_order: true, image_exists: false}", "gates: {soak: 1w, image_exists: false}"
    )
    (repo / ".promoter.yaml").write_text(soaking)
    git(repo, "commit", "-qam", "stage soaks a week")
    r = invoke("bump", "--repo", str(repo), "--app", "api", "--env", "stage", "--image", f"{API}:1.2.0@{D2}")
    assert r.exit_code == 3 and "gate-soak" in r.stderr
    assert f"and run `promoter bump --app api --env stage --image {API}:1.2.0@{D2} --repo {repo}` again" in r.stderr


# ---- usage errors that suggest a command --------------------------------------------------------
def test_a_repository_without_config_is_pointed_at_init(tmp_path: Path) -> None:
    r = invoke("bump", "--repo", str(tmp_path), "--app", "api", "--env", "dev", "--image", f"{API}:1.2.0")
    assert r.exit_code == 2
    init = only_hint(r.stderr, "init")
    assert init == f"promoter init --repo {tmp_path}"
    r = invoke("status", "--repo", str(tmp_path))
    assert r.exit_code == 2 and only_hint(r.stderr, "init") == init


def test_a_config_outside_the_repository_is_repeated_in_hints(repo: Path, tmp_path: Path) -> None:
    config = tmp_path / "elsewhere.yaml"
    config.write_text(CONFIG)
    r = invoke(
        "bump",
        "--repo",
        str(repo),
        "--config",
        str(config),
        "--app",
        "api",
        "--env",
        "prod",
        "--image",
        f"{API}:1.2.0@{D2}",
    )
    assert r.exit_code == 3
    assert f"--repo {repo} --config {config}" in only_hint(r.stderr, "bump")


@pytest.mark.parametrize(
    ("cwd", "repo_arg", "config_arg"),
    [
        (".", "gitops", "elsewhere.yaml"),
        ("gitops", ".", "../elsewhere.yaml"),
        (".", "gitops", "./gitops/../elsewhere.yaml"),
    ],
)
def test_a_relative_config_outside_the_repository_works_when_its_hint_is_pasted(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cwd: str, repo_arg: str, config_arg: str
) -> None:
    """`--config` is read from the current folder: a hint must not put it under `--repo` (it said
    `--repo gitops --config gitops/elsewhere.yaml`, a file that does not exist)."""
    (tmp_path / "elsewhere.yaml").write_text(CONFIG)
    monkeypatch.chdir(tmp_path / cwd)
    args = ["--app", "api", "--env", "prod", "--image", f"{API}:1.2.0@{D2}"]
    r = invoke("bump", "--repo", repo_arg, "--config", config_arg, *args)
    assert r.exit_code == 3, r.stderr
    hint = only_hint(r.stderr, "bump")
    code, err = run_printed(hint)
    assert code == 0 and "does not exist" not in err, (hint, err)  # it promotes to stage, as it says


# ---- refusals suggest only what the user has not already tried ------------------------------------
SHARED_TAG = """api:
  image:
    repository: ghcr.io/acme/api
    tag: &release 1.4.0
worker:
  image:
    repository: ghcr.io/acme/worker
    tag: *release
"""
VERSIONS = "versions:\n  - image: nats:2.11.1-alpine\n  - image: nats:2.10.26-alpine\n"


def way_out(err: str) -> str:
    """The part of a refusal after its problem: what it suggests."""
    assert "changing one would change both. " in err or "Choose: " in err, err
    return err.split("changing one would change both. ")[-1].split("Choose: ")[-1]


@pytest.mark.parametrize("extra", [(), ("--all-matches",)])
def test_an_anchor_shared_with_another_image_suggests_changing_the_file_not_flags_already_given(
    tmp_path: Path, extra: tuple[str, ...]
) -> None:
    """Every reference to the image in the file is in the bump already: no option selects the other image's
    place, so the hint is what to change in the file (it suggested `--path` and `--all-matches`, both given)."""
    repo = make_repo(tmp_path / "r", {"values.yaml": SHARED_TAG})
    r = invoke("bump", "--repo", str(repo), "--path", "values.yaml", "--image", "ghcr.io/acme/api:1.5.0", *extra)
    assert r.exit_code == 2 and "values.yaml:8 (worker.image.tag)" in r.stderr, r.stderr
    hint = way_out(r.stderr)
    assert hint.startswith(
        "Give each its own value: replace the alias with a copy of the value (*release at values.yaml:8)"
    )
    assert "--path" not in hint and "--all-matches" not in hint and "explicit target" not in hint


def test_an_alias_left_out_of_an_explicit_target_suggests_the_ways_to_take_it_in(tmp_path: Path) -> None:
    text = 'dev: &base\n  image:\n    repository: ghcr.io/acme/api\n    tag: "1"\nprod: *base\n'
    config = (
        "environments: [{name: dev, gates: {image_exists: false}}, {name: prod}]\n"
        "apps:\n  api:\n    image: ghcr.io/acme/api\n"
        "    targets: {dev: [{file: values.yaml, key: dev.image}], prod: [{file: values.yaml, key: prod.image}]}\n"
    )
    repo = make_repo(tmp_path / "r", {"values.yaml": text, ".promoter.yaml": config})
    r = invoke("bump", "--repo", str(repo), "--app", "api", "--env", "dev", "--image", "ghcr.io/acme/api:2")
    assert r.exit_code == 2 and "values.yaml:5 (prod)" in r.stderr, r.stderr
    hint = way_out(r.stderr)
    assert hint.startswith("Bump both in one run: add an explicit target for each to apps.api.targets.dev; or ")
    assert "--path values.yaml instead of --app/--env" in hint and "with --all-matches" in hint
    assert hint.endswith(
        "Or give each its own value: replace the alias with a copy of the value (*base at values.yaml:5)\n"
    )
    # The suggestion works as said.
    r = invoke("bump", "--repo", str(repo), "--path", "values.yaml", "--image", "ghcr.io/acme/api:2")
    assert r.exit_code == 0, r.stderr
    assert (repo / "values.yaml").read_text() == text.replace('"1"', '"2"')


def test_a_versioned_list_in_the_file_given_by_path_does_not_suggest_path(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"values.yaml": VERSIONS})
    r = invoke("bump", "--repo", str(repo), "--path", "values.yaml", "--image", "nats:2.11.3-alpine")
    assert r.exit_code == 2 and "pin 2 different values" in r.stderr, r.stderr
    assert way_out(r.stderr) == (
        "an explicit target in .promoter.yaml (apps.APP.targets.ENV: [{file: ..., key: ...}]) with --app/--env, "
        "or --all-matches to set every one of them to nats:2.11.3-alpine\n"
    )


def test_a_versioned_list_over_two_files_suggests_path_to_one_of_them(tmp_path: Path) -> None:
    config = (
        "environments: [{name: dev, gates: {image_exists: false}}]\n"
        "apps:\n  nats:\n    image: nats\n    path: deploy/{env}\n"
    )
    files = {
        ".promoter.yaml": config,
        "deploy/dev/values-a.yaml": "versions:\n  - image: nats:2.11.1-alpine\n",
        "deploy/dev/values-b.yaml": "versions:\n  - image: nats:2.10.26-alpine\n",
    }
    repo = make_repo(tmp_path / "r", files)
    r = invoke("bump", "--repo", str(repo), "--app", "nats", "--env", "dev", "--image", "nats:2.11.3-alpine")
    assert r.exit_code == 2 and "pin 2 different values" in r.stderr, r.stderr
    assert way_out(r.stderr) == (
        "an explicit target in .promoter.yaml (apps.nats.targets.dev: [{file: ..., key: ...}]), "
        "or --path to the one file, or --all-matches to set every one of them to nats:2.11.3-alpine\n"
    )
    # In one file, --path (given or not) narrows nothing: not suggested.
    r = invoke("bump", "--repo", str(repo), "--path", "deploy/dev", "--image", "nats:2.11.3-alpine")
    assert r.exit_code == 2 and "--path to the one file" in r.stderr, r.stderr
    (repo / "deploy/dev/values-b.yaml").write_text("other: 1\n")
    (repo / "deploy/dev/values-a.yaml").write_text(VERSIONS)
    r = invoke("bump", "--repo", str(repo), "--app", "nats", "--env", "dev", "--image", "nats:2.11.3-alpine")
    assert r.exit_code == 2 and "pin 2 different values" in r.stderr, r.stderr
    assert "--path" not in way_out(r.stderr)
