"""A pooled annual seasonal index: seasonality for series with one to two years of history.

A per-series 52-week season needs two years of a series' own history (AutoETS takes no
52-period season; SeasonalNaive and LightGBM's seasonal lags need a full year before every
forecast origin). Here the annual profile is a smooth Fourier curve estimated from a **pool**
of series (e.g. one item at all its stores), so that a few months of history already carry
it:

- every series is scaled by its own mean, ``z = y / ȳ``; a pool's profile is the average
  ``z̄_t`` of its members per date;
- per pool, least squares of ``z̄_t`` on ``1``, a linear trend (a nuisance term, so that
  growth is not read as season) and :data:`HARMONICS` pairs ``sin / cos(2π k · yr(t))``,
  ``yr(t)`` = the date in years (365.25 days) since 2000-01-01;
- each pool's Fourier coefficients ``β_p`` (relative to its level) are shrunk towards those
  of all series together, ``β_g``, by an empirical-Bayes weight per coefficient
  ``w = τ² / (τ² + se_p²)`` (``τ²``: the spread of the pools' coefficients around ``β_g``
  beyond their own sampling variance);
- the season is kept only where it is significant: a Wald test of the shrunk coefficients
  (own covariance) at level :data:`ALPHA`; else the index is exactly 1 (no season);
- the index of a date is ``s(t) = 1 + Σ_k (a_k sin + b_k cos)(2π k · yr(t))``, clipped to
  ``[MIN_FACTOR, MAX_FACTOR]`` (dimensionless; its mean over a year is 1);
- the **trend** of a pool is the same regression's linear term relative to its level,
  ``b_p`` (per year, about the mean date ``c_p`` of the pool's profile, own standard error, not
  shrunk), kept where ``|b_p| / se`` exceeds the two-sided normal quantile of :data:`ALPHA`
  and the profile spans at least :data:`MIN_TREND_YEARS` (over a shorter span part of the
  annual sine is read as growth);
  its factor is ``g(t) = 1 + b_p · (yr(t) − c_p)``, clipped like ``s`` (dimensionless; 1
  without a trend).

A seasonal candidate (``<base>+season``, :mod:`echelon.forecast.models`) fits its base model on
``y / s(t)`` and multiplies the forecasts and sample paths by ``s`` of the forecast dates; a
trend candidate (``<base>+trend``) does the same with ``s(t) · g(t)``, so that a base model with
a flat forecast (HistoricAverage) follows the pool's season and its growth.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from echelon.forecast.data import series_rows

HARMONICS = 2  # Fourier pairs of the annual profile
ALPHA = 0.001  # Wald-test level below which a pool's season is kept
MIN_DATES = 26  # a pool needs this many dates with data to estimate its profile
MIN_FACTOR, MAX_FACTOR = 0.2, 5.0
MIN_TREND_YEARS = 1.0  # a pool's trend needs a profile spanning this many years
EPOCH = pd.Timestamp("2000-01-01")
SUFFIX = "+season"
TREND_SUFFIX = "+trend"  # the pooled season and the pooled trend


def base_model(name: str) -> str:
    """The base model of a seasonal or trend candidate name (``AutoETS+season`` →
    ``AutoETS``, ``HistoricAverage+trend`` → ``HistoricAverage``)."""
    for suffix in (SUFFIX, TREND_SUFFIX):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def is_seasonal(name: str) -> bool:
    """Whether ``name`` is a pooled-seasonal candidate (with or without the pooled trend)."""
    return name.endswith(SUFFIX) or name.endswith(TREND_SUFFIX)


def has_trend(name: str) -> bool:
    """Whether ``name`` is a trend candidate (``<base>+trend``: pooled season and trend)."""
    return name.endswith(TREND_SUFFIX)


def years_since_epoch(ds: np.ndarray | pd.Series | pd.Index) -> np.ndarray:
    """``yr(t)``: whole days since :data:`EPOCH` (floored) / 365.25 of every date (years)."""
    d = np.asarray(pd.to_datetime(np.asarray(ds).ravel()), dtype="datetime64[ns]")
    days = (d.astype(np.int64) - EPOCH.value) // 86_400_000_000_000
    return np.asarray(days.astype(float) / 365.25)


def fourier(years: np.ndarray) -> np.ndarray:
    """(n, 2·HARMONICS) design of sin / cos(2π k · years), k = 1 … HARMONICS."""
    cols = []
    for k in range(1, HARMONICS + 1):
        cols += [np.sin(2 * np.pi * k * years), np.cos(2 * np.pi * k * years)]
    return np.stack(cols, axis=1)


@dataclass(frozen=True)
class Profile:
    """One pooled profile's fit, relative to its level: Fourier coefficients and their
    covariance, the linear trend (per year, about ``centre``, years since :data:`EPOCH`) and
    its standard error; ``span``: years from its first date to its last."""

    beta: np.ndarray
    cov: np.ndarray
    slope: float
    slope_se: float
    centre: float
    span: float


def _fit_profile(years: np.ndarray, z: np.ndarray) -> Profile | None:
    """The relative fit of one pooled profile (:class:`Profile`); None when the profile has
    too few dates or no positive level."""
    if len(z) < MIN_DATES:
        return None
    t = years - years.mean()
    x = np.column_stack([np.ones_like(t), t, fourier(years)])
    coef, *_ = np.linalg.lstsq(x, z, rcond=None)
    resid = z - x @ coef
    dof = len(z) - x.shape[1]
    level = float(coef[0])
    if dof <= 0 or level <= 0:
        return None
    s2 = float(resid @ resid) / dof
    cov = s2 * np.linalg.pinv(x.T @ x)
    slope, slope_se = float(coef[1]) / level, math.sqrt(max(0.0, float(cov[1, 1]))) / level
    centre, span = float(years.mean()), float(years.max() - years.min())
    return Profile(coef[2:] / level, cov[2:, 2:] / level**2, slope, slope_se, centre, span)


def _pooled(
    train: pd.DataFrame, mean: np.ndarray, codes: np.ndarray, pool_of_code: np.ndarray
) -> pd.DataFrame:
    """Per pool and date: the mean of its members' demand scaled by their own mean.
    ``mean``: each row's series mean (units); ``codes``: each row's series code, whose pool
    is ``pool_of_code[code]``."""
    ok = mean > 0
    t = pd.DataFrame(
        {
            "ds": train["ds"].to_numpy()[ok],
            "z": train["y"].to_numpy(float)[ok] / mean[ok],
            "pool": pool_of_code[codes[ok]],
        }
    )
    return t.groupby(["pool", "ds"], sort=True)["z"].mean().reset_index()


@dataclass(frozen=True)
class SeasonIndex:
    """Fourier coefficients (relative to the level) per pool, and each series' pool."""

    coef: dict[str, np.ndarray]  # pool → (2·HARMONICS,), zeros where not significant
    pool_of: dict[str, str]  # unique_id → pool
    #: pool → (relative slope per year, centre in years since EPOCH); only significant ones
    trend: dict[str, tuple[float, float]] = field(default_factory=dict)

    def factors(self, uid: str, ds: np.ndarray | pd.Series) -> np.ndarray:
        """``s(t)`` of series ``uid`` at the dates ``ds`` (dimensionless; 1 without season)."""
        c = self.coef.get(self.pool_of.get(uid, uid))
        n = len(np.asarray(ds).ravel())
        if c is None or not c.any():
            return np.ones(n)
        return np.clip(1.0 + fourier(years_since_epoch(ds)) @ c, MIN_FACTOR, MAX_FACTOR)

    def factors_at(self, uids: np.ndarray | pd.Series, ds: np.ndarray | pd.Series) -> np.ndarray:
        """``s(t)`` of every row (series ``uids[k]`` at date ``ds[k]``), equal to
        :meth:`factors` of each series; computed once per pool (dimensionless)."""
        ids = np.asarray(uids).ravel().astype(str)
        out = np.ones(len(ids))
        if not len(ids):
            return out
        years = years_since_epoch(ds)
        codes, uniq = pd.factorize(ids)
        pools = np.array([self.pool_of.get(u, u) for u in uniq], dtype=object)[codes]
        puniq, order, bounds = series_rows(pools)
        for k, pool in enumerate(puniq):
            c = self.coef.get(str(pool))
            if c is None or not c.any():
                continue
            rows = order[bounds[k] : bounds[k + 1]]
            out[rows] = np.clip(1.0 + fourier(years[rows]) @ c, MIN_FACTOR, MAX_FACTOR)
        return out

    def trend_factors_at(
        self, uids: np.ndarray | pd.Series, ds: np.ndarray | pd.Series
    ) -> np.ndarray:
        """``g(t)`` of every row (series ``uids[k]`` at date ``ds[k]``; module doc),
        1 where the series' pool has no significant trend (dimensionless)."""
        ids = np.asarray(uids).ravel().astype(str)
        out = np.ones(len(ids))
        if not len(ids) or not self.trend:
            return out
        codes, uniq = pd.factorize(ids)
        slope = np.zeros(len(uniq))
        centre = np.zeros(len(uniq))
        for k, u in enumerate(uniq):
            slope[k], centre[k] = self.trend.get(self.pool_of.get(u, u), (0.0, 0.0))
        g = 1.0 + slope[codes] * (years_since_epoch(ds) - centre[codes])
        return np.where(slope[codes] != 0.0, np.clip(g, MIN_FACTOR, MAX_FACTOR), out)

    def amplitude(self, uid: str) -> float:
        """The first harmonic's relative amplitude √(a₁² + b₁²) of ``uid``'s pool."""
        c = self.coef.get(self.pool_of.get(uid, uid))
        return 0.0 if c is None else float(np.hypot(c[0], c[1]))


