"""GSM on the 19 Willems (2008) chains in the benchmark convention (docs/gsm.md).

For each chain: stages, arcs, size of the 2-core (nodes/arcs left after the exact pendant-tree
reduction), best cost found, proven lower bound, proven relative gap ``(cost − LB)/cost``,
seconds and method (``solve_gsm(method="auto")``: the time-indexed MIP of the core
warm-started by the heuristic, or the tree DP). Prints a Markdown table and writes it
atomically to ``bench/results/gsm_willems.md`` with a line saying whether the goal (proven gap
≤ 1 % within 60 s on every chain) is met.

    .venv/bin/python bench/gsm_willems.py [--time-limit 60] [--chains 01 37] [--quick]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import Any

from echelon.network.io import load_network
from echelon.optimize.gsm import build_instance, service_bounds, solve_gsm
from echelon.optimize.gsm.reduce import reduce_to_core

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "willems"
RESULTS = Path(__file__).resolve().parent / "results" / "gsm_willems.md"


def run(
    chains: list[str] | None = None,
    time_limit: float = 60.0,
    gap_tolerance: float = 1e-4,
    quick: bool = False,
) -> list[dict[str, Any]]:
    """One row per chain (``quick``: chains 01–09 with a 10 s limit)."""
    files = sorted(DATA.glob("*.csv"))
    if chains:
        files = [f for f in files if f.stem in chains]
    if quick:
        files = [f for f in files if f.stem <= "09"]
        time_limit = min(time_limit, 10.0)
    rows = []
    for f in files:
        net = load_network(f)
        inst = build_instance(net)
        red = reduce_to_core(inst, service_bounds(inst))
        result = solve_gsm(net, time_limit=time_limit, gap_tolerance=gap_tolerance)
        lower = result.details.get("lower_bound")
        rows.append(
            {
                "chain": f.stem,
                "stages": len(net.nodes),
                "arcs": len(net.lanes),
                "core": f"{red.core.size}/{red.core_arcs.size}",
                "cost": result.objective,
                "lower_bound": lower,
                "gap": result.gap,
                "seconds": result.seconds,
                "method": result.details.get("solver"),
                "status": result.status,
                "heuristic_cost": result.details.get("heuristic_objective"),
            }
        )
        print(_row(rows[-1]), flush=True)
    return rows


def _row(r: dict[str, Any]) -> str:
    gap = "—" if r["gap"] is None else f"{100 * r['gap']:.4f} %"
    lower = "—" if r["lower_bound"] is None else f"{r['lower_bound']:,.4f}"
    heur = "—" if r["heuristic_cost"] is None else f"{r['heuristic_cost']:,.4f}"
    return (
        f"| {r['chain']} | {r['stages']} | {r['arcs']} | {r['core']} | {r['cost']:,.4f} | "
        f"{lower} | {gap} | {r['seconds']:.1f} | {r['method']} | {r['status']} | {heur} |"
    )


HEADER = (
    "| chain | stages | arcs | core nodes/arcs | cost | lower bound | proven gap | seconds "
    "| method | status | heuristic cost |\n"
    "|---:|---:|---:|---:|---:|---:|---:|---:|:---|:---|---:|"
)


def goal_met(r: dict[str, Any]) -> bool:
    """Proven gap ≤ 1 % within 60 s."""
    return r["gap"] is not None and r["gap"] <= 0.01 and r["seconds"] <= 60.0


def table(rows: list[dict[str, Any]]) -> str:
    return "\n".join([HEADER, *(_row(r) for r in rows)])


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--gap", type=float, default=1e-4)
    parser.add_argument("--chains", nargs="+")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    print(HEADER, flush=True)
    rows = run(args.chains, args.time_limit, args.gap, args.quick)
    met = sum(1 for r in rows if goal_met(r))
    verdict = "MET" if met == len(rows) else "NOT MET"
    line = (
        f"Goal (proven gap <= 1 % within 60 s on every chain): {verdict} "
        f"({met} of {len(rows)} chains)."
    )
    text = (
        "# GSM on the Willems chains (benchmark convention)\n\n"
        f"time limit {args.time_limit:g} s per chain, gap tolerance {args.gap:g}, HiGHS 1 "
        f"thread; seconds = whole `solve_gsm` call (heuristic + reduction + MIP).\n\n"
        f"{table(rows)}\n\n{line}\n"
    )
    write_atomically(RESULTS, text)
    print(f"\n{line} Wrote {RESULTS}")


if __name__ == "__main__":
    main()
