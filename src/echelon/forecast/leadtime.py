"""Lead-time demand: the distribution of demand summed over the next L periods.

Computed from joint sample paths of the next H periods (never by adding per-period
quantiles, which overstates the spread of a sum). Three path generators:

* ``compound_paths`` — intermittent/count demand: each period demand occurs with
  probability p_h = min(1, μ_h / E[size]) and its size is drawn from the series' own
  non-zero history (bootstrap); sizes are rescaled when μ_h > E[size]. The path mean equals
  the model's mean forecast μ_h.
* statsforecast's ``simulate`` (bootstrapped residuals through the fitted state-space
  model) for AutoETS, (Seasonal)Naive and HistoricAverage — see :mod:`models`.
* ``copula_paths`` — for quantile models (LightGBM): per-period marginals from the
  quantile forecasts, joined by a Gaussian AR(1) copula whose correlation ρ is the lag-1
  autocorrelation of the series' in-sample residuals.

``summarize`` turns paths (series × paths × H) into lead-time mean, std and quantiles.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from echelon.forecast.metrics import qcol
from echelon.forecast.path_kernels import compound_fill, quantiles_over_axis1


def size_pools(
    histories: Sequence[np.ndarray], window: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Concatenate the non-zero demand sizes of each history (the last ``window`` of them).

    Returns (values, start offsets, counts); a series with no non-zero demand has count 0.
    """
    vals, starts, counts = [], [], []
    off = 0
    for h in histories:
        nz = np.asarray(h, float)
        nz = nz[nz > 0]
        if window is not None:
            nz = nz[-window:]
        vals.append(nz)
        starts.append(off)
        counts.append(len(nz))
        off += len(nz)
    v = np.concatenate(vals) if off else np.zeros(0)
    return v, np.asarray(starts, np.int64), np.asarray(counts, np.int64)


def compound_paths(
    mean: np.ndarray,
    pools: tuple[np.ndarray, np.ndarray, np.ndarray],
    n_paths: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Sample paths (n, n_paths, H) of Bernoulli occurrence × bootstrapped size.

    ``mean`` (n, H) is the mean demand per period (units). Series with an empty pool get
    Poisson(μ_h) counts instead.
    """
    mean = np.clip(np.nan_to_num(np.asarray(mean, float)), 0.0, None)
    n, h = mean.shape
    vals, starts, counts = pools
    out = np.zeros((n, n_paths, h), dtype=np.float64)
    has = counts > 0
    if has.any():
        idx = np.flatnonzero(has)
        mean_size = np.array([vals[starts[i] : starts[i] + counts[i]].mean() for i in idx])
        mu = mean[idx]
        p = np.clip(mu / mean_size[:, None], 0.0, 1.0)
        scale = np.where(mu > mean_size[:, None], mu / mean_size[:, None], 1.0)
        u_occ = rng.random((len(idx), n_paths, h))
        u_pick = rng.random((len(idx), n_paths, h))
        compound_fill(u_occ, u_pick, p, scale, vals, starts, counts, idx, out)
    if (~has).any():
        idx = np.flatnonzero(~has)
        out[idx] = rng.poisson(np.broadcast_to(mean[idx][:, None, :], (len(idx), n_paths, h)))
    return out


def _interp_quantile(u: np.ndarray, taus: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Inverse CDF by linear interpolation of quantiles, linear tails, floor at 0.

    ``u`` (n, P, H) uniforms; ``q`` (n, H, K) sorted quantiles at levels ``taus`` (K,).
    """
    n, p, h = u.shape
    k = len(taus)
    j = np.clip(np.searchsorted(taus, u, side="right") - 1, 0, k - 2)
    t0, t1 = taus[j], taus[j + 1]
    qq = np.broadcast_to(q[:, None, :, :], (n, p, h, k))
    q0 = np.take_along_axis(qq, j[..., None], axis=3)[..., 0]
    q1 = np.take_along_axis(qq, (j + 1)[..., None], axis=3)[..., 0]
    w = (u - t0) / (t1 - t0)
    return np.clip(q0 + w * (q1 - q0), 0.0, None)


def copula_paths(
    quantiles: np.ndarray,
    taus: Sequence[float],
    rho: np.ndarray,
    n_paths: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Sample paths (n, n_paths, H) with quantile-forecast marginals and AR(1) dependence.

    ``quantiles`` (n, H, K) at levels ``taus``; ``rho`` (n,) in [0, 1).
    """
    t = np.asarray(taus, float)
    order = np.argsort(t)
    t = t[order]
    q = np.sort(np.asarray(quantiles, float)[..., order], axis=-1)
    n, h, _ = q.shape
    r = np.clip(np.asarray(rho, float), 0.0, 0.99)[:, None]
    z = np.empty((n, n_paths, h))
    eps = rng.standard_normal((n, n_paths, h))
    z[..., 0] = eps[..., 0]
    for s in range(1, h):
        z[..., s] = r * z[..., s - 1] + np.sqrt(1 - r**2) * eps[..., s]
    return _interp_quantile(stats.norm.cdf(z), t, q)


def path_quantiles(paths: np.ndarray, taus: Sequence[float]) -> np.ndarray:
    """Per-period quantiles (n, H, K) of paths (n, P, H) (``np.quantile``'s numbers)."""
    return np.moveaxis(quantiles_over_axis1(paths, np.asarray(taus, float)), 0, -1)


def leadtime_stats(
    paths: np.ndarray, lead_time: int, taus: Sequence[float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean (n,), std (n,) and quantiles (n, K) of demand summed over periods 1..L."""
    if lead_time < 1 or lead_time > paths.shape[2]:
        raise ValueError(f"lead time {lead_time} outside 1..{paths.shape[2]}")
    s = paths[:, :, :lead_time].sum(axis=2)
    q = quantiles_over_axis1(s, np.asarray(taus, float)).T
    return s.mean(axis=1), s.std(axis=1, ddof=1), q


def summarize(
    uids: Sequence[str],
    paths: np.ndarray,
    lead_times: Sequence[int],
    taus: Sequence[float],
) -> pd.DataFrame:
    """Lead-time demand table: unique_id, lead_time, mean, std, q… (units over L periods)."""
    frames = []
    for lt in lead_times:
        m, s, q = leadtime_stats(paths, int(lt), taus)
        f = pd.DataFrame({"unique_id": list(uids), "lead_time": int(lt), "mean": m, "std": s})
        for k, t in enumerate(taus):
            f[qcol(t)] = q[:, k]
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


def poisson_leadtime_quantiles(rate: float, lead_time: int, taus: Sequence[float]) -> np.ndarray:
    """Exact quantiles of Poisson(L·λ) lead-time demand (the i.i.d. Poisson reference)."""
    return np.asarray(stats.poisson.ppf(list(taus), rate * lead_time), float)


def empirical_leadtime_quantiles(
    histories: Sequence[np.ndarray], lead_time: int, taus: Sequence[float]
) -> np.ndarray:
    """Baseline: quantiles (n, K) of all overlapping L-period sums of each history."""
    out = np.zeros((len(histories), len(taus)))
    for i, h in enumerate(histories):
        h = np.asarray(h, float)
        if len(h) < lead_time:
            out[i] = h.sum() * lead_time / max(len(h), 1)
            continue
        c = np.concatenate([[0.0], np.cumsum(h)])
        sums = c[lead_time:] - c[:-lead_time]
        out[i] = np.quantile(sums, list(taus))
    return out
