"""Smoke test of ``bench/simulate.py --quick``: it runs and prints its table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "simulate.py"


def test_bench_simulate_quick_prints_table() -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    header = next((line for line in out.splitlines() if line.startswith("| case")), None)
    assert header is not None, out
    for column in ("nodes", "reps", "periods", "node-periods", "seconds", "node-periods/s"):
        assert column in header
    assert "per core" in header and "vs stockpyl" in header
    rows = [line for line in out.splitlines() if line.startswith("| ") and line != header]
    cases = [row.split("|")[1].strip() for row in rows]
    assert "stockpyl ex6.1" in cases
    assert any(c.startswith("echelon ex6.1") for c in cases)
    assert any(c.startswith("distribution") for c in cases)
    assert "Example 6.1 cost per period" in out
    assert "speed vs stockpyl" in out
