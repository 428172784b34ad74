"""Simulation-optimization: CRN evaluator, pattern search, objectives and constraints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from echelon.errors import InputError, OptimizationError
from echelon.network.io import load_network, network_from_dict
from echelon.network.model import Network
from echelon.optimize.result import OptimizeMethod
from echelon.optimize.simopt import (
    BudgetInfeasibleError,
    CRNEvaluator,
    pattern_search,
    solve_simopt,
)
from echelon.optimize.simopt.space import build_space, start_policy
from echelon.policies.heuristics import single_echelon_base_stock
from echelon.policies.model import BaseStock, EchelonBaseStock, PolicyKind, PolicySet
from echelon.sim.batch import simulate

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "echelon" / "examples"
EX61_OPT = 47.66  # Snyder & Shen Example 6.1, exact Clark–Scarf optimum per period


def one_stage(**node: Any) -> Network:
    base: dict[str, Any] = {
        "id": "a",
        "holding_cost": 1,
        "penalty_cost": 9,
        "unit_value": 10,
        "demand": {"kind": "poisson", "mean": 10},
        "lead_time": 1,
        "external_supplier": True,
    }
    base.update(node)
    return network_from_dict({"name": "one", "nodes": [base]})


def owmr_small() -> Network:
    """Warehouse (lead time 2, h 0.5, value 5) and two retailers (lead time 1, h 1, value 10,
    p 9, Poisson 10 and 6) with fill-rate targets 0.9."""
    nodes: list[dict[str, Any]] = [
        {"id": "W", "holding_cost": 0.5, "unit_value": 5, "lead_time": 2, "external_supplier": True}
    ]
    for i, mean in enumerate((10, 6), start=1):
        nodes.append(
            {
                "id": f"R{i}",
                "holding_cost": 1,
                "unit_value": 10,
                "penalty_cost": 9,
                "lead_time": 1,
                "demand": {"kind": "poisson", "mean": mean},
                "service": {"measure": "fill_rate", "target": 0.9},
            }
        )
    lanes = [{"from": "W", "to": "R1"}, {"from": "W", "to": "R2"}]
    return network_from_dict({"name": "owmr-small", "nodes": nodes, "lanes": lanes})


FAST: dict[str, Any] = {"periods": 300, "reps": 16, "final_reps": 32, "max_evaluations": 80}


# ------------------------------------------------------------------ CRN evaluator


def test_evaluator_matches_simulate_and_is_deterministic() -> None:
    net = load_network(EXAMPLES / "snyder_shen_6_1.yaml")
    pol = single_echelon_base_stock(net)
    space = build_space(net, pol)
    k = space.from_policy(pol)
    ev = CRNEvaluator(net, space, periods=200, reps=8, seed=5, warmup=20)
    e1 = ev(k)
    sim = simulate(net, space.to_policy(k), 200, 8, seed=5, warmup=20)
    assert np.mean(e1.cost) == pytest.approx(sim.cost_per_period.mean, rel=1e-12)
    on_hand = sum(n.avg_on_hand.mean * (net.node(n.id).unit_value or 0.0) for n in sim.nodes)
    assert np.mean(e1.on_hand_value) == pytest.approx(on_hand, rel=1e-12)
    # same seed, fresh evaluator: bit-identical; the cache answers repeats
    ev2 = CRNEvaluator(net, space, periods=200, reps=8, seed=5, warmup=20)
    assert np.array_equal(ev2(k).cost, e1.cost)
    assert ev(k) is e1 and ev.cache_hits == 1 and ev.evaluations == 1
    # another seed: other draws
    ev3 = CRNEvaluator(net, space, periods=200, reps=8, seed=6, warmup=20)
    assert not np.array_equal(ev3(k).cost, e1.cost)


def test_in_transit_value_in_steady_state() -> None:
    """Serial Example 6.1: in transit into stage j is mean demand × lead time, valued at the
    supplier's unit value (the external supplier's lane at the node's own)."""
    net = load_network(EXAMPLES / "snyder_shen_6_1.yaml")
    pol = single_echelon_base_stock(net)
    space = build_space(net, pol)
    ev = CRNEvaluator(net, space, periods=2000, reps=4, seed=1, warmup=20)
    expected = 5 * (1 * 40 + 1 * 20 + 2 * 20)  # stage1 <- stage2, stage2 <- stage3, supplier
    assert np.mean(ev(space.from_policy(pol)).transit_value) == pytest.approx(expected, rel=0.01)


def test_solve_is_deterministic_for_a_seed() -> None:
    net = one_stage()
    a = solve_simopt(net, seed=3, **FAST)
    b = solve_simopt(net, seed=3, **FAST)
    assert a.policy.policies == b.policy.policies
    assert a.objective == b.objective
    assert a.details["history"] == b.details["history"]


# ------------------------------------------------------------------ pattern search


