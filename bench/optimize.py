"""Optimizers against stockpyl, same inputs, one process: GSM on random trees and Clark–Scarf on
a 10-stage serial system. Prints both answers and the time ratios.

Run from the repository root::

    .venv/bin/python bench/optimize.py            # full sizes (~1 minute with stockpyl)
    .venv/bin/python bench/optimize.py --quick    # small sizes (smoke test, seconds)

Goals (issue "Network-wide safety-stock placement"): GSM — identical optimal cost, ≥ 100× faster
than stockpyl at 200 nodes, 1,000 nodes under 1 s; Clark–Scarf — ≤ 1 s with a cost no worse than
stockpyl's (both sets of levels priced by the same exact evaluator). The GSM-on-Willems table is
``bench/gsm_willems.py``; simulation-optimization is ``bench/simopt.py``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import clark_scarf  # bench/clark_scarf.py
import gsm_trees  # bench/gsm_trees.py


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    args = ap.parse_args()

    print("## GSM on random trees (stockpyl.gsm_tree vs echelon tree DP)\n")
    rows = gsm_trees.run(quick=args.quick)
    print(gsm_trees.table(rows))
    for r in rows:
        if r["nodes"] == 200 and r["speedup"] is not None:
            verdict = "met" if r["speedup"] >= 100 and r["match"] else "NOT met"
            print(
                f"\n200 nodes: {r['speedup']:.0f}× faster, same cost: {r['match']} — goal {verdict}"
            )
        if r["nodes"] == 1000:
            verdict = "met" if r["echelon_s"] < 1.0 else "NOT met"
            print(f"1,000 nodes: {r['echelon_s']:.3f} s — goal (< 1 s) {verdict}")

    print("\n## Clark–Scarf, 10-stage serial (stockpyl.ssm_serial vs echelon)\n")
    cs = clark_scarf.run(quick=args.quick)
    print("| solver | seconds | levels (stage 1 first) | exact cost of its levels |")
    print("|---|---:|---|---:|")
    for who in ("stockpyl", "echelon"):
        levels = ", ".join(f"{v:.2f}" for v in cs[f"{who}_levels"])
        print(
            f"| {who} | {cs[f'{who}_seconds']:.3f} | {levels} | "
            f"{cs[f'{who}_levels_exact_cost']:.4f} |"
        )
    no_worse = cs["echelon_levels_exact_cost"] <= cs["stockpyl_levels_exact_cost"] + 1e-9
    fast = cs["echelon_seconds"] <= 1.0
    verdict = "met" if fast and no_worse else "NOT met"
    print(
        f"\nspeed-up {cs['speedup']:.0f}× (stockpyl accuracy: {cs['stockpyl_accuracy']}); "
        f"echelon ≤ 1 s: {fast}; cost no worse: {no_worse} — goal {verdict}"
    )


if __name__ == "__main__":
    main()
