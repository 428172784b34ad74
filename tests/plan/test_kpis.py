"""Projected KPIs: the aggregation over items against a hand computation, the current policy's
levels, and the meio / single-echelon / current projection of a small network."""

from __future__ import annotations

import pytest
from test_placement import small_plan_data

from echelon.network.distributions import ConstantDemand
from echelon.network.graph import tiers
from echelon.network.model import Lane, Network, Node
from echelon.optimize.single_echelon import solve_single_echelon
from echelon.plan.context import PlanContext
from echelon.plan.current_policy import current_policy
from echelon.plan.forecasting import plan_forecasts
from echelon.plan.kpis import policy_kpis, project_kpis, run_policy, sim_item
from echelon.plan.leadtimes import fit_lead_times
from echelon.plan.model import PolicyName
from echelon.plan.placement import ItemPlan, Placements, place, scaled_policy
from echelon.policies.model import BaseStock, PolicySet


def constant_item(item: str, demand: float, level: float, cost: float, seed: int) -> ItemPlan:
    """One store, external supplier with lead time 1, constant demand, base stock ``level``."""
    net = Network(
        name=item,
        period_days=7,
        nodes=[Node(id="S", demand=ConstantDemand(value=demand), lead_time=1,
                    external_supplier=True, unit_value=cost)],
    )  # fmt: skip
    pol = PolicySet(policies={"S": BaseStock(level=level)})
    plan = ItemPlan(
        item, net, cost, ["S"], {"S": 0}, {"S": 0.95}, {"S": "AX"}, seed,
        solve_single_echelon(net),
    )  # fmt: skip
    plan.policies = {"meio": pol, "single_echelon": pol, "current": pol}
    plan.pipeline = {p: {"S": demand * 1.0} for p in plan.policies}
    return plan


def test_kpis_of_constant_demand_match_a_hand_computation() -> None:
    # on hand at the end of every period = level − one period in transit: 20 and 8 units
    plans = {
        "a": constant_item("a", 10.0, 30.0, 2.0, 1),
        "b": constant_item("b", 4.0, 12.0, 5.0, 2),
    }
    runs = run_policy(Placements([], plans), "meio", periods=60, reps=2)
    k = policy_kpis(runs, "meio", "", 7.0, ["S"])
    value, cogs = 20 * 2.0 + 8 * 5.0, 10 * 2.0 + 4 * 5.0  # money; money per period
    assert k.network.inventory_value == pytest.approx(value)
    assert k.network.fill_rate == pytest.approx(1.0)
    assert k.network.turns == pytest.approx(cogs * 365 / 7 / value)
    assert k.network.days_of_supply == pytest.approx(value / cogs * 7)
    assert k.network.safety_stock_value == pytest.approx(value)  # level − pipeline = on hand
    assert k.network.target_met and k.stores["S"].target_met


def test_a_store_below_target_is_reported_as_not_met() -> None:
    plans = {"a": constant_item("a", 10.0, 5.0, 2.0, 1)}  # level below one period of demand
    k = policy_kpis(run_policy(Placements([], plans), "meio", 60, 2), "meio", "", 7.0, ["S"])
    assert k.network.fill_rate == pytest.approx(0.5)  # ships 5 of 10 every period
    assert k.network.target_met is False


def test_current_policy_orders_up_to_cover_times_mean_demand_by_tier() -> None:
    net = Network(
        name="n",
        nodes=[
            Node(id="US", external_supplier=True, lead_time=3),
            Node(id="DC", lead_time=1),
            Node(id="S1", demand=ConstantDemand(value=10), lead_time=1),
            Node(id="S2", demand=ConstantDemand(value=30), lead_time=1),
        ],
        lanes=[Lane.model_validate(x) for x in (
            {"from": "US", "to": "DC"}, {"from": "DC", "to": "S1"}, {"from": "DC", "to": "S2"},
        )],
    )  # fmt: skip
    assert tiers(net) == {"US": 2, "DC": 1, "S1": 0, "S2": 0}
    levels = {n: p.level for n, p in current_policy(net, {0: 2.0, 1: 3.0}).policies.items()}  # type: ignore[union-attr]
    assert levels == {"S1": 20.0, "S2": 60.0, "DC": 120.0, "US": 120.0}


@pytest.fixture(scope="module")
def projected() -> tuple:
    data = small_plan_data()
    p = place(data, plan_forecasts(data), fit_lead_times(data))
    return p, project_kpis(p, data.config)


def test_meio_meets_every_target_and_saving_is_consistent(projected: tuple) -> None:
    _, proj = projected
    kpis, saving, service_met = proj.kpis, proj.saving, proj.service_met
    assert [k.policy for k in kpis] == ["meio", "single_echelon", "current"]
    meio, single = kpis[0].network, kpis[1].network
    assert service_met and meio.target_met and single.target_met
    assert saving == pytest.approx(
        (single.inventory_value - meio.inventory_value) / single.inventory_value
    )
    for k in kpis:
        assert 0.0 <= (k.network.fill_rate or 0.0) <= 1.0
        assert set(k.stores) == {"S1", "S2"}


