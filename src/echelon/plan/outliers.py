"""Outlier periods in the demand history: found per series, reported, cleaned by default.

**Rule** (per item × store, on the demand per period — the context's ``history``): with ``m``
the series' median and ``MAD`` its median absolute deviation, the robust spread is
``σ̂ = max(1.4826·MAD, √m)`` (1.4826·MAD is σ for normal data; ``√m``, the Poisson spread of
a count, keeps a series that hardly varies from flagging every small bump). A period is an
**outlier** when its demand is both

- above ``m + OUTLIER_Z·σ̂`` (:data:`OUTLIER_Z` = 10 robust standard deviations), and
- above ``OUTLIER_RATIO·m`` (:data:`OUTLIER_RATIO` = 4 times the typical period),

so a promotion or a season peak (tens of percent, a doubling) is kept, a keying error or a
one-off bulk order (10×, 1,000×) is not. Only upward outliers are flagged: a period far below
the median is a stockout, a closure or missing data, which cleaning upward would hide.
Intermittent series (median 0) are not screened: their lumps are their nature, and the rule
has no scale for them.

**Cleaning** (``PlanConfig.clean_outliers``, on by default): an outlier period's demand is
replaced by the median of the non-outlier periods within :data:`WINDOW` periods either side
(the series' median where there are none) for every stage of the plan (forecasts, segments,
safety stock, the shadow-mode replay); the data file is not changed. Each outlier is a
``DATA_QUALITY`` finding with its period, value, the rule's threshold and what the plan used.

Why not a library: statsforecast (the forecasting library echelon uses) has no outlier
detection or cleaning API — R's ``forecast::tsoutliers``/``tsclean`` have no port there; its
only outlier code, ``mfles.cap_outliers``, clips the MFLES model's own residuals at
mean ± 3 std inside that model's fit (a non-robust rule that a 1,000× spike inflates, and
invisible to the planner) — and general anomaly-detection packages (pyod, adtk) would add a
dependency for a median and a MAD. This rule is the Hampel identifier with one robust scale
per series, vectorized over all series at once, and every decision is reported.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from echelon.plan.calendar import KEYS
from echelon.plan.model import ExceptionKind, PlanException, Severity

OUTLIER_Z = 10.0  # robust standard deviations above the median
OUTLIER_RATIO = 4.0  # times the series' median
MAD_TO_SIGMA = 1.4826  # MAD × this = σ for normal data
WINDOW = 4  # periods either side whose median replaces an outlier


def flag_outliers(history: pd.DataFrame) -> pd.DataFrame:
    """The outlier periods of ``history`` (item_id, location_id, ds, y per period): those
    rows with the series' ``median`` and the rule's ``threshold`` (module doc)."""
    y = history["y"].to_numpy(float)
    groups = history.groupby(KEYS, sort=False)["y"]
    median = groups.transform("median").to_numpy(float)
    dev = pd.Series(np.abs(y - median), index=history.index)
    mad = dev.groupby([history[k] for k in KEYS], sort=False).transform("median").to_numpy()
    spread = np.maximum(MAD_TO_SIGMA * mad, np.sqrt(np.maximum(median, 0.0)))
    threshold = np.maximum(median + OUTLIER_Z * spread, OUTLIER_RATIO * median)
    flag = (median > 0) & (y > threshold)
    return history.loc[flag].assign(median=median[flag], threshold=threshold[flag])


def _replacements(history: pd.DataFrame, outliers: pd.DataFrame) -> pd.Series:
    """Per outlier row: the median of the series' non-outlier periods within WINDOW periods
    either side (the series' median where there are none)."""
    kept = history["y"].where(~history.index.isin(outliers.index))
    rolled = (
        kept.groupby([history[k] for k in KEYS], sort=False)
        .rolling(2 * WINDOW + 1, center=True, min_periods=1)
        .median()
        .reset_index(level=list(range(len(KEYS))), drop=True)
    )
    local = rolled.reindex(outliers.index)
    return local.fillna(outliers["median"])


def clean_history(
    history: pd.DataFrame, clean: bool, source: str
) -> tuple[pd.DataFrame, list[PlanException]]:
    """``history`` with its outlier periods replaced (when ``clean``) and one finding per
    outlier (module doc). ``history``: item_id, location_id, ds, y, sorted by series and ds."""
    outliers = flag_outliers(history)
    if outliers.empty:
        return history, []
    used = _replacements(history, outliers)
    findings = [
        _finding(row, value, clean, source)
        for value, row in zip(used.to_numpy(float), outliers.itertuples(index=False), strict=True)
    ]
    if not clean:
        return history, findings
    out = history.copy()
    out.loc[outliers.index, "y"] = used.to_numpy(float)
    return out, findings


def _finding(row: object, used: float, clean: bool, source: str) -> PlanException:
    item, loc = str(row.item_id), str(row.location_id)  # type: ignore[attr-defined]
    y, med, thr = float(row.y), float(row.median), float(row.threshold)  # type: ignore[attr-defined]
    period = pd.Timestamp(row.ds).date()  # type: ignore[attr-defined]
    rule = (
        f"above {thr:,.6g} = max(median {med:,.6g} + {OUTLIER_Z:g} robust std, "
        f"{OUTLIER_RATIO:g} × the median)"
    )
    if clean:
        action = (
            f"the plan uses {used:,.6g} (the median of the neighbouring periods) instead; set "
            "clean_outliers: false in plan.yaml to plan on the recorded value"
        )
    else:
        action = "kept as recorded (clean_outliers: false)"
    return PlanException(
        kind=ExceptionKind.DATA_QUALITY,
        severity=Severity.HIGH if y > 10 * thr else Severity.MEDIUM,
        message=f"{source}: item '{item}' at '{loc}': demand {y:,.6g} in the period starting "
        f"{period} is an outlier ({rule}); {action}",
        item=item,
        location=loc,
        value=y,
    )
