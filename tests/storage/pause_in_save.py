"""Test helper (not production code): make ``save_run`` pause inside its transaction.

:func:`install` replaces :func:`echelon.storage.runs.insert_recommendations` in this process by
one that inserts half of the rows, writes ``marker`` and sleeps before the rest — the kill tests
send SIGKILL there. Child processes call it before they save (``python -c``, see the tests).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from echelon.storage import runs

SLEEP_S = 300  # the test kills the child long before this


def install(marker: str | Path) -> None:
    """Pause every later ``save_run`` of this process after half of its recommendation rows."""
    original = runs.insert_recommendations

    def paused(conn: Any, rows: list[dict[str, Any]]) -> None:
        half = len(rows) // 2
        original(conn, rows[:half])
        Path(marker).write_text("paused in save_run before commit\n", encoding="utf-8")
        time.sleep(SLEEP_S)
        original(conn, rows[half:])

    runs.insert_recommendations = paused  # type: ignore[assignment]


PAUSED_CLI = """
import sys
sys.path.insert(0, {tests!r})
from storage.pause_in_save import install
install({marker!r})
from echelon.cli.app import main
main(sys.argv[1:])
"""


def paused_cli_command(python: str, marker: Path, args: list[str]) -> list[str]:
    """A command line running ``echelon ARGS`` with the pause installed."""
    tests = str(Path(__file__).parents[1])
    return [python, "-c", PAUSED_CLI.format(tests=tests, marker=str(marker)), *args]
