"""The weekly replay's scores (bench/weekly_replay.py) under two drift detectors: the textbook
tabular CUSUM on z = (actual − mean) / std (echelon.monitor.drift, k = 0.5, h = 5) and a
self-starting CUSUM (Hawkins 1987; Hawkins & Olwell, *Cumulative Sum Charts*, §7.2) that
standardizes each series' z by the mean and standard deviation of its own earlier z values —
so that a forecast std that is systematically too small or too large for a series does not
bias the chart — with the same k and h. Reads the store only (copy it first if it is in use).

    .venv/bin/python bench/drift_variants.py --db /tmp/echelon-replay/store.db --json out.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm, t

from echelon.monitor.drift import H, K, cusum
from echelon.monitor.scoring import standardized_errors
from echelon.storage.datastore import read_scores

DATASET = "m5-replay"  # as in bench/weekly_replay.py


def self_starting(z: np.ndarray) -> np.ndarray:
    """Hawkins' self-starting transform: u_n = Φ⁻¹(F_{n−2}(T_n)), T_n = √((n−1)/n)·(z_n −
    mean(z_1..n−1)) / sd(z_1..n−1), for n ≥ 3 (0 before: no signal possible)."""
    u = np.zeros(len(z))
    for n in range(3, len(z) + 1):
        past = z[: n - 1]
        sd = past.std(ddof=1)
        if sd <= 0:
            continue
        stat = np.sqrt((n - 1) / n) * (z[n - 1] - past.mean()) / sd
        u[n - 1] = norm.ppf(np.clip(t.cdf(stat, n - 2), 1e-12, 1 - 1e-12))
    return u


def evaluate(scores: pd.DataFrame, store: str, change: pd.Timestamp, transform: str) -> dict:
    latest = scores.sort_values("run_id").drop_duplicates(
        ["item_id", "location_id", "period_start"], keep="last"
    )
    latest = latest.assign(z=standardized_errors(latest)).sort_values("period_start")
    fired = []
    for (item, loc), g in latest.groupby(["item_id", "location_id"], sort=True):
        z = g["z"].to_numpy(float)
        if transform == "self_starting":
            z = self_starting(z)
        days = list(g["period_start"])
        fired += [(item, loc, pd.Timestamp(days[i]), d) for i, d, _ in cusum(z, K, H)]
    changed = (latest["location_id"] == store) & (latest["period_start"] >= change)
    on = [a for a in fired if a[1] == store and a[2] >= change]
    false = [a for a in fired if a not in on]
    first = min((a[2] for a in on), default=None)
    within = sorted({a[0] for a in on if a[2] < change + pd.Timedelta(weeks=2)})
    return {
        "transform": transform, "k": K, "h": H,
        "false_alarms": len(false), "unchanged_series_weeks": int((~changed).sum()),
        "false_alarms_per_100": 100.0 * len(false) / max(int((~changed).sum()), 1),
        "false_up": sum(a[3] == "up" for a in false),
        "first_alarm_on_changed": None if first is None else str(first.date()),
        "delay_weeks": None if first is None else int((first - change).days // 7) + 1,
        "changed_flagged_within_2_weeks": within,
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--store", default="CA_3")
    ap.add_argument("--change", default="2016-01-25")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    scores = read_scores(args.db, DATASET)
    out = [evaluate(scores, args.store, pd.Timestamp(args.change), tr)
           for tr in ("textbook", "self_starting")]  # fmt: skip
    text = json.dumps(out, indent=1)
    print(text)
    if args.json is not None:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
