"""The torch simulator follows docs/model.md exactly: same trajectories and costs as the step
engine from the same draws and orders (float64, 1e-9), and pathwise gradients that match finite
differences."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from echelon.examples import example_path
from echelon.network.io import network_from_dict
from echelon.network.model import Network
from echelon.policies.io import load_policy
from echelon.policies.model import BaseStock, EchelonBaseStock, PolicySet
from echelon.rl.diffsim import DiffSim, DiffSimUnsupportedError
from echelon.rl.instances import orgym_serial_lost_sales, snyder_shen_6_1, zipkin_lost_sales
from echelon.sim.step import StepEngine

TOL = 1e-9


def _max_gap(
    net: Network, periods: int, envs: int, seed: int, policy: PolicySet | None, rand: bool
) -> float:
    """Largest difference between the two engines over a run driven by the policy's orders
    (``rand=False``) or by random orders, negative ones and capacity breaches included."""
    eng = StepEngine(net, periods, envs, policy=policy)
    eng.reset(seed)
    sim = DiffSim(net, policy)
    state = sim.reset(eng.draws)
    assert sim.ids == eng.ids
    rng = np.random.default_rng(seed)
    scale = 4.0 * max(1.0, sum(n.demand.mean() for n in net.nodes if n.demand is not None))
    gap = 0.0

    def cmp(a: np.ndarray, b: torch.Tensor) -> None:
        nonlocal gap
        gap = max(gap, float(np.abs(a - b.detach().numpy()).max(initial=0.0)))

    for _t in range(periods):
        cmp(eng.on_hand, sim.stack(state.oh))
        cmp(eng.on_order, sim.stack(state.oo))
        cmp(eng.backorders, sim.stack(state.bo))
        cmp(eng.inventory_position(), sim.inventory_position(state))
        if state.bl:
            cmp(eng.lane_backlog, sim.stack(state.bl))
            cmp(eng.in_transit, sim.stack(state.transit))
        pipe = eng.pipeline()
        want = [pipe[:, e, k] for e in range(sim.m) for k in range(1, sim.lead[e] + 1)]
        if want:
            cmp(np.stack(want, axis=1), sim.pipeline(state))
        if rand:
            orders = rng.uniform(-0.2, 1.0, size=(envs, len(eng.ids))) * scale
        else:
            orders = eng.policy_orders()
        cost_engine = eng.step(orders)
        cost_sim = sim.step(state, torch.as_tensor(orders))
        cmp(cost_engine, cost_sim)
        cmp(eng.NS[:, :, 8], sim.stack(state.lost))  # S_LOST: lost this period
    return gap


ANCHORS = {
    "snyder-shen-6.1": (
        snyder_shen_6_1,
        lambda: load_policy(example_path("snyder_shen_6_1.policy.yaml")),
    ),
    "zipkin-p9-L4": (
        lambda: zipkin_lost_sales(9.0, 4),
        lambda: PolicySet(policies={"store": BaseStock(level=28.0)}),
    ),
    "orgym-serial": (
        orgym_serial_lost_sales,
        lambda: PolicySet(
            policies={
                "retailer": BaseStock(level=52.0),
                "distributor": BaseStock(level=77.0),
                "manufacturer": BaseStock(level=153.0),
            }
        ),
    ),
}


@pytest.mark.parametrize("name", sorted(ANCHORS))
@pytest.mark.parametrize("rand", [False, True], ids=["anchor-policy", "random-orders"])
def test_trajectory_equals_step_engine_on_rl_instances(name: str, rand: bool) -> None:
    make_net, make_policy = ANCHORS[name]
    assert _max_gap(make_net(), 120, 16, 7, make_policy(), rand) <= TOL


@st.composite
def tree_networks(draw: st.DrawFn) -> tuple[Network, PolicySet]:
    """Serial or distribution networks of 1-4 nodes, node 0 the root (external supplier)."""
    n = draw(st.integers(1, 4))
    serial = draw(st.booleans())
    parent = [-1] + [i - 1 if serial else draw(st.integers(0, i - 1)) for i in range(1, n)]
    leaves = [i for i in range(n) if i not in parent]
    nodes, pols = [], {}
    for i in range(n):
        node: dict = {
            "id": f"n{i}",
            "holding_cost": draw(st.integers(0, 8)) / 2,
            "lead_time": draw(st.integers(0, 3)),
            "stockout": draw(st.sampled_from(["backorder", "lost_sales"])),
        }
        if i == 0:
            node["external_supplier"] = True
        if i in leaves or draw(st.integers(0, 4)) == 0:
            node["penalty_cost"] = draw(st.integers(1, 40)) / 2
            node["demand"] = draw(
                st.sampled_from(
                    [
                        {"kind": "poisson", "mean": 3.0},
                        {"kind": "normal", "mean": 4.0, "std": 1.5},
                        {"kind": "poisson", "mean": 0.7},
                    ]
                )
            )
        if draw(st.booleans()):
            node["capacity"] = float(draw(st.integers(2, 12)))
        if draw(st.booleans()):
            node["initial_on_hand"] = float(draw(st.integers(0, 15)))
        nodes.append(node)
        level = float(draw(st.integers(0, 30)))
        pols[f"n{i}"] = (
            EchelonBaseStock(level=level) if draw(st.booleans()) else BaseStock(level=level)
        )
    lanes = [{"from": f"n{parent[i]}", "to": f"n{i}"} for i in range(1, n)]
    net = network_from_dict({"name": "random-tree", "nodes": nodes, "lanes": lanes})
    return net, PolicySet(policies=pols)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=tree_networks(), seed=st.integers(0, 1000), rand=st.booleans())
def test_trajectory_equals_step_engine_on_random_trees(
    case: tuple[Network, PolicySet], seed: int, rand: bool
) -> None:
    net, policy = case
    assert _max_gap(net, 40, 4, seed, policy, rand) <= TOL


def test_pathwise_gradient_matches_finite_difference() -> None:
    """d(total cost)/d(base-stock level) by autograd equals the central difference (normal
    demand: the cost of a path is piecewise linear in the level, kinks have measure zero)."""
    net = snyder_shen_6_1()
    sim = DiffSim(net)
    draws = sim.draws_of(3, list(range(8)), 60)

    def total(levels: torch.Tensor) -> torch.Tensor:
        st_ = sim.reset(draws)
        c = torch.zeros((), dtype=torch.float64)
        for _t in range(60):
            ip = sim.inventory_position(st_)
            eip = torch.stack([ip[:, 0] + ip[:, 1] + ip[:, 2], ip[:, 1] + ip[:, 2], ip[:, 2]], 1)
            c = c + sim.step(st_, torch.relu(levels - eip)).sum()
        return c

    x = torch.tensor([22.0, 12.0, 6.5], dtype=torch.float64, requires_grad=True)
    total(x).backward()
    assert x.grad is not None
    h = 1e-5
    for i in range(3):
        e = torch.zeros(3, dtype=torch.float64)
        e[i] = h
        with torch.no_grad():
            fd = (total(x + e) - total(x - e)) / (2 * h)
        assert float(x.grad[i]) == pytest.approx(float(fd), rel=1e-6, abs=1e-6)
    assert float(x.grad.abs().sum()) > 0


@pytest.mark.parametrize(
    ("change", "feature"),
    [
        ({"lanes": [{"from": "a", "to": "c"}, {"from": "b", "to": "c"}]}, "assembly"),
        ({"lanes": [{"from": "a", "to": "c", "quantity": 2}]}, "bills of materials"),
        ({"c": {"min_order_qty": 5}}, "MOQ"),
        ({"c": {"fixed_order_cost": 10}}, "fixed order costs"),
        ({"c": {"rationing": "priority"}}, "priority rationing"),
        ({"a": {"lead_time": {"kind": "normal", "mean": 2, "std": 1}}}, "stochastic lead times"),
    ],
)
def test_unsupported_features_raise_input_error_naming_them(change: dict, feature: str) -> None:
    nodes = {
        "a": {"id": "a", "external_supplier": True, "lead_time": 1},
        "b": {"id": "b", "external_supplier": True, "lead_time": 1},
        "c": {"id": "c", "lead_time": 1, "demand": {"kind": "poisson", "mean": 2}},
    }
    lanes = change.get("lanes", [{"from": "a", "to": "c"}])
    for k, v in change.items():
        if k != "lanes":
            nodes[k].update(v)
    used = {ln["from"] for ln in lanes} | {"c"}
    net = network_from_dict(
        {"name": "x", "nodes": [v for k, v in nodes.items() if k in used], "lanes": lanes}
    )
    with pytest.raises(DiffSimUnsupportedError, match=feature):
        DiffSim(net)