@settings(max_examples=40, deadline=None)
@given(
    centre=st.lists(st.integers(-20, 60), min_size=1, max_size=4),
    start=st.lists(st.integers(0, 40), min_size=4, max_size=4),
    weights=st.lists(st.floats(0.1, 10), min_size=4, max_size=4),
)
def test_pattern_search_finds_separable_convex_minimum(
    centre: list[int], start: list[int], weights: list[float]
) -> None:
    n = len(centre)
    c, w = np.array(centre), np.array(weights[:n])
    x0 = np.array(start[:n])

    def f(x: np.ndarray) -> float:
        return float(np.sum(w * (x - c) ** 2))

    res = pattern_search(f, x0, np.full(n, 8), np.zeros(n, dtype=np.int64))
    assert res.converged
    assert res.value <= f(x0)
    assert np.array_equal(res.x, np.maximum(c, 0))


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    n=st.integers(1, 5),
    budget=st.integers(1, 60),
)
def test_pattern_search_never_worse_and_respects_budget(seed: int, n: int, budget: int) -> None:
    rng = np.random.default_rng(seed)
    table = rng.normal(size=(n, 64))
    calls = {"n": 0}

    def f(x: np.ndarray) -> float:  # a rugged function of the lattice point
        calls["n"] += 1
        return float(sum(table[i, v % 64] for i, v in enumerate(x)) + 0.01 * np.sum(x))

    x0 = rng.integers(0, 30, size=n)
    res = pattern_search(
        f, x0, np.full(n, 4), np.zeros(n, dtype=np.int64), exhausted=lambda: calls["n"] >= budget
    )
    assert res.value <= f(x0)
    assert f(res.x) == res.value
    assert np.all(res.x >= 0)
    assert res.calls <= budget + 1


# ------------------------------------------------------------------ objectives


def test_example_6_1_near_clark_scarf_optimum() -> None:
    net = load_network(EXAMPLES / "snyder_shen_6_1.yaml")
    res = solve_simopt(
        net, kind="echelon_base_stock", periods=500, reps=20, seed=1, final_periods=2000,
        final_reps=40, max_evaluations=200,
    )  # fmt: skip
    assert res.method is OptimizeMethod.SIMOPT and res.gap is None
    cost = res.details["cost"]
    assert abs(cost["mean"] - EX61_OPT) / EX61_OPT < 0.01
    assert cost["ci95"] < 0.5
    levels = [res.nodes[s].echelon_base_stock for s in ("stage1", "stage2", "stage3")]
    assert levels == pytest.approx([6.49, 12.02, 22.71], abs=0.5)
    assert isinstance(res.policy.policies["stage2"], EchelonBaseStock)
    assert res.to_dict()["details"]["evaluations"] <= 200


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 1000),
    kind=st.sampled_from(["base_stock", "echelon_base_stock"]),
    penalty=st.floats(2, 40),
)
def test_never_worse_than_start_on_search_seed(seed: int, kind: str, penalty: float) -> None:
    net = owmr_small()
    for node in net.nodes:
        if node.demand is not None:
            node.penalty_cost = penalty
    res = solve_simopt(net, kind=kind, seed=seed, periods=200, reps=8, max_evaluations=40)
    assert res.details["cost_search"] <= res.details["start_cost_search"]
    assert res.details["evaluations"] <= 40


@pytest.mark.parametrize("kind", [PolicyKind.S_S, PolicyKind.R_Q])
def test_s_S_and_r_Q_improve_with_fixed_order_cost(kind: PolicyKind) -> None:
    net = one_stage(fixed_order_cost=50, lot_multiple=2)
    res = solve_simopt(net, kind=kind, seed=2, **FAST)
    assert res.details["cost_search"] < res.details["start_cost_search"]
    extra = res.nodes["a"].extra
    if kind is PolicyKind.S_S:
        assert extra["S"] >= extra["s"]
        assert extra["S"] - extra["s"] > 10  # batching pays with K = 50
    else:
        assert extra["Q"] > 10 and extra["Q"] % 2 == 0  # Q on the lot grid
    # much cheaper than ordering every period (base stock pays K = 50 each period)
    base = solve_simopt(net, kind="base_stock", seed=2, **FAST)
    assert res.objective < base.objective - 10


def test_start_policy_conversions() -> None:
    net = load_network(EXAMPLES / "snyder_shen_6_1.yaml")
    local = PolicySet(
        policies={"stage1": BaseStock(level=6.5), "stage2": BaseStock(level=5.5),
                  "stage3": BaseStock(level=10.7)}
    )  # fmt: skip
    ech = start_policy(net, local, PolicyKind.ECHELON_BASE_STOCK)
    levels = {k: p.level for k, p in ech.policies.items() if isinstance(p, EchelonBaseStock)}
    assert levels == pytest.approx({"stage1": 6.5, "stage2": 12.0, "stage3": 22.7})
    back = start_policy(net, ech, PolicyKind.BASE_STOCK)
    assert {k: p.level for k, p in back.policies.items() if isinstance(p, BaseStock)} == (
        pytest.approx({"stage1": 6.5, "stage2": 5.5, "stage3": 10.7})
    )


