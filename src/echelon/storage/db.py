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

SQLite files use the WAL journal (``PRAGMA journal_mode=WAL``, kept in the file): readers
(``echelon runs``, ``recommendations``, ``audit``, ``report``) read the last committed state
while a plan is being saved, without waiting; their transactions are plain deferred ``BEGIN``
(:func:`transaction` with ``readonly=True``). A writer waits up to :data:`SQLITE_BUSY_TIMEOUT_S`
for another writer. WAL needs the database on a local file system (not NFS), like SQLite itself.

Database URLs are printed only through :func:`redact_url` (password hidden, also in the query
string: ``?password=...``).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, insert, inspect, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from echelon.errors import InputError
from echelon.outputs import file_kind
from echelon.storage import data_schema as _data_schema  # noqa: F401  (registers its tables)
from echelon.storage.schema import STORAGE_SCHEMA_VERSION, metadata, schema_version

DEFAULT_DB_FILE = "echelon.db"
ENV_DB = "ECHELON_DB"

#: how long a SQLite writer waits for another writer's transaction (seconds); readers never wait
SQLITE_BUSY_TIMEOUT_S = 30.0

_PG_SCHEMES = {"postgresql", "postgres", "postgresql+psycopg"}
#: query-string parameters that carry a secret (libpq and common drivers)
_SECRET_PARAMS = {"password", "passwd", "pwd", "sslpassword", "passfile", "sslkey"}
_engines: dict[str, Engine] = {}
_by_name: dict[str, Engine] = {}  # the same engines by a URL's or an absolute path's text
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
            found=redact_url(text),
            fix="check the URL's spelling (special characters in a password must be %-encoded)",
        ) from None


def redact_url(url: str | URL | Path) -> str:
    """The database URL (or file path) as text that is safe to print: the password after
    ``user:`` and any secret in the query string (``?password=...``) are shown as ``***``.
    A URL that cannot be parsed is not echoed at all."""
    if isinstance(url, Path):
        return str(url)
    if isinstance(url, str) and "://" not in url:
        return url  # a plain file path
    try:
        parsed = url if isinstance(url, URL) else make_url(url)
    except (ArgumentError, ValueError):
        return "<unparsable URL>"
    token = "echelonredacted"  # survives URL quoting, then shown as ***
    query = {k: (token if k.lower() in _SECRET_PARAMS else v) for k, v in parsed.query.items()}
    text = parsed.set(query=query).render_as_string(hide_password=True)
    return text.replace(token, "***")


redact = redact_url  # the former name


def database_files(db: str | Path | None = None) -> list[Path]:
    """The files that hold a SQLite database named by ``db`` (the file and its ``-wal``,
    ``-shm`` and ``-journal`` companions), for refusing them as an output path; none for
    PostgreSQL or an in-memory database. An unusable ``db`` gives none (the command then fails
    on the database itself)."""
    try:
        url = resolve_url(db)
    except StorageError:
        return []
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return []
    main = Path(url.database).expanduser()
    return [main] + [main.with_name(main.name + s) for s in ("-wal", "-shm", "-journal")]


def get_engine(db: str | Path | None = None) -> Engine:
    """The (cached) engine for ``db``, with the schema created and its version checked.

    A URL or an absolute path names the same database wherever the process runs, so its
    engine is also found by the name itself (no parsing, no file-system call per
    transaction: the workspace opens several transactions per request)."""
    name = str(db) if db is not None else ""
    fixed = "://" in name or os.path.isabs(name)
    if fixed and (hit := _by_name.get(name)) is not None:
        return hit
    url = resolve_url(db)
    key = url.render_as_string(hide_password=False)
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _create(url)
            _engines[key] = engine
        if fixed:
            _by_name[name] = engine
    return engine


