"""Drift detection on forecast errors: a two-sided tabular CUSUM per item × store.

Each scored period gives a standardized error z = (actual − mean) / std of the plan's forecast
(:func:`echelon.monitor.scoring.standardized_errors`). The tabular CUSUM (Page 1954;
Montgomery, *Introduction to Statistical Quality Control*, 8th ed., §9.1) accumulates

    C⁺_t = max(0, C⁺_{t−1} + z_t − k),   C⁻_t = max(0, C⁻_{t−1} − z_t − k),

and signals when either exceeds h; both restart at 0 after a signal. With k = 0.5 and h = 5
(in standard deviations: tuned to detect a shift of one standard deviation) the in-control
average run length of the two-sided scheme is about 465 periods for independent N(0, 1)
errors (Montgomery, Table 9.3; Siegmund's approximation gives about 938 for each side), and a
shift of 1 σ is signalled after about
10 periods, of 3 σ after about 2.5. The k and h values are the textbook ones; the weekly replay
(bench/weekly_replay.py) measures the false-alarm rate on real M5 errors.

Why not a library: evidently and nannyml compare feature and prediction *distributions* of a
reference and a current window (PSI, KS, ...) and estimate performance without labels; here
the labels (actuals) arrive every week and the question is a persistent shift of one series'
errors, which the CUSUM answers in a dozen lines with known run lengths, without a heavy
dependency. A signal becomes a ``FORECAST_BIAS`` exception of the next plan from the store
(:func:`drift_exceptions`) and a line of ``echelon monitor``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from echelon.monitor.scoring import standardized_errors
from echelon.plan.model import ExceptionKind, PlanException, Severity

K = 0.5  # allowance, standard deviations
H = 5.0  # decision interval, standard deviations


@dataclass(frozen=True)
class Alarm:
    """A CUSUM signal: the series, the period it fired, its direction (``up``: actuals above
    the forecast) and the statistic's value (standard deviations)."""

    item_id: str
    location_id: str
    period_start: date
    direction: str
    statistic: float


def cusum(z: np.ndarray, k: float = K, h: float = H) -> list[tuple[int, str, float]]:
    """The signals of the two-sided CUSUM on ``z`` (module doc): (index, direction, value)."""
    up = down = 0.0
    out: list[tuple[int, str, float]] = []
    for t, zt in enumerate(z):
        up = max(0.0, up + zt - k)
        down = max(0.0, down - zt - k)
        if up > h or down > h:
            out.append((t, "up" if up > h else "down", max(up, down)))
            up = down = 0.0
    return out


def alarms(scores: pd.DataFrame, k: float = K, h: float = H) -> list[Alarm]:
    """Every signal over the scores (one CUSUM per series over its periods, oldest first; a
    period scored by several runs counts once, by its latest run)."""
    if scores.empty:
        return []
    latest = scores.sort_values("run_id").drop_duplicates(
        ["item_id", "location_id", "period_start"], keep="last"
    )
    latest = latest.assign(z=standardized_errors(latest)).sort_values("period_start")
    out: list[Alarm] = []
    for (item, loc), group in latest.groupby(["item_id", "location_id"], sort=True):
        days = list(group["period_start"])
        for t, direction, value in cusum(group["z"].to_numpy(dtype=float), k, h):
            out.append(Alarm(str(item), str(loc), pd.Timestamp(days[t]).date(), direction, value))
    return out


def drift_exceptions(db: str | None, dataset: str) -> list[PlanException]:
    """The signals of the latest scored period of ``dataset``, as plan exceptions."""
    from echelon.storage.datastore import read_scores

    scores = read_scores(db, dataset)
    if scores.empty:
        return []
    last = pd.Timestamp(scores["period_start"].max()).date()
    return [to_exception(a) for a in alarms(scores) if a.period_start == last]


def to_exception(alarm: Alarm) -> PlanException:
    """A signal as a ``FORECAST_BIAS`` exception (high severity)."""
    side = "above" if alarm.direction == "up" else "below"
    return PlanException(
        kind=ExceptionKind.FORECAST_BIAS,
        severity=Severity.HIGH,
        message=(
            f"forecast drift: actual demand of '{alarm.item_id}' at '{alarm.location_id}' has "
            f"run {side} the plans' forecasts (CUSUM {alarm.statistic:.1f} > {H:g} standard "
            f"deviations in the period from {alarm.period_start}); check for a change in demand"
        ),
        item=alarm.item_id,
        location=alarm.location_id,
        value=round(alarm.statistic, 3),
    )
