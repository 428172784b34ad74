"""The item-batched kernel (echelon.sim.items) gives every item the KPI sums of the
per-item engine (sim.batch) on the same random numbers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import Case, cases

from echelon.errors import NetworkError
from echelon.network.distributions import NormalDemand, NormalLeadTime, ScenarioDemand
from echelon.network.model import Lane, Network, Node
from echelon.policies.model import BaseStock, PolicySet
from echelon.sim import kernel as K
from echelon.sim.batch import run_kernel, simulate
from echelon.sim.compiled import compile_network
from echelon.sim.draws import make_draws
from echelon.sim.items import compile_items, fill_rates, item_draws, simulate_items

SCALES = (1.0, 0.5, 2.0)


def _variant(case: Case, k: int) -> tuple[Network, PolicySet]:
    """Item k of a case: costs, order rules and policy parameters scaled (structure kept)."""
    f = SCALES[k % len(SCALES)]
    nodes = [
        n.model_copy(
            update={
                "holding_cost": n.holding_cost * f,
                "penalty_cost": n.penalty_cost + k,
                "lot_multiple": n.lot_multiple * (1.0 if n.capacity is not None else f),
            }
        )
        for n in case.net.nodes
    ]
    pols = {}
    for nid, p in case.policy.policies.items():
        if isinstance(p, BaseStock):
            pols[nid] = BaseStock(level=p.level * f)
        else:
            pols[nid] = p
    return (
        case.net.model_copy(update={"nodes": nodes}),
        PolicySet(policies=pols, network=case.policy.network),
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(with_scenarios=False), items=st.integers(1, 4), reps=st.integers(1, 3))
def test_batched_items_equal_the_per_item_kernel(case: Case, items: int, reps: int) -> None:
    variants = [_variant(case, k) for k in range(items)]
    nets, pols = [v[0] for v in variants], [v[1] for v in variants]
    batch = compile_items(nets, pols)
    cn = batch.structure
    draws = [make_draws(compile_network(n, p), n, case.seed + k, range(reps), case.periods)
             for k, (n, p) in enumerate(variants)]  # fmt: skip
    demand = np.stack([d.demand for d in draws])
    lead = np.stack([d.lead for d in draws])
    acc = simulate_items(batch, None, demand, lead, case.warmup)
    for k, (n, p) in enumerate(variants):
        ref = run_kernel(compile_network(n, p), draws[k], case.warmup)
        np.testing.assert_array_equal(acc[k], ref)
    assert acc.shape == (items, reps, cn.n, K.N_K)


def _two_stores(level_scale: float = 1.0, hold: float = 1.0) -> Network:
    return Network(
        name="two",
        period_days=7,
        nodes=[
            Node(id="DC", lead_time=NormalLeadTime(mean=2.0, std=0.7), external_supplier=True,
                 holding_cost=hold * 0.5),
            Node(id="S1", lead_time=1, demand=NormalDemand(mean=10.0, std=3.0), holding_cost=hold),
            Node(id="S2", lead_time=1, demand=NormalDemand(mean=6.0, std=2.0), holding_cost=hold,
                 min_order_qty=4.0 * level_scale),
        ],
        lanes=[
            Lane.model_validate({"from": "DC", "to": "S1", "lead_time": {"kind": "normal",
                                 "mean": 1.5, "std": 0.5}}),
            Lane.model_validate({"from": "DC", "to": "S2"}),
        ],
    )  # fmt: skip


def test_paths_and_levels_give_the_results_of_simulate() -> None:
    """Demand paths as arrays (vs ScenarioDemand lists) and levels set in the batch (vs in the
    policy set): every node's KPIs equal those of ``simulate`` per item."""
    reps, periods, warmup = 5, 60, 10
    rng = np.random.default_rng(1)
    nets = [_two_stores(1.0 + k, hold=1.0 + k) for k in range(3)]
    base = PolicySet(policies={n: BaseStock(level=0.0) for n in ("DC", "S1", "S2")})
    batch = compile_items(nets, [base] * 3)
    ids = batch.structure.ids
    levels = np.array([[{"DC": 60.0, "S1": 25.0, "S2": 16.0}[i] * (1 + 0.1 * k) for i in ids]
                       for k in range(3)])  # fmt: skip
    dem, lead, results = [], [], []
    for k, net in enumerate(nets):
        path = np.maximum(0.0, 10.0 + 4.0 * rng.standard_normal((3, periods + warmup)))
        d, ld = item_draws(batch.structure, net, 100 + k, reps, periods + warmup, {"S1": path})
        dem.append(d)
        lead.append(ld)
        nodes = [n.model_copy(update={"demand": ScenarioDemand(paths=path.tolist())})
                 if n.id == "S1" else n for n in net.nodes]  # fmt: skip
        pol = PolicySet(policies={i: BaseStock(level=levels[k, j]) for j, i in enumerate(ids)})
        on = net.model_copy(update={"nodes": nodes})
        results.append(simulate(on, pol, periods, reps, seed=100 + k, warmup=warmup))
    acc = simulate_items(batch, levels, np.stack(dem), np.stack(lead), warmup)
    stores = [ids.index("S1"), ids.index("S2")]
    fr = fill_rates(acc, stores)
    for k, res in enumerate(results):
        for c, s in enumerate(("S1", "S2")):
            assert fr[k, c] == res.node(s).fill_rate.mean
        for j, nid in enumerate(ids):
            assert acc[k, :, j, K.K_OH].mean() / periods == pytest.approx(
                res.node(nid).avg_on_hand.mean, rel=1e-12
            )


def test_fill_rates_leave_out_replications_without_demand() -> None:
    acc = np.zeros((1, 3, 1, K.N_K))
    acc[0, :, 0, K.K_DEM] = [10.0, 0.0, 4.0]
    acc[0, :, 0, K.K_FILL] = [9.0, 0.0, 4.0]
    assert fill_rates(acc, [0])[0, 0] == pytest.approx((0.9 + 1.0) / 2)
    acc[0, :, 0, K.K_DEM] = 0.0
    assert np.isnan(fill_rates(acc, [0])[0, 0])


def test_items_of_different_structures_are_refused() -> None:
    a = _two_stores()
    slow = a.lanes[1].model_copy(update={"lead_time": NormalLeadTime(mean=3.0, std=1.0)})
    b = a.model_copy(update={"lanes": [a.lanes[0], slow]})
    pol = PolicySet(policies={n: BaseStock(level=5.0) for n in ("DC", "S1", "S2")})
    with pytest.raises(NetworkError, match="share the network structure"):
        compile_items([a, b], [pol, pol])
