"""The exact stochastic-service model of a serial system (Clark–Scarf 1960, Chen–Zheng 1994),
arrays in, arrays out.

Stages are numbered 1 (downstream, facing the external demand) to N (upstream, supplied by an
outside supplier with unlimited stock); every array argument lists stage 1 first. Conventions are
those of Snyder & Shen, *Fundamentals of Supply Chain Theory* (2nd ed.), §6.2:

- ``lead_times[j]``: an order placed by stage j in period t arrives L_j periods later, so the
  echelon inventory position of stage j is exposed to the demand of L_j periods (periods);
- ``echelon_holding[j]``: echelon holding cost h_j = local h_j − local h_{j+1} (money per unit
  per period; the local holding cost of stage 1 is h'_1 = Σ_j h_j); in-transit units are charged
  at the local holding cost of the stage that shipped them;
- ``penalty``: backorder cost p at stage 1 (money per unit backordered per period).

The recursion, with ``C̲_0(x) = (p + h'_1)·x⁻`` and, for j = 1..N,

    Ĉ_j(x) = h_j·x + C̲_{j−1}(x),   C_j(y) = E[Ĉ_j(y − D_j)],   S*_j = argmin C_j,
    C̲_j(x) = C_j(min(S*_j, x)),

gives the optimal echelon base-stock levels S* and the optimal expected cost C_N(S*_N) per
period; with given levels S in place of S* it gives the exact cost of any echelon base-stock
policy. D_j is the demand over L_j periods.

Numerics. All functions live on one grid ``x = k·step`` (k integer, anchored at 0):

- integer demand (Poisson, discrete): ``step = 1`` and the lead-time demand pmf is exact, so the
  levels and the cost are exact up to the tail truncation;
- normal demand: ``step = std/200`` by default, and the lead-time demand is replaced by its
  *hat-function* discretization ``P(k) = E[max(0, 1 − |D/step − k|)]`` (mean-preserving, and the
  expectation of a function that is linear between grid points is then exact). The errors are
  O(step²) in the cost and ±step/2 in the levels (levels are grid points);
- each lead-time demand distribution is cut where both tails fall below ``tail`` (default 1e-10)
  and renormalized. The grid is wide enough that no function is ever extrapolated: each
  expectation is a 'valid' convolution that shortens the grid by the support width of D_j.

Everything is vectorized (FFT / overlap-add convolutions); the work is O(N·M·log M) for M grid
points.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import signal, stats

Floats = Sequence[float] | np.ndarray
DEFAULT_TAIL = 1e-10
DEFAULT_STEPS_PER_STD = 200
DEFAULT_MAX_POINTS = 5_000_000


@dataclass(frozen=True)
class Normal:
    """Normal demand per period (units per period). ``truncate_at_zero``: model ``max(D, 0)`` as
    echelon's simulator does; otherwise the textbook (untruncated) normal."""

    mean: float
    std: float
    truncate_at_zero: bool = False


@dataclass(frozen=True)
class Poisson:
    """Poisson demand per period (mean in units per period)."""

    mean: float


@dataclass(frozen=True)
class Discrete:
    """Integer demand per period: ``pmf[k] = P(D = k)``, k = 0, 1, 2, ... (units per period)."""

    pmf: tuple[float, ...]


Demand = Normal | Poisson | Discrete


@dataclass(frozen=True)
class SerialSolution:
    """Echelon levels S_j (units, stage 1 first), the expected cost per period, the stage costs
    C_j(S_j) and the grid that was used."""

    levels: np.ndarray
    cost: float
    stage_costs: np.ndarray
    step: float
    grid_points: int
    optimized: bool


def is_integer_demand(demand: Demand) -> bool:
    return not isinstance(demand, Normal)


def period_mean(demand: Demand) -> float:
    """Mean demand per period (of ``max(D, 0)`` for a truncated normal)."""
    if isinstance(demand, Normal):
        if not demand.truncate_at_zero:
            return demand.mean
        if demand.std == 0:
            return max(demand.mean, 0.0)
        z = demand.mean / demand.std
        return float(demand.mean * stats.norm.cdf(z) + demand.std * stats.norm.pdf(z))
    if isinstance(demand, Poisson):
        return demand.mean
    pmf = np.asarray(demand.pmf, dtype=float)
    return float(np.dot(np.arange(pmf.size), pmf) / pmf.sum())


def default_step(demand: Demand) -> float:
    """Grid step (units): 1 for integer demand, std/200 for normal demand."""
    if is_integer_demand(demand):
        return 1.0
    assert isinstance(demand, Normal)
    return demand.std / DEFAULT_STEPS_PER_STD


