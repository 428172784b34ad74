"""Database names and URLs, schema creation and versioning, connection errors."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from sqlalchemy import update

from echelon.storage import StorageError, list_runs, resolve_url, save_run
from echelon.storage.db import dispose_engines, get_engine
from echelon.storage.schema import schema_version
from storage.factories import make_plan_result


@pytest.mark.parametrize(
    ("given", "driver", "host", "port", "database"),
    [
        (
            "postgresql://u:p@db.example:5433/plans",
            "postgresql+psycopg",
            "db.example",
            5433,
            "plans",
        ),
        ("postgres://u:p@db.example/plans", "postgresql+psycopg", "db.example", None, "plans"),
        ("postgresql+psycopg://u@h/x", "postgresql+psycopg", "h", None, "x"),
        ("sqlite:////var/tmp/a.db", "sqlite", None, None, "/var/tmp/a.db"),
    ],
)
def test_urls_map_to_the_psycopg3_driver_or_sqlite(
    given: str, driver: str, host: str | None, port: int | None, database: str
) -> None:
    url = resolve_url(given)
    assert (url.drivername, url.host, url.port, url.database) == (driver, host, port, database)


def test_a_plain_path_is_an_absolute_sqlite_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    url = resolve_url("sub/runs.db")
    assert url.drivername == "sqlite"
    assert url.database == str(tmp_path / "sub" / "runs.db")


def test_default_is_echelon_db_here_or_the_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ECHELON_DB", raising=False)
    assert resolve_url(None).database == str(tmp_path / "echelon.db")
    monkeypatch.setenv("ECHELON_DB", "postgresql://u:p@h/db")
    assert resolve_url(None).drivername == "postgresql+psycopg"


@pytest.mark.parametrize(
    "given", ["mysql://u:p@h/db", "oracle://x", "  ", "postgresql://u:p@h:notaport/db"]
)
def test_unsupported_or_empty_names_are_clear_errors(given: str) -> None:
    with pytest.raises(StorageError) as err:
        resolve_url(given)
    assert "fix:" in str(err.value)


def test_unreachable_server_is_a_clear_error_without_the_password() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(StorageError, match="cannot connect to the database") as err:
        list_runs(f"postgresql://user:s3cret@127.0.0.1:{port}/nothing")
    assert "s3cret" not in str(err.value)
    assert "\n" not in str(err.value)


def test_sqlite_file_in_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="cannot open the SQLite database file"):
        list_runs(str(tmp_path / "no" / "such" / "folder" / "runs.db"))


def test_schema_is_created_on_first_use_with_its_version(db_url: str) -> None:
    assert list_runs(db_url) == []
    with get_engine(db_url).connect() as conn:
        versions = conn.execute(schema_version.select()).scalars().all()
    assert versions == [1]


def test_a_database_of_another_schema_version_is_refused(db_url: str) -> None:
    save_run(db_url, make_plan_result())
    with get_engine(db_url).begin() as conn:
        conn.execute(update(schema_version).values(version=2))
    dispose_engines()
    with pytest.raises(StorageError, match="another version of echelon's run store"):
        list_runs(db_url)
