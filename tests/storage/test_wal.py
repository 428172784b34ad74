"""SQLite under concurrent use (issue 19): WAL mode, so ``echelon runs`` answers while another
process is in the middle of saving a plan (holding the write transaction); and database URLs
are printed with every password hidden (``redact_url``)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from echelon.storage import list_runs, redact_url, save_run
from storage.factories import make_plan_result
from storage.pause_in_save import start_paused_child

CHILD = """
import sys
from storage.pause_in_save import install
install(sys.argv[2])
from storage.factories import make_plan_result
from echelon.storage import save_run
save_run(sys.argv[1], make_plan_result(name="inflight", input_hash="c" * 64, n_orders=10))
print("committed")
"""


def _start_writer(db: str, marker: Path) -> subprocess.Popen[bytes]:
    return start_paused_child(CHILD, [db, str(marker)], marker, timeout=90)


def test_runs_answers_while_another_process_holds_the_write_transaction(tmp_path: Path) -> None:
    db = str(tmp_path / "runs.db")
    save_run(db, make_plan_result(name="earlier"))
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    child = _start_writer(db, tmp_path / "paused")
    try:
        # the writer holds BEGIN IMMEDIATE with half its rows inserted, sleeping before commit
        t0 = time.perf_counter()
        inproc = [r.name for r in list_runs(db)]
        in_process_s = time.perf_counter() - t0
        exe = Path(sys.executable).with_name("echelon")
        t0 = time.perf_counter()
        proc = subprocess.run(
            [str(exe), "runs", "--db", db], capture_output=True, text=True, timeout=60
        )  # a hang (busy wait) fails here instead of blocking the suite
        cli_s = time.perf_counter() - t0
        assert child.poll() is None, "the writer must still hold its transaction"
    finally:
        child.kill()
        child.wait(timeout=30)
    assert inproc == ["earlier"]  # the last committed state, not the half-saved run
    assert proc.returncode == 0, proc.stderr
    assert "earlier" in proc.stdout and "inflight" not in proc.stdout
    print(f"list_runs {in_process_s * 1e3:.0f} ms, `echelon runs` {cli_s:.2f} s (with startup)")
    assert in_process_s < 10  # generous: without WAL it waited for the 30 s busy timeout


def test_a_new_process_can_open_the_database_while_a_writer_saves(tmp_path: Path) -> None:
    """Opening (schema check) and reading need no write lock: a fresh engine answers too."""
    db = str(tmp_path / "runs.db")
    save_run(db, make_plan_result(name="earlier"))
    child = _start_writer(db, tmp_path / "paused")
    try:
        proc = subprocess.run(
            [sys.executable, "-c", "from echelon.storage import list_runs; import sys; "
             "print([r.name for r in list_runs(sys.argv[1])])", db],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert child.poll() is None
    finally:
        child.kill()
        child.wait(timeout=30)
    assert proc.returncode == 0 and "['earlier']" in proc.stdout, proc.stderr


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://ana:s3cr3t@db.local:5432/echelon", "postgresql://ana:***@db.local:5432"),
        ("postgresql://ana@db.local/echelon?password=s3cr3t", "password=***"),
        ("postgres://ana@h/e?sslmode=require&sslpassword=s3cr3t", "sslmode=require"),
        ("postgresql+psycopg://ana:s3cr3t@h/e?options=-csearch_path%3Dx", "options="),
        ("runs.db", "runs.db"),
        ("sqlite:////data/runs.db", "sqlite:////data/runs.db"),
        ("postgresql://ana:s3cr3t@[::1", "<unparsable URL>"),
    ],
)
def test_redact_url_hides_every_password(url: str, shown: str) -> None:
    text = redact_url(url)
    assert "s3cr3t" not in text and shown in text
