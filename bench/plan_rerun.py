"""How long `echelon plan` takes on unchanged inputs (issue 12, acceptance 2: < 2 s).

Writes the M5 demo data folder, plans it once (stored), then runs `echelon plan` on the same
folder and database REPEAT times as separate processes — a user's re-run, Python start-up
included — and prints each wall time, the median and the split: the start-up of the `echelon`
command alone (`python -c "import echelon.cli.app"`).

    .venv/bin/python bench/plan_rerun.py [--repeat 5] [--out /tmp/echelon-rerun]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from echelon.plan.demo_data import write_demo_folder
from echelon.plan.service import plan_and_store

ECHELON = Path(sys.executable).with_name("echelon")


def _wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr}")
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out", type=Path, default=Path("/tmp/echelon-rerun"))
    args = ap.parse_args()
    folder = write_demo_folder(args.out / "data", seed=0)
    db = str(args.out / "echelon.db")
    start = time.perf_counter()
    first = plan_and_store(folder, db)
    took = time.perf_counter() - start
    print(f"first plan: run {first.run_id} (new: {first.created}) in {took:.1f} s")
    cmd = [str(ECHELON), "plan", str(folder), "--db", db, "--quiet", "--top", "3"]
    reruns = [_wall(cmd) for _ in range(args.repeat)]
    startup = [_wall([sys.executable, "-c", "import echelon.cli.app"]) for _ in range(args.repeat)]
    print("re-run wall times (s): " + ", ".join(f"{t:.2f}" for t in reruns))
    print(
        f"median re-run {statistics.median(reruns):.2f} s (goal < 2 s); "
        f"of which `import echelon.cli.app` {statistics.median(startup):.2f} s"
    )


if __name__ == "__main__":
    main()
