"""Fixtures every unit test module may ask for by name."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from packline.store import Store
from packline.store.users import Users
from tests.support.expected_protocol import protocol

__all__ = ["protocol"]  # the scripted-peer bench of the driver tests


@pytest.fixture
def users(tmp_path: Path) -> Iterator[Users]:
    """The user accounts of a new store, with no user yet."""
    with Store(tmp_path / "line.db") as store:
        yield Users(store)
