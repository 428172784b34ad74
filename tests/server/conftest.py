"""Fixtures of the workspace tests: ``db_url`` (SQLite and PostgreSQL, like tests/storage) and
``seeded``, a SQLite run store with one stored run and a user per role, shared by a module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.databases import BACKENDS, fresh_database


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database (SQLite file or PostgreSQL schema)."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """(database, run id): a SQLite store with the factory run and the four users."""
    from server_factories import seed

    with fresh_database("sqlite", tmp_path_factory.mktemp("ws")) as db:
        yield db, seed(db)
