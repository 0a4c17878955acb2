"""Fixtures of the sync engine's end-to-end tests."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.sync.world import World


@pytest.fixture
def world(engine: sa.Engine) -> World:
    """Six products per producer, eight units each; nothing published yet."""
    return World.build(engine)
