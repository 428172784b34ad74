"""Accuracy metrics for point, quantile and lead-time forecasts.

Conventions: ``y`` actual demand (units), ``q`` a quantile forecast at level ``tau``.
pinball(y, q; tau) = max(tau·(y − q), (tau − 1)·(y − q)) (units).
WAPE = Σ|y − ŷ| / Σ|y|. bias = Σ(ŷ − y) / Σy (positive = over-forecast).
MASE / RMSSE scale by the in-sample (seasonal) naive error of the training series
(as utilsforecast computes them, :func:`naive_scales`). Coverage of a central interval =
share of actuals inside [q_lo, q_hi].
CRPS is approximated by 2 × the mean pinball loss over the quantile levels used.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def qcol(q: float) -> str:
    """Column name of quantile level ``q`` (``q0.5``, ``q0.95``)."""
    return f"q{float(q):g}"


def pinball(y: np.ndarray, q: np.ndarray, tau: float) -> np.ndarray:
    """Elementwise pinball (quantile) loss at level ``tau``; always >= 0."""
    d = np.asarray(y, float) - np.asarray(q, float)
    return np.maximum(tau * d, (tau - 1.0) * d)


def mean_pinball(y: np.ndarray, qmat: np.ndarray, taus: Sequence[float]) -> np.ndarray:
    """Per-row pinball averaged over levels: ``y`` (n,), ``qmat`` (n, K) → (n,)."""
    t = np.asarray(taus, float)
    d = np.asarray(y, float)[:, None] - np.asarray(qmat, float)
    return np.mean(np.maximum(t * d, (t - 1.0) * d), axis=1)


def point_metrics(
    df: pd.DataFrame, models: list[str], train_df: pd.DataFrame, season: int
) -> pd.DataFrame:
    """Per-series MASE, RMSSE, WAPE numerator/denominator and bias terms.

    ``df`` holds unique_id, ds, y and one column per model. Returns long rows
    (unique_id, model, mase, rmsse, abs_err, abs_y, err) (:func:`point_scores`).
    """
    parts = [
        df.loc[df[m].notna(), ["unique_id", "y"]].assign(model=m, mean=df.loc[df[m].notna(), m])
        for m in models
    ]
    out = point_scores(pd.concat(parts, ignore_index=True), train_df, season)
    return out[["unique_id", "model", "mase", "rmsse", "abs_err", "abs_y", "err"]]


def naive_scales(train_df: pd.DataFrame, season: int) -> pd.DataFrame:
    """Per series of ``train_df`` (rows in time order): the mean absolute and the mean squared
    in-sample error of the seasonal naive forecast ``y_{t − season}`` (units, units²; NaN for
    a series of at most ``season`` periods), the scales of MASE and RMSSE (utilsforecast's)."""
    codes, uniq = pd.factorize(np.asarray(train_df["unique_id"]))  # grouped once
    y = pd.Series(train_df["y"].to_numpy())
    naive = y - y.groupby(codes, sort=False).shift(season)
    d = pd.DataFrame({"mae": naive.abs(), "mse": naive**2})
    out = d.groupby(codes, sort=False)[["mae", "mse"]].mean()
    out.index = pd.Index(uniq, name="unique_id").take(out.index.to_numpy())
    return out


def point_scores(long: pd.DataFrame, train_df: pd.DataFrame, season: int) -> pd.DataFrame:
    """Per model and series of ``long`` (rows: model, unique_id, y, mean; each series' rows in
    time order): MASE = mean |y − ŷ| / naive MAE, RMSSE = √(mean (y − ŷ)² / naive MSE)
    (:func:`naive_scales` of ``train_df``), and the sums Σ|ŷ − y| (abs_err), Σ|y| (abs_y) and
    Σ(ŷ − y) (err), units. One grouping for all models; rows in order of first appearance."""
    y = long["y"].astype(float)
    e = long["mean"].astype(float) - y
    d = pd.DataFrame(
        {
            "model": long["model"],
            "unique_id": long["unique_id"],
            "ae": (y - long["mean"]).abs(),
            "se": (y - long["mean"]) ** 2,
            "abs_err": e.abs(),
            "abs_y": long["y"].abs(),
            "err": e,
        }
    )
    g = d.groupby(["model", "unique_id"], sort=False)
    out = g[["abs_err", "abs_y", "err"]].sum().join(g[["ae", "se"]].mean()).reset_index()
    ids = out["unique_id"].unique()
    scales = naive_scales(train_df[train_df["unique_id"].isin(ids)], season)
    sc = scales.reindex(out["unique_id"])
    with np.errstate(divide="ignore", invalid="ignore"):  # a flat history: scale 0, inf
        out["mase"] = out["ae"].to_numpy() / sc["mae"].to_numpy()
        out["rmsse"] = np.sqrt(out["se"].to_numpy() / sc["mse"].to_numpy())
    return out.drop(columns=["ae", "se"])


def summarize_point(per_series: pd.DataFrame, by: Sequence[str] = ("model",)) -> pd.DataFrame:
    """WAPE, bias, mean MASE and mean RMSSE from :func:`point_metrics` rows."""
    g = per_series.replace([np.inf, -np.inf], np.nan).groupby(list(by))
    out = pd.DataFrame(
        {
            "wape": g["abs_err"].sum() / g["abs_y"].sum(),
            "bias": g["err"].sum() / g["abs_y"].sum(),
            "mase": g["mase"].mean(),
            "rmsse": g["rmsse"].mean(),
        }
    )
    return out.reset_index()


def quantile_scores(df: pd.DataFrame, taus: Sequence[float], prefix: str = "") -> pd.DataFrame:
    """Per-row mean pinball over ``taus`` using columns ``{prefix}q{tau}``; adds ``pinball``."""
    cols = [prefix + qcol(t) for t in taus]
    out = df.copy()
    out["pinball"] = mean_pinball(df["y"].to_numpy(), df[cols].to_numpy(), taus)
    return out


def coverage(df: pd.DataFrame, lo: str, hi: str) -> float:
    """Share of rows with lo <= y <= hi."""
    y = df["y"].to_numpy(float)
    return float(np.mean((y >= df[lo].to_numpy(float)) & (y <= df[hi].to_numpy(float))))


def calibration_table(df: pd.DataFrame, taus: Sequence[float]) -> pd.DataFrame:
    """Nominal vs observed: share of actuals <= q_tau, and central-interval coverage."""
    rows = []
    y = df["y"].to_numpy(float)
    for t in sorted(taus):
        rows.append(
            {
                "kind": "quantile",
                "nominal": float(t),
                "observed": float(np.mean(y <= df[qcol(t)].to_numpy(float))),
            }
        )
    for t in sorted(taus):
        if t < 0.5 and (1 - t) in [round(x, 10) for x in taus]:
            lo, hi = qcol(t), qcol(1 - t)
            rows.append(
                {
                    "kind": "interval",
                    "nominal": round(1 - 2 * t, 10),
                    "observed": coverage(df, lo, hi),
                }
            )
    return pd.DataFrame(rows)


def scale_of(train_df: pd.DataFrame) -> pd.Series:
    """Per-series scale (units): mean absolute demand of the training history.

    A series without any demand gets scale 1 (its scaled losses are then in units).
    """
    s = train_df["y"].abs().groupby(train_df["unique_id"]).mean()
    return s.where(s > 0, 1.0)
