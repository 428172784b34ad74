"""Classical agents and the exhaustive CRN searches (echelon.rl.classical)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from echelon.errors import InputError
from echelon.network.io import network_from_dict
from echelon.network.model import Network
from echelon.optimize.single_echelon import solve_single_echelon
from echelon.policies.model import BaseStock, PolicySet
from echelon.rl.classical import (
    CappedBaseStockAgent,
    PolicyAgent,
    best_base_stock,
    best_capped_base_stock,
    crn_costs,
    policy_orders_of,
    simopt_base_stock,
)
from echelon.rl.evaluate import evaluate_agents
from echelon.rl.instances import orgym_serial_lost_sales, snyder_shen_6_1, zipkin_lost_sales
from echelon.sim.batch import simulate
from echelon.sim.step import StepEngine


def single_node(stockout: str, lead_time: int, penalty: float = 9.0) -> Network:
    return network_from_dict(
        {
            "nodes": [
                {
                    "id": "s", "holding_cost": 1.0, "penalty_cost": penalty,
                    "stockout": stockout, "demand": {"kind": "poisson", "mean": 5.0},
                    "lead_time": lead_time, "external_supplier": True,
                }
            ]
        }
    )  # fmt: skip


def zipkin_l1_exact_cost(S: int, p: float, lam: float = 5.0, h: float = 1.0) -> float:
    """Exact long-run cost of base stock S in Zipkin's lost-sales model with L = 1.

    The on hand at the start of a period (order of the previous period included) follows
    y' = S − min(y, D); the period's cost is h·(y − D)⁺ + p·(D − y)⁺ (stationary Markov chain).
    """
    dmax = 80
    pd = stats.poisson.pmf(np.arange(dmax + 1), lam)
    P = np.zeros((S + 1, S + 1))
    c = np.zeros(S + 1)
    for y in range(S + 1):
        for d in range(dmax + 1):
            P[y, S - min(y, d)] += pd[d]
            c[y] += pd[d] * (h * max(y - d, 0) + p * max(d - y, 0))
    A = np.vstack([P.T - np.eye(S + 1), np.ones(S + 1)])
    pi = np.linalg.lstsq(A, np.r_[np.zeros(S + 1), 1.0], rcond=None)[0]
    return float(pi @ c)


def test_grid_search_costs_equal_simulate_for_every_level() -> None:
    net = zipkin_lost_sales(4.0, 1)
    res = best_base_stock(net, levels=range(10, 14), periods=200, reps=4, seed=3, warmup=20)
    for S, mean in zip(res.levels, res.means, strict=True):
        policy = PolicySet(policies={"store": BaseStock(level=float(S))})
        assert simulate(net, policy, 200, 4, 3, 20).cost_per_period.mean == mean
    assert res.level == res.levels[int(np.argmin(res.means))]


def test_zipkin_l1_costs_match_the_exact_markov_chain_and_zipkin_table() -> None:
    # Zipkin (2008): Poisson(5), h 1, p 4, L 1; the standard base-stock level (newsvendor
    # fractile of 2 periods of demand, S = 13) costs 4.39 (his table; also DynaPlex's test).
    assert zipkin_l1_exact_cost(13, 4.0) == pytest.approx(4.39, abs=0.005)
    net = zipkin_lost_sales(4.0, 1)
    res = best_base_stock(net, levels=range(10, 16), periods=2000, reps=20, seed=0, warmup=100)
    for S, mean, half in zip(res.levels, res.means, res.ci95, strict=True):
        assert abs(mean - zipkin_l1_exact_cost(int(S), 4.0)) <= 1.5 * half + 0.01
    exact = {S: zipkin_l1_exact_cost(S, 4.0) for S in range(10, 16)}
    assert res.level == min(exact, key=exact.__getitem__) == 12


@pytest.mark.parametrize("stockout", ["backorder", "lost_sales"])
def test_one_period_lead_time_gives_the_newsvendor_level(stockout: str) -> None:
    # lead time 1: each period starts with S on hand; cost h(S−D)⁺ + p(D−S)⁺ (newsvendor)
    h, p = 1.0, 9.0
    net = single_node(stockout, 1, p)
    res = best_base_stock(net, levels=range(4, 13), periods=2000, reps=20, seed=1, warmup=10)
    S = int(stats.poisson.ppf(p / (p + h), 5.0))
    assert res.level == S == 8
    d = np.arange(200)
    pmf = stats.poisson.pmf(d, 5.0)
    expected = float(pmf @ (h * np.maximum(S - d, 0) + p * np.maximum(d - S, 0)))
    assert res.cost.contains(expected)


def test_huge_cap_is_base_stock_bit_for_bit_on_multi_node_networks() -> None:
    for net in (snyder_shen_6_1(), orgym_serial_lost_sales()):
        policy = solve_single_echelon(net).policy
        levels = {k: v.level for k, v in policy.policies.items()}  # type: ignore[union-attr]
        base = PolicySet(policies={k: BaseStock(level=v) for k, v in levels.items()})
        capped = CappedBaseStockAgent(net, levels, {k: 1e12 for k in levels})
        ev = evaluate_agents(net, [PolicyAgent(base), capped], 100, 3, seed=5, warmup=10)
        assert np.array_equal(ev.agents[0].costs, ev.agents[1].costs)
        assert all(row.deviation == 0.0 for row in ev.trace)
        assert ev.agents[0].cost.mean == simulate(net, base, 100, 3, 5, 10).cost_per_period.mean


def test_capped_search_with_one_infinite_cap_equals_the_base_stock_search() -> None:
    net = zipkin_lost_sales(9.0, 2)
    a = best_base_stock(net, levels=range(12, 20), periods=200, reps=4, warmup=10)
    b = best_capped_base_stock(net, levels=range(12, 20), caps=[np.inf], periods=200, reps=4,
                               warmup=10)  # fmt: skip
    assert np.array_equal(a.means, b.means) and b.cap is None


def test_capped_base_stock_beats_base_stock_on_zipkin_l4() -> None:
    # Xin (2021): capping the order lowers the cost of the best base-stock policy at L = 4
    # (S = 28 is the best base stock, (29, 5) the best capped one of our searches)
    net = zipkin_lost_sales(9.0, 4)
    costs = crn_costs(net, np.array([[28.0], [29.0]]), np.array([[np.inf], [5.0]]), 1000, 20)
    assert costs[1].mean() < costs[0].mean()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(S=st.integers(0, 40), cap=st.floats(0.0, 12.0), seed=st.integers(0, 1000))
def test_capped_orders_are_the_base_stock_orders_capped(S: int, cap: float, seed: int) -> None:
    net = zipkin_lost_sales(9.0, 3)
    agent = CappedBaseStockAgent(net, {"store": float(S)}, {"store": cap})
    base = PolicySet(policies={"store": BaseStock(level=float(S))})
    eng = StepEngine(net, 40, n_envs=3)
    eng.reset(seed)
    agent.reset(eng)
    while not eng.done:
        q = agent.orders(eng)
        capped = np.minimum(policy_orders_of(eng, base), cap)
        assert np.array_equal(q, np.where(capped > 1e-9, capped, 0.0))  # dust is no order
        assert (q >= 0).all() and (q <= cap).all()
        eng.step(q)


def test_search_rejects_multi_node_networks_and_unknown_nodes() -> None:
    with pytest.raises(InputError, match="single-node"):
        best_base_stock(snyder_shen_6_1(), levels=[1.0])
    with pytest.raises(InputError, match="not in the network"):
        CappedBaseStockAgent(zipkin_lost_sales(), {"nowhere": 3.0})
    with pytest.raises(InputError, match="periods"):
        best_base_stock(zipkin_lost_sales(), levels=[1.0], periods=0)


def test_simopt_base_stock_returns_base_stock_levels_with_a_final_cost() -> None:
    net = orgym_serial_lost_sales()
    policy, cost, _ = simopt_base_stock(net, periods=100, reps=3, max_evaluations=12)
    assert {p.kind for p in policy.policies.values()} == {"base_stock"}
    assert np.isfinite(cost.mean) and cost.ci95 is not None
    agent = PolicyAgent(policy)
    ev = evaluate_agents(net, [agent], 100, 6, seed=1, warmup=40)
    assert ev.agents[0].cost.mean == simulate(net, policy, 100, 6, 1, 40).cost_per_period.mean