def dispose_engines() -> None:
    """Close every cached engine's connections (tests; long-lived processes)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _by_name.clear()


@contextmanager
def transaction(db: str | Path | None = None, *, readonly: bool = False) -> Iterator[Connection]:
    """One database transaction: committed when the block ends, rolled back on any error.

    ``readonly``: the block only reads; on SQLite it then starts with a deferred ``BEGIN`` and
    reads the last committed state without waiting for a writer (WAL). Database errors become a
    :class:`StorageError` (the transaction is rolled back first).
    """
    engine = get_engine(db)
    try:
        with engine.connect() as conn:
            if readonly:
                conn.execution_options(**{_READONLY: True})
            with conn.begin():
                yield conn
    except DBAPIError as exc:
        raise _db_error(exc, engine.url) from None


def _create(url: URL) -> Engine:
    kwargs: dict[str, Any] = {}
    if url.get_backend_name() == "sqlite":
        _check_sqlite_file(url)
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_S}
    else:
        kwargs["pool_pre_ping"] = True
        kwargs["connect_args"] = {"connect_timeout": 10}
    try:
        engine = create_engine(url, **kwargs)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise StorageError(
            "cannot use the database URL",
            field="db",
            found=f"{redact_url(url)} ({type(exc).__name__})",
            fix="use a file path, sqlite:///FILE or postgresql://USER:PASS@HOST:PORT/DB",
        ) from None
    if url.get_backend_name() == "sqlite":
        _sqlite_pragmas(engine)
    try:
        # an existing store is only read (deferred BEGIN): opening it never waits for a
        # writer; a new one is created in a write transaction (BEGIN IMMEDIATE on SQLite, so
        # two processes creating it at once are serialized)
        with engine.connect() as conn:
            conn.execution_options(**{_READONLY: True})
            with conn.begin():
                ready = _schema_ready(conn)
                if ready:
                    _check_version(conn, url)
        if not ready:
            with engine.begin() as conn:
                metadata.create_all(conn)
                _check_version(conn, url)
    except DBAPIError as exc:
        engine.dispose()
        raise _db_error(exc, url) from None
    return engine


_READONLY = "echelon_readonly"


def _check_sqlite_file(url: URL) -> None:
    """A SQLite database is a regular file (or does not exist yet): never a folder, a device or
    a FIFO (SQLite would fail with "disk I/O error" or block)."""
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        return
    path = Path(url.database)
    try:
        st = path.stat()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StorageError(
            "cannot open the SQLite database file", source=str(path),
            found=exc.strerror or type(exc).__name__, fix="check the path and its links",
        ) from None  # fmt: skip
    if not stat.S_ISREG(st.st_mode):
        raise StorageError(
            "the database must be a regular file", source=str(path),
            found=file_kind(st.st_mode), fix="give --db the path of a SQLite file",
        )  # fmt: skip


def _sqlite_pragmas(engine: Engine) -> None:
    """Foreign keys on; WAL journal; pysqlite's implicit transactions off; writers take the
    lock first (``BEGIN IMMEDIATE``), readers do not (``BEGIN``)."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        # a no-op once the file is in WAL mode; switching needs a moment alone with the file
        # (locked by another process: the next connection switches)
        with contextlib.suppress(sqlite3.OperationalError):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        readonly = conn.get_execution_options().get(_READONLY, False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def _schema_ready(conn: Connection) -> bool:
    """Every table of the store exists and the schema version is recorded."""
    names = set(inspect(conn).get_table_names())
    if not set(metadata.tables) <= names:
        return False
    return conn.execute(select(schema_version.c.version)).first() is not None


def _check_version(conn: Connection, url: URL) -> None:
    found = conn.execute(select(schema_version.c.version)).scalars().all()
    if not found:
        conn.execute(insert(schema_version).values(version=STORAGE_SCHEMA_VERSION))
        return
    if max(found) != STORAGE_SCHEMA_VERSION:
        raise StorageError(
            "the database was written by another version of echelon's run store",
            source=redact_url(url),
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
            source=redact_url(url),
            found=first,
            fix="check that the folder exists and is writable",
        )
    if connect:
        return StorageError(
            "cannot connect to the database",
            source=redact_url(url),
            found=first,
            fix="check that the server is running and the host, port, user and password",
        )
    return StorageError(
        "database error",
        source=redact_url(url),
        found=first,
        fix="check the database (is it an echelon run store, is it writable?)",
    )
