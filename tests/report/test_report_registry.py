"""The format registry: --output specs, rendering by name, writing to stdout or files, colour rules."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from promoter.model.errors import EXIT_USAGE, UsageError
from promoter.report import (
    FORMATS,
    parse_output_spec,
    render,
    render_reports,
    write_reports,
)
from tests.report.report_samples import sample_result


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_known_formats() -> None:
    assert set(FORMATS) == {"text", "json", "junit", "sarif", "codequality", "github", "markdown"}
    for name, module in FORMATS.items():
        assert name == module.NAME


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("sarif=out.sarif", ("sarif", "out.sarif")),
        ("junit", ("junit", None)),
        ("JSON=-", ("json", None)),
        ("text=reports/a=b.txt", ("text", "reports/a=b.txt")),
    ],
)
def test_parse_output_spec(spec: str, expected: tuple[str, str | None]) -> None:
    assert parse_output_spec(spec) == expected


def test_unknown_format_names_the_known_ones() -> None:
    with pytest.raises(UsageError) as err:
        parse_output_spec("xml=out.xml")
    assert err.value.exit_code == EXIT_USAGE
    assert "unknown format 'xml'" in str(err.value)
    assert "codequality, github, json, junit, markdown, sarif, text" in str(err.value)
    with pytest.raises(UsageError, match="no file after '='"):
        parse_output_spec("sarif=")
    with pytest.raises(UsageError, match="unknown output format 'tap'"):
        render(sample_result(), "tap", title="t")


def test_every_format_renders_the_sample() -> None:
    # Each one parses back in its own syntax (details in the per-format tests).
    out = dict(
        zip(
            FORMATS,
            (text for _, text in render_reports(sample_result(), [(f, None) for f in FORMATS], title="t")),
            strict=False,
        )
    )
    json.loads(out["json"]), json.loads(out["sarif"]), json.loads(out["codequality"])
    ET.fromstring(out["junit"].encode())
    assert out["text"].endswith("FAIL: 3 blocking errors\n")
    assert all(line.startswith("::") for line in out["github"].splitlines())
    assert out["markdown"].startswith("## t\n")


def test_files_are_written_and_replaced_whole(tmp_path: Path) -> None:
    old = tmp_path / "reports" / "result.json"
    old.parent.mkdir()
    old.write_text("stale and much longer than nothing " * 100)
    stdout = io.StringIO()
    write_reports(
        sample_result(),
        [("json", "reports/result.json"), ("junit", str(tmp_path / "new" / "junit.xml")), ("text", None)],
        title="promoter check",
        stdout=stdout,
        environ={},
        cwd=tmp_path,
    )
    assert json.loads(old.read_text())["passed"] is False
    assert ET.parse(tmp_path / "new" / "junit.xml").getroot().tag == "testsuites"
    assert sorted(p.name for p in old.parent.iterdir()) == ["result.json"]  # no temp file left behind
    assert stdout.getvalue().startswith("promoter check\n")


def test_text_colour_only_on_a_tty_and_never_with_no_color() -> None:
    plain, tty, tty_no_color, forced_no_color = io.StringIO(), Tty(), Tty(), io.StringIO()
    write_reports(sample_result(), [("text", None)], title="t", stdout=plain, environ={})
    write_reports(sample_result(), [("text", None)], title="t", stdout=tty, environ={})
    write_reports(sample_result(), [("text", None)], title="t", stdout=tty_no_color, environ={"NO_COLOR": "1"})
    write_reports(
        sample_result(), [("text", None)], title="t", color=True, stdout=forced_no_color, environ={"NO_COLOR": "1"}
    )
    assert "\x1b[" not in plain.getvalue()
    assert "\x1b[" in tty.getvalue()
    assert "\x1b[" not in tty_no_color.getvalue()
    assert "\x1b[" not in forced_no_color.getvalue()


def test_text_to_a_file_has_no_colour_even_from_a_tty(tmp_path: Path) -> None:
    write_reports(sample_result(), [("text", str(tmp_path / "out.txt"))], title="t", stdout=Tty(), environ={})
    assert "\x1b[" not in (tmp_path / "out.txt").read_text()


def test_unwritable_report_path_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    with pytest.raises(UsageError, match=r"cannot write the sarif report to .*taken"):
        write_reports(
            sample_result(), [("sarif", str(tmp_path / "taken"))], title="t", stdout=io.StringIO(), environ={}
        )
