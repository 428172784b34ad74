"""Batched forecasts of the simple candidates: every series of a history matrix at once.

A :class:`History` holds n series of different lengths as one right-aligned matrix
(n × T, units per period): row i holds its series in columns ``start[i]:T`` (oldest first),
NaN before. Every function here returns, for every row, what statsforecast's model of the
same name returns for that series alone (``StatsForecast(...).forecast(df, h, level=...)``,
statsforecast 2.1): the point forecasts (n, H) and, for the models with Gaussian prediction
intervals (HistoricAverage, Naive, SeasonalNaive), the standard deviation of the h-step
forecast error, so that :func:`gaussian_quantiles` gives its ``lo-``/``hi-`` levels. The
recursions run in numba in the floating-point operations of statsforecast; the means and
sums of squares go through NumPy per group of equal length (NumPy's pairwise summation, as
``y.mean()`` and ``np.nansum`` of one series give them). ``tests/forecast/
test_batched_models.py`` checks the equality on random series.

Models: ``HistoricAverage``, ``Naive``, ``SeasonalNaive`` (season m), ``SES`` (fixed α),
``CrostonClassic``, ``CrostonSBA`` (α = 0.1 for sizes and intervals; SBA × 0.95) and ``TSB``
(fixed α_d, α_p: the plan's :data:`echelon.forecast.models.TSB_ALPHA_D` / ``_P``).
:func:`bootstrap_paths` draws sample paths with bootstrapped in-sample residuals (the method
of statsforecast's ``simulate(error_distribution="bootstrap")``, from one seeded generator for
all series, so its draws are not statsforecast's).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy import stats

from echelon.forecast.path_kernels import MEAN, WALK, bootstrap_fill

SBA_FACTOR = 0.95
CROSTON_ALPHA = 0.1


@dataclass(frozen=True)
class History:
    """n series as a right-aligned matrix ``values`` (n, T); row i valid from ``start[i]``."""

    values: np.ndarray  # (n, T) units per period, NaN before start
    start: np.ndarray  # (n,) int64 first valid column

    @classmethod
    def from_arrays(cls, ys: Sequence[np.ndarray]) -> History:
        """The matrix of the histories ``ys`` (each oldest first, no missing periods)."""
        n = len(ys)
        lengths = np.array([len(y) for y in ys], np.int64)
        t = int(lengths.max()) if n else 0
        values = np.full((n, t), np.nan)
        start = (t - lengths).astype(np.int64)
        if lengths.sum():
            flat = np.concatenate([np.asarray(y, float) for y in ys])
            rows = np.repeat(np.arange(n), lengths)
            within = np.arange(len(flat)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
            values[rows, np.repeat(start, lengths) + within] = flat
        return cls(values, start)

    @property
    def lengths(self) -> np.ndarray:
        """(n,) periods per series."""
        return self.values.shape[1] - self.start

    def row(self, i: int) -> np.ndarray:
        """The valid periods of series ``i``."""
        return self.values[i, int(self.start[i]) :]

    def by_length(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(rows, contiguous block (k, L)) per distinct length L > 0."""
        out = []
        lengths = self.lengths
        for length in np.unique(lengths):
            if length <= 0:
                continue
            rows = np.flatnonzero(lengths == length)
            block = np.ascontiguousarray(self.values[rows, self.values.shape[1] - length :])
            out.append((rows, block))
        return out


@dataclass(frozen=True)
class Fit:
    """Point forecasts (n, H), h-step error std (n, H; NaN where the model has none) and the
    in-sample residuals (n, T; NaN where none), units per period."""

    mean: np.ndarray
    sigmah: np.ndarray
    residuals: np.ndarray


def _sigma(residuals: np.ndarray, dof: np.ndarray) -> np.ndarray:
    """statsforecast's ``_calculate_sigma`` per row: √(nansum(r²) / dof), 0 where dof ≤ 0."""
    ss = np.nansum(residuals**2, axis=1)
    return np.where(dof > 0, np.sqrt(ss / np.where(dof > 0, dof, 1)), 0.0)


