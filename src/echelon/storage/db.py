"""Database URLs, engines and transactions for the run store.

A database is named by a URL or a file path:

- nothing given: ``$ECHELON_DB`` if set, else ``echelon.db`` in the current folder (SQLite);
- a plain path (``runs.db``, ``/data/plan.sqlite``): a SQLite file;
- ``sqlite:///path`` (or ``sqlite://`` for an in-memory database);
- ``postgresql://user:pass@host:port/db`` (also ``postgres://`` and
  ``postgresql+psycopg://``): PostgreSQL through the psycopg 3 driver. libpq options in the
  query string pass through, e.g. ``?options=-csearch_path%3Dmyschema`` to use a schema.

The schema is created on first use (``metadata.create_all``) and its version recorded in the
``schema_version`` table; a database written by another schema version is refused. SQLite
write transactions start with ``BEGIN IMMEDIATE`` so two writers never interleave; PostgreSQL
transactions lock the rows they change (``SELECT ... FOR UPDATE``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, insert, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from echelon.errors import InputError
from echelon.storage.schema import STORAGE_SCHEMA_VERSION, metadata, schema_version

DEFAULT_DB_FILE = "echelon.db"
ENV_DB = "ECHELON_DB"

_PG_SCHEMES = {"postgresql", "postgres", "postgresql+psycopg"}
_engines: dict[str, Engine] = {}
_lock = threading.Lock()


class StorageError(InputError):
    """The run store cannot do what was asked: a bad database URL, a server that cannot be
    reached, an unknown run or recommendation, a status change that is not allowed."""


def resolve_url(db: str | Path | None = None) -> URL:
    """The SQLAlchemy URL for ``db`` (see the module docstring for what is accepted)."""
    text = str(db) if db is not None else os.environ.get(ENV_DB) or DEFAULT_DB_FILE
    text = text.strip()
    if not text:
        raise StorageError(
            "empty database name", field="db", fix="give a file path or a database URL"
        )
    if "://" not in text:
        return URL.create("sqlite", database=str(Path(text).expanduser().resolve()))
    scheme = text.split("://", 1)[0].lower()
    if scheme in _PG_SCHEMES:
        text = "postgresql+psycopg://" + text.split("://", 1)[1]
    elif scheme != "sqlite":
        raise StorageError(
            "unsupported database URL scheme",
            field="db",
            expected="a file path, sqlite:///FILE or postgresql://USER:PASS@HOST:PORT/DB",
            found=f"{scheme}://",
            fix="use SQLite (a file path) or PostgreSQL (postgresql://...)",
        )
    try:
        url = make_url(text)
        _ = url.port  # parsed lazily by some versions
        return url
    except (ArgumentError, ValueError):
        raise StorageError(
            "cannot parse the database URL",
            field="db",
            expected="postgresql://USER:PASS@HOST:PORT/DB or sqlite:///FILE",
            found=redact(text),
            fix="check the URL's spelling (special characters in a password must be %-encoded)",
        ) from None


def redact(url: str | URL) -> str:
    """The URL as text with its password hidden (for messages)."""
    try:
        parsed = url if isinstance(url, URL) else make_url(url)
    except (ArgumentError, ValueError):
        return "<unparsable URL>"
    return parsed.render_as_string(hide_password=True)


def get_engine(db: str | Path | None = None) -> Engine:
    """The (cached) engine for ``db``, with the schema created and its version checked."""
    url = resolve_url(db)
    key = url.render_as_string(hide_password=False)
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _create(url)
            _engines[key] = engine
    return engine


def dispose_engines() -> None:
    """Close every cached engine's connections (tests; long-lived processes)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


@contextmanager
def transaction(db: str | Path | None = None) -> Iterator[Connection]:
    """One database transaction: committed when the block ends, rolled back on any error.

    Database errors become a :class:`StorageError` (the transaction is rolled back first).
    """
    engine = get_engine(db)
    try:
        with engine.begin() as conn:
            yield conn
    except DBAPIError as exc:
        raise _db_error(exc, engine.url) from None


def _create(url: URL) -> Engine:
    kwargs: dict[str, Any] = {}
    if url.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
        kwargs["connect_args"] = {"connect_timeout": 10}
    try:
        engine = create_engine(url, **kwargs)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise StorageError(
            "cannot use the database URL",
            field="db",
            found=f"{redact(url)} ({exc})",
            fix="use a file path, sqlite:///FILE or postgresql://USER:PASS@HOST:PORT/DB",
        ) from None
    if url.get_backend_name() == "sqlite":
        _sqlite_pragmas(engine)
    try:
        with engine.begin() as conn:
            metadata.create_all(conn)
            _check_version(conn, url)
    except DBAPIError as exc:
        engine.dispose()
        raise _db_error(exc, url) from None
    return engine


def _sqlite_pragmas(engine: Engine) -> None:
    """Foreign keys on; pysqlite's implicit transactions off; writers take the lock first."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _check_version(conn: Connection, url: URL) -> None:
    found = conn.execute(select(schema_version.c.version)).scalars().all()
    if not found:
        conn.execute(insert(schema_version).values(version=STORAGE_SCHEMA_VERSION))
        return
    if max(found) != STORAGE_SCHEMA_VERSION:
        raise StorageError(
            "the database was written by another version of echelon's run store",
            source=redact(url),
            expected=f"schema version {STORAGE_SCHEMA_VERSION}",
            found=f"schema version {max(found)}",
            fix="use a new database file or URL (or the echelon version that wrote it)",
        )


def _db_error(exc: SQLAlchemyError, url: URL) -> StorageError:
    detail = str(getattr(exc, "orig", exc)).strip().splitlines()
    first = detail[0] if detail else type(exc).__name__
    connect = getattr(exc, "connection_invalidated", False) or "connect" in first.lower()
    if url.get_backend_name() == "sqlite" and "unable to open" in first:
        return StorageError(
            "cannot open the SQLite database file",
            source=redact(url),
            found=first,
            fix="check that the folder exists and is writable",
        )
    if connect:
        return StorageError(
            "cannot connect to the database",
            source=redact(url),
            found=first,
            fix="check that the server is running and the host, port, user and password",
        )
    return StorageError(
        "database error",
        source=redact(url),
        found=first,
        fix="check the database (is it an echelon run store, is it writable?)",
    )
