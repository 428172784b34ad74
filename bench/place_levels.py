"""CPU seconds of the place stage, and its every number, for comparing two versions of the code.

    PYTHONPATH=src .venv/bin/python bench/place_levels.py --items 10 --stores 45 --dump /tmp/a.pkl
    PYTHONPATH=/other/src .venv/bin/python bench/place_levels.py --items 10 --dump /tmp/b.pkl \
        --compare /tmp/a.pkl

A synthetic catalogue (:mod:`echelon.plan.catalogue`, Parquet demand) is written once to
``--cache`` (with its forecasts, pickled: both versions place on the same forecasts), then
placed by ``place_with_mix`` (GSM, single-echelon, store tuning by simulation, explanations).
Printed: the place stage's CPU seconds (``time.process_time``, every thread) and CPU s per
1,000 store series. ``--dump``: every tuned level (units), tuned fill rate (0-1), GSM net
replenishment time (periods) and safety stock (units), and every placement's safety-stock parts
(units), pickled; ``--compare``: how many of them differ from another dump, and by how much at
most. ``--profile``: the cProfile top 25 by internal time. ``--calls``: the tunings' kernel
calls, in all and per step of the search (``tuning.tune_chunk``'s counts, summed over chunks).
``--settle``: the tuning's ``tuning.SETTLE_FILL`` (fill rate 0-1; default the code's).
"""

from __future__ import annotations

import argparse
import cProfile
import math
import pickle
import pstats
import time
from pathlib import Path
from typing import Any

from echelon.plan import tuning
from echelon.plan.catalogue import CatalogueParams, write_catalogue
from echelon.plan.data import load_context
from echelon.plan.forecasting import plan_forecasts
from echelon.plan.leadtimes import fit_lead_times
from echelon.plan.stock_mix import place_with_mix


def numbers(placed: Any) -> dict[tuple[str, ...], float]:
    """Every number of the placement, keyed by (item, what, node)."""
    out: dict[tuple[str, ...], float] = {}
    for item, plan in placed.items.items():
        for name, ps in plan.policies.items():
            for node, pol in ps.policies.items():
                out[(item, name.value, node)] = float(getattr(pol, "level", math.nan))
        for name, fills in plan.fill.items():
            out.update({(item, "fill-" + name.value, n): v for n, v in fills.items()})
        for node, d in plan.gsm.nodes.items():
            out[(item, "gsm-tau", node)] = float(d.net_replenishment_time or 0.0)
            out[(item, "gsm-ss", node)] = float(d.safety_stock or 0.0)
    for p in placed.placements:
        parts = p.explanation.safety_stock
        for k, v in (parts.model_dump() if parts is not None else {}).items():
            out[(p.item, "parts-" + k, p.location)] = float(v)
    return out


def compare(a: dict[tuple[str, ...], float], b: dict[tuple[str, ...], float]) -> str:
    if a.keys() != b.keys():
        return f"different keys: {len(a.keys() ^ b.keys())} not in both"
    diff = [abs(a[k] - b[k]) for k in a if not (a[k] == b[k] or (a[k] != a[k] and b[k] != b[k]))]
    return f"{len(a)} numbers, {len(diff)} differ, max abs difference {max(diff, default=0.0):.3g}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--items", type=int, default=10)
    ap.add_argument("--stores", type=int, default=45)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/place-levels"))
    ap.add_argument("--dump", type=Path)
    ap.add_argument("--compare", type=Path)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--calls", action="store_true")
    ap.add_argument("--settle", type=float)
    ap.add_argument("--folder", type=Path, help="a data folder instead of the catalogue")
    args = ap.parse_args()
    folder = args.folder or args.cache / f"items-{args.items}-stores-{args.stores}"
    cached = folder.with_suffix(".forecasts.pkl")
    if not folder.exists():
        params = CatalogueParams(items=args.items, stores=args.stores, demand_format="parquet")
        write_catalogue(params, folder)
    ctx = load_context(folder)
    if not cached.exists():
        cached.write_bytes(pickle.dumps(plan_forecasts(ctx)))
    forecasts = pickle.loads(cached.read_bytes())
    lead = fit_lead_times(ctx)
    prof = cProfile.Profile() if args.profile else None
    calls: dict[str, int] = {"tunings": 0}
    if args.settle is not None:
        tuning.SETTLE_FILL = args.settle
    if args.calls:
        tune = tuning.tune_chunk

        def counted(*a: Any, **kw: Any) -> dict[str, int]:
            out = tune(*a, **kw)
            calls["tunings"] += 2  # meio and single-echelon
            for k, v in out.items():
                calls[k] = calls.get(k, 0) + v
            return out

        tuning.tune_chunk = counted  # type: ignore[assignment]
    c0 = time.process_time()
    if prof:
        prof.enable()
    placed, _ = place_with_mix(ctx, forecasts, lead)
    if prof:
        prof.disable()
    cpu = time.process_time() - c0
    series = sum(len(p.stores) for p in placed.items.values())
    print(f"items={len(placed.items)} series={series} place: CPU {cpu:.2f} s "
          f"({cpu * 1000 / series:.2f} CPU s / 1k series)")  # fmt: skip
    if args.calls:
        n = calls.pop("tunings")
        print(f"kernel calls over {n} tunings: " + ", ".join(
            f"{k} {v} ({v / n:.2f} a tuning)" for k, v in calls.items()))  # fmt: skip
    got = numbers(placed)
    if args.dump:
        args.dump.write_bytes(pickle.dumps(got))
    if args.compare:
        print(compare(pickle.loads(args.compare.read_bytes()), got))
    if prof:
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
