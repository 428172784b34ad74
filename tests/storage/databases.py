"""The ``db_url`` fixture: every storage test runs on SQLite and on PostgreSQL.

- ``sqlite``: a fresh file in the test's temporary folder (given as a plain path);
- ``postgresql``: a fresh schema in the server named by ``$ECHELON_TEST_PG_URL`` (``make test``
  starts one with ``scripts/postgres.sh``), dropped after the test. Without that variable the
  PostgreSQL variant is skipped locally but FAILS when ``CI`` is set, so CI cannot silently
  test SQLite only.

``tests/storage/conftest.py`` defines the fixture; another folder defines its own with
``fresh_database`` (see tests/cli/test_storage_cmds.py).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import psycopg
import pytest

from echelon.storage import dispose_engines

PG_ENV = "ECHELON_TEST_PG_URL"


def on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def pg_base_url() -> str:
    """The PostgreSQL test server's URL; skips (locally) or fails (CI) when none is set."""
    url = os.environ.get(PG_ENV, "").strip()
    if url:
        return url
    message = f"{PG_ENV} is not set: start a server with `export {PG_ENV}=$(scripts/postgres.sh)`"
    if on_ci():
        pytest.fail(f"PostgreSQL tests cannot run on CI: {message}")
    pytest.skip(message)


def with_search_path(url: str, schema: str) -> str:
    """``url`` with the libpq option that makes ``schema`` the default schema."""
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={quote(f'-csearch_path={schema}', safe='')}"


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


BACKENDS = ["sqlite", "postgresql"]


@contextmanager
def fresh_database(backend: str, folder: os.PathLike[str]) -> Iterator[str]:
    """A fresh, empty database: a SQLite file path in ``folder``, or a PostgreSQL URL with its
    own schema (dropped afterwards)."""
    if backend == "sqlite":
        try:
            yield os.path.join(folder, "runs.db")
        finally:
            dispose_engines()
        return
    base = pg_base_url()
    schema = f"test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(_libpq(base), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield with_search_path(base, schema)
    finally:
        dispose_engines()
        with psycopg.connect(_libpq(base), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def row_counts(db: str) -> dict[str, int]:
    """Rows per table of the run store (read directly, not through the public API)."""
    from sqlalchemy import func, select

    from echelon.storage.db import get_engine
    from echelon.storage.schema import audit, recommendations, runs

    with get_engine(db).connect() as conn:
        return {
            t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in (runs, recommendations, audit)
        }
