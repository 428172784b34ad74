"""The plan's stages other than forecasting and simulation on a large catalogue, without
running the slow ones: orders, rebalancing, exceptions, the network drawing.

    PYTHONPATH=src .venv/bin/python bench/stages_scale.py --items 50 500 --stores 45

For each ``--items N`` a synthetic catalogue (:mod:`echelon.plan.catalogue`, Parquet demand) is
written and loaded, and a synthetic placement is built for every item × location from the
history (mean and std of demand per period; stores: base stock = μ·(L+1) + 1.6·σ·√(L+1), DCs
the sum of their stores' means times their lead time plus the same safety term) — the shape of
the pipeline's ``Placements``, not its numbers. Printed per stage: CPU seconds
(``time.process_time``), seconds per 1,000 store series, and, with two or more sizes, the
growth exponent b of ``seconds ≈ a·N^b``. ``--profile STAGE`` prints the cProfile top 15;
``--stages orders rebalance`` runs only those stages (rebalancing needs today's orders: when
``orders`` is not among the stages they are computed first, untimed).
"""

from __future__ import annotations

import argparse
import cProfile
import math
import pstats
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from echelon.plan.catalogue import CatalogueParams, write_catalogue
from echelon.plan.context import PlanContext
from echelon.plan.data import load_context
from echelon.plan.exceptions import find_exceptions
from echelon.plan.model import Explanation, Placement
from echelon.plan.orders import propose_orders
from echelon.plan.rebalance import rebalance


def synthetic_placements(ctx: PlanContext) -> list[Placement]:
    """One placement per item × location (module doc), from the context's history."""
    stats = ctx.history.groupby(["item_id", "location_id"])["y"].agg(["mean", "std"])
    mean = stats["mean"].to_dict()
    std = stats["std"].fillna(0.0).to_dict()
    lead = 2.0
    out = []
    below = {n.id: [ln.target for ln in ctx.network.lanes if ln.source == n.id]
             for n in ctx.network.nodes}  # fmt: skip

    def served(item: str, loc: str) -> tuple[float, float]:
        if not below[loc]:
            return mean.get((item, loc), 0.0), std.get((item, loc), 0.0)
        parts = [served(item, c) for c in below[loc]]
        return sum(m for m, _ in parts), math.sqrt(sum(s * s for _, s in parts))

    for item in ctx.items:
        for node in ctx.network.nodes:
            m, s = served(item, node.id)
            ss = 1.6 * s * math.sqrt(lead + 1)
            base = m * (lead + 1) + ss
            out.append(
                Placement(
                    item=item,
                    location=node.id,
                    tier=ctx.tiers[node.id],
                    mean_demand=m,
                    std_demand=s,
                    lead_time=lead,
                    inbound_service_time=0.0,
                    outbound_service_time=0.0,
                    net_replenishment_time=lead + 1,
                    target=0.95 if not below[node.id] else None,
                    base_stock=base,
                    safety_stock=ss,
                    safety_stock_value=ss * ctx.items[item].unit_cost,
                    single_echelon_base_stock=base * 1.1,
                    single_echelon_safety_stock=ss * 1.2,
                    explanation=Explanation(summary="synthetic placement"),
                )
            )
    return out


def stages(ctx: PlanContext, places: list[Placement]) -> dict[str, Callable[[], object]]:
    orders: list[object] = []

    def do_orders() -> object:
        orders[:] = propose_orders(places, ctx)
        return orders

    return {
        "orders": do_orders,
        "rebalance": lambda: rebalance(places, ctx, orders=orders),  # type: ignore[arg-type]
        "exceptions": lambda: find_exceptions(places, ctx, previous=places),
    }


STAGES = ("orders", "rebalance", "exceptions")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--items", type=int, nargs="+", default=[50])
    ap.add_argument("--stores", type=int, default=45)
    ap.add_argument("--profile", default=None)
    ap.add_argument("--stages", nargs="+", default=list(STAGES), choices=STAGES)
    args = ap.parse_args()
    seconds: dict[str, list[float]] = {}
    for n in args.items:
        folder = Path(tempfile.mkdtemp()) / f"items-{n}"
        write_catalogue(
            CatalogueParams(items=n, stores=args.stores, demand_format="parquet"), folder
        )
        ctx = load_context(folder)
        places = synthetic_placements(ctx)
        per = 1000.0 / (n * len(ctx.stores))
        line = [f"items={n}"]
        todo = stages(ctx, places)
        if "rebalance" in args.stages and "orders" not in args.stages:
            todo["orders"]()  # rebalancing starts from today's orders (untimed)
        for name, fn in todo.items():
            if name not in args.stages:
                continue
            prof = cProfile.Profile() if args.profile == name else None
            t0 = time.process_time()
            if prof is not None:
                prof.enable()
            fn()
            if prof is not None:
                prof.disable()
                pstats.Stats(prof).sort_stats("cumulative").print_stats(15)
            dt = time.process_time() - t0
            seconds.setdefault(name, []).append(dt)
            line.append(f"{name}={dt:.2f}s ({dt * per:.3f} s/1k)")
        print(" ".join(line), flush=True)
    if len(args.items) > 1:
        x = np.log(np.asarray(args.items, float))
        for name, secs in seconds.items():
            b = np.polyfit(x, np.log(np.maximum(secs, 1e-6)), 1)[0]
            print(f"growth exponent {name}: {b:.2f}")


if __name__ == "__main__":
    main()
