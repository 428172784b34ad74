"""Clark–Scarf / Chen–Zheng on a 10-stage serial system: echelon vs stockpyl, in one process.

Run from the repository root::

    .venv/bin/python bench/clark_scarf.py           # stockpyl at its default accuracy (~40 s)
    .venv/bin/python bench/clark_scarf.py --quick   # stockpyl on a coarse grid (seconds)

The instance (stockpyl ships no 10-stage stochastic-service instance): the 10 stages of Snyder &
Shen Problem 6.8 (``load_instance("problem_6_8")``, a 10-stage serial guaranteed-service chain),
with its local holding costs (stage 1 = downstream: 5.73, 4.56, 3.04, 2.93, 2.47, 2.37, 1.15,
1.10, 0.98, 0.87) and its processing times as lead times (5, 10, 2, 15, 8, 5, 9, 5, 1, 5
periods; 65 in all); its demand std 15.8 per period with mean 50 (the GSM instance has mean 0);
backorder cost p = 60 per unit per period (the GSM instance has none). Normal demand is not
truncated here, as in stockpyl and the textbook.

stockpyl 1.0.2's ``ssm_serial`` fails under NumPy 2 (``np.array(..., copy=False)`` in
``helpers.find_nearest`` and a 1-element array stored in a scalar slot);
:func:`stockpyl_numpy2_patch` works around both for the duration of the call only.

Both solutions are evaluated by the same exact evaluator (``clark_scarf_core.expected_cost``,
echelon's default grid), so the costs compare like with like; stockpyl's own estimate of its
cost is printed too.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from echelon.optimize import clark_scarf_core as core

LOCAL_H = [5.73, 4.56, 3.04, 2.93, 2.47, 2.37, 1.15, 1.10, 0.98, 0.87]  # stage 1 first
LEAD_TIMES = [5, 10, 2, 15, 8, 5, 9, 5, 1, 5]
MEAN, STD, PENALTY = 50.0, 15.8, 60.0
ECHELON_H = [h - up for h, up in zip(LOCAL_H, [*LOCAL_H[1:], 0.0], strict=True)]


@contextlib.contextmanager
def stockpyl_numpy2_patch() -> Iterator[Any]:
    """Yield ``stockpyl.ssm_serial`` with ``find_nearest`` wrapped for NumPy 2: it receives a 1-d
    float array (``copy=False`` then needs no copy) and returns a scalar index for a scalar.
    The original is restored on exit; site-packages is not modified."""
    import stockpyl.ssm_serial as ssm

    original = ssm.find_nearest

    def find_nearest(array: Any, values: Any, sorted: bool = False, index: Any = None) -> Any:
        out = original(array, np.atleast_1d(np.asarray(values, dtype=float)), sorted, index or {})
        return int(out[0]) if np.ndim(values) == 0 else out

    ssm.find_nearest = find_nearest
    try:
        yield ssm
    finally:
        ssm.find_nearest = original


def run(quick: bool = False) -> dict[str, Any]:
    """Solve the instance with stockpyl and with echelon; return levels, costs and times."""
    n = len(LOCAL_H)
    accuracy = {"x_num": 100, "d_num": 10} if quick else {}  # {}: stockpyl's defaults
    with stockpyl_numpy2_patch() as ssm:
        t0 = time.perf_counter()
        s_star, c_star = ssm.optimize_base_stock_levels(
            num_nodes=n,
            echelon_holding_cost=ECHELON_H[::-1],  # stockpyl lists stage N first
            lead_time=LEAD_TIMES[::-1],
            stockout_cost=PENALTY,
            demand_mean=MEAN,
            demand_standard_deviation=STD,
            **accuracy,
        )
        t_stockpyl = time.perf_counter() - t0
    theirs = np.array([float(s_star[j]) for j in range(1, n + 1)])

    demand = core.Normal(MEAN, STD)
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        sol = core.solve_serial(LEAD_TIMES, ECHELON_H, PENALTY, demand)
        times.append(time.perf_counter() - t0)
    t_echelon = times[0]
    cost_ours = core.expected_cost(LEAD_TIMES, ECHELON_H, PENALTY, demand, sol.levels)
    cost_theirs = core.expected_cost(LEAD_TIMES, ECHELON_H, PENALTY, demand, theirs)
    return {
        "stages": n,
        "stockpyl_accuracy": accuracy or "default (x_num=1000, d_num=100)",
        "stockpyl_seconds": t_stockpyl,
        "echelon_seconds": t_echelon,
        "echelon_seconds_best_of_3": min(times),
        "speedup": t_stockpyl / t_echelon,
        "stockpyl_levels": theirs.tolist(),
        "echelon_levels": sol.levels.tolist(),
        "stockpyl_reported_cost": float(c_star),
        "echelon_reported_cost": sol.cost,
        "stockpyl_levels_exact_cost": cost_theirs,
        "echelon_levels_exact_cost": cost_ours,
        "echelon_grid_step": sol.step,
        "echelon_grid_points": sol.grid_points,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="stockpyl on a coarse grid")
    r = run(quick=ap.parse_args().quick)
    print(f"10-stage serial Clark–Scarf (N({MEAN:g}, {STD:g}) demand, p = {PENALTY:g})")
    print(f"stockpyl accuracy: {r['stockpyl_accuracy']}")
    print(f"{'stage':>5} {'stockpyl S':>12} {'echelon S':>12}")
    for j, (a, b) in enumerate(zip(r["stockpyl_levels"], r["echelon_levels"], strict=True)):
        print(f"{j + 1:>5} {a:>12.3f} {b:>12.3f}")
    print(f"{'':>5} {'stockpyl':>12} {'echelon':>12}")
    print(f"{'time s':>24}: {r['stockpyl_seconds']:>12.3f} {r['echelon_seconds']:>12.3f}")
    print(f"{'own cost estimate':>24}: {r['stockpyl_reported_cost']:>12.4f} ", end="")
    print(f"{r['echelon_reported_cost']:>12.4f}")
    print(f"{'exact cost of levels':>24}: {r['stockpyl_levels_exact_cost']:>12.4f} ", end="")
    print(f"{r['echelon_levels_exact_cost']:>12.4f}")
    print(
        f"speedup {r['speedup']:.0f}x (echelon best of 3: {r['echelon_seconds_best_of_3']:.3f} s;"
        f" grid {r['echelon_grid_points']:,} points, step {r['echelon_grid_step']:g})"
    )


if __name__ == "__main__":
    main()
