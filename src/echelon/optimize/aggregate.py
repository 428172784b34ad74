"""One aggregate service target over many series ("stock mix"): per-series targets at least cost.

A planner with one network-wide target — e.g. a 97 % **unit fill rate** over every item × store
(or a **value fill rate**, demand weighted by price) — need not give every series 97 %: cheap,
fast-moving series can run above it and costly, slow ones below, at the same aggregate.

Input, per series k (an item × store), a **stock-to-service curve** of m_k ≥ 1 points:

- ``stock[k]`` — stock held at each point (units of the item, increasing; e.g. the average
  on-hand units, or the safety stock, at successive base-stock levels);
- ``fill[k]`` — the series' fill rate at each point (fraction of its demand served from stock);

and ``demand[k]`` (mean demand per period, units), ``unit_value[k]`` (money per unit; default
1, i.e. investment counted in units) and, for a value fill rate, ``price[k]`` (money per unit
of demand; default ``unit_value``).

Problem: choose one point i_k per series to minimize the investment ``Σ_k v_k·stock[k][i_k]``
subject to ``Σ_k w_k·fill[k][i_k] ≥ target·Σ_k w_k``, with w_k = demand_k (unit fill rate) or
demand_k·price_k (value fill rate).

Method (Lagrangian on the convex hull, Everett's theorem): each curve's points are replaced by
the upper concave hull of (cost v·stock, gain w·fill); along a hull the marginal gains per unit
of investment decrease, so for a multiplier λ each series takes the last hull point whose
marginal ratio is ≥ λ. Walking all hull segments in decreasing ratio until the aggregate is met
is the greedy that sweeps λ from +∞ down; its last, fractional segment gives the optimum of the
hull relaxation (``lower_bound`` on the investment of any choice meeting the target). The
segment is taken whole (the choice must be a point), then a clean-up pass lowers series to
cheaper points — hull or not — while the target stays met, the largest saving first; when the
uniform choice below happens to be cheaper, its cleaned-up version is returned instead, so the
result never costs more than one common target.
``uniform_targets`` is the comparison: one fill-rate target β for every series, the least β
(each series at its cheapest point with fill ≥ β) whose aggregate meets the target.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from echelon.errors import OptimizationError

Measure = Literal["unit", "value"]
FloatArray = NDArray[np.float64]


@dataclass
class AggregateResult:
    """Chosen point per series and what it gives (units as in the module doc)."""

    index: NDArray[np.int64]
    """Chosen point i_k of every series' curve."""
    stock: FloatArray
    """stock[k][i_k] (units)."""
    fill_rate: FloatArray
    """fill[k][i_k]: the per-series fill-rate target (fraction)."""
    aggregate: float
    """Σ w·fill / Σ w at the chosen points (fraction)."""
    investment: float
    """Σ v·stock at the chosen points (money, or units when no values are given)."""
    lower_bound: float | None = None
    """Least investment of the hull relaxation: no choice meeting the target costs less."""
    multiplier: float | None = None
    """λ: aggregate fill gained per unit of investment at the margin (weight units per money)."""


def _curves(
    stock: Sequence[ArrayLike], fill: Sequence[ArrayLike]
) -> tuple[list[FloatArray], list[FloatArray]]:
    if len(stock) != len(fill) or len(stock) == 0:
        raise OptimizationError(
            "stock and fill curves must be given for the same, non-empty list of series",
            field="stock, fill",
            found=f"{len(stock)} stock and {len(fill)} fill curves",
            fix="pass one stock array and one fill-rate array per series",
        )
    xs, ys = [], []
    for k, (s, f) in enumerate(zip(stock, fill, strict=True)):
        x, y = np.asarray(s, float).ravel(), np.asarray(f, float).ravel()
        bad = (
            x.size == 0
            or x.size != y.size
            or not np.all(np.isfinite(x))
            or not np.all(np.isfinite(y))
            or np.any(np.diff(x) <= 0)
            or np.any(x < 0)
            or np.any((y < 0) | (y > 1))
        )
        if bad:
            raise OptimizationError(
                "bad stock-to-service curve",
                where=f"series {k}",
                expected="equal-length arrays, stock ≥ 0 strictly increasing, fill in [0, 1]",
                found=f"stock {x.tolist()[:6]}, fill {y.tolist()[:6]}",
                fix="sort the curve by stock and drop repeated or invalid points",
            )
        xs.append(x)
        ys.append(y)
    return xs, ys


