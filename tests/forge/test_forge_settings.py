"""Forge settings from flags, .promoter.yaml and CI variables; the --pr option family."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner
from forgeworld import DEPLOY, REPO, TOKEN, World, image, plan

from promoter.commands._pr import add_pr_options
from promoter.config.loader import load_config
from promoter.model.errors import UsageError
from promoter.publish.flags import PrFlags
from promoter.publish.forge.settings import resolve_settings
from promoter.publish.publisher import publish_if_requested


def test_github_from_actions_environment() -> None:
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_TOKEN": "t1",
        "GITHUB_API_URL": "https://ghe.acme.io/api/v3",
        "GITHUB_REPOSITORY": "acme/app",
    }
    s = resolve_settings({"repository": "acme/gitops"}, env)
    assert (s.type, s.url, s.repository, s.token, s.base_branch) == (
        "github",
        "https://ghe.acme.io/api/v3",
        "acme/gitops",
        "t1",
        "main",
    )
    assert s.branch("dev", ["api"]) == "promoter/dev/api"
    assert "t1" not in repr(s)


def test_gh_token_and_flags_win() -> None:
    s = resolve_settings(
        {"type": "gitlab", "repository": "x"},
        {"GH_TOKEN": "t2"},
        forge="github",
        repository="acme/other",
        base_branch="trunk",
        url="https://h/api/v3/",
    )
    assert (s.type, s.repository, s.token, s.base_branch, s.url) == (
        "github",
        "acme/other",
        "t2",
        "trunk",
        "https://h/api/v3",
    )


def test_gitlab_from_ci_environment() -> None:
    env = {
        "GITLAB_CI": "true",
        "GITLAB_TOKEN": "glpat-x",
        "CI_API_V4_URL": "https://gitlab.acme.io/api/v4",
        "CI_DEFAULT_BRANCH": "master",
    }
    s = resolve_settings({"repository": 42}, env)
    assert (s.type, s.url, s.repository, s.base_branch) == (
        "gitlab",
        "https://gitlab.acme.io",
        "42",
        "master",
    )


def test_token_env_train_mode_and_limits_from_config() -> None:
    config = {
        "type": "gitlab",
        "repository": "g/p",
        "token_env": "PROMOTER_TOKEN",
        "mode": "train",
        "max_retries": 2,
        "max_wait_seconds": 5,
        "timeout_seconds": 45,
    }
    s = resolve_settings(config, {"PROMOTER_TOKEN": "secret", "GITLAB_TOKEN": "other"})
    assert (
        s.token == "secret"
        and s.branch("prod", ["a", "b"]) == "promoter/prod"
        and (s.max_retries, s.max_wait_seconds, s.timeout_seconds) == (2, 5.0, 45.0)
    )
    default = resolve_settings({"type": "gitlab", "repository": "g/p"}, {"GITLAB_TOKEN": "t"})
    assert default.timeout_seconds == 120.0 and default.timeout == 30.0


def test_the_deadline_setting_is_checked_by_the_schema() -> None:
    import json
    from importlib import resources

    import jsonschema

    schema = json.loads(resources.files("promoter.config").joinpath("promoter-config.schema.json").read_text())
    forge = schema["properties"]["forge"]
    jsonschema.validate({"timeout_seconds": 90}, forge)
    for bad in (0, -5, "2m", 7200):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({"timeout_seconds": bad}, forge)


@pytest.mark.parametrize(
    ("config", "env", "words"),
    [
        ({"repository": "a/b"}, {"GITHUB_TOKEN": "t"}, "no forge chosen"),
        (
            {"type": "github"},
            {"GITHUB_TOKEN": "t", "GITHUB_REPOSITORY": "acme/app"},
            "no target repository: set forge.repository",
        ),
        (
            {"type": "github", "repository": "a/b"},
            {},
            "no forge token: set GITHUB_TOKEN or GH_TOKEN",
        ),
        (
            {"type": "gitlab", "repository": "a/b"},
            {"CI_JOB_TOKEN": "j"},
            "CI_JOB_TOKEN cannot open merge requests",
        ),
    ],
)
def test_missing_settings_are_one_clear_line(config: dict, env: dict, words: str) -> None:
    with pytest.raises(UsageError) as err:
        resolve_settings(config, env)
    assert words in str(err.value) and err.value.exit_code == 2


def _command(decorate_command: bool) -> click.Command:
    seen: dict[str, PrFlags] = {}

    def body(name: str, pr: PrFlags) -> None:
        seen["flags"] = pr
        click.echo(f"{name} {pr.enabled} {pr.forge} {pr.draft} {pr.auto_merge} {pr.forge_repo}")

    if decorate_command:
        cmd = add_pr_options(click.command()(click.option("--name", default="x")(body)))
    else:
        cmd = click.command()(click.option("--name", default="x")(add_pr_options(body)))
    return cmd


@pytest.mark.parametrize("decorate_command", [False, True])
def test_add_pr_options_packs_flags_into_one_argument(decorate_command: bool) -> None:
    cmd = _command(decorate_command)
    out = CliRunner().invoke(cmd, ["--pr", "--forge", "gitlab", "--no-auto-merge", "--forge-repo", "g/p"])
    assert out.exit_code == 0, out.output
    assert out.output.strip() == "x True gitlab None False g/p"
    plain = CliRunner().invoke(cmd, [])
    assert plain.output.strip() == "x False None None None None"
    help_text = CliRunner().invoke(cmd, ["--help"]).output
    for flag in (
        "--pr",
        "--forge-url",
        "--base-branch",
        "--draft",
        "--auto-merge / --no-auto-merge",
        "--source-commit",
        "--run-url",
        "--actor",
    ):
        assert flag in help_text


@pytest.mark.parametrize("world", ["github"], indirect=True)  # a github-only behaviour
def test_publish_if_requested_reads_env_pr_settings_from_config(world: World, tmp_path) -> None:
    config_text = f"""\
