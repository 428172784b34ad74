"""Weekly replay of M5 (issue 16, acceptance 1): ingest a week → plan from the store → score.

The M5 demo network and items (``echelon demo``'s data folder) are loaded into a data store
with the demand of the 112 weeks before the replay's first plan date, ``--weeks`` weeks before
the demo's plan date 2016-04-25. Then, each week: plan from the store (a fast plan.yaml:
``sim_reps`` 2, ``sim_periods`` 52, no hold-out, no rolling shadow mode — the forecasts and
placements are those of a full plan), ingest the next week's daily demand (which scores the
plan's store forecasts against it) — ``--weeks`` times. From week ``--change-week`` on, the
demand of every department at ``--change-store`` is multiplied by ``--factor`` (the injected
change). Inventory: the demo's snapshot, dated at the first plan date (positions do not enter
the forecasts or the scores); no open orders.

Measured (from the store), for the default detector (the two-sided CUSUM, k = 0.5, h = 5, on the
errors whitened by the AR(1) error process measured on the earlier weeks,
echelon.monitor.drift) and the textbook one (on z itself): the first alarm on a
changed series and its delay in weeks (1 = flagged on the first changed week), and the false
alarms: alarms on the unchanged series (every other store, and the changed store before the
change) per 100 scored series-weeks. Also WAPE / bias / coverage per segment.

Resumable: the store keeps every load and run; a second invocation with the same ``--db``
skips what is done (the same week ingested twice changes nothing; the same stored state
planned twice returns the stored run). Run it under ``timeout 900`` until it prints the
summary; the summary goes to ``--json``.

    .venv/bin/python bench/weekly_replay.py --db /tmp/replay/store.db [--weeks 26]
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import timedelta
from pathlib import Path

import pandas as pd

from echelon.monitor.drift import NULL_PROCESS, Alarm, H, K, alarms
from echelon.monitor.ingest import ingest
from echelon.monitor.scoring import segment_metrics
from echelon.monitor.store_plan import plan_from_store
from echelon.plan.demo_data import AS_OF, HISTORY_WEEKS, HOLDOUT_WEEKS, load_m5, write_demo_folder
from echelon.storage.datastore import read_scores, store_runs

DATASET = "m5-replay"
FAST_PLAN = (
    "name: m5-replay\ncurrency: USD\nperiod_days: 7\nhistory_periods: 104\nholdout_periods: 0\n"
    "shadow_origins: 0\nhorizon: 13\nholding_rate: 0.25\nseed: 0\nsim_reps: 2\nsim_periods: 52\n"
)


def weekly_demand(args: argparse.Namespace) -> tuple[pd.DataFrame, pd.Timestamp, pd.Timestamp]:
    """M5 daily demand with the injected change; the first plan date and the change's day."""
    m5 = load_m5().rename(columns={"dept_id": "item_id", "store_id": "location_id"})
    start = pd.Timestamp(AS_OF - timedelta(weeks=args.weeks))
    change = start + pd.Timedelta(weeks=args.change_week)
    hit = (m5["location_id"] == args.change_store) & (m5["ds"] >= change)
    m5.loc[hit, "y"] = (m5.loc[hit, "y"] * args.factor).round()
    first = start - pd.Timedelta(weeks=HISTORY_WEEKS + HOLDOUT_WEEKS)
    m5 = m5[(m5["ds"] >= first) & (m5["ds"] < pd.Timestamp(AS_OF))]
    return m5[["item_id", "location_id", "ds", "y"]], start, change


def _csv(path: Path, frame: pd.DataFrame) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, date_format="%Y-%m-%d", lineterminator="\n")
    return path


def initial_load(work: Path, demand: pd.DataFrame, start: pd.Timestamp) -> Path:
    """The first load: network, items, targets, fast plan.yaml, lead times, the snapshot and
    the history before ``start``."""
    demo = write_demo_folder(work / "demo")
    first = work / "load-0"
    first.mkdir(parents=True, exist_ok=True)
    for name in ("network.yaml", "items.csv", "targets.yaml", "lead_times.csv"):
        (first / name).write_bytes((demo / name).read_bytes())
    (first / "plan.yaml").write_text(FAST_PLAN, encoding="utf-8")
    inv = pd.read_csv(demo / "inventory.csv").assign(date=start.date().isoformat())
    _csv(first / "inventory.csv", inv)
    _csv(first / "demand.csv", demand[demand["ds"] < start])
    return first


