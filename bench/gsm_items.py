"""The GSM of a catalogue: ``solve_gsm`` item by item against ``solve_gsm_items`` (one pass).

    PYTHONPATH=src .venv/bin/python bench/gsm_items.py --items 50 500 --stores 45

For each ``--items N`` a synthetic catalogue (:mod:`echelon.plan.catalogue`) is written and
loaded; every item's network is built as ``plan/placement.py`` builds it, with each store's
demand taken from its history (mean and std per period; the forecasts are not run, they do not
change the structure). Printed: CPU seconds (``time.process_time``) of the networks' GSM
instances, of the item-by-item loop and of the batched call, per 1,000 store series, and
whether both give the same service times.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from echelon.optimize.gsm import build_instance, solve_gsm
from echelon.optimize.gsm.batched import solve_gsm_items
from echelon.plan import placement
from echelon.plan.catalogue import CatalogueParams, write_catalogue
from echelon.plan.data import load_context
from echelon.plan.forecasting import PlanForecasts, SeriesForecast
from echelon.plan.leadtimes import fit_lead_times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--items", type=int, nargs="+", default=[50])
    ap.add_argument("--stores", type=int, default=45)
    args = ap.parse_args()
    for n in args.items:
        folder = Path(tempfile.mkdtemp()) / f"items-{n}"
        write_catalogue(
            CatalogueParams(items=n, stores=args.stores, demand_format="parquet"), folder
        )
        ctx = load_context(folder)
        stats = ctx.history.groupby(["item_id", "location_id"])["y"].agg(["mean", "std"])
        series = {
            (str(i), str(loc)): SeriesForecast(
                str(i), str(loc), float(m), float(np.nan_to_num(s)), "history", float(m), 0.0
            )
            for (i, loc), m, s in zip(stats.index, stats["mean"], stats["std"], strict=True)
        }
        fc = PlanForecasts(ctx.as_of, ctx.config.period_days, pd.DataFrame(), series)
        lts, targets = fit_lead_times(ctx), placement.store_targets(ctx, ctx.history)
        nets = [placement.item_network(ctx, i, fc, lts, targets) for i in ctx.items]
        flags = [placement._stochastic_lead_times(x) for x in nets]
        gsm_nets = [placement.gsm_network(x) for x in nets]
        level = ctx.config.default_fill_rate
        t0 = time.process_time()
        insts = [
            build_instance(x, default_service_level=level, lead_time_variance=f)
            for x, f in zip(gsm_nets, flags, strict=True)
        ]
        t1 = time.process_time()
        loop = [solve_gsm(x) for x in insts]
        t2 = time.process_time()
        batch = solve_gsm_items(insts)
        t3 = time.process_time()
        same = all(
            {k: v.committed_service_time for k, v in a.nodes.items()}
            == {k: v.committed_service_time for k, v in b.nodes.items()}
            for a, b in zip(loop, batch, strict=True)
        )
        per = 1000.0 / (n * len(ctx.stores))
        print(
            f"items={n} series={n * len(ctx.stores)} build_instance={t1 - t0:.2f}s "
            f"loop={t2 - t1:.2f}s ({(t2 - t1) * per:.3f} s/1k) batched={t3 - t2:.2f}s "
            f"({(t3 - t2) * per:.3f} s/1k) same_service_times={same}"
        )


if __name__ == "__main__":
    main()
