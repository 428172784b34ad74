"""The net-flow rebalancing model (units in and out per location, solved exactly by steepest
descent in plan/rebalance_greedy.py) has the optimum of the pairwise MIP (a transfer column per
pair, HiGHS) when every pair is allowed at one cost per unit: on random instances their
objectives agree within HiGHS's MIP gap (1e-4 relative), both measured on the model's
piecewise-linear shortage (the tangents of plan/rebalance.py), and the descent is never worse
than the MIP by more than that gap."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from echelon.plan.rebalance import TANGENTS, RebalanceSolution, solve_rebalance
from echelon.plan.rebalance_greedy import pwl_shortage
from echelon.policies.normal import expected_shortage, stockout_probability

MIP_GAP = 1e-4  # HiGHS's default mip_rel_gap


def model_shortage(x: np.ndarray, m: np.ndarray, s: np.ndarray) -> np.ndarray:
    """The model's shortage per location (units): the maximum of 0, the asymptote m − x and
    the tangents of E[(D − x)^+] at m + s·u (the exact (m − x)^+ where s = 0)."""
    out = np.maximum(0.0, m - x)
    for j in np.flatnonzero(s > 0):
        c = m[j] + s[j] * TANGENTS
        es = expected_shortage(c, m[j], s[j])
        slope = -stockout_probability(c, m[j], s[j])
        out[j] = max(out[j], float(np.max(es + slope * (x[j] - c))))
    assert np.allclose(out, pwl_shortage(x, m, s, TANGENTS), rtol=0, atol=1e-12)
    return out


def model_objective(sol: RebalanceSolution, m, s, cost: float, e_cost) -> float:  # type: ignore[no-untyped-def]
    short = model_shortage(sol.stock_after, m, s)
    return float(sol.shortage_cost @ short + cost * sol.transfers.sum() + e_cost @ sol.expedite)


@st.composite
def instances(draw: st.DrawFn):  # type: ignore[no-untyped-def]
    n = draw(st.integers(2, 9))
    vec = lambda lo, hi: np.array([draw(st.floats(lo, hi)) for _ in range(n)])  # noqa: E731
    stock = vec(-10.0, 120.0)
    mean, p = vec(0.0, 90.0), vec(0.5, 20.0)
    std = np.array([draw(st.sampled_from([0.0, 2.0, 10.0, 25.0])) for _ in range(n)])
    k = draw(st.integers(0, 3))
    e_loc = np.array([draw(st.integers(0, n - 1)) for _ in range(k)], dtype=np.int64)
    e_qty = np.array([float(draw(st.integers(1, 60))) for _ in range(k)])
    e_cost = np.array([draw(st.floats(0.1, 5.0)) for _ in range(k)])
    cost = draw(st.floats(0.0, 3.0))
    return stock, mean, std, p, cost, e_loc, e_qty, e_cost


@settings(max_examples=60, deadline=None)
@given(instances())
def test_net_flow_objective_equals_the_pairwise_model(inst) -> None:  # type: ignore[no-untyped-def]
    stock, mean, std, p, cost, e_loc, e_qty, e_cost = inst
    kw = dict(transfer_cost=cost, expedite_location=e_loc, expedite_quantity=e_qty,
              expedite_cost=e_cost)  # fmt: skip
    net = solve_rebalance(stock, mean, std, p, **kw)  # type: ignore[arg-type]
    pair = solve_rebalance(stock, mean, std, p, pairwise=True, **kw)  # type: ignore[arg-type]
    a = model_objective(net, mean, std, cost, e_cost)
    b = model_objective(pair, mean, std, cost, e_cost)
    assert abs(a - b) <= MIP_GAP * max(abs(a), abs(b)) + 1e-6
    assert a <= b + 1e-6 * max(1.0, abs(b))  # the descent's optimum is exact: no gap
    for sol in (net, pair):  # moves are whole units within the physical stock
        assert np.allclose(sol.transfers, np.round(sol.transfers))
        assert np.all(sol.transfers.sum(axis=1) <= np.maximum(stock, 0.0) + 1e-6)