def _significant(beta: np.ndarray, cov: np.ndarray) -> bool:
    stat = float(beta @ np.linalg.pinv(cov) @ beta)
    return stat > float(stats.chi2.ppf(1 - ALPHA, len(beta)))


def _trends(fits: Mapping[str, Profile]) -> dict[str, tuple[float, float]]:
    """Pool → (slope, centre) of the pools whose trend is significant (module doc)."""
    z = float(stats.norm.ppf(1 - ALPHA / 2))
    return {
        pool: (f.slope, f.centre)
        for pool, f in fits.items()
        if f.span >= MIN_TREND_YEARS and f.slope_se > 0 and abs(f.slope) > z * f.slope_se
    }


def fit_index(train: pd.DataFrame, groups: Mapping[str, str] | None = None) -> SeasonIndex:
    """The pooled seasonal index of every series of ``train`` (unique_id, ds, y; module doc).
    ``groups``: series id → pool (None: each series its own pool)."""
    codes, uniq = pd.factorize(train["unique_id"].astype(str).to_numpy())
    ids = [str(u) for u in uniq]
    pool_of = {u: (groups.get(u, u) if groups is not None else u) for u in ids}
    y = train["y"].to_numpy(float)
    mean = pd.Series(y).groupby(codes).transform("mean").to_numpy()  # grouped once
    prof = _pooled(train, mean, codes, np.array([pool_of[u] for u in ids], dtype=object))
    with np.errstate(invalid="ignore", divide="ignore"):  # 0 / 0 of an all-zero series
        z = y / mean
    fin = np.isfinite(z)
    allz = pd.Series(z[fin]).groupby(train["ds"].to_numpy()[fin], sort=True).mean()
    glob = _fit_profile(years_since_epoch(allz.index.to_numpy()), allz.to_numpy(float))
    profiles: dict[str, Profile] = {}
    for pool, g in prof.groupby("pool", sort=True):
        f = _fit_profile(years_since_epoch(g["ds"].to_numpy()), g["z"].to_numpy(float))
        if f is not None:
            profiles[str(pool)] = f
    fits = {pool: (f.beta, f.cov) for pool, f in profiles.items()}
    trend = _trends(profiles)
    coef: dict[str, np.ndarray] = {}
    zero = np.zeros(2 * HARMONICS)
    if glob is None:
        for pool, (b, v) in fits.items():
            coef[pool] = b if _significant(b, v) else zero
        return SeasonIndex(coef, pool_of, trend)
    bg, vg = glob.beta, glob.cov
    tau2 = np.zeros(2 * HARMONICS)
    if fits:
        dev = np.stack([b - bg for b, _ in fits.values()])
        se2 = np.stack([np.diag(v) for _, v in fits.values()])
        tau2 = np.maximum(0.0, (dev**2).mean(axis=0) - se2.mean(axis=0))
    for pool in {*pool_of.values()}:
        if pool in fits:
            b, v = fits[pool]
            w = np.where(tau2 + np.diag(v) > 0, tau2 / (tau2 + np.diag(v)), 0.0)
            beta = bg + w * (b - bg)
            cov = np.diag(w) @ v @ np.diag(w) + np.diag(1 - w) @ vg @ np.diag(1 - w)
        else:
            beta, cov = bg, vg
        coef[pool] = beta if _significant(beta, cov) else zero
    return SeasonIndex(coef, pool_of, trend)
