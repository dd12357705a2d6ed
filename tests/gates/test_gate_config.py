"""Gate settings the schema lets through but that mean nothing are config errors (exit 2) naming file, line and key."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from promoter.config.loader import load_config
from promoter.gates.durations import format_duration, parse_duration
from promoter.gates.engine import evaluate_gates, validate_gate_config
from promoter.model.errors import EXIT_USAGE, ConfigError
from promoter.model.image import ImageRef

from .conftest import D1, EXAMPLES_DIR, init

HEAD = """\
version: 1
environments:
  - name: dev
  - name: stage
  - name: prod
    gates:
"""


def write_config(tmp_path: Path, gates: str, head: str = HEAD) -> Path:
    repo = tmp_path / "gitops"
    repo.mkdir()
    (repo / ".promoter.yaml").write_text(head + gates)
    return repo


def config_error(tmp_path: Path, gates: str, head: str = HEAD) -> str:
    repo = write_config(tmp_path, gates, head)
    with pytest.raises(ConfigError) as exc:
        validate_gate_config(load_config(repo), repo)
    assert exc.value.exit_code == EXIT_USAGE
    message = str(exc.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    "gates, expected",
    [
        ("      soak: 0h\n", ".promoter.yaml:7: environments[2].gates.soak: '0h' is zero"),
        ("      soak: 0d0h0m\n", ".promoter.yaml:7: environments[2].gates.soak: '0d0h0m' is zero"),
        ("      soak: 1h1h\n", ".promoter.yaml:7: environments[2].gates.soak: '1h1h' repeats the unit 'h'"),
        (
            "      freeze:\n        - {days: [fri], start: '16:00', end: '23:59', timezone: Mars/Olympus_Mons}\n",
            ".promoter.yaml:8: environments[2].gates.freeze[0].timezone: unknown time zone 'Mars/Olympus_Mons'",
        ),
        (
            "      freeze:\n        - {days: [sun]}\n        - from: '2026-12-27'\n          to: '2026-12-20'\n",
            ".promoter.yaml:10: environments[2].gates.freeze[1].to: from '2026-12-27' is not before to '2026-12-20'",
        ),
        (
            "      freeze:\n        - {from: '2026-13-01', to: '2026-12-20'}\n",
            ".promoter.yaml:8: environments[2].gates.freeze[0].from: '2026-13-01' is not an ISO date",
        ),
        (
            "      freeze:\n        - {from: 'next friday', to: '2026-12-20'}\n",
            ".promoter.yaml:8: environments[2].gates.freeze[0].from: 'next friday' is not an ISO date",
        ),
        (
            "      freeze:\n        - {days: [fri], start: '25:00', end: '23:00'}\n",
            ".promoter.yaml:8: environments[2].gates.freeze[0].start: '25:00' is not a time of day HH:MM",
        ),
        (
            "      freeze:\n        - {days: [fri], start: '10:00', end: '10:00'}\n",
            ".promoter.yaml:8: environments[2].gates.freeze[0].end: start and end are both 10:00",
        ),
        (
            "      freeze:\n        - {days: [], start: '10:00'}\n",
            ".promoter.yaml:8: environments[2].gates.freeze[0].days: days must be a non-empty list",
        ),
        (
            "      freeze:\n        - {from: '2026-12-20', days: [fri]}\n",
            "environments[2].gates.freeze[0]: mixes a date range (from) with a weekly window (days)",
        ),
        (
            "      freeze:\n        - {reason: 'forgot the when'}\n",
            "environments[2].gates.freeze[0]: a window needs from/to (dates) or days/start/end (weekly)",
        ),
        (
            "      allowed_registries: [ghcr.io, 'https://quay.io']\n",
            ".promoter.yaml:7: environments[2].gates.allowed_registries[1]: 'https://quay.io': write the registry host without a scheme",
        ),
    ],
)
def test_impossible_gate_values_name_file_line_and_key(tmp_path, gates, expected):
    assert expected in config_error(tmp_path, gates)


@pytest.mark.parametrize(
    "gates, expected",
    [
        (
            "      healthy: {contexts: ['argocd/{application}']}\n",
            ".promoter.yaml:7: environments[2].gates.healthy.contexts[0]: 'argocd/{application}': unknown placeholder "
            "{application} (known: {app}, {env}, {previous_env})",
        ),
        (
            "      healthy:\n        contexts: [argocd/api]\n        timeout: 7h\n",
            ".promoter.yaml:9: environments[2].gates.healthy.timeout: '7h' is longer than 6h",
        ),
        (
            "      healthy:\n        contexts: [argocd/api]\n        interval: 0s\n",
            ".promoter.yaml:9: environments[2].gates.healthy.interval: '0s' is zero: give a positive time",
        ),
    ],
)
def test_healthy_settings_that_cannot_work_name_file_line_and_key(tmp_path, gates, expected):
    assert expected in config_error(tmp_path, gates)


def test_healthy_needs_contexts_by_the_schema(tmp_path):
    repo = write_config(tmp_path, "      healthy: {contexts: []}\n")
    with pytest.raises(ConfigError, match=r"environments\[2\]\.gates\.healthy\.contexts"):
        load_config(repo)


@pytest.mark.parametrize("gate", ["promotion_order: true", "soak: 1h", "healthy: {contexts: [argocd/x]}"])
def test_order_and_soak_on_the_first_environment_are_refused(tmp_path, gate):
    head = "environments:\n  - name: dev\n    gates:\n      " + gate + "\n  - name: prod\n"
    message = config_error(tmp_path, "", head)
    assert message.startswith(".promoter.yaml:4: environments[0].gates.")
    assert "dev is the first environment" in message


def test_a_negative_soak_is_refused_at_load_time(tmp_path):
    repo = write_config(tmp_path, "      soak: -1h\n")
    with pytest.raises(ConfigError, match=r"environments\[2\]\.gates\.soak") as exc:
        load_config(repo)
    assert exc.value.exit_code == EXIT_USAGE


def test_evaluate_gates_validates_the_config_first(tmp_path):
    repo = init(tmp_path / "gitops")
    config = repo.config(prod={"freeze": [{"days": ["fri"], "timezone": "Europe/Berlinn"}]})
    with pytest.raises(ConfigError, match=r"freeze\[0\]\.timezone: unknown time zone 'Europe/Berlinn'"):
        evaluate_gates(repo.path, config, "api", "prod", ImageRef.parse(f"ghcr.io/acme/api@{D1}"))


def test_the_bundled_example_config_is_valid():
    validate_gate_config(load_config(EXAMPLES_DIR), EXAMPLES_DIR)


def test_good_values_pass(tmp_path):
    repo = write_config(
        tmp_path,
        (
            "      soak: 1h30m\n      digest_required: true\n      promotion_order: true\n      no_downgrade: false\n"
            "      allowed_registries: [ghcr.io/acme, docker.io]\n"
            "      freeze:\n"
            "        - {days: [sat, sun]}\n"
            "        - {start: '22:00', end: '06:00', timezone: Asia/Tokyo}\n"
            "        - {from: '2026-12-20T18:00', to: '2027-01-02', timezone: America/Sao_Paulo}\n"
            "        - {from: '2026-12-01'}\n"
        ),
    )
    validate_gate_config(load_config(repo), repo)


def test_durations():
    assert parse_duration("1h30m") == timedelta(minutes=90)
    assert parse_duration("2d") == timedelta(days=2)
    assert parse_duration("1w") == timedelta(weeks=1)
    assert parse_duration("45s") == timedelta(seconds=45)
    for bad in ("", "h", "1x", "1.5h", " 1h", "-2h", "0m"):
        with pytest.raises(ValueError):
            parse_duration(bad)
    assert [format_duration(timedelta(seconds=s)) for s in (0, 59, 60, 3600 + 60, 86400 + 7200)] == [
        "0s",
        "59s",
        "1m",
        "1h1m",
        "1d2h",
    ]
