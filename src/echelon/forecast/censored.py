"""Censored demand: sales on stockout periods are a lower bound of demand.

``unconstrain`` treats stockout periods as censored and imputes them: the local demand
rate λ_t is estimated from the uncensored periods around t (a centred window, with a
seasonal profile for the period of the season), and the censored value s_t is replaced by
E[D | D >= s_t] under D ~ Poisson(λ_t) — never below the observed sales.
``censored_poisson_mle`` estimates a constant rate by maximum likelihood with right-censored
observations (scipy), for checks and for stationary series.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, stats

from echelon.errors import DataError


def expected_given_at_least(rate: np.ndarray, s: np.ndarray) -> np.ndarray:
    """E[D | D >= s] for D ~ Poisson(rate), elementwise (units)."""
    rate = np.asarray(rate, float)
    s = np.ceil(np.asarray(s, float))
    # E[D; D >= s] = λ · P(D >= s − 1); P(D >= s) = sf(s − 1)
    tail = stats.poisson.sf(s - 1, rate)
    num = rate * stats.poisson.sf(s - 2, rate)
    with np.errstate(divide="ignore", invalid="ignore"):
        e = np.where(tail > 1e-12, num / tail, s + rate)
    return np.maximum(e, s)


def _impute_series(y: np.ndarray, cens: np.ndarray, window: int, season: int) -> np.ndarray:
    n = len(y)
    ok = ~cens
    if ok.sum() == 0:
        return y.copy()
    # seasonal profile from uncensored periods (multiplicative, mean 1)
    prof = np.ones(max(season, 1))
    if season > 1:
        pos = np.arange(n) % season
        overall = y[ok].mean() if y[ok].mean() > 0 else 1.0
        for k in range(season):
            sel = ok & (pos == k)
            if sel.sum() >= 3:
                prof[k] = y[sel].mean() / overall if overall > 0 else 1.0
        prof = np.where(prof > 0, prof, 1.0)
    f = prof[np.arange(n) % len(prof)]
    adj = np.where(ok, y / f, 0.0)
    c_sum = np.concatenate([[0.0], np.cumsum(adj)])
    c_cnt = np.concatenate([[0], np.cumsum(ok.astype(int))])
    out = y.astype(float).copy()
    half = window // 2
    for t_ in np.flatnonzero(cens):
        t = int(t_)
        w = half
        while True:
            a, b = max(0, t - w), min(n, t + w + 1)
            cnt = c_cnt[b] - c_cnt[a]
            if cnt >= 3 or (a == 0 and b == n):
                break
            w *= 2
        rate = (c_sum[b] - c_sum[a]) / max(cnt, 1) * f[t]
        out[t] = float(expected_given_at_least(np.array([rate]), np.array([y[t]]))[0])
    return out


def unconstrain(
    df: pd.DataFrame, stockout_col: str = "stockout", window: int = 28, season: int = 1
) -> pd.DataFrame:
    """Replace sales on stockout periods by imputed demand; keeps the sales in ``y_sales``.

    ``window`` (periods) is the width of the centred window of uncensored periods used to
    estimate the local rate; ``season`` the seasonal period (1 = none).
    """
    if stockout_col not in df.columns:
        raise DataError(
            "no stockout flag to unconstrain",
            field=stockout_col,
            expected=f"a 0/1 column '{stockout_col}'",
            found=", ".join(df.columns[:8]),
            fix="pass --stockout-col or drop --unconstrain",
        )
    out = df.sort_values(["unique_id", "ds"], kind="stable").copy()
    out["y_sales"] = out["y"]
    ys = []
    for _, g in out.groupby("unique_id", sort=False):
        cens = g[stockout_col].to_numpy().astype(bool)
        y = g["y"].to_numpy(float)
        ys.append(_impute_series(y, cens, window, season) if cens.any() else y)
    out["y"] = np.concatenate(ys) if ys else out["y"]
    return out


def censored_poisson_mle(y: np.ndarray, censored: np.ndarray) -> float:
    """MLE of a Poisson rate when ``censored`` observations are only lower bounds.

    log L(λ) = Σ_uncensored log p(y; λ) + Σ_censored log P(D >= y; λ).
    """
    y = np.asarray(y, float)
    c = np.asarray(censored, bool)

    def nll(log_rate: float) -> float:
        lam = float(np.exp(log_rate))
        ll = stats.poisson.logpmf(y[~c], lam).sum() + stats.poisson.logsf(y[c] - 1, lam).sum()
        return float(-ll)

    start = np.log(max(y.mean(), 1e-3))
    res = optimize.minimize_scalar(nll, bounds=(start - 5, start + 5), method="bounded")
    return float(np.exp(res.x))
