"""The corpus property checker itself: it must flag every kind of collateral change (no corpus needed)."""

from __future__ import annotations

import pytest

from promoter.model.changeset import Change
from tests.corpus.properties import check_only_values_changed, check_values

OLD = "# head\nimage:\n  repository: nginx  # r\n  tag: 'v1'   # t\n\nother: {a: 1, b: \"x\"}\n"
TAG = [Change("v.yaml", 4, "image.tag", "helm-values", "v1", "v2")]


def test_a_clean_value_edit_passes():
    new = OLD.replace("'v1'", "'v2'")
    assert check_only_values_changed(OLD, new, TAG) == []
    assert check_values(OLD, new, TAG) == []


def test_quoting_change_of_the_value_itself_is_allowed():
    new = OLD.replace("'v1'", '"v2"')
    assert check_only_values_changed(OLD, new, TAG) == []


@pytest.mark.parametrize(
    ("mutate", "what"),
    [
        (lambda t: t.replace("'v1'   # t", "'v2'"), "outside a value"),  # comment lost
        (lambda t: t.replace("'v1'   # t", "'v2'  # t"), "outside a value"),  # spacing before comment
        (lambda t: t.replace("  tag: 'v1'", "    tag: 'v2'"), "outside a value"),  # indentation
        (lambda t: t.replace("'v1'", "'v2'").replace("\n\nother", "\nother"), "rewritten"),  # blank line
        (lambda t: t.replace("'v1'", "'v2'").replace('{a: 1, b: "x"}', "{a: 1, b: x}"), "no value there was reported"),
        (lambda t: t.replace("'v1'", "'v2'").replace("\n", "\r\n"), "line endings"),
        (lambda t: "\ufeff" + t.replace("'v1'", "'v2'"), "BOM"),
        (lambda t: t.replace("  tag: 'v1'   # t\n", "  tag: 'v2'   # t\n  pullPolicy: Always\n"), "reported as added"),
        (
            lambda t: t.replace("  tag: 'v1'   # t\n", f"  tag: 'v2'   # t\n  digest: sha256:{'1' * 64}\n"),
            "reported as added",
        ),
    ],
)
def test_collateral_changes_are_flagged(mutate, what):
    problems = check_only_values_changed(OLD, mutate(OLD), TAG)
    assert any(what in p for p in problems), problems


def test_unreported_value_changes_are_flagged():
    new = OLD.replace("'v1'", "'v2'").replace("a: 1", "a: 2")
    assert any("other.a" in p and "without being reported" in p for p in check_values(OLD, new, TAG))
    wrong = OLD.replace("'v1'", "'v3'")
    assert any("expected one of ['v2']" in p for p in check_values(OLD, wrong, TAG))