# --------------------------------------------------------------------------- lead-time demand


def _trim(k0: int, pmf: np.ndarray, tail: float) -> tuple[int, np.ndarray]:
    """Drop both tails of mass <= tail, clip rounding noise, renormalize."""
    pmf = np.clip(pmf, 0.0, None)
    total = pmf.sum()
    cdf = np.cumsum(pmf) / total
    first = int(np.searchsorted(cdf, tail, side="right"))
    last = int(np.searchsorted(cdf, 1.0 - tail, side="left"))
    last = min(max(last, first), pmf.size - 1)
    out = pmf[first : last + 1]
    return k0 + first, out / out.sum()


def _convolve(a: np.ndarray, b: np.ndarray, mode: str = "full") -> np.ndarray:
    if min(a.size, b.size) <= 64:
        return np.asarray(np.convolve(a, b, mode=mode))  # type: ignore[call-overload]
    return np.asarray(signal.oaconvolve(a, b, mode=mode))


def _power(k0: int, pmf: np.ndarray, n: int, tail: float) -> tuple[int, np.ndarray]:
    """The pmf of the sum of n i.i.d. copies (repeated squaring, tails trimmed)."""
    out_k0, out = 0, np.ones(1)
    base_k0, base = k0, pmf
    while n:
        if n & 1:
            out_k0, out = _trim(out_k0 + base_k0, _convolve(out, base), tail)
        n >>= 1
        if n:
            base_k0, base = _trim(2 * base_k0, _convolve(base, base), tail)
    return out_k0, out


def _normal_hat(mean: float, std: float, step: float, tail: float) -> tuple[int, np.ndarray]:
    """Hat-function discretization of N(mean, std²) on the grid k·step: the weights are second
    differences of G(t) = E[(t − D)⁺] (exact, no quadrature)."""
    lo = math.floor(float(stats.norm.ppf(tail, mean, std)) / step) - 1
    hi = math.ceil(float(stats.norm.isf(tail, mean, std)) / step) + 1
    t = np.arange(lo - 1, hi + 2, dtype=float) * step
    z = (t - mean) / std
    g = (t - mean) * stats.norm.cdf(z) + std * stats.norm.pdf(z)
    w = (g[2:] - 2.0 * g[1:-1] + g[:-2]) / step
    return _trim(lo, w, tail)


def lead_time_pmf(
    demand: Demand, periods: float, step: float, tail: float = DEFAULT_TAIL
) -> tuple[int, np.ndarray]:
    """Demand over ``periods`` periods on the grid: ``(k0, pmf)`` with ``pmf[i]`` the mass at
    ``(k0 + i)·step``. Normal and Poisson accept any real ``periods >= 0``; a truncated normal
    and a discrete pmf need an integer number of periods."""
    if periods < 0:
        raise ValueError(f"lead time must be >= 0, got {periods}")
    if periods == 0:
        return 0, np.ones(1)
    if isinstance(demand, Poisson):
        lam = demand.mean * periods
        if lam == 0:
            return 0, np.ones(1)
        k = np.arange(int(stats.poisson.ppf(tail, lam)), int(stats.poisson.isf(tail, lam)) + 2)
        return _trim(int(k[0]), stats.poisson.pmf(k, lam), tail)
    whole = round(periods)
    if isinstance(demand, Discrete):
        if abs(periods - whole) > 1e-9:
            raise ValueError(f"discrete demand needs an integer lead time, got {periods}")
        pmf = np.asarray(demand.pmf, dtype=float)
        return _power(*_trim(0, pmf, tail), whole, tail)
    if demand.std <= 0:
        raise ValueError("normal demand needs std > 0 (use a discrete pmf for constant demand)")
    if not demand.truncate_at_zero:
        return _normal_hat(demand.mean * periods, demand.std * math.sqrt(periods), step, tail)
    if abs(periods - whole) > 1e-9:
        raise ValueError(f"truncated normal demand needs an integer lead time, got {periods}")
    k0, w = _normal_hat(demand.mean, demand.std, step, tail)
    # max(D, 0): grid points k >= 1 keep their hat weight, k = 0 gets all the rest.
    pos = w[max(0, 1 - k0) :]
    one = np.concatenate(([max(0.0, 1.0 - pos.sum())], pos)) if k0 <= 0 else w
    return _power(max(k0, 0), one, whole, tail)


# --------------------------------------------------------------------------- the recursion


