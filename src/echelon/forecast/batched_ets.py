"""A batched exponential-smoothing model for the plan: ETS(A,N,N) or ETS(A,Ad,N) per series.

statsforecast's ``AutoETS`` fits every series with a Nelder–Mead search over up to a dozen
models (≈ 1–3 ms a series); on 225,000 series × 7 backtest origins that is hours. This model
restricts the choice to what the plan's weekly series need (no season longer than 24 periods
is fitted by AutoETS either) and fits every series of a :class:`~echelon.forecast.batched.
History` in one numba kernel:

- models, additive errors (Hyndman et al. 2008, state space): **ANN** ``ŷ_t = ℓ_{t−1}``,
  ``ℓ_t = ℓ_{t−1} + α e_t``; **AAdN** ``ŷ_t = ℓ_{t−1} + φ b_{t−1}``,
  ``ℓ_t = ℓ_{t−1} + φ b_{t−1} + α e_t``, ``b_t = φ b_{t−1} + β e_t``;
- the one-step errors are linear in the initial states, so for given smoothing parameters the
  initial states minimising the sum of squared errors (SSE) are solved in closed form (one or
  two normal equations, from the responses to a unit initial level and growth, computed in
  the same pass);
- smoothing parameters: a coarse grid (ANN: α over :data:`ALPHA_GRID`; AAdN: α × β × φ),
  then per series golden-section refinement of each parameter in the bracket of its best grid
  neighbours (:data:`REFINE` steps; α ∈ [10⁻⁴, 0.9999], β ∈ [10⁻⁴, 0.5], φ ∈ [0.8, 0.98]; as
  in statsforecast's fits, β is not bounded by α);
- the model with the lower AICc wins, ``AICc = n·log(SSE) + 2k + 2k(k+1)/(n−k−1)`` with
  ``k`` = parameters + 1 (ANN 3, AAdN 6; AAdN only with n ≥ :data:`MIN_TREND`), as
  statsforecast/forecast compute it for additive errors;
- forecasts ``ℓ_n + b_n Σ_{j≤h} φ^j`` and Gaussian intervals in closed form,
  ``σ_h² = σ² (1 + Σ_{j<h} c_j²)``, ``c_j = α + β Σ_{i≤j} φ^i`` (ANN: ``c_j = α``),
  ``σ² = SSE / (n − k)``; sample paths run the state recursion on bootstrapped in-sample
  errors (:func:`ets_paths`).

Units: demand per period, as the history given. It is not statsforecast's AutoETS (no
multiplicative errors, no undamped trend): its accuracy against AutoETS is measured in
bench/README.md ("Batched forecast engine").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numba import njit

from echelon.forecast.batched import History, gaussian_quantiles, resample
from echelon.forecast.path_kernels import STATE

ALPHA_GRID = np.array([1e-4, 0.01, 0.03, 0.07, 0.15, 0.3, 0.5, 0.7, 0.9, 0.9999])
TREND_ALPHA = np.array([0.02, 0.1, 0.25, 0.5, 0.8])
TREND_BETA = np.array([1e-4, 0.005, 0.03, 0.15])
TREND_PHI = np.array([0.8, 0.9, 0.98])
LOWER = np.array([1e-4, 1e-4, 0.8])  # α, β, φ
UPPER = np.array([0.9999, 0.5, 0.98])
REFINE = 8  # golden-section steps per parameter
MIN_TREND = 10  # periods a series needs before the damped-trend model competes
ANN, AADN = 0, 1
GOLD = (math.sqrt(5.0) - 1.0) / 2.0


@njit(cache=True)
def _sse(y: np.ndarray, alpha: float, beta: float, phi: float, trend: bool) -> np.ndarray:
    """(SSE, ℓ₀, b₀) at the best initial states for the smoothing parameters given."""
    n = y.size
    ly = by = 0.0  # driven by y, zero initial states
    ll, bl = 1.0, 0.0  # unit initial level, y = 0
    lb, bb = 0.0, 1.0  # unit initial growth, y = 0
    syy = syl = syb = sll = slb = sbb = 0.0
    for t in range(n):
        fy = ly + phi * by
        fl = ll + phi * bl
        fb = lb + phi * bb
        ey, el, eb = y[t] - fy, -fl, -fb
        syy += ey * ey
        syl += ey * el
        sll += el * el
        ly, ll = fy + alpha * ey, fl + alpha * el
        if trend:
            syb += ey * eb
            slb += el * eb
            sbb += eb * eb
            lb = fb + alpha * eb
            by, bl, bb = phi * by + beta * ey, phi * bl + beta * el, phi * bb + beta * eb
    out = np.zeros(3)
    if not trend:
        l0 = -syl / sll
        out[0] = syy + l0 * syl
        out[1] = l0
        return out
    det = sll * sbb - slb * slb
    if det <= 1e-12 * sll * sbb:
        l0 = -syl / sll
        out[0] = syy + l0 * syl
        out[1] = l0
        return out
    l0 = (-syl * sbb + syb * slb) / det
    b0 = (-syb * sll + syl * slb) / det
    out[0] = syy + l0 * syl + b0 * syb
    out[1] = l0
    out[2] = b0
    return out


@njit(cache=True)
def _objective(y: np.ndarray, p: np.ndarray, trend: bool) -> float:
    """SSE of ANN (α = p[0]) or AAdN (α, β, φ = p) with optimal initial states."""
    if not trend:
        return _sse(y, p[0], 0.0, 0.0, False)[0]
    return _sse(y, p[0], p[1], p[2], True)[0]


@njit(cache=True)
def _golden(y: np.ndarray, p: np.ndarray, k: int, lo: float, hi: float, trend: bool) -> float:
    """Golden-section search of parameter ``k`` of ``p`` in [lo, hi] (the others fixed);
    leaves the best point found in ``p[k]`` and returns its SSE."""
    best_x, best_f = p[k], _objective(y, p, trend)
    a, b = lo, hi
    c, d = b - GOLD * (b - a), a + GOLD * (b - a)
    p[k] = c
    fc = _objective(y, p, trend)
    p[k] = d
    fd = _objective(y, p, trend)
    for _ in range(REFINE):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - GOLD * (b - a)
            p[k] = c
            fc = _objective(y, p, trend)
        else:
            a, c, fc = c, d, fd
            d = a + GOLD * (b - a)
            p[k] = d
            fd = _objective(y, p, trend)
    for x, f in ((c, fc), (d, fd)):
        if f < best_f:
            best_x, best_f = x, f
    p[k] = best_x
    return best_f


@njit(cache=True)
def _bracket(grid: np.ndarray, j: int, lo: float, hi: float) -> tuple[float, float]:
    return (grid[j - 1] if j > 0 else lo), (grid[j + 1] if j + 1 < grid.size else hi)


@njit(cache=True)
def _fit_ann(y: np.ndarray, p: np.ndarray) -> float:
    best, jbest = np.inf, 0
    for j in range(ALPHA_GRID.size):
        p[0] = ALPHA_GRID[j]
        f = _objective(y, p, False)
        if f < best:
            best, jbest = f, j
    p[0] = ALPHA_GRID[jbest]
    lo, hi = _bracket(ALPHA_GRID, jbest, LOWER[0], UPPER[0])
    return _golden(y, p, 0, lo, hi, False)


@njit(cache=True)
def _fit_aadn(y: np.ndarray, p: np.ndarray) -> float:
    best = np.inf
    ja = jr = jp = 0
    for a in range(TREND_ALPHA.size):
        for r in range(TREND_BETA.size):
            for f in range(TREND_PHI.size):
                p[0], p[1], p[2] = TREND_ALPHA[a], TREND_BETA[r], TREND_PHI[f]
                v = _objective(y, p, True)
                if v < best:
                    best, ja, jr, jp = v, a, r, f
    p[0], p[1], p[2] = TREND_ALPHA[ja], TREND_BETA[jr], TREND_PHI[jp]
    grids = (TREND_ALPHA, TREND_BETA, TREND_PHI)
    picks = (ja, jr, jp)
    for k in range(3):
        lo, hi = _bracket(grids[k], picks[k], LOWER[k], UPPER[k])
        best = _golden(y, p, k, lo, hi, True)
    return best


@njit(cache=True)
def _aicc(sse: float, n: int, k: int, scale: float) -> float:
    if n - k - 1 <= 0:
        return np.inf
    return n * math.log(max(sse, 1e-12 * scale)) + 2 * k + 2.0 * k * (k + 1) / (n - k - 1)


@njit(cache=True)
def _fit_rows(values: np.ndarray, start: np.ndarray, par: np.ndarray, res: np.ndarray) -> None:
    """Per row: ``par`` = (model, α, β, φ, ℓ_n, b_n, SSE, n) and the one-step errors ``res``."""
    t_max = values.shape[1]
    p1 = np.zeros(1)
    p3 = np.zeros(3)
    for i in range(values.shape[0]):
        y = values[i, start[i] :]
        n = y.size
        if n == 0:
            continue
        scale = 1.0 + (y * y).sum()
        sse_n = _fit_ann(y, p1)
        model, alpha, beta, phi = ANN, p1[0], 0.0, 0.0
        if n >= MIN_TREND:
            sse_t = _fit_aadn(y, p3)
            if _aicc(sse_t, n, 6, scale) < _aicc(sse_n, n, 3, scale):
                model, alpha, beta, phi = AADN, p3[0], p3[1], p3[2]
        s = _sse(y, alpha, beta, phi, model == AADN)
        lvl, b = s[1], s[2]
        sse = 0.0
        for t in range(n):
            f = lvl + phi * b
            e = y[t] - f
            sse += e * e
            res[i, t_max - n + t] = e
            lvl = f + alpha * e
            b = phi * b + beta * e
        par[i, 0], par[i, 1], par[i, 2], par[i, 3] = model, alpha, beta, phi
        par[i, 4], par[i, 5], par[i, 6], par[i, 7] = lvl, b, sse, n


@dataclass(frozen=True)
class EtsFit:
    """Per series: ``model`` (0 ANN, 1 AAdN), α, β, φ, the final level and growth (units per
    period), SSE (units²), n (periods) and the in-sample one-step errors (n, T; NaN before a
    series starts)."""

    model: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray
    phi: np.ndarray
    level: np.ndarray
    growth: np.ndarray
    sse: np.ndarray
    n_obs: np.ndarray
    residuals: np.ndarray

    @property
    def n_params(self) -> np.ndarray:
        """k = parameters + 1 of each series' model (ANN 3, AAdN 6)."""
        return np.where(self.model == AADN, 6, 3)

    def sigma2(self) -> np.ndarray:
        """σ² = SSE / (n − k) (SSE / n where n ≤ k), units² per period."""
        dof = self.n_obs - self.n_params
        return self.sse / np.where(dof > 0, dof, np.maximum(self.n_obs, 1))

    def mean(self, h: int) -> np.ndarray:
        """Point forecasts (n, H): ℓ_n + b_n Σ_{j≤h} φ^j."""
        powers = self.phi[:, None] ** np.arange(1, h + 1)
        return self.level[:, None] + self.growth[:, None] * np.cumsum(powers, axis=1)

    def sigmah(self, h: int) -> np.ndarray:
        """h-step forecast-error std (n, H), closed form (module doc)."""
        powers = self.phi[:, None] ** np.arange(1, h)
        c = self.alpha[:, None] + self.beta[:, None] * np.cumsum(powers, axis=1)
        acc = np.concatenate([np.zeros((len(self.alpha), 1)), np.cumsum(c**2, axis=1)], axis=1)
        return np.sqrt(self.sigma2()[:, None] * (1.0 + acc))


