"""Nowcasting late store data on M5 (issue 16, acceptance 2).

**WAPE.** The bundled M5 store × department daily sales (70 series). The LSTM
(:mod:`echelon.monitor.lstm`) is trained once on the days before the evaluation weeks; then at
each of ``--origins`` origins (one per week over the last weeks of the data, the weekday
rotating) the last 1 or 2 days of a random 30 % of the stores (3 of 10) are masked and every
nowcaster estimates them from the rest (:func:`echelon.monitor.nowcast.backtest`: WAPE pooled
over the masked cells). Reported: WAPE per nowcaster and the reduction of each against the best
of carry-forward and seasonal naive.

**Orders.** The demo data folder (plan date 2016-04-25, fast settings: ``sim_reps`` 2,
``sim_periods`` 52, no hold-out) with the last 1–2 days of 3 random stores removed is ingested
into a store and planned twice: on zeros for the missing days (the default) and on nowcasts
(``--nowcast``); a third store holds the full data (the truth). Reported: the order units per
masked store in each plan and the absolute gap of the zeros / nowcast plans to the truth.

    .venv/bin/python bench/nowcast.py [--origins 26] [--work /tmp/echelon-nowcast] [--no-orders]
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd

from echelon.monitor.lstm import LstmNowcaster
from echelon.monitor.nowcast import BASELINES, backtest, panel
from echelon.plan.demo_data import load_m5, write_demo_folder

FAST = (
    "name: nowcast\ncurrency: USD\nperiod_days: 7\nhistory_periods: 104\nholdout_periods: 0\n"
    "shadow_origins: 0\nhorizon: 13\nholding_rate: 0.25\nseed: 0\nsim_reps: 2\nsim_periods: 52\n"
)


def wape_table(origins: int, seed: int) -> dict[str, object]:
    m5 = load_m5().rename(columns={"dept_id": "item_id", "store_id": "location_id"})
    p = panel(m5)
    n = p.y.shape[1]
    days = [n - 1 - 7 * k - (k % 7) for k in range(origins)]
    train_end = min(days) - 2  # the LSTM sees none of the evaluated days
    t0 = time.perf_counter()
    lstm = LstmNowcaster(seed=seed).fit(p, end=train_end)
    fit_s = time.perf_counter() - t0
    methods = {**BASELINES, "lstm": lstm}
    scores = backtest(p, methods, days, seed=seed + 1)
    best = min(scores["carry_forward"], scores["seasonal_naive"])
    return {
        "origins": [str(p.days[d].date()) for d in days],
        "lstm_trained_through": str(p.days[train_end].date()),
        "lstm_fit_seconds": round(fit_s, 1),
        "wape": {k: round(v, 4) for k, v in scores.items()},
        "best_simple_baseline": best,
        "reduction_vs_best_simple_baseline": {
            k: round(1 - v / best, 4) for k, v in scores.items() if k not in ("zero",)
        },
    }


def order_effect(work: Path, seed: int) -> dict[str, object]:
    from echelon.monitor.ingest import ingest
    from echelon.monitor.store_plan import plan_from_store

    shutil.rmtree(work, ignore_errors=True)
    demo = write_demo_folder(work / "demo")
    (demo / "plan.yaml").write_text(FAST, encoding="utf-8")
    demand = pd.read_csv(demo / "demand.csv", parse_dates=["ds"])
    rng = np.random.default_rng(seed)
    stores = sorted(demand["location_id"].unique())
    masked = {str(s): int(rng.choice([1, 2])) for s in rng.choice(stores, 3, replace=False)}
    last = demand["ds"].max()
    drop = np.zeros(len(demand), dtype=bool)
    for store, days in masked.items():
        drop |= (demand["location_id"] == store).to_numpy() & (
            demand["ds"] > last - pd.Timedelta(days=days)
        ).to_numpy()
    late = work / "late"
    shutil.copytree(demo, late)
    demand[~drop].to_csv(late / "demand.csv", index=False, date_format="%Y-%m-%d")
    db = str(work / "store.db")
    ingest(demo, db, "truth")
    ingest(late, db, "late")
    plans = {
        "truth": plan_from_store(db, "truth").result,
        "zeros": plan_from_store(db, "late").result,
        "nowcast": plan_from_store(db, "late", use_nowcast=True).result,
    }
    units = {
        name: {
            s: round(sum(r.quantity for r in res.recommendations if r.location == s), 1)
            for s in masked
        }
        for name, res in plans.items()
    }
    gap = {
        name: round(sum(abs(units[name][s] - units["truth"][s]) for s in masked), 1)
        for name in ("zeros", "nowcast")
    }
    return {"masked_stores_days": masked, "order_units": units, "abs_gap_to_truth": gap}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--origins", type=int, default=26)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--work", type=Path, default=Path("/tmp/echelon-nowcast"))
    ap.add_argument("--no-orders", action="store_true")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    out: dict[str, object] = {"wape": wape_table(args.origins, args.seed)}
    print(json.dumps(out, indent=1), flush=True)
    if not args.no_orders:
        out["orders"] = order_effect(args.work, args.seed)
        print(json.dumps(out["orders"], indent=1), flush=True)
    if args.json is not None:
        args.json.write_text(json.dumps(out, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