def _recursion(
    lead_times: Floats,
    echelon_holding: Floats,
    penalty: float,
    demand: Demand,
    levels: Floats | None,
    step: float | None,
    tail: float,
    max_points: int,
) -> SerialSolution:
    lt = [float(x) for x in lead_times]
    h = np.asarray(echelon_holding, dtype=float)
    n_stages = len(lt)
    if n_stages == 0 or h.size != n_stages:
        raise ValueError("lead_times and echelon_holding must be non-empty and equally long")
    if levels is not None and len(levels) != n_stages:
        raise ValueError("levels must give one echelon level per stage")
    if penalty <= 0:
        raise ValueError(f"penalty must be > 0, got {penalty}")
    if np.any(h < 0):
        raise ValueError(
            "echelon holding costs must be >= 0 (local costs nondecreasing downstream)"
        )
    if step is None or is_integer_demand(demand):
        step = default_step(demand)
    pmfs = [lead_time_pmf(demand, L, step, tail) for L in lt]
    top = [k0 + p.size - 1 for k0, p in pmfs]
    # Minimizers lie between the lower tail of D_1 and the sum of the upper tails.
    y_lo, y_hi = pmfs[0][0] - 2, sum(top) + 2
    if levels is not None:
        y_lo = min(y_lo, math.floor(min(levels) / step) - 2)
        y_hi = max(y_hi, math.ceil(max(levels) / step) + 2)
    lo = y_lo - sum(max(t, 0) for t in top)
    hi = y_hi + sum(max(-k0, 0) for k0, _ in pmfs)
    n_points = hi - lo + 1
    if n_points > max_points:
        raise ValueError(
            f"the grid would have {n_points:,} points (max {max_points:,}); use a larger step "
            f"than {step:g}"
        )
    x = np.round((lo + np.arange(n_points)) * step, 12)
    a = 0  # index in x of the first point of the current function
    c_bar = (penalty + h.sum()) * np.maximum(-x, 0.0)
    out_levels = np.empty(n_stages)
    stage_costs = np.empty(n_stages)
    for j, (k0, pmf) in enumerate(pmfs):
        xs = x[a : a + c_bar.size]
        c = _convolve(h[j] * xs + c_bar, pmf, mode="valid")
        a += pmf.size - 1 + k0
        c = c[: n_points - a]  # with k0 > 0 the valid part would run past the grid's top
        xs = x[a : a + c.size]
        if levels is None:
            cmin = float(c.min())
            i = int(np.argmax(c <= cmin + 1e-12 * max(1.0, abs(cmin))))  # least optimal level
            if i == 0:
                raise RuntimeError(f"stage {j + 1}: minimum at the grid's lower edge")
            s_j, c_j = float(xs[i]), float(c[i])
        else:
            s_j = float(levels[j])
            c_j = float(np.interp(s_j, xs, c))
        out_levels[j], stage_costs[j] = s_j, c_j
        c_bar = np.where(xs <= s_j, c, c_j)
    return SerialSolution(
        levels=out_levels,
        cost=float(stage_costs[-1]),
        stage_costs=stage_costs,
        step=step,
        grid_points=n_points,
        optimized=levels is None,
    )


def solve_serial(
    lead_times: Floats,
    echelon_holding: Floats,
    penalty: float,
    demand: Demand,
    *,
    step: float | None = None,
    tail: float = DEFAULT_TAIL,
    max_points: int = DEFAULT_MAX_POINTS,
) -> SerialSolution:
    """Optimal echelon base-stock levels (units, stage 1 first) and the optimal expected cost
    per period. ``step``: grid step for normal demand (units; default std/200); ``tail``:
    probability cut from each tail of each lead-time demand distribution."""
    return _recursion(lead_times, echelon_holding, penalty, demand, None, step, tail, max_points)


def expected_cost(
    lead_times: Floats,
    echelon_holding: Floats,
    penalty: float,
    demand: Demand,
    levels: Floats,
    *,
    step: float | None = None,
    tail: float = DEFAULT_TAIL,
    max_points: int = DEFAULT_MAX_POINTS,
) -> float:
    """The expected cost per period of the echelon base-stock levels ``levels`` (units, stage 1
    first), by the same recursion with the given levels in place of the minimizers. Levels off
    the grid are linearly interpolated (exact for integer demand at integer levels)."""
    return _recursion(
        lead_times, echelon_holding, penalty, demand, levels, step, tail, max_points
    ).cost


def local_levels(echelon_levels: Floats) -> np.ndarray:
    """The equivalent installation (local) base-stock levels S_j − S_{j−1} (stage 1 first)."""
    s = np.asarray(echelon_levels, dtype=float)
    return np.diff(s, prepend=0.0)
