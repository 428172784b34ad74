"""Placement: known answers (single store, normal demand), zero variability, decomposition, and
the whole placement of a small two-item network meeting every store's fill-rate target."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, stats

from echelon.network.distributions import (
    ConstantDemand,
    NegativeBinomialDemand,
    NormalDemand,
)
from echelon.network.model import Lane, Network, Node, ServiceMeasure, ServiceTarget
from echelon.plan.context import PlanContext, build_context
from echelon.plan.decompose import decompose
from echelon.plan.forecasting import plan_forecasts
from echelon.plan.leadtimes import fit_lead_times
from echelon.plan.model import PlanConfig
from echelon.plan.placement import SimRun, demand_distribution, place, run, tune_store_levels
from echelon.policies.model import BaseStock, PolicySet


def small_plan_data(
    weeks: int = 60, seed: int = 3, zero: tuple[str, str] | None = None, **config: object
) -> PlanContext:
    """DC (external supplier, 2 weeks) → S1, S2 (1 week); items A and B; weekly demand
    (none at all for the item × store ``zero``)."""
    rng = np.random.default_rng(seed)
    net = Network(
        name="small",
        period_days=7,
        nodes=[
            Node(id="DC", lead_time=2, external_supplier=True),
            Node(id="S1", lead_time=1),
            Node(id="S2", lead_time=1),
        ],
        lanes=[
            Lane.model_validate({"from": "DC", "to": "S1"}),
            Lane.model_validate({"from": "DC", "to": "S2"}),
        ],
    )
    start = pd.Timestamp("2024-01-01")
    rows = []
    for item, scale in (("A", 100.0), ("B", 30.0)):
        for store, f in (("S1", 1.0), ("S2", 0.6)):
            y = np.maximum(0, rng.normal(scale * f, 0.25 * scale * f, weeks)).round()
            rows += [(item, store, start + pd.Timedelta(weeks=k), v) for k, v in enumerate(y)]
    demand = pd.DataFrame(rows, columns=["item_id", "location_id", "ds", "y"])
    if zero is not None:
        demand.loc[(demand["item_id"] == zero[0]) & (demand["location_id"] == zero[1]), "y"] = 0
    items = pd.DataFrame(
        {"item_id": ["A", "B"], "unit_cost": [10.0, 4.0], "price": [15.0, 6.0],
         "category": ["x", "y"], "pack_size": [1, 1], "moq": [0, 0]}
    )  # fmt: skip
    cfg = {"sim_periods": 200, "sim_reps": 10, "holdout_periods": 8, "horizon": 8} | config
    return build_context(
        config=PlanConfig.model_validate(cfg),
        network=net,
        items=items,
        demand=demand,
        inventory=pd.DataFrame(columns=["item_id", "location_id", "on_hand"]),
        input_hash="test",
    )


def single_store(demand: object, lead_time: int, target: float) -> Network:
    return Network(
        name="one",
        period_days=7,
        nodes=[
            Node(
                id="S",
                demand=demand,
                lead_time=lead_time,
                external_supplier=True,
                service=ServiceTarget(measure=ServiceMeasure.FILL_RATE, target=target),
            )
        ],
    )


def normal_loss(x: float) -> float:
    return float(stats.norm.pdf(x) - x * stats.norm.sf(x))


def analytic_fill_rate(level: float, mu: float, sd: float, lead: int) -> float:
    """Periodic-review base stock, lead time L (docs/model.md): units short in a period =
    E(D_L − S)^+ − E(D_{L−1} − S)^+ with D_k the demand of k periods (normal)."""

    def short(k: int) -> float:
        if k == 0:
            return 0.0
        s = sd * math.sqrt(k)
        return s * normal_loss((level - mu * k) / s)

    return 1.0 - (short(lead) - short(lead - 1)) / mu


def test_tuned_level_of_a_single_normal_store_matches_the_normal_loss_answer() -> None:
    mu, sd, lead, target = 100.0, 30.0, 2, 0.95
    net = single_store(NormalDemand(mean=mu, std=sd), lead, target)
    policy = PolicySet(policies={"S": BaseStock(level=0.0)})
    scale = sd * math.sqrt(lead)
    tuned, fill = tune_store_levels(
        net, policy, {"S": target}, {"S": mu * lead}, {"S": scale},
        SimRun(4000, 20, 11), SimRun(4000, 20, 12),
    )  # fmt: skip
    level = tuned.policies["S"].level  # type: ignore[union-attr]
    exact = optimize.brentq(
        lambda s: analytic_fill_rate(s, mu, sd, lead) - target,
        mu * lead - 3 * scale,
        mu * lead + 6 * scale,
    )
    assert fill["S"] >= target
    assert level == pytest.approx(exact, abs=0.015 * scale)


def test_zero_variability_gives_zero_safety_stock() -> None:
    net = single_store(ConstantDemand(value=50.0), 3, 0.99)
    policy = PolicySet(policies={"S": BaseStock(level=0.0)})
    tuned, fill = tune_store_levels(
        net, policy, {"S": 0.99}, {"S": 150.0}, {"S": 0.0}, SimRun(200, 2, 1), SimRun(200, 2, 2)
    )
    assert tuned.policies["S"].level == pytest.approx(150.0)  # type: ignore[union-attr]
    assert fill["S"] == pytest.approx(1.0)
    parts = decompose(0.0, mean=50.0, std=0.0, lead_time=3, lead_time_std=0.0, tau=3, z_ref=1.6)
    assert parts.model_dump() == dict.fromkeys(parts.model_dump(), 0.0)


def test_a_level_below_the_tuned_one_misses_the_target() -> None:
    mu, sd, target = 100.0, 30.0, 0.97
    net = single_store(NormalDemand(mean=mu, std=sd), 1, target)
    policy = PolicySet(policies={"S": BaseStock(level=0.0)})
    sim = SimRun(2000, 10, 5)
    tuned, _ = tune_store_levels(net, policy, {"S": target}, {"S": mu}, {"S": sd}, sim, sim)
    level = tuned.policies["S"].level  # type: ignore[union-attr]
    lower = PolicySet(policies={"S": BaseStock(level=level - 0.05 * sd)})
    assert run(net, lower, sim).node("S").fill_rate.mean < target


@settings(max_examples=60, deadline=None)
@given(
    total=st.floats(0, 1e5),
    mean=st.floats(0, 1e4),
    std=st.floats(0, 1e3),
    lead=st.floats(0, 12),
    lt_std=st.floats(0, 3),
    tau=st.floats(0, 20),
    z_ref=st.floats(-2, 4),
)
def test_safety_stock_parts_add_up_to_the_total(
    total: float, mean: float, std: float, lead: float, lt_std: float, tau: float, z_ref: float
) -> None:
    p = decompose(
        total, mean=mean, std=std, lead_time=lead, lead_time_std=lt_std, tau=tau, z_ref=z_ref
    )
    parts = p.demand_variability + p.lead_time_variability + p.service_target
    assert parts + p.upstream_service_time == pytest.approx(total, rel=1e-9, abs=1e-6)
    assert p.total == total


def test_decomposition_of_a_normal_store_without_tuning_correction() -> None:
    mu, sd, lead, tau, z_ref, z = 100.0, 20.0, 2.0, 4.0, 1.0, 2.0
    total = z * math.sqrt(sd**2 * tau)
    p = decompose(total, mean=mu, std=sd, lead_time=lead, lead_time_std=0.0, tau=tau, z_ref=z_ref)
    assert p.demand_variability == pytest.approx(z_ref * sd * math.sqrt(lead))
    assert p.lead_time_variability == pytest.approx(0.0)
    assert p.upstream_service_time == pytest.approx(z_ref * sd * (math.sqrt(tau) - math.sqrt(lead)))
    assert p.service_target == pytest.approx((z - z_ref) * sd * math.sqrt(tau))


def test_demand_distribution_kinds() -> None:
    assert isinstance(demand_distribution(10.0, 0.0), ConstantDemand)
    assert isinstance(demand_distribution(5.0, 4.0), NegativeBinomialDemand)
    assert isinstance(demand_distribution(500.0, 40.0), NormalDemand)
    assert isinstance(demand_distribution(5.0, 1.0), NormalDemand)  # under-dispersed


@pytest.fixture(scope="module")
def placed() -> tuple[PlanContext, object]:
    data = small_plan_data()
    fc = plan_forecasts(data)
    return data, place(data, fc, fit_lead_times(data))


def test_every_item_and_location_gets_a_placement(placed: tuple[PlanContext, object]) -> None:
    data, p = placed
    keys = {(x.item, x.location) for x in p.placements}  # type: ignore[attr-defined]
    assert keys == {(i, n) for i in ("A", "B") for n in ("DC", "S1", "S2")}
    for x in p.placements:  # type: ignore[attr-defined]
        parts = x.explanation.safety_stock
        assert parts is not None and parts.total == pytest.approx(x.safety_stock)
        assert x.safety_stock >= 0 and x.safety_stock_value == pytest.approx(
            x.safety_stock * (10.0 if x.item == "A" else 4.0)
        )
        assert (x.target is None) == (x.tier > 0)
        if x.tier == 0:  # no targets file: every store at the default, no service-target part
            assert x.target == data.config.default_fill_rate
            assert parts.service_target == pytest.approx(0.0, abs=1e-9)


def test_tuned_stores_meet_their_fill_rate_target_for_meio_and_single_echelon(
    placed: tuple[PlanContext, object],
) -> None:
    _, p = placed
    for plan in p.items.values():  # type: ignore[attr-defined]
        for policy in ("meio", "single_echelon"):
            res = run(plan.simulated(), plan.policies[policy], SimRun(200, 10, plan.seed))
            for s in plan.stores:
                assert res.node(s).fill_rate.mean >= plan.targets[s]


def test_a_store_without_demand_gets_no_stock_and_no_warning() -> None:
    data = small_plan_data(zero=("B", "S2"))
    p = place(data, plan_forecasts(data), fit_lead_times(data))
    b_s2 = next(x for x in p.placements if (x.item, x.location) == ("B", "S2"))
    assert b_s2.base_stock == 0.0 and b_s2.safety_stock == 0.0
    assert p.warnings == []
