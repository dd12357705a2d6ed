"""Config: .promoter.yaml validated against the shipped schema; every error names file, line and key; exit 2."""

from __future__ import annotations

import json
import textwrap
from importlib import resources
from pathlib import Path

import pytest
from jsonschema import Draft7Validator

from promoter.config.loader import config_schema, load_config
from promoter.model.errors import ConfigError
from tests.conftest import EXAMPLES, make_repo

GOOD = """\
version: 1
environments:
  - name: dev
  - name: stage
    gates: {promotion_order: true, soak: 1h}
  - name: prod
defaults:
  path: apps/{app}/overlays/{env}
apps:
  api:
    image: ghcr.io/acme/api
  web:
    image: nginx
    chart: charts/web
    paths:
      dev: charts/web/values-dev.yaml
    targets:
      prod:
        - file: prod/web.yaml
          key: spec.values.image.tag
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / ".promoter.yaml").write_text(textwrap.dedent(text))
    return tmp_path


def test_valid_config_builds_typed_objects(tmp_path: Path):
    cfg = load_config(write(tmp_path, GOOD))
    assert cfg.file == ".promoter.yaml"
    assert [e.name for e in cfg.environments] == ["dev", "stage", "prod"]
    assert cfg.env("stage").gates == {"promotion_order": True, "soak": "1h"}
    assert cfg.previous_env("stage").name == "dev" and cfg.next_env("prod") is None
    api, web = cfg.app("api"), cfg.app("web")
    assert api.location("stage", cfg.default_path) == "apps/api/overlays/stage"
    assert web.image == "nginx" and web.chart == "charts/web"
    assert web.location("dev", cfg.default_path) == "charts/web/values-dev.yaml"
    assert [(t.file, t.key) for t in web.targets["prod"]] == [("prod/web.yaml", "spec.values.image.tag")]


def test_the_example_config_is_valid():
    cfg = load_config(EXAMPLES)
    assert set(cfg.apps) == {"checkout-api", "web"}
    assert [e.name for e in cfg.environments] == ["dev", "stage", "prod"]


def test_no_config_is_an_empty_config(tmp_path: Path):
    cfg = load_config(tmp_path)
    assert cfg.file is None and cfg.apps == {} and cfg.environments == []


def test_explicit_config_that_does_not_exist(tmp_path: Path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path, tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="is a folder, not a file"):
        load_config(tmp_path, tmp_path)


def test_schema_is_draft7_and_shipped_in_the_package():
    raw = json.loads(resources.files("promoter.config").joinpath("promoter-config.schema.json").read_text())
    assert raw["$schema"] == "http://json-schema.org/draft-07/schema#"
    Draft7Validator.check_schema(raw)
    assert config_schema() == raw


BAD = [
    # (name, text, "file:line: key", words in the message)
    (
        "unknown top-level key",
        "environments:\n  - name: dev\nbogus: 1\n",
        ".promoter.yaml:3: bogus:",
        "unknown key 'bogus'",
    ),
    (
        "unknown app key",
        "environments:\n  - name: dev\napps:\n  web:\n    image: ghcr.io/a/web\n    colour: red\n",
        ".promoter.yaml:6: apps.web.colour:",
        "unknown key 'colour'",
    ),
    (
        "wrong type",
        "environments:\n  - name: dev\napps:\n  web:\n    image: 5\n",
        ".promoter.yaml:5: apps.web.image:",
        "not of type 'string'",
    ),
    ("wrong type of list", "environments: dev\n", ".promoter.yaml:1: environments:", "not of type 'array'"),
    (
        "bad env name",
        "environments:\n  - name: dev\n  - name: Prod EU\n",
        ".promoter.yaml:3: environments[1].name:",
        "'Prod EU' is not valid here: expected a name of lowercase letters",
    ),
    (
        "bad gate value",
        "environments:\n  - name: dev\n    gates:\n      soak: often\n",
        ".promoter.yaml:4: environments[0].gates.soak:",
        "'often' is not valid here: expected a duration like 30m, 24h, 2d or 1h30m (units s, m, h, d, w)",
    ),
    (
        "unknown env in paths",
        "environments:\n  - name: dev\napps:\n  web:\n    image: ghcr.io/a/web\n    paths:\n      prod: x\n",
        ".promoter.yaml:7: apps.web.paths.prod:",
        "unknown environment 'prod' (known: dev)",
    ),
    (
        "unknown env in targets",
        "environments:\n  - name: dev\napps:\n  web:\n    image: ghcr.io/a/web\n    targets:\n      qa: [{file: a, key: b}]\n",
        ".promoter.yaml:7: apps.web.targets.qa:",
        "unknown environment 'qa'",
    ),
    (
        "bad image",
        "environments:\n  - name: dev\napps:\n  web:\n    image: ghcr.io/Acme/web\n",
        ".promoter.yaml:5: apps.web.image:",
        "must be lowercase",
    ),
    (
        "image with tag",
        "environments:\n  - name: dev\napps:\n  web:\n    image: ghcr.io/a/web:1\n",
        ".promoter.yaml:5: apps.web.image:",
        "without tag or digest",
    ),
    (
        "duplicate environment",
        "environments:\n  - name: dev\n  - name: dev\n",
        ".promoter.yaml:3: environments[1].name:",
        "listed twice",
    ),
    (
        "bad path template",
        "environments:\n  - name: dev\ndefaults:\n  path: apps/{application}\n",
        ".promoter.yaml:4: defaults.path:",
        "placeholders are {app} and {env}",
    ),
    ("missing environments", "apps: {}\n", ".promoter.yaml:1:", "'environments' is a required property"),
    (
        "duplicate key",
        "environments:\n  - name: dev\nenvironments: []\n",
        ".promoter.yaml:3",
        "duplicate key environments",
    ),
    ("not YAML", "environments: [\n", ".promoter.yaml:1", "does not parse"),
]


@pytest.mark.parametrize(("name", "text", "where", "what"), BAD, ids=[b[0] for b in BAD])
def test_bad_config_names_file_line_and_key(tmp_path: Path, name, text, where, what):
    with pytest.raises(ConfigError) as exc:
        load_config(write(tmp_path, text))
    msg = str(exc.value)
    assert msg.startswith(where), msg
    assert what in msg
    assert "\n" not in msg


@pytest.mark.parametrize(("name", "text", "where", "what"), BAD, ids=[b[0] for b in BAD])
def test_bad_config_through_the_cli_is_one_line_and_exit_2(tmp_path: Path, run_cli, name, text, where, what):
    repo = make_repo(tmp_path / "repo", {".promoter.yaml": text, "values.yaml": "image: nginx:1\n"})
    before = (repo / "values.yaml").read_bytes()
    r = run_cli("bump", "--repo", str(repo), "--image", "nginx:2", "--path", "values.yaml")
    assert r.exit_code == 2
    assert r.stderr.count("\n") == 1 and r.stderr.startswith(f"promoter: error: {where}")
    assert "Traceback" not in r.stderr + r.stdout
    assert (repo / "values.yaml").read_bytes() == before


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("environments:\n  - name: dev\n  - name: prod\n    gates: {soak: 1day}\n", "environments[1].gates.soak"),
        ("environments:\n  - name: Dev\n", "environments[0].name"),
        ("environments:\n  - name: dev\n    gates: {image_exists: {platforms: [amd64]}}\n", "platforms[0]"),
        ("environments:\n  - name: dev\n    gates: {freeze: [{start: '4pm'}]}\n", "freeze[0].start"),
        ("environments:\n  - name: dev\nvalidation: {kubernetes_version: latest}\n", "validation.kubernetes_version"),
        ("environments:\n  - name: dev\nforge: {token_env: my-token}\n", "forge.token_env"),
    ],
)
def test_a_value_of_the_wrong_form_is_described_in_words_not_as_a_regular_expression(
    tmp_path: Path, text: str, where: str
) -> None:
    (tmp_path / ".promoter.yaml").write_text(text)
    with pytest.raises(ConfigError) as exc:
        load_config(tmp_path)
    assert where in exc.value.message and "is not valid here: expected" in exc.value.message
    assert "does not match" not in exc.value.message and "^" not in exc.value.message
