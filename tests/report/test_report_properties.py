"""Properties over arbitrary text: escaping round-trips, XML stays parseable, Markdown tables keep their shape."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from hypothesis import given, settings
from hypothesis import strategies as st

from promoter.model.finding import (
    CheckResult,
    Finding,
    Location,
    Severity,
    Status,
    Subject,
)
from promoter.report import github, render
from promoter.report.markdown import markdown_summary
from tests.report.test_report_github import parse

_GITHUB_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")

texts = st.text(min_size=1, max_size=200)


def _shown(text: str) -> str:
    """What a GitHub annotation shows of a control character: its `\\xNN` spelling."""
    return _GITHUB_CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _legal(text: str) -> str:
    """What survives in XML 1.0: everything but the characters it forbids."""
    return _XML_ILLEGAL.sub("", text)


@settings(max_examples=150, deadline=None)
@given(message=texts, title=texts, path=texts)
def test_github_annotation_round_trip(message: str, title: str, path: str) -> None:
    line = github.annotation("warning", message, file=path, title=title)
    assert "\n" not in line and "\r" not in line
    [(kind, props, parsed)] = parse(line)
    assert (kind, parsed) == ("warning", _shown(message))
    assert props == {"file": _shown(path), "title": _shown(title)}


@settings(max_examples=100, deadline=None)
@given(message=texts, name=texts, reason=texts)
def test_junit_always_parses_and_keeps_legal_text(message: str, name: str, reason: str) -> None:
    result = CheckResult(
        findings=[Finding("r", Severity.ERROR, message, Location("f.yaml", 1), subject=name)],
        subjects=[
            Subject(name, "resource", "t", None, Status.FAILED),
            Subject(name + "-2", "resource", "t", None, Status.SKIPPED, reason),
        ],
        targets=["t"],
    )
    root = ET.fromstring(render(result, "junit", title="t").encode("utf-8"))
    cases = root.findall("testsuite/testcase")
    # XML normalises a lone CR in text to LF; everything else legal comes back unchanged.
    assert cases[0].get("name") == _legal(name + " [schema]")
    assert _legal(message).replace("\r\n", "\n").replace("\r", "\n") in cases[0].find("failure").text
    assert cases[1].find("skipped").get("message") == _legal(reason)
    assert root.get("failures") == "1" and root.get("skipped") == "1"


@settings(max_examples=100, deadline=None)
@given(messages=st.lists(texts, min_size=1, max_size=15), max_chars=st.none() | st.integers(0, 3000))
def test_markdown_rows_keep_their_cells_and_size(messages: list[str], max_chars: int | None) -> None:
    result = CheckResult(
        findings=[Finding(m[:20] or "r", Severity.ERROR, m, Location(m[:30] or "f", 1)) for m in messages]
    )
    md = markdown_summary(result, title=messages[0], max_chars=max_chars)
    if max_chars is not None:
        assert len(md) <= max_chars
    rows = [line for line in md.splitlines() if line.startswith("| ")]
    for row in rows:
        # The counts table has 2 columns, the findings table 4: never a stray cell separator.
        assert len(_UNESCAPED_PIPE.findall(row)) in (3, 5), row
    assert md.count("<details>") == md.count("</details>")  # truncation never leaves a section open
