"""GSM on random spanning trees: echelon's vectorized tree DP against stockpyl's GSM tree DP.

Random trees (fixed seed): node j attaches to a random earlier node, the arc pointing either
way (so assembly and distribution arcs mix); processing times 1–6 periods, holding costs
0.1–2, z = 1.645, every sink has normal demand (σ 1–10) and a max service time of 0–3
periods. Both solvers get the same data in one process; their optimal costs must agree to
1e-6. stockpyl is skipped above ``stockpyl_max`` nodes (default 200: it takes minutes).

    .venv/bin/python bench/gsm_trees.py [--quick] [--sizes 100 200 1000] [--stockpyl-max 200]
"""

from __future__ import annotations

import argparse
import random
import time
from typing import Any

from echelon.optimize.gsm import instance_from_stockpyl
from echelon.optimize.gsm.tree import solve_tree

SEED = 20240611


def random_tree(n: int, seed: int = SEED) -> Any:
    """A stockpyl SupplyChainNetwork: a random tree of ``n`` nodes (see the module doc)."""
    from stockpyl.supply_chain_network import network_from_edges

    rng = random.Random(seed + n)
    edges = []
    for j in range(2, n + 1):
        i = rng.randint(1, j - 1)
        edges.append((i, j) if rng.random() < 0.5 else (j, i))
    has_succ = {a for a, _ in edges}
    nodes = range(1, n + 1)
    sinks = [k for k in nodes if k not in has_succ]
    return network_from_edges(
        edges,
        node_order_in_lists=list(nodes),
        processing_time={k: rng.randint(1, 6) for k in nodes},
        holding_cost={k: round(rng.uniform(0.1, 2.0), 3) for k in nodes},
        demand_bound_constant=1.645,
        demand_type="N",
        mean={k: (rng.uniform(5, 50) if k in sinks else 0.0) for k in nodes},
        standard_deviation={k: (rng.uniform(1, 10) if k in sinks else 0.0) for k in nodes},
        external_outbound_cst={k: rng.randint(0, 3) for k in sinks},
    )


def run(
    sizes: tuple[int, ...] = (100, 200, 1000), quick: bool = False, stockpyl_max: int = 200
) -> list[dict[str, Any]]:
    """One row per size: both costs, both times (s) and the speed-up."""
    from stockpyl.gsm_tree import optimize_committed_service_times

    if quick:
        sizes = tuple(s for s in sizes if s <= 100) or (50,)
    rows = []
    for n in sizes:
        network = random_tree(n)
        t0 = time.perf_counter()
        inst = instance_from_stockpyl(network, name=f"tree-{n}")
        ours = solve_tree(inst)
        ours_s = time.perf_counter() - t0
        row: dict[str, Any] = {
            "nodes": n,
            "echelon_cost": ours.objective,
            "echelon_s": ours_s,
            "stockpyl_cost": None,
            "stockpyl_s": None,
            "speedup": None,
            "match": None,
        }
        if n <= stockpyl_max:
            t0 = time.perf_counter()
            _, theirs = optimize_committed_service_times(network)
            row["stockpyl_s"] = time.perf_counter() - t0
            row["stockpyl_cost"] = float(theirs)
            row["speedup"] = row["stockpyl_s"] / ours_s
            row["match"] = abs(theirs - ours.objective) <= 1e-6 * max(1.0, abs(theirs))
        rows.append(row)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    def fmt(v: Any, spec: str) -> str:
        return "skipped" if v is None else format(v, spec)

    lines = [
        "| nodes | echelon cost | stockpyl cost | match (1e-6) | echelon s | stockpyl s "
        "| speed-up |",
        "|---:|---:|---:|:---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['nodes']} | {r['echelon_cost']:.6f} | {fmt(r['stockpyl_cost'], '.6f')} | "
            f"{fmt(r['match'], '')} | {r['echelon_s']:.4f} | {fmt(r['stockpyl_s'], '.2f')} | "
            f"{fmt(r['speedup'], '.0f')}{'' if r['speedup'] is None else '×'} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 200, 1000])
    parser.add_argument("--stockpyl-max", type=int, default=200)
    args = parser.parse_args()
    rows = run(tuple(args.sizes), quick=args.quick, stockpyl_max=args.stockpyl_max)
    print(table(rows))


if __name__ == "__main__":
    main()