def _weights(
    n: int,
    demand: ArrayLike,
    unit_value: ArrayLike | None,
    price: ArrayLike | None,
    measure: Measure,
) -> tuple[FloatArray, FloatArray]:
    d = np.broadcast_to(np.asarray(demand, float), (n,)).astype(float)
    v = np.ones(n) if unit_value is None else np.broadcast_to(np.asarray(unit_value, float), (n,))
    p = v if price is None else np.broadcast_to(np.asarray(price, float), (n,))
    if measure not in ("unit", "value"):
        raise OptimizationError(
            "unknown aggregate fill-rate measure", expected="unit or value", found=repr(measure)
        )
    w = d if measure == "unit" else d * p
    if not (np.all(np.isfinite(w)) and np.all(w >= 0) and w.sum() > 0):
        raise OptimizationError(
            "demand weights must be finite, non-negative and not all zero",
            field="demand",
            found=f"{w.tolist()[:6]}",
            fix="give the mean demand per period of every series",
        )
    if not (np.all(np.isfinite(v)) and np.all(v >= 0)):
        raise OptimizationError("unit values must be finite and >= 0", field="unit_value")
    return w, np.asarray(v, float)


def _hull(cost: FloatArray, gain: FloatArray) -> list[int]:
    """Indices of the upper concave hull of (cost, gain), from the first point, gains rising."""
    hull = [0]
    for i in range(1, cost.size):
        if gain[i] <= gain[hull[-1]]:
            continue  # costs more, gains no more: never on the hull
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            # drop b if it lies on or below the chord a → i
            left = (gain[b] - gain[a]) * (cost[i] - cost[a])
            if left <= (gain[i] - gain[a]) * (cost[b] - cost[a]):
                hull.pop()
            else:
                break
        hull.append(i)
    return hull


def check_target(target: float) -> None:
    if not 0 < target <= 1:
        raise OptimizationError(
            "aggregate fill-rate target out of range",
            field="aggregate fill rate",
            expected="a fraction in (0, 1]",
            found=f"{target:g}",
            fix="give e.g. 0.97",
        )


def _infeasible(best: float, target: float) -> OptimizationError:
    return OptimizationError(
        "aggregate fill-rate target above what the curves reach",
        field="aggregate fill rate",
        expected=f"at most {best:.6g} (every series at its highest point)",
        found=f"{target:g}",
        fix="lower the target, or extend the curves to higher stock",
    )


@dataclass
class _Problem:
    """Validated curves and weights of one aggregate target (module doc)."""

    xs: list[FloatArray]
    ys: list[FloatArray]
    w: FloatArray
    v: FloatArray
    need: float
    """target · Σ w: the aggregate gain a choice must reach."""

    def met(self, have: float) -> bool:
        """Whether an aggregate gain reaches ``need`` (within a relative 1e-12)."""
        return have >= self.need - 1e-12 * max(1.0, self.need)


def _problem(
    stock: Sequence[ArrayLike], fill: Sequence[ArrayLike], demand: ArrayLike, target: float,
    unit_value: ArrayLike | None, price: ArrayLike | None, measure: Measure,
) -> _Problem:  # fmt: skip
    check_target(target)
    xs, ys = _curves(stock, fill)
    w, v = _weights(len(xs), demand, unit_value, price, measure)
    return _Problem(xs, ys, w, v, target * float(w.sum()))


def aggregate_targets(
    stock: Sequence[ArrayLike],
    fill: Sequence[ArrayLike],
    demand: ArrayLike,
    target: float,
    *,
    unit_value: ArrayLike | None = None,
    price: ArrayLike | None = None,
    measure: Measure = "unit",
) -> AggregateResult:
    """Per-series points meeting the aggregate fill rate at least investment (module doc)."""
    prob = _problem(stock, fill, demand, target, unit_value, price, measure)
    xs, ys, w, v, need = prob.xs, prob.ys, prob.w, prob.v, prob.need
    n = len(xs)
    top = sum(float(w[k] * ys[k].max()) for k in range(n))
    if not prob.met(top):
        raise _infeasible(top / float(w.sum()), target)
    cost = [v[k] * xs[k] for k in range(n)]
    gain = [w[k] * ys[k] for k in range(n)]
    hulls = [_hull(cost[k], gain[k]) for k in range(n)]
    pos = np.zeros(n, np.int64)  # position along each hull
    index = np.array([h[0] for h in hulls], np.int64)
    have = sum(float(gain[k][index[k]]) for k in range(n))
    spent = sum(float(cost[k][index[k]]) for k in range(n))
    lower = spent
    lam: float | None = None
    segments: list[tuple[float, int, int]] = []  # (−ratio, series, hull position)
    for k, h in enumerate(hulls):
        for p in range(1, len(h)):
            dc = cost[k][h[p]] - cost[k][h[p - 1]]
            dg = gain[k][h[p]] - gain[k][h[p - 1]]
            segments.append((-(dg / dc) if dc > 0 else -np.inf, k, p))
    segments.sort()
    for neg_ratio, k, p in segments:
        if prob.met(have):
            break
        if pos[k] != p - 1:  # hull ratios decrease, so segments arrive in order per series
            continue
        h = hulls[k]
        dc = float(cost[k][h[p]] - cost[k][h[p - 1]])
        dg = float(gain[k][h[p]] - gain[k][h[p - 1]])
        short = need - have
        lam = -neg_ratio
        lower = spent + (dc * min(1.0, short / dg) if dg > 0 else 0.0)
        have += dg
        spent += dc
        pos[k] = p
        index[k] = h[p]
    index = _clean_up(index, cost, gain, prob)
    uni = _uniform_index(prob, target)
    if sum(float(cost[k][uni[k]]) for k in range(n)) < sum(
        float(cost[k][index[k]]) for k in range(n)
    ):
        index = _clean_up(uni, cost, gain, prob)  # never worse than one common target
    return _result(index, prob, lower, lam)


