"""Today's order proposals: order-up-to minus inventory position, then MOQ, pack size,
location capacity and budget (docs/model.md's order rules; module doc of plan/orders.py)."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest
from contexts import AS_OF, NO_ORDERS, context
from hypothesis import given, settings
from hypothesis import strategies as st

from echelon.errors import InputError
from echelon.network.model import Lane, Network, Node
from echelon.plan.model import Explanation, Placement, PlanConfig, RecommendationKind
from echelon.plan.orders import propose_orders
from echelon.policies.fill_rate_z import z_for_fill_rate
from echelon.policies.normal import expected_shortage


def network(cap_store: float | None = None) -> Network:
    return Network(
        name="chain",
        nodes=[
            Node(id="DC_US", external_supplier=True, lead_time=2),
            Node(id="DC_CA", lead_time=1),
            Node(id="S1", lead_time=1, capacity=cap_store),
            Node(id="S2", lead_time=1, capacity=cap_store),
        ],
        lanes=[Lane(**{"from": a, "to": b}) for a, b in
               [("DC_US", "DC_CA"), ("DC_CA", "S1"), ("DC_CA", "S2")]],
    )  # fmt: skip


def placement(
    item: str, loc: str, base: float, ss: float = 20.0, *, mean: float = 50.0,
    std: float = 15.0, target: float | None = 0.98, tier: int = 0,
) -> Placement:  # fmt: skip
    return Placement(
        item=item, location=loc, tier=tier, mean_demand=mean, std_demand=std, lead_time=2.0,
        inbound_service_time=0.0, outbound_service_time=0.0, net_replenishment_time=2.0,
        target=target, base_stock=base, safety_stock=ss, safety_stock_value=ss * 2,
        single_echelon_base_stock=base, single_echelon_safety_stock=ss,
        explanation=Explanation(summary="test placement"),
    )  # fmt: skip


def items(rows: list[tuple[str, float, float, float, float]]) -> pd.DataFrame:
    """(item_id, unit_cost, price, pack_size, moq) rows."""
    df = pd.DataFrame(rows, columns=["item_id", "unit_cost", "price", "pack_size", "moq"])
    return df.assign(category="C")


def stock(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["item_id", "location_id", "on_hand"])


def run(places, item_df, inv, oo=NO_ORDERS, *, budget=None, cap=None):  # type: ignore[no-untyped-def]
    ctx = context(network(cap), item_df, inv, oo, config=PlanConfig(budget=budget))
    return propose_orders(places, ctx)


# ----------------------------------------------------------------------------- proposals
def test_order_is_order_up_to_minus_inventory_position_from_the_supplier() -> None:
    inv = pd.DataFrame({"item_id": ["A"] * 3, "location_id": ["S1", "DC_CA", "DC_US"],
                        "on_hand": [30.0, 100.0, 0.0], "backorders": [5.0, 0.0, 0.0]})  # fmt: skip
    oo = pd.DataFrame({"item_id": ["A", "A"], "location_id": ["S1", "S1"],
                       "quantity": [12.0, 8.0],  # one due, one in transit
                       "due": pd.to_datetime(["2026-01-08", "2026-01-19"])})  # fmt: skip
    places = [placement("A", "S1", 120.0), placement("A", "DC_CA", 300.0, tier=1),
              placement("A", "DC_US", 200.0, tier=2)]  # fmt: skip
    recs = {r.location: r for r in run(places, items([("A", 2.0, 5.0, 0, 0)]), inv, oo)}
    s1, dc, top = recs["S1"], recs["DC_CA"], recs["DC_US"]
    assert s1.inventory_position == 30 + 12 + 8 - 5
    assert s1.quantity == 120 - 45 and s1.source == "DC_CA" and s1.value == 75 * 2.0
    assert s1.key == "order:A:DC_CA->S1" and s1.kind is RecommendationKind.ORDER
    assert s1.arrival == date(2026, 1, 19)  # lead time 2 periods of 7 days
    assert dc.quantity == 200 and dc.source == "DC_US"
    assert top.quantity == 200 and top.source is None and top.key == "order:A:external->DC_US"


@pytest.mark.parametrize(("dc_stock", "days"), [(1000.0, 14), (50.0, 35), (0.0, 35)])
def test_order_arrives_after_the_lead_time_when_the_supplier_has_the_stock(
    dc_stock: float, days: int
) -> None:
    # S1 needs 120 − 45 = 75; lead time 2 periods; the DC's committed service time 3 periods
    p = placement("A", "S1", 120.0).model_copy(update={"inbound_service_time": 3.0})
    inv = stock([("A", "S1", 45.0), ("A", "DC_CA", dc_stock)])
    (rec,) = run([p], items([("A", 2.0, 5.0, 0, 0)]), inv)
    assert (rec.arrival - AS_OF).days == days


def test_explanation_states_the_arithmetic_and_the_counterfactual_target() -> None:
    p = placement("A", "S1", 120.0, 20.0)
    (rec,) = run([p], items([("A", 2.0, 5.0, 0, 0)]), stock([("A", "S1", 45.0)]))
    assert rec.explanation.summary.startswith(
        "order 75 units from DC_CA for A at S1: the inventory position 45 is below the "
        "order-up-to level 120 = lead-time demand 100 + safety stock 20"
    )
    # 98% → 95%: the level moves by (z95 − z98)·σ√τ with σ√τ = 15·√2 (textbook fill-rate z)
    sigma = 15 * math.sqrt(2)
    level = 120 + (z_for_fill_rate(0.95, 50, sigma) - z_for_fill_rate(0.98, 50, sigma)) * sigma
    cf = rec.explanation.counterfactual or ""
    assert level - 45 == pytest.approx(65.0, abs=0.1)  # z98 ≈ 1.29, z95 ≈ 0.81 → level ≈ 110
    assert "with a 95% instead of 98% fill-rate target the order would be 65 units" in cf
    assert "no order if the position were >= 120" in cf


def test_no_order_when_the_position_reaches_the_level() -> None:
    places = [placement("A", "S1", 120.0), placement("A", "S2", 120.0)]
    recs = run(
        places, items([("A", 2.0, 5.0, 0, 0)]), stock([("A", "S1", 120.0), ("A", "S2", 500.0)])
    )
    assert recs == []


def test_moq_and_pack_size_are_applied_and_explained() -> None:
    (rec,) = run([placement("A", "S1", 120.0)], items([("A", 2.0, 5.0, 12, 40)]),
                 stock([("A", "S1", 100.0)]))  # fmt: skip
    assert rec.quantity == 48  # need 20 → MOQ 40 → 4 packs of 12
    assert "raised to the minimum order quantity 40" in rec.explanation.summary
    assert "rounded up to a multiple of the pack size 12" in rec.explanation.summary


def test_budget_goes_first_to_the_largest_shortage_cost_avoided_per_money() -> None:
    # both need 100 at unit cost 1; margins 1 (A) and 9 (B); budget 120. The best split
    # minimizes 1·E[(D − 50 − a)^+] + 9·E[(D − 50 − b)^+], a + b = 120, D ~ N(100, 15·√2)
    places = [placement("A", "S1", 150.0), placement("B", "S1", 150.0)]
    df = items([("A", 1.0, 2.0, 0, 0), ("B", 1.0, 10.0, 0, 0)])
    inv = stock([("A", "S1", 50.0), ("B", "S1", 50.0)])
    recs = {r.item: r for r in run(places, df, inv, budget=120.0)}
    a, b = recs["A"].quantity, recs["B"].quantity
    assert a + b == pytest.approx(120) and b > a

    def cost(qa: float) -> float:
        sd = 15 * math.sqrt(2)
        return float(expected_shortage(50 + qa, 100, sd) + 9 * expected_shortage(170 - qa, 100, sd))

    best = min(cost(q) for q in range(0, 101))
    assert cost(a) <= best + 0.05  # the greedy (2-unit steps here) is within one step's gain
    assert (
        "cut from 100 to" in recs["A"].explanation.summary
        and "by the budget" in recs["A"].explanation.summary
    )


def test_location_capacity_is_shared_by_the_items_ordered_there() -> None:
    places = [placement("A", "S1", 150.0), placement("B", "S1", 150.0)]
    df = items([("A", 1.0, 2.0, 0, 0), ("B", 1.0, 2.0, 0, 0)])
    recs = run(places, df, stock([("A", "S1", 70.0), ("B", "S1", 70.0)]), cap=100.0)
    assert sum(r.quantity for r in recs) == pytest.approx(100)


def test_placement_of_an_unknown_item_is_an_input_error() -> None:
    with pytest.raises(InputError, match="missing from the item master"):
        run([placement("Z", "S1", 10.0)], items([("A", 1.0, 2.0, 0, 0)]), stock([]))


# location, order-up-to level, on hand, unit cost, margin, pack size, MOQ
line = st.tuples(
    st.sampled_from(["S1", "S2"]), st.floats(0, 300), st.floats(0, 400),
    st.floats(0.5, 20), st.floats(0, 30), st.integers(0, 12), st.integers(0, 40),
)  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(
    st.lists(line, min_size=1, max_size=5),
    st.one_of(st.none(), st.floats(10, 3000)),
    st.one_of(st.none(), st.integers(40, 400)),
)
def test_orders_respect_moq_pack_capacity_and_budget(rows, budget, cap) -> None:  # type: ignore[no-untyped-def]
    names = [f"I{k}" for k in range(len(rows))]
    places = [placement(n, r[0], r[1]) for n, r in zip(names, rows, strict=True)]
    df = items([(n, r[3], r[3] + r[4], r[5], r[6]) for n, r in zip(names, rows, strict=True)])
    inv = stock([(n, r[0], r[2]) for n, r in zip(names, rows, strict=True)])
    recs = run(places, df, inv, budget=budget, cap=cap)
    by_item = {r.item: r for r in recs}
    for n, r in zip(names, rows, strict=True):
        rec = by_item.get(n)
        if rec is None:
            continue
        assert rec.quantity >= r[6] - 1e-9
        assert r[5] == 0 or rec.quantity / r[5] == pytest.approx(round(rec.quantity / r[5]))
        assert cap is None or rec.quantity <= cap + 1e-9
        if budget is None and cap is None:
            assert rec.inventory_position + rec.quantity >= r[1] - 1e-9
    for loc in ("S1", "S2"):
        assert cap is None or sum(r.quantity for r in recs if r.location == loc) <= cap + 1e-6
    assert budget is None or sum(r.value for r in recs) <= budget + 1e-6
    if budget is None and cap is None:  # unconstrained: every need is ordered
        assert {n for n, r in zip(names, rows, strict=True) if r[1] > r[2] + 1e-9} == set(by_item)
