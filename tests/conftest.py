"""Fixtures shared by the test packages: the throw-away PostgreSQL server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.postgres import PostgresServer, postgres_server


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the test session (started on first use)."""
    yield from postgres_server()


@pytest.fixture
def pg_url(pg_server: PostgresServer) -> str:
    """The URL of a fresh, empty PostgreSQL database."""
    return pg_server.new_database()


#: ``db("name.db")``: where a test's store lives (see the fixture :func:`db`).
Db = Callable[[str], str]


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Db:
    """Where a test's store lives, for each engine: ``db("name.db")`` is a file in tmp_path on
    SQLite and the test's own fresh database (whatever the name) on PostgreSQL."""
    if request.param == "sqlite":
        return lambda name: str(tmp_path / name)
    url = str(request.getfixturevalue("pg_url"))
    return lambda name: url
