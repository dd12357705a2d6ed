"""Fixtures for the report-format tests."""

from __future__ import annotations

import pytest
from report_samples import sample_result  # type: ignore[import-not-found]

from promoter.finding import CheckResult


@pytest.fixture
def result() -> CheckResult:
    return sample_result()