def historic_average(hist: History, h: int) -> Fit:
    """HistoricAverage: the mean of the history; σ_h = σ·√(1 + 1/n), σ² = Σr² / (n − 1)."""
    n, t = hist.values.shape
    mean, sigmah, res = np.zeros((n, h)), np.zeros((n, h)), np.full((n, t), np.nan)
    for rows, block in hist.by_length():
        length = block.shape[1]
        mu = block.mean(axis=1)
        r = block - mu[:, None]
        sig = _sigma(r, np.full(len(rows), length - 1))
        mean[rows] = mu[:, None]
        sigmah[rows] = (sig * np.sqrt(1 + (1 / length)))[:, None]
        res[rows, t - length :] = r
    return Fit(mean, sigmah, res)


def naive(hist: History, h: int) -> Fit:
    """Naive: the last value; σ_h = σ·√h, σ² = Σ(y_t − y_{t−1})² / (n − 1)."""
    n, t = hist.values.shape
    mean, sigmah, res = np.zeros((n, h)), np.zeros((n, h)), np.full((n, t), np.nan)
    steps = np.sqrt(np.arange(1, h + 1))
    for rows, block in hist.by_length():
        length = block.shape[1]
        r = np.full_like(block, np.nan)
        r[:, 1:] = block[:, 1:] - block[:, :-1]
        sig = _sigma(r, np.full(len(rows), length - 1))
        mean[rows] = block[:, -1:]
        sigmah[rows] = sig[:, None] * steps
        res[rows, t - length :] = r
    return Fit(mean, sigmah, res)