def fit_ets(hist: History) -> EtsFit:
    """ANN or AAdN fitted to every series of ``hist`` (module doc)."""
    n, t = hist.values.shape
    par = np.zeros((n, 8))
    res = np.full((n, t), np.nan)
    _fit_rows(np.ascontiguousarray(hist.values), hist.start.astype(np.int64), par, res)
    return EtsFit(
        model=par[:, 0].astype(np.int64),
        alpha=par[:, 1],
        beta=par[:, 2],
        phi=par[:, 3],
        level=par[:, 4],
        growth=par[:, 5],
        sse=par[:, 6],
        n_obs=par[:, 7].astype(np.int64),
        residuals=res,
    )


def ets_quantiles(fit: EtsFit, h: int, taus: Sequence[float]) -> np.ndarray:
    """Gaussian quantiles (n, H, K) of the fitted models' forecasts."""
    return gaussian_quantiles(fit.mean(h), fit.sigmah(h), taus)


def ets_paths(fit: EtsFit, h: int, n_paths: int, seed: int) -> np.ndarray:
    """Sample paths (n, P, H): the state recursion from the final states with bootstrapped
    in-sample one-step errors, drawn from numba's generator seeded with ``seed`` (units per
    period)."""
    par = np.stack([fit.alpha, fit.beta, fit.phi], axis=1)
    state = (fit.level, fit.growth, par)
    return resample(STATE, fit.residuals, fit.mean(h), n_paths, seed, state)
