"""The step engine reproduces the batch engine exactly from the same random draws."""

from __future__ import annotations

import numpy as np
import pytest

from echelon.network import network_from_dict
from echelon.policies import PolicySet
from echelon.sim import kernel as K
from echelon.sim.batch import run_kernel, trace_replication
from echelon.sim.compiled import compile_network
from echelon.sim.draws import make_draws
from echelon.sim.scenario import Scenario
from echelon.sim.step import StepEngine

NETWORK = {
    "name": "mixed",
    "nodes": [
        {
            "id": "plant",
            "holding_cost": 1,
            "lead_time": {"kind": "empirical", "values": [1, 2, 4]},
            "external_supplier": True,
            "capacity": 40,
        },
        {"id": "parts", "holding_cost": 0.5, "lead_time": 2, "external_supplier": True},
        {"id": "dc", "holding_cost": 2, "lead_time": 1, "rationing": "priority"},
        {
            "id": "kit",
            "holding_cost": 3,
            "lead_time": 0,
            "demand": {"kind": "poisson", "mean": 4},
            "penalty_cost": 10,
            "stockout": "lost_sales",
            "min_order_qty": 3,
            "lot_multiple": 2,
        },
        {
            "id": "shop1",
            "holding_cost": 3,
            "lead_time": 1,
            "penalty_cost": 20,
            "priority": 1,
            "demand": {"kind": "normal", "mean": 8, "std": 3},
        },
        {
            "id": "shop2",
            "holding_cost": 3,
            "lead_time": {"kind": "normal", "mean": 2, "std": 1},
            "penalty_cost": 20,
            "demand": {"kind": "negative_binomial", "mean": 6, "std": 4},
            "fixed_order_cost": 5,
        },
    ],
    "lanes": [
        {"from": "plant", "to": "dc"},
        {"from": "dc", "to": "shop1"},
        {"from": "dc", "to": "shop2"},
        {"from": "dc", "to": "kit"},
        {"from": "parts", "to": "kit", "quantity": 2},
    ],
}
POLICY = {
    "policies": {
        "plant": {"kind": "echelon_base_stock", "level": 120},
        "parts": {"kind": "r_Q", "r": 10, "Q": 16},
        "dc": {"kind": "base_stock", "level": 45},
        "kit": {"kind": "s_S", "s": 4, "S": 12},
        "shop1": {"kind": "base_stock", "level": 22},
        "shop2": {"kind": "echelon_base_stock", "level": 30},
    }
}
SCENARIO = {
    "disruptions": [
        {"kind": "closure", "node": "dc", "start": 30, "end": 36},
        {"kind": "demand_spike", "start": 50, "end": 60, "multiplier": 1.8},
        {"kind": "supplier_delay", "node": "dc", "start": 70, "end": 80, "extra_periods": 3},
        {"kind": "random_closure", "node": "plant", "probability": 0.02, "mean_duration": 3},
    ]
}


@pytest.mark.parametrize("with_scenario", [False, True])
def test_step_engine_driven_by_policy_matches_batch_engine_exactly(with_scenario: bool) -> None:
    net = network_from_dict(NETWORK)
    pol = PolicySet.model_validate(POLICY)
    scen = Scenario.model_validate(SCENARIO) if with_scenario else None
    T, B, seed, warmup = 150, 4, 17, 10
    engine = StepEngine(net, horizon=T, n_envs=B, policy=pol, scenario=scen, warmup=warmup)
    engine.reset(seed)
    costs, orders = [], []
    while not engine.done:
        q = engine.policy_orders()
        costs.append(engine.step(q))
        orders.append(q)
    cn = compile_network(net, pol, scen, warmup)
    draws = make_draws(cn, net, seed, range(B), T)
    for b in range(B):
        tr = trace_replication(cn, draws, b)
        np.testing.assert_array_equal(tr[:, :, K.T_COST], np.array([c[b] for c in costs]))
        np.testing.assert_array_equal(tr[:, :, K.T_Q], np.array([q[b] for q in orders]))
    # KPI sums after the warm-up are identical too
    np.testing.assert_array_equal(run_kernel(cn, draws, warmup), engine.ACC)


def test_step_engine_applies_order_rules_and_reports_state() -> None:
    net = network_from_dict(NETWORK)
    engine = StepEngine(net, horizon=5, n_envs=2)
    engine.reset(3)
    ids = engine.ids
    orders = np.zeros((2, len(ids)))
    orders[:, ids.index("kit")] = 1.0  # MOQ 3, lot 2 -> 4
    orders[:, ids.index("plant")] = 100.0  # capacity 40
    engine.step(orders)
    assert engine.NS[0, ids.index("kit"), K.S_Q] == 4.0
    assert engine.NS[0, ids.index("plant"), K.S_Q] == 40.0
    assert engine.on_hand.shape == (2, len(ids))
    assert engine.pipeline().shape[:2] == (2, engine.cn.m)
    with pytest.raises(RuntimeError):
        StepEngine(net, horizon=2).step(np.zeros(len(ids)))


def test_step_engine_horizon_ends() -> None:
    net = network_from_dict(NETWORK)
    engine = StepEngine(net, horizon=2)
    engine.reset(0)
    engine.step(engine.policy_orders())
    engine.step(engine.policy_orders())
    assert engine.done
    with pytest.raises(RuntimeError):
        engine.step(engine.policy_orders())
