"""Test helper (not production code): make ``save_run`` pause inside its transaction.

:func:`install` replaces :func:`echelon.storage.runs.insert_recommendations` in this process by
one that inserts half of the rows, writes ``marker`` and sleeps before the rest — the kill tests
send SIGKILL there. Child processes call it before they save (``python -c``, see the tests).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
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


def wait_for_pause(marker: Path, child: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Wait until ``child`` writes ``marker`` (it is paused inside its save transaction); fail
    if it exits first or takes longer than ``timeout`` seconds (the child is then killed)."""
    deadline = time.monotonic() + timeout
    while not marker.exists():
        if child.poll() is not None:
            out = child.stdout.read().decode() if child.stdout else ""
            raise AssertionError(f"child exited early ({child.returncode}): {out}")
        if time.monotonic() > deadline:
            child.kill()
            raise AssertionError("the child never reached the pause inside its transaction")
        time.sleep(0.05)


def start_paused_child(
    script: str, args: list[str], marker: Path, timeout: float = 60.0
) -> subprocess.Popen[bytes]:
    """Start ``python -c script ARGS`` with the tests folder on its path and wait until it is
    paused inside its transaction (:func:`wait_for_pause`)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parents[1]), env.get("PYTHONPATH", "")])
    child = subprocess.Popen(
        [sys.executable, "-c", script, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    wait_for_pause(marker, child, timeout=timeout)
    return child


def kill_at_pause(script: str, args: list[str], marker: Path) -> str:
    """Run ``script`` (:func:`start_paused_child`), SIGKILL it at its pause and return what it
    printed before (a kill test checks it never printed that it committed)."""
    child = start_paused_child(script, args, marker)
    try:
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    return child.stdout.read().decode() if child.stdout else ""
