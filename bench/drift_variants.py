"""The weekly replay's stored scores (bench/weekly_replay.py) under drift-detector variants,
re-evaluated without re-planning. Reads the store only (copy it first if it is in use).

Variants (two-sided CUSUM, k = 0.5, h = 5 unless said; echelon.monitor.drift):

- ``textbook``: the chart on z = (actual − mean) / std, the plan's forecast std (N(0, 1)
  assumed: in-control ARL ≈ 465 periods);
- ``whitened`` (the default of echelon.monitor.drift): z whitened by the AR(1) error process
  measured on the *earlier* periods only (an expanding window, causal: no period is judged
  with parameters fitted on it), so that the chart sees N(0, 1) innovations;
- ``designed_h``: z standardized by the earlier periods' mean and std, not whitened; h the
  smallest on a 0.25 grid whose simulated in-control ARL under the AR(1) of the measured
  lag-1 autocorrelation (the weeks before the change, i.e. the first half) is ≥ 465 periods —
  the textbook chart's in-control ARL; evaluated on the second half only (the first half
  chose h).

Counting: ``alarms`` counts every signal; ``episodes`` counts a signal once per episode — a
signal of a series in the same direction as its previous one within :data:`EPISODE_WEEKS`
weeks continues that episode (the chart restarts after a signal and the plan re-forecasts;
a persistent shift is one change). A false alarm is *confirmed* when the series' errors of
the next :data:`CONFIRM_WEEKS` weeks (later plans, re-forecast) stay on the alarm's side by
more than k on average: a real, persistent move of demand, not noise.

    .venv/bin/python bench/drift_variants.py --db /tmp/replay/store.db --json out.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from echelon.monitor.drift import (
    H,
    K,
    causal_whitened,
    cusum,
    fit_process,
    in_control_arl,
    latest_scores,
)
from echelon.storage.datastore import read_scores

DATASET = "m5-replay"  # as in bench/weekly_replay.py
EPISODE_WEEKS = 8
CONFIRM_WEEKS = 4
TARGET_ARL = 465.0  # the textbook chart's in-control ARL (Montgomery, Table 9.3)


def designed_h(phi: float) -> float:
    """The smallest h (0.25 grid) whose in-control ARL under AR(1) ``phi`` is ≥ the target."""
    h = H
    while in_control_arl(phi, K, h, chains=2000, periods=4000) < TARGET_ARL:
        h += 0.25
    return h


def signals(latest: pd.DataFrame, values: np.ndarray, h: float) -> list[tuple]:
    """(item, location, period, direction, index) of every CUSUM signal on ``values``."""
    out = []
    frame = latest.assign(v=values)
    for (item, loc), g in frame.groupby(["item_id", "location_id"], sort=True):
        days = list(g["period_start"])
        out += [(item, loc, pd.Timestamp(days[i]), d) for i, d, _ in cusum(g["v"].to_numpy(), K, h)]
    return out


def episodes(fired: list[tuple]) -> list[tuple]:
    """The signals that start an episode (module doc)."""
    last: dict[tuple, tuple] = {}
    out = []
    for a in sorted(fired, key=lambda a: a[2]):
        prev = last.get((a[0], a[1]))
        if not (prev and prev[3] == a[3] and a[2] - prev[2] <= pd.Timedelta(weeks=EPISODE_WEEKS)):
            out.append(a)
        last[(a[0], a[1])] = a
    return out


def confirmed(a: tuple, latest: pd.DataFrame) -> bool:
    """Whether the next weeks' errors of the alarm's series stay on its side (module doc)."""
    g = latest[(latest["item_id"] == a[0]) & (latest["location_id"] == a[1])]
    later = g[(g["period_start"] > a[2])
              & (g["period_start"] <= a[2] + pd.Timedelta(weeks=CONFIRM_WEEKS))]["z"]  # fmt: skip
    sign = 1.0 if a[3] == "up" else -1.0
    return len(later) >= 2 and float(sign * later.mean()) > K


def evaluate(latest: pd.DataFrame, values: np.ndarray, h: float, name: str, store: str,
             change: pd.Timestamp, since: pd.Timestamp | None = None) -> dict:  # fmt: skip
    """False alarms (all and per episode, confirmed or not) and the detection of the change;
    ``since``: only the periods from it are evaluated."""
    fired = signals(latest, values, h)
    frame = latest if since is None else latest[latest["period_start"] >= since]
    if since is not None:
        fired = [a for a in fired if a[2] >= since]
    is_changed = (frame["location_id"] == store) & (frame["period_start"] >= change)
    on = [a for a in fired if a[1] == store and a[2] >= change]
    false = [a for a in fired if a not in on]
    first_eps = episodes(false)
    weeks = int((~is_changed).sum())
    first = min((a[2] for a in on), default=None)
    within = sorted({a[0] for a in on if a[2] < change + pd.Timedelta(weeks=2)})
    conf = [a for a in first_eps if confirmed(a, latest)]
    per100 = lambda n: round(100.0 * n / max(weeks, 1), 3)  # noqa: E731
    return {
        "variant": name, "k": K, "h": h, "unchanged_series_weeks": weeks,
        "false_alarms": len(false), "false_per_100": per100(len(false)),
        "false_episodes": len(first_eps), "false_episodes_per_100": per100(len(first_eps)),
        "false_episodes_confirmed_shift": len(conf),
        "false_episodes_unconfirmed_per_100": per100(len(first_eps) - len(conf)),
        "false_up": sum(a[3] == "up" for a in false),
        "first_alarm_on_changed": None if first is None else str(first.date()),
        "delay_weeks": None if first is None else int((first - change).days // 7) + 1,
        "changed_flagged_within_2_weeks": within,
        "false_list": [(a[0], a[1], str(a[2].date()), a[3], a in conf) for a in false],
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--store", default="CA_3")
    ap.add_argument("--change", default="2016-01-25")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    change = pd.Timestamp(args.change)
    scores = read_scores(args.db, DATASET)
    latest = latest_scores(scores)
    z = latest["z"].to_numpy(float)
    before = fit_process(scores[scores["period_start"] < change])
    h_design = designed_h(before.phi)
    standardized = (z - before.mean) / before.std
    whole = fit_process(scores[(scores["location_id"] != args.store)
                               | (scores["period_start"] < change)])  # fmt: skip
    out = {
        "process_first_half": before.__dict__,
        "process_unchanged_all_weeks_(not_used)": whole.__dict__,
        "arl_textbook_chart_under_first_half_phi": in_control_arl(before.phi),
        "variants": [
            evaluate(latest, z, H, "textbook", args.store, change),
            evaluate(latest, causal_whitened(latest), H, "whitened (causal)", args.store, change),
            evaluate(latest, z, H, "textbook, 2nd half only", args.store, change, change),
            evaluate(
                latest,
                causal_whitened(latest),
                H,
                "whitened, 2nd half only",
                args.store,
                change,
                change,
            ),
            evaluate(
                latest,
                standardized,
                h_design,
                "designed_h, 2nd half only",
                args.store,
                change,
                change,
            ),
        ],
    }
    text = json.dumps(out, indent=1, default=str)
    print(text)
    if args.json is not None:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
