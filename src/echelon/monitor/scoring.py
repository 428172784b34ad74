"""Forecast monitoring: each stored plan's store forecasts scored against the actual demand.

A run planned from the store (``parameters.options.from_store``) forecasts each item × store
with the mean and standard deviation of its placement (units per period; the placement's
forecast, not the hold-out fit of ``PlanResult.forecasts``). When every day of the run's first
period ``[as_of, as_of + P)`` is reported (real rows, not nowcasts) for a series, its actual
demand in that period is scored (:func:`score_dataset`, called by ``echelon ingest``): one
``forecast_scores`` row with actual, mean and std.

:func:`segment_metrics` summarises scores per segment: WAPE = Σ|a − m| / Σa, bias =
Σ(m − a) / Σa (positive: over-forecast), the mean pinball loss over the quantiles
:data:`QUANTILES` of N(m, s) divided by the mean actual (scaled pinball), and the coverage of
the central :data:`INTERVAL` interval m ± z·s (the share of actuals inside it).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

QUANTILES = (0.1, 0.5, 0.9)
INTERVAL = 0.8
STORE_TIER = 0


def placement_forecasts(result: dict[str, Any]) -> pd.DataFrame:
    """The store placements of a stored result (JSON): item_id, location_id, segment, mean,
    std (units per period)."""
    rows = [
        {
            "item_id": p["item"],
            "location_id": p["location"],
            "segment": p.get("segment"),
            "mean": float(p["mean_demand"]),
            "std": float(p["std_demand"]),
        }
        for p in result.get("placements", [])
        if p.get("tier") == STORE_TIER
    ]
    return pd.DataFrame(rows, columns=["item_id", "location_id", "segment", "mean", "std"])


def first_period_scores(
    run_id: int, as_of: pd.Timestamp, period_days: int, forecasts: pd.DataFrame,
    demand: pd.DataFrame,
) -> pd.DataFrame:  # fmt: skip
    """Scores of one run's first period for the series whose days are all reported
    (``demand``: real daily rows item_id, location_id, ds, y)."""
    end = as_of + timedelta(days=period_days)
    inside = demand[(demand["ds"] >= as_of) & (demand["ds"] < end)]
    per = inside.groupby(["item_id", "location_id"]).agg(
        actual=("y", "sum"), days=("ds", "nunique")
    )
    per = per[per["days"] == period_days].reset_index()
    scored = forecasts.merge(per, on=["item_id", "location_id"], how="inner")
    return scored.assign(run_id=run_id, period_start=as_of)


def score_dataset(db: str | None, dataset: str) -> int:
    """Score every stored run of ``dataset`` whose first period is now complete and not yet
    scored; returns the rows added."""
    from echelon.storage.datastore import read_dataset, save_scores, store_runs

    runs = store_runs(db, dataset, unscored=True)
    if not runs:
        return 0
    demand = read_dataset(db, dataset).tables["demand"]
    demand = demand[~demand["imputed"].astype(bool)]
    frames = [
        first_period_scores(
            run.id, pd.Timestamp(run.as_of), run.period_days, placement_forecasts(run.result),
            demand,
        )
        for run in runs
    ]  # fmt: skip
    scores = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return save_scores(db, dataset, scores)


def standardized_errors(scores: pd.DataFrame) -> pd.Series:
    """(actual − mean) / std per score row (a forecast std of 0 counts as 1 unit, so that a
    flat series does not divide by zero)."""
    std = scores["std"].where(scores["std"] > 0, 1.0)
    return (scores["actual"] - scores["mean"]) / std


def segment_metrics(scores: pd.DataFrame) -> pd.DataFrame:
    """WAPE, bias, scaled pinball and interval coverage per segment, plus 'all' (module doc)."""
    if scores.empty:
        return pd.DataFrame(columns=["segment", "n", "wape", "bias", "pinball", "coverage"])
    frame = scores.assign(segment=scores["segment"].fillna("—"))
    z = norm.ppf(0.5 + INTERVAL / 2)
    rows = [_metrics("all", frame, z)]
    for seg, group in frame.groupby("segment", sort=True):
        rows.append(_metrics(str(seg), group, z))
    return pd.DataFrame(rows)


def pinball_loss(actual: np.ndarray, quantile: np.ndarray, q: float) -> np.ndarray:
    """The pinball (quantile) loss of forecasting ``quantile`` at level ``q``, per cell."""
    diff = actual - quantile
    return np.maximum(q * diff, (q - 1) * diff)


def _metrics(segment: str, s: pd.DataFrame, z: float) -> dict[str, Any]:
    a, m, sd = s["actual"].to_numpy(), s["mean"].to_numpy(), s["std"].to_numpy()
    total = max(float(a.sum()), 1e-9)
    pinball = np.mean([pinball_loss(a, m + norm.ppf(q) * sd, q).mean() for q in QUANTILES])
    return {
        "segment": segment,
        "n": len(s),
        "wape": float(np.abs(a - m).sum() / total),
        "bias": float((m - a).sum() / total),
        "pinball": float(pinball / max(float(a.mean()), 1e-9)),
        "coverage": float(np.mean(np.abs(a - m) <= z * sd)),
    }