def test_stock_to_service_curve_rises_with_safety_stock(projected: tuple) -> None:
    curve = projected[1].curve
    for policy in ("meio", "single_echelon"):
        pts = [c for c in curve if c.policy == policy]
        assert len(pts) == 7
        assert pts[0].inventory_value < pts[-1].inventory_value
        assert pts[0].fill_rate <= pts[-1].fill_rate


def test_scenarios_disrupt_the_plan(projected: tuple) -> None:
    from echelon.plan.scenarios import run_scenarios

    p, _ = projected
    out = run_scenarios(p, reps=5, period_days=7.0)
    assert {(o.scenario, o.policy) for o in out} == {
        (s, q)
        for s in ("dc_closure", "demand_spike", "supplier_delay")
        for q in ("meio", "single_echelon", "current")
    }
    for o in out:
        assert o.fill_rate_change is not None and o.fill_rate_change <= 1e-12
    closure = next(o for o in out if o.scenario == "dc_closure" and o.policy == "meio")
    assert closure.fill_rate_change < 0


def test_demo_meio_holds_less_than_single_echelon_at_every_store_target(
    demo_data: PlanContext,
) -> None:
    """Issue 6, acceptance 1: on the M5 demo network, less inventory value at target service."""
    p = place(demo_data, plan_forecasts(demo_data), fit_lead_times(demo_data))
    proj = project_kpis(p, demo_data.config, curve_factors=())
    kpis, saving, service_met = proj.kpis, proj.saving, proj.service_met
    meio, single = kpis[0], kpis[1]
    assert service_met
    assert all(k.target_met for k in meio.stores.values())
    assert len(meio.stores) == 10
    assert meio.network.inventory_value < single.network.inventory_value
    assert saving is not None and saving > 0


def test_batched_kpi_simulations_equal_the_per_item_ones() -> None:
    """run_policy (items batched in one kernel call) = sim_item per item on the same numbers."""
    data = small_plan_data(sim_periods=60, sim_reps=3)
    fc = plan_forecasts(data)
    placed = place(data, fc, fit_lead_times(data))
    for policy, factor in ((PolicyName.MEIO, 1.0), (PolicyName.SINGLE_ECHELON, 0.5)):
        runs = run_policy(placed, policy, 60, 3, factor=factor)
        for r in runs:
            pol = (
                r.plan.policies[policy] if factor == 1.0 else scaled_policy(r.plan, policy, factor)
            )
            ref = sim_item(r.plan, pol, 60, 3)
            for got, want in zip(r.result.nodes, ref.nodes, strict=True):
                assert got.id == want.id
                assert got.fill_rate == want.fill_rate
                assert got.avg_on_hand == want.avg_on_hand
                assert got.cost_per_period == want.cost_per_period


@pytest.mark.parametrize("chunk", [1, 64])
def test_project_kpis_with_shared_draws_equals_one_run_per_policy(
    chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """project_kpis (chunks of ``chunk`` items, one set of draws per chunk shared by every
    policy and curve point, KpiSums) = each policy simulated on its own (run_policy) and
    aggregated at once (policy_kpis): the same numbers, bit for bit."""
    import echelon.plan.kpis as kpis_mod

    data = small_plan_data(sim_periods=60, sim_reps=3)
    placed = place(data, plan_forecasts(data), fit_lead_times(data))
    monkeypatch.setattr(kpis_mod, "items_per_chunk", lambda _bytes: chunk)
    factors = (0.0, 0.5, 1.5)
    proj = project_kpis(placed, data.config, curve_factors=factors)
    stores = ["S1", "S2"]
    for got in proj.kpis:
        runs = run_policy(placed, got.policy, 60, 3)
        want = policy_kpis(runs, got.policy, got.description, 7.0, stores)
        assert got == want
    points = [(p, f) for p in (PolicyName.MEIO, PolicyName.SINGLE_ECHELON) for f in factors]
    assert len(proj.curve) == len(points)
    for point, (policy, f) in zip(proj.curve, points, strict=True):
        net = policy_kpis(run_policy(placed, policy, 60, 3, factor=f), policy, "", 7.0, stores)
        assert point.policy == policy
        assert point.inventory_value == net.network.inventory_value
        assert point.fill_rate == net.network.fill_rate


def test_kpi_sums_added_in_parts_equal_the_whole() -> None:
    """Adding items one at a time into KpiSums = policy_kpis over the list (same order)."""
    from echelon.plan.kpi_sums import KpiSums

    plans = {
        "a": constant_item("a", 10.0, 30.0, 2.0, 1),
        "b": constant_item("b", 4.0, 3.0, 5.0, 2),  # short: below target
        "c": constant_item("c", 0.0, 1.0, 7.0, 3),  # no demand
    }
    runs = run_policy(Placements([], plans), "meio", periods=60, reps=2)
    sums = KpiSums(PolicyName.MEIO, ["S"])
    for r in runs:
        sums.add(r.plan, r.result, r.safety_value)
    got = sums.kpis("d", 7.0)
    assert got == policy_kpis(runs, "meio", "d", 7.0, ["S"])
    assert got.network.target_met is False
    assert got.network.inventory_value == pytest.approx(20 * 2.0 + 0.0 * 5.0 + 1.0 * 7.0)
    assert got.network.fill_rate == pytest.approx((10 * 1.0 + 4 * 0.75) / 14)
