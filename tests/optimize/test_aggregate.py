"""Aggregate fill-rate target ("stock mix"): known answers, brute force on small random
curves (hypothesis), the uniform comparison and clear errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from echelon.errors import OptimizationError
from echelon.optimize.aggregate import aggregate_targets, uniform_targets


def test_known_answer_two_series() -> None:
    """A cheap fast mover and a costly slow one: the mix runs the fast one high."""
    stock = [[0, 10, 20], [0, 10, 20]]
    fill = [[0.80, 0.95, 0.99], [0.80, 0.95, 0.99]]
    demand = [90, 10]  # units per period
    value = [1.0, 10.0]  # money per unit
    res = aggregate_targets(stock, fill, demand, 0.95, unit_value=value)
    # (1) fast at 20 (0.99), slow at 0 (0.80): 0.9·0.99 + 0.1·0.8 = 0.971 ≥ 0.95, cost 20
    # (2) both at 10: 0.95, cost 10 + 100 = 110; (3) fast at 10, slow at 0: 0.935 < 0.95
    assert res.index.tolist() == [2, 0]
    assert res.investment == pytest.approx(20.0)
    assert res.aggregate == pytest.approx(0.971)
    assert res.lower_bound is not None and res.lower_bound <= 20.0 + 1e-12
    uni = uniform_targets(stock, fill, demand, 0.95, unit_value=value)
    assert uni.index.tolist() == [1, 1]
    assert uni.investment == pytest.approx(110.0)


def test_value_fill_rate_weights_by_price() -> None:
    stock = [[0, 10], [0, 10]]
    fill = [[0.5, 1.0], [0.5, 1.0]]
    # by units series 0 dominates; by value (demand × price) series 1 does
    unit = aggregate_targets(stock, fill, [9, 1], 0.9, unit_value=[1, 1])
    value = aggregate_targets(stock, fill, [9, 1], 0.9, unit_value=[1, 1], price=[1, 100],
                              measure="value")  # fmt: skip
    assert unit.index.tolist() == [1, 0]
    assert value.index.tolist() == [0, 1]


@st.composite
def curves(draw: st.DrawFn) -> tuple[list[list[float]], list[list[float]], list[float],
                                     list[float], float]:  # fmt: skip
    n = draw(st.integers(1, 4))
    stock, fill = [], []
    for _ in range(n):
        m = draw(st.integers(1, 4))
        steps = draw(st.lists(st.floats(0.5, 10), min_size=m, max_size=m))
        stock.append(np.cumsum(steps).tolist())
        f = sorted(draw(st.lists(st.floats(0.0, 1.0), min_size=m, max_size=m)))
        fill.append(f)
    demand = draw(st.lists(st.floats(0.1, 50), min_size=n, max_size=n))
    value = draw(st.lists(st.floats(0.1, 20), min_size=n, max_size=n))
    top = sum(d * f[-1] for d, f in zip(demand, fill, strict=True)) / sum(demand)
    target = draw(st.floats(0.01, 1.0)) * top
    return stock, fill, demand, value, target


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(curves())
def test_meets_target_and_bounds_hold(case) -> None:  # type: ignore[no-untyped-def]
    stock, fill, demand, value, target = case
    if target <= 0:
        return
    res = aggregate_targets(stock, fill, demand, target, unit_value=value)
    w = np.asarray(demand)
    best = np.inf
    for idx in itertools.product(*(range(len(s)) for s in stock)):
        agg = sum(w[k] * fill[k][i] for k, i in enumerate(idx)) / w.sum()
        if agg >= target - 1e-9:
            best = min(best, sum(value[k] * stock[k][i] for k, i in enumerate(idx)))
    assert res.aggregate >= target - 1e-9
    assert res.investment >= best - 1e-9 * max(1.0, best)
    assert res.lower_bound is not None and res.lower_bound <= best + 1e-9 * max(1.0, best)
    uni = uniform_targets(stock, fill, demand, target, unit_value=value)
    assert uni.aggregate >= target - 1e-9
    assert res.investment <= uni.investment + 1e-9 * max(1.0, uni.investment)


@pytest.mark.parametrize(
    ("stock", "fill", "target", "fragment"),
    [
        ([[0, 1]], [[0.5, 0.9]], 0.95, "above what the curves reach"),
        ([[1, 0]], [[0.5, 0.9]], 0.5, "bad stock-to-service curve"),
        ([[0, 1]], [[0.5, 1.2]], 0.5, "bad stock-to-service curve"),
        ([[0, 1]], [[0.5, 0.9]], 1.5, "out of range"),
        ([], [], 0.5, "non-empty"),
    ],
)
def test_errors(stock, fill, target, fragment) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(OptimizationError, match=fragment):
        aggregate_targets(stock, fill, [1.0] * len(stock), target)