def seasonal_naive(hist: History, h: int, season: int) -> Fit:
    """SeasonalNaive: the value one season back (NaN for positions a short series lacks);
    σ_h = σ·√(⌊(h−1)/m⌋ + 1), σ² = Σ(y_t − y_{t−m})² / (n − m)."""
    n, t = hist.values.shape
    m = max(int(season), 1)
    mean, sigmah, res = np.full((n, h), np.nan), np.zeros((n, h)), np.full((n, t), np.nan)
    k = np.floor(np.arange(h) / m)
    reps = -(-h // m)
    for rows, block in hist.by_length():
        length = block.shape[1]
        vals = np.full((len(rows), m), np.nan)
        avail = min(m, length)
        vals[:, m - avail :] = block[:, length - avail :]
        mean[rows] = np.tile(vals, reps)[:, :h]
        r = np.full_like(block, np.nan)
        if length > m:
            r[:, m:] = block[:, m:] - block[:, : length - m]
        sig = _sigma(r, np.full(len(rows), length - m))
        sigmah[rows] = sig[:, None] * np.sqrt(k + 1)
        res[rows, t - length :] = r
    return Fit(mean, sigmah, res)


@njit(cache=True)
def _ses_last(x: np.ndarray, alpha: float) -> float:
    """statsforecast's ``ses_forecast`` one-step forecast of ``x`` (fitted[0] = x[0]; one
    value: itself)."""
    if x.size == 1:
        return x[0]
    complement = 1 - alpha
    f = x[0]
    for j in range(x.size - 1):
        f = alpha * x[j] + complement * f
    return alpha * x[x.size - 1] + complement * f


@njit(cache=True)
def _ses_rows(values: np.ndarray, start: np.ndarray, alpha: float) -> np.ndarray:
    out = np.full(values.shape[0], np.nan)
    for i in range(values.shape[0]):
        if start[i] < values.shape[1]:
            out[i] = _ses_last(values[i, start[i] :], alpha)
    return out


@njit(cache=True)
def _positive(y: np.ndarray) -> np.ndarray:
    """The demand sizes of ``y``: its values above 0, in order (units)."""
    sizes = np.empty(y.size)
    k = 0
    for t in range(y.size):
        if y[t] > 0:
            sizes[k] = y[t]
            k += 1
    return sizes[:k]


@njit(cache=True)
def _croston_rows(values: np.ndarray, start: np.ndarray, alpha: float) -> np.ndarray:
    """Croston's mean per row: SES of the non-zero sizes over SES of the intervals between
    them (statsforecast's ``_croston_classic``); Naive (the last value) without demand."""
    n = values.shape[0]
    out = np.full(n, np.nan)
    for i in range(n):
        y = values[i, start[i] :]
        if y.size == 0:
            continue
        sizes = _positive(y)
        gaps = np.empty(y.size)
        g = 0
        last = 0
        for t in range(y.size):
            if y[t] != 0:
                gaps[g] = float(t + 1 - last)
                last = t + 1
                g += 1
        if sizes.size == 0:
            out[i] = y[y.size - 1]
            continue
        ydp = _ses_last(sizes, alpha)
        yip = _ses_last(gaps[:g], alpha)
        out[i] = ydp / yip if yip != 0.0 else ydp
    return out


@njit(cache=True)
def _tsb_rows(values: np.ndarray, start: np.ndarray, alpha_d: float, alpha_p: float) -> np.ndarray:
    """TSB's mean per row: SES of the occurrence (y ≠ 0) × SES of the non-zero sizes
    (statsforecast's ``_tsb``); 0 for an all-zero series."""
    n = values.shape[0]
    out = np.full(n, np.nan)
    for i in range(n):
        y = values[i, start[i] :]
        if y.size == 0:
            continue
        sizes = _positive(y)
        occ = (y != 0).astype(np.float64)
        if sizes.size == 0 and not np.any(occ):
            out[i] = 0.0
            continue
        ypf = _ses_last(occ, alpha_p)
        ydf = _ses_last(sizes, alpha_d) if sizes.size > 0 else np.nan
        out[i] = ypf * ydf
    return out


def _flat(level: np.ndarray, h: int) -> np.ndarray:
    return np.repeat(np.asarray(level, float)[:, None], h, axis=1)


def ses(hist: History, h: int, alpha: float) -> np.ndarray:
    """SimpleExponentialSmoothing(α): the one-step forecast, flat (n, H)."""
    return _flat(_ses_rows(hist.values, hist.start, float(alpha)), h)


def croston(hist: History, h: int, sba: bool = False) -> np.ndarray:
    """CrostonClassic (``sba``: CrostonSBA, × 0.95) mean forecasts (n, H)."""
    mu = _croston_rows(hist.values, hist.start, CROSTON_ALPHA)
    return _flat(mu * SBA_FACTOR if sba else mu, h)


def tsb(hist: History, h: int, alpha_d: float, alpha_p: float) -> np.ndarray:
    """TSB(α_d, α_p) mean forecasts (n, H)."""
    return _flat(_tsb_rows(hist.values, hist.start, float(alpha_d), float(alpha_p)), h)


def gaussian_quantiles(mean: np.ndarray, sigmah: np.ndarray, taus: Sequence[float]) -> np.ndarray:
    """Quantiles (n, H, K) at levels ``taus`` of a Gaussian forecast, as statsforecast's
    ``lo-``/``hi-`` intervals of level 100·|2τ − 1| give them (the median: the mean)."""
    out = np.empty((*mean.shape, len(taus)))
    for k, tau in enumerate(taus):
        level = 100 * abs(2 * float(tau) - 1)
        z = float(stats.norm.ppf(0.5 + level / 200))
        out[..., k] = mean - z * sigmah if tau < 0.5 else mean + z * sigmah
    return out


def residual_pools(residuals: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The non-NaN residuals of every row, concatenated: (values, starts, counts)."""
    ok = ~np.isnan(residuals)
    counts = ok.sum(axis=1).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    return residuals[ok], starts, counts


def bootstrap_paths(model: str, fit: Fit, n_paths: int, seed: int) -> np.ndarray:
    """Sample paths (n, P, H) of HistoricAverage (mean + e) or Naive (last value + Σe) with
    bootstrapped residuals (statsforecast's simulation equations; units per period), drawn
    from numba's generator seeded with ``seed``."""
    kinds = {"HistoricAverage": MEAN, "Naive": WALK}
    if model not in kinds:
        raise KeyError(model)
    return resample(kinds[model], fit.residuals, fit.mean, n_paths, seed)


def resample(
    kind: int,
    residuals: np.ndarray,
    mean: np.ndarray,
    n_paths: int,
    seed: int,
    state: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Paths (n, P, H) of :func:`echelon.forecast.path_kernels.bootstrap_fill` on the pools of
    non-NaN ``residuals`` (n, T): ``mean`` (n, H) for MEAN / WALK (its H for STATE), ``state``
    (level, growth, (n, 3) α β φ) for STATE."""
    n, h = mean.shape
    vals, starts, counts = residual_pools(residuals)
    out = np.empty((n, n_paths, h))
    level, growth, par = state or (np.zeros(n), np.zeros(n), np.zeros((n, 3)))
    vals = vals if len(vals) else np.zeros(1)
    bootstrap_fill(kind, mean, level, growth, par, vals, starts, counts, int(seed), out)
    return out
