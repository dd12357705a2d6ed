"""Fixtures for publishing against the fake forge (both forges)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# tests/ holds the fakeforge package, tests/forge the shared world helpers.
sys.path[:0] = [
    str(Path(__file__).resolve().parent),
    str(Path(__file__).resolve().parent.parent),
]

from fakeforge import FakeForge
from forgeworld import FILES, REPO, TOKEN, World, make_repo


@pytest.fixture
def fake(tmp_path: Path):
    forge = FakeForge(tmp_path / "forge")
    forge.add_token(TOKEN, "promoter-bot")
    yield forge
    forge.close()


@pytest.fixture(params=["github", "gitlab"])
def world(request: pytest.FixtureRequest, fake: FakeForge, tmp_path: Path) -> World:
    local = make_repo(tmp_path / "local", FILES)
    fake.create_repo(REPO, source=local)
    return World(fake, local, request.param)
