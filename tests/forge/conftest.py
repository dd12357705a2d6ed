"""Fixtures for publishing against the fake forge (both forges)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from forgeworld import TOKEN, FILES, REPO, World, make_repo  # noqa: E402
from fakeforge import FakeForge  # noqa: E402


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
