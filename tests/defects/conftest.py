"""The `world` fixture: see tests/defects/fixtures.py."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from tests.defects.fixtures import World, make_world


@pytest.fixture
def world(session: Session) -> World:
    return make_world(session)