def _clean_up(
    index: NDArray[np.int64], cost: list[FloatArray], gain: list[FloatArray], prob: _Problem
) -> NDArray[np.int64]:
    """Lower series to cheaper points (any point) while the target holds, best saving first."""
    index = index.copy()
    have = sum(float(gain[k][index[k]]) for k in range(len(index)))
    while True:
        best: tuple[float, int, int] | None = None
        for k in range(len(index)):
            i = int(index[k])
            for j in range(i):
                if prob.met(have - gain[k][i] + gain[k][j]):
                    saving = float(cost[k][i] - cost[k][j])
                    if saving > 0 and (best is None or saving > best[0]):
                        best = (saving, k, j)
                    break  # the cheapest feasible lower point of this series
        if best is None:
            return index
        _, k, j = best
        have += float(gain[k][j] - gain[k][index[k]])
        index[k] = j


def _result(
    index: NDArray[np.int64], prob: _Problem, lower: float | None, lam: float | None
) -> AggregateResult:
    n = len(prob.xs)
    s = np.array([prob.xs[k][index[k]] for k in range(n)])
    f = np.array([prob.ys[k][index[k]] for k in range(n)])
    inv = float(np.sum(prob.v * s))
    return AggregateResult(
        index=index,
        stock=s,
        fill_rate=f,
        aggregate=float(np.sum(prob.w * f) / np.sum(prob.w)),
        investment=inv,
        lower_bound=None if lower is None else min(float(lower), inv),
        multiplier=lam,
    )


def uniform_targets(
    stock: Sequence[ArrayLike],
    fill: Sequence[ArrayLike],
    demand: ArrayLike,
    target: float,
    *,
    unit_value: ArrayLike | None = None,
    price: ArrayLike | None = None,
    measure: Measure = "unit",
) -> AggregateResult:
    """One fill-rate target β for all series: the least β whose aggregate meets ``target``.

    Each series takes its cheapest point with fill ≥ β (its highest point when none reaches
    β); ``multiplier`` is None and ``lower_bound`` None.
    """
    prob = _problem(stock, fill, demand, target, unit_value, price, measure)
    return _result(_uniform_index(prob, target), prob, None, None)


def _uniform_index(prob: _Problem, target: float) -> NDArray[np.int64]:
    """The points of :func:`uniform_targets`."""
    ys, w = prob.ys, prob.w
    n = len(ys)

    def choose(beta: float) -> NDArray[np.int64]:
        out = np.zeros(n, np.int64)
        for k in range(n):
            ok = np.flatnonzero(ys[k] >= beta - 1e-15)
            out[k] = int(ok[0]) if ok.size else int(np.argmax(ys[k]))
        return out

    def agg(idx: NDArray[np.int64]) -> float:
        return sum(float(w[k] * ys[k][idx[k]]) for k in range(n))

    betas = np.unique(np.concatenate(ys))
    lo, hi = 0, betas.size - 1
    if not prob.met(agg(choose(float(betas[hi])))):
        raise _infeasible(agg(choose(float(betas[hi]))) / float(w.sum()), target)
    while lo < hi:  # least feasible β (the aggregate is non-decreasing in β)
        mid = (lo + hi) // 2
        if prob.met(agg(choose(float(betas[mid])))):
            hi = mid
        else:
            lo = mid + 1
    return choose(float(betas[lo]))