def summary(db: str, args: argparse.Namespace, change: pd.Timestamp) -> dict[str, object]:
    scores = read_scores(db, DATASET)
    changed = (scores["location_id"] == args.change_store) & (scores["period_start"] >= change)
    return {
        "cusum": {"k": K, "h": args.h},
        "weeks": args.weeks,
        "runs": len(store_runs(db, DATASET)),
        "scored_series_weeks": len(scores),
        "change": {"store": args.change_store, "from": str(change.date()), "factor": args.factor},
        "changed_series": int(scores.loc[changed, "item_id"].nunique()),
        "unchanged_series_weeks": int((~changed).sum()),
        "detectors": {
            "whitened (default)": detection(alarms(scores, h=args.h), changed, args, change),
            "textbook": detection(
                alarms(scores, h=args.h, process=NULL_PROCESS), changed, args, change
            ),
        },
        "metrics_unchanged": segment_metrics(scores[~changed]).to_dict("records"),
        "metrics_changed_store_after_change": segment_metrics(scores[changed]).to_dict("records"),
        "runs_with_drift_exceptions_at_changed_store": drift_runs(db, args.change_store),
    }


def detection(
    fired: list[Alarm], changed: pd.Series, args: argparse.Namespace, change: pd.Timestamp
) -> dict[str, object]:
    """The first alarm on a changed series, its delay in weeks, the changed series flagged
    within 2 weeks, and the false alarms (every alarm elsewhere) per 100 series-weeks."""
    on_changed = [
        a
        for a in fired
        if a.location_id == args.change_store and pd.Timestamp(a.period_start) >= change
    ]
    false = [a for a in fired if a not in on_changed]
    first = min((pd.Timestamp(a.period_start) for a in on_changed), default=None)
    within = {
        a.item_id
        for a in on_changed
        if pd.Timestamp(a.period_start) < change + pd.Timedelta(weeks=2)
    }
    return {
        "first_alarm_on_changed_series": None if first is None else str(first.date()),
        "delay_weeks": None if first is None else int((first - change).days // 7) + 1,
        "changed_series_flagged_within_2_weeks": sorted(within),
        "false_alarms": len(false),
        "false_alarms_per_100_series_weeks": 100.0 * len(false) / max(int((~changed).sum()), 1),
        "false_alarm_list": [
            (a.item_id, a.location_id, str(a.period_start), a.direction) for a in false
        ],
    }


def drift_runs(db: str, store: str) -> list[tuple[int, str, int]]:
    """(run, plan date, drift exceptions at ``store``) of the runs that carry any."""
    out = []
    for run in store_runs(db, DATASET):
        hits = [
            e
            for e in run.result["exceptions"]
            if e["kind"] == "forecast_bias"
            and e["message"].startswith("forecast drift")
            and e.get("location") == store
        ]
        if hits:
            out.append((run.id, str(run.as_of), len(hits)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--work", type=Path, default=Path("/tmp/echelon-replay"))
    ap.add_argument("--weeks", type=int, default=26)
    ap.add_argument("--change-store", default="CA_3")
    ap.add_argument("--change-week", type=int, default=13)
    ap.add_argument("--factor", type=float, default=1.5)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--summary-only", action="store_true", help="only read the store")
    ap.add_argument("--h", type=float, default=H, help="CUSUM decision interval (summary)")
    args = ap.parse_args()
    demand, start, change = weekly_demand(args)
    if not args.summary_only:
        replay(args, demand, start)
    out = summary(args.db, args, change)
    print(json.dumps(out, indent=1, default=str))
    if args.json is not None:
        args.json.write_text(json.dumps(out, indent=1, default=str), encoding="utf-8")


def replay(args: argparse.Namespace, demand: pd.DataFrame, start: pd.Timestamp) -> None:
    """The weekly loop (module doc); what is stored already is not redone."""
    t0 = time.perf_counter()
    done = ingest(initial_load(args.work, demand, start), args.db, DATASET)
    print(f"initial load: applied={done.applied} ({time.perf_counter() - t0:.1f} s)", flush=True)
    for w in range(args.weeks):
        t0 = time.perf_counter()
        run = plan_from_store(args.db, DATASET)
        t1 = time.perf_counter()
        day = start + pd.Timedelta(weeks=w)
        week = demand[(demand["ds"] >= day) & (demand["ds"] < day + pd.Timedelta(days=7))]
        got = ingest(_csv(args.work / f"week-{w + 1:02d}" / "demand.csv", week), args.db, DATASET)
        print(
            f"week {w + 1:2d} ({day.date()}): run {run.run_id} (new={run.created}, "
            f"{t1 - t0:.1f} s), ingest applied={got.applied} scores+{got.scores_added} "
            f"({time.perf_counter() - t1:.1f} s)",
            flush=True,
        )


if __name__ == "__main__":
    main()