environments:
  - name: dev
    pull_request: {{labels: [promotion], draft: true}}
forge:
  type: github
  url: {world.fake.github_url}
  repository: {REPO}
  max_retries: 1
"""
    (world.local / ".promoter.yaml").write_text(config_text)
    config = load_config(world.local)
    assert (
        publish_if_requested(
            PrFlags(),
            config=config,
            env="dev",
            apps=["a"],
            image=image(),
            changeset=None,
            replan=None,
        )
        is None
    )  # type: ignore[arg-type]
    img = image()
    paths = ["apps/checkout-api/dev/deployment.yaml"]

    def reader(p):
        return (world.local / p).read_text()

    res = publish_if_requested(
        PrFlags(enabled=True, actor="release-bot"),
        config=config,
        env="dev",
        apps=["checkout-api"],
        image=img,
        changeset=plan(img, paths, reader),
        replan=lambda read: plan(img, paths, read),
        repo=world.local,
        environ={"GITHUB_TOKEN": TOKEN},
    )
    assert res is not None and res.operation == "created"
    pr = world.fake.repo(REPO).pulls[res.number]
    assert pr.labels == ["promotion"] and pr.draft and "release-bot" in pr.body
    assert world.show(res.branch, paths[0]) != DEPLOY


def test_only_the_chosen_forge_client_is_imported() -> None:
    import subprocess
    import sys

    code = (
        "import sys, promoter.publish.publisher\n"
        "from promoter.publish.forge import open_forge\n"
        "from promoter.publish.forge.settings import ForgeSettings\n"
        "before = [m for m in ('github', 'gitlab') if m in sys.modules]\n"
        "open_forge(ForgeSettings(type='gitlab', url='http://127.0.0.1:9', repository='g/p', token='t')).close()\n"
        "print(before, [m for m in ('github', 'gitlab') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[] ['gitlab']"


def test_the_pr_options_declare_without_the_publishing_machinery() -> None:
    import subprocess
    import sys

    # `bump --help` needs the option declarations only; publish.py and its forge code cost ~40 ms.
    code = (
        "import sys\n"
        "from promoter.commands._pr import add_pr_options\nfrom promoter.publish.flags import PrFlags\n"
        "import promoter.commands.bump\n"
        "print(sorted(m for m in ('promoter.publish.publisher', 'promoter.publish.pullrequest', 'promoter.publish.forge') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


@pytest.mark.parametrize(
    ("remote", "kind", "api", "want"),
    [
        ("https://github.com/acme/gitops.git", "github", "https://api.github.com", "acme/gitops"),
        ("https://x-access-token:ghs_secret@github.com/acme/gitops", "github", "https://api.github.com", "acme/gitops"),
        ("git@github.com:acme/gitops.git", "github", "https://api.github.com", "acme/gitops"),
        ("ssh://git@github.com/acme/gitops", "github", "https://api.github.com", "acme/gitops"),
        ("https://ghe.example.com/acme/gitops.git", "github", "https://ghe.example.com/api/v3", "acme/gitops"),
        ("https://github.com/acme/gitops/tree", "github", "https://api.github.com", None),
        ("https://gitlab.com/acme/gitops.git", "github", "https://api.github.com", None),
        (
            "https://gitlab-ci-token:tok@gl.example.com/grp/sub/gitops.git",
            "gitlab",
            "https://gl.example.com",
            "grp/sub/gitops",
        ),
        ("https://gl.example.com/gitlab/grp/gitops.git", "gitlab", "https://gl.example.com/gitlab", "grp/gitops"),
        ("https://gl.example.com/gitops.git", "gitlab", "https://gl.example.com", None),
        ("/srv/git/gitops.git", "github", "https://api.github.com", None),
        ("https://github.com/acme/../gitops", "github", "https://api.github.com", None),
    ],
)
def test_the_origin_remote_names_the_repository_on_this_forge_only(remote: str, kind: str, api: str, want) -> None:
    from promoter.publish.forge.settings import origin_repository

    assert origin_repository(remote, kind, api, {}) == want
    token = {"GITHUB_TOKEN": "t"} if kind == "github" else {"GITLAB_TOKEN": "t"}
    if want is not None:
        assert resolve_settings({"type": kind, "url": api}, token, origin=remote).repository == want
        # a repository named in the config or by a flag wins over the remote
        assert (
            resolve_settings({"type": kind, "url": api, "repository": "a/b"}, token, origin=remote).repository == "a/b"
        )
    else:
        with pytest.raises(UsageError) as err:
            resolve_settings({"type": kind, "url": api}, token, origin=remote)
        assert "no target repository" in str(err.value) and "secret" not in str(err.value)