# ------------------------------------------------------------------ constraints


def test_inventory_objective_meets_fill_rate_targets() -> None:
    net = owmr_small()
    res = solve_simopt(
        net, objective="inventory", seed=4, periods=400, reps=20, final_reps=40,
        max_evaluations=150,
    )  # fmt: skip
    targets = res.details["service_targets"]
    assert set(targets) == {"R1", "R2"}
    for t in targets.values():
        assert t["met"] and t["mean"] >= 0.9 and t["ci95"] is not None
    assert res.status != "targets not met"
    # leaner than the cost-optimal policy, which serves these penalties at a higher fill rate
    assert res.objective == pytest.approx(res.details["inventory_value"]["mean"])
    # given targets override the nodes' own
    res2 = solve_simopt(net, objective="inventory", fill_rate_targets={"R1": 0.8}, seed=4, **FAST)
    assert set(res2.details["service_targets"]) == {"R1"}
    # with the cost objective, explicit targets constrain the cost optimum
    res3 = solve_simopt(net, fill_rate_targets={"R2": 0.99}, seed=4, **FAST)
    assert res3.details["service_targets"]["R2"]["met"]
    assert res3.nodes["R2"].extra["fill_rate"] >= 0.99


def test_budget_caps_inventory_value() -> None:
    net = owmr_small()
    free = solve_simopt(net, seed=1, **FAST)
    value = free.details["inventory_value"]["mean"]
    with pytest.raises(BudgetInfeasibleError) as err:
        solve_simopt(net, budget=1.0, seed=1, **FAST)
    assert isinstance(err.value, OptimizationError) and isinstance(err.value, InputError)
    assert "in-transit" in str(err.value) and "budget" in str(err.value)
    capped = solve_simopt(net, budget=0.9 * value, seed=1, **FAST)
    info = capped.details["budget"]
    assert info["pipeline_value"] == pytest.approx(5 * 16 * 2 + 5 * 16 * 1)
    assert info["pipeline_value"] <= info["least_value"] < 0.9 * value
    assert info["met"] and capped.details["inventory_value"]["mean"] <= 0.9 * value
    assert capped.details["cost"]["mean"] >= free.details["cost"]["mean"] - 1.0


def test_budget_below_the_stock_an_moq_forces() -> None:
    net = one_stage(min_order_qty=40)  # pipeline 10 × 10 × 1 = 100; MOQ cycle stock on top
    with pytest.raises(BudgetInfeasibleError, match="least value"):
        solve_simopt(net, budget=110, seed=1, **FAST)


def test_bad_arguments() -> None:
    net = one_stage()
    with pytest.raises(InputError, match="service targets"):
        solve_simopt(net, objective="inventory", **FAST)
    with pytest.raises(InputError, match="final_seed"):
        solve_simopt(net, seed=1, final_seed=1, **FAST)
    with pytest.raises(InputError, match="budget"):
        solve_simopt(net, objective="inventory", budget=10, fill_rate_targets={"a": 0.9}, **FAST)
    with pytest.raises(InputError, match="fill_rate_targets"):
        solve_simopt(net, objective="inventory", fill_rate_targets={"zz": 0.9}, **FAST)
    with pytest.raises(ValueError):
        solve_simopt(net, objective="profit", **FAST)


def test_owmr_beats_best_gsm_policy() -> None:
    """Reduced bench/simopt.py OWMR case: simopt vs the best of a CSL sweep of GSM policies,
    all on the same final draws."""
    gsm = pytest.importorskip("echelon.optimize.gsm.solve")
    from echelon.network.model import ServiceMeasure, ServiceTarget

    net = owmr_small()
    space = build_space(net, start_policy(net, None, None))
    final = CRNEvaluator(net, space, periods=400, reps=24, seed=77, warmup=30)
    best = np.inf
    for level in (0.85, 0.95, 0.99):
        target = ServiceTarget(measure=ServiceMeasure.CYCLE_SERVICE_LEVEL, target=level)
        nodes = [
            n.model_copy(update={"service": target, "max_service_time": 0.0 if n.demand else None})
            for n in net.nodes
        ]
        pol = gsm.solve_gsm(net.model_copy(update={"nodes": nodes})).policy
        best = min(best, float(np.mean(final(space.from_policy(pol)).cost)))
    res = solve_simopt(
        net, seed=1, periods=400, reps=16, warmup=30, final_periods=400, final_reps=24,
        final_seed=77, max_evaluations=120,
    )  # fmt: skip
    assert res.details["cost"]["mean"] == pytest.approx(
        float(np.mean(final(space.from_policy(res.policy)).cost))
    )
    assert res.details["cost"]["mean"] < best
