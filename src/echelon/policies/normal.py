"""Normal-demand numerics shared by every room: the loss function, shortages and exposures.

The one home of these formulas (placement, decomposition, orders, rebalancing, exceptions and
the single-echelon heuristics all call them):

- :func:`normal_loss` — the standard normal first-order loss ``G(z) = E[(Z − z)^+] =
  φ(z) − z·(1 − Φ(z))`` (dimensionless);
- :func:`expected_shortage` — ``E[(D − x)^+]`` for ``D ~ Normal(mean, std)``, units: ``std ·
  G((x − mean)/std)``; with ``std`` ≈ 0 the deterministic ``(mean − x)^+``;
- :func:`stockout_probability` — ``P(D > x)``: ``1 − Φ((x − mean)/std)``, a step at the mean
  when ``std`` ≈ 0;
- :func:`exposure_std` — the std of demand over an exposure of ``τ`` periods with a random
  lead time: ``σ_τ = √(σ²·τ + μ²·σ_L²)`` (units), per-period demand mean ``μ`` and std ``σ``
  (units per period), lead-time std ``σ_L`` (periods); successive periods independent;
- :func:`window_demand` — mean and std of demand over ``τ`` periods with a fixed window:
  ``(μ·τ, σ·√τ)`` (the ``σ_L = 0`` case of :func:`exposure_std`).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

FloatArray = NDArray[np.float64]
TINY = 1e-9  # a std at or below this is treated as 0 (deterministic demand)
_SQRT_2PI = float(np.sqrt(2.0 * np.pi))


def _pdf(u: ArrayLike) -> FloatArray:
    """Standard normal density φ(u), as ``scipy.stats.norm.pdf`` computes it, without its
    per-call argument checks (a millisecond each: ``z_for_fill_rate`` calls it ~15 times)."""
    x = np.asarray(u, float)
    return np.asarray(np.exp(-(x * x) / 2.0) / _SQRT_2PI, dtype=float)


def _sf(u: ArrayLike) -> FloatArray:
    """Standard normal upper tail 1 − Φ(u) (``scipy.stats.norm.sf``: ``ndtr(−u)``)."""
    return np.asarray(special.ndtr(-np.asarray(u, float)), dtype=float)


def normal_loss(z: float) -> float:
    """Standard normal first-order loss ``G(z) = E[(Z − z)^+]`` (dimensionless)."""
    return float(_pdf(z) - z * _sf(z))


def expected_shortage(x: ArrayLike, mean: ArrayLike, std: ArrayLike) -> FloatArray:
    """``E[(D − x)^+]`` for ``D ~ Normal(mean, std)``, units (``(mean − x)^+`` if std ≈ 0).

    Broadcasts its arguments (stock ``x``, demand ``mean`` and ``std``, all in units)."""
    xa, m, s = np.broadcast_arrays(
        np.asarray(x, float), np.asarray(mean, float), np.asarray(std, float)
    )
    pos = s > TINY
    u = (xa - m) / np.where(pos, s, 1.0)
    loss = s * (_pdf(u) - u * _sf(u))
    return np.asarray(np.where(pos, loss, np.maximum(m - xa, 0.0)), dtype=float)


def stockout_probability(x: ArrayLike, mean: ArrayLike, std: ArrayLike) -> FloatArray:
    """``P(D > x)`` for ``D ~ Normal(mean, std)`` (a step at the mean if std ≈ 0)."""
    xa, m, s = np.broadcast_arrays(
        np.asarray(x, float), np.asarray(mean, float), np.asarray(std, float)
    )
    pos = s > TINY
    u = (xa - m) / np.where(pos, s, 1.0)
    return np.asarray(np.where(pos, _sf(u), (m > xa).astype(float)), dtype=float)


def exposure_std(
    std: float, periods: float, mean: float = 0.0, lead_time_std: float = 0.0
) -> float:
    """``σ_τ = √(σ²·τ + μ²·σ_L²)``, units: demand std over ``periods`` (τ ≥ 0) periods of
    exposure, per-period ``std`` and ``mean`` (units), lead-time std ``lead_time_std``
    (periods). 0 for an exposure of 0 periods."""
    if periods <= 0:
        return 0.0
    return math.sqrt(std**2 * periods + (mean * lead_time_std) ** 2)


def window_demand(mean: float, std: float, periods: float) -> tuple[float, float]:
    """Mean and std (units) of demand over ``periods`` periods: ``(μ·τ, σ·√τ)``."""
    tau = max(0.0, periods)
    return mean * tau, exposure_std(std, tau)


def window_demands(
    mean: ArrayLike, std: ArrayLike, periods: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """:func:`window_demand` elementwise over arrays (units; the same floats, element by
    element, as the scalar function)."""
    tau = np.maximum(0.0, np.asarray(periods, float))
    s = np.asarray(std, float)
    return np.asarray(mean, float) * tau, np.sqrt(s * s * tau + 0.0)
