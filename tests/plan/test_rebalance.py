"""Rebalancing (issue 6, acceptance 3): known answers where moving stock between two stores
beats waiting for a new order, and where it does not; the LP's choice is explained.

Hand calculation of the main case. Store A: 0 units, demand over the 2 periods until a new
order arrives N(50, 10); store B: 200 units, demand N(20, 5); shortage cost p = price 7 −
unit cost 2 = 5 per unit; transfer cost c = 0.5 per unit. Moving t units is worth it while
p·P(D_A > t) > c + p·P(D_B > 200 − t); B's term is ~0 here, so t* solves P(D_A > t) = c/p =
0.1: t* = 50 + 10·Φ⁻¹(0.9) = 62.8 → 63 whole units. Shortage cost without moves 5·50 = 250;
after: 5·E[(D_A − 63)^+] = 5·10·G(1.3) = 2.28, plus 63·0.5 = 31.50 to move.
With c = 6 > p = 5 no unit is worth moving; with a new order arriving as fast as a transfer
(1 period each) there is nothing a transfer can protect.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from contexts import context
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from echelon.errors import InputError
from echelon.network.model import Lane, Network, Node
from echelon.plan.model import Explanation, Placement, PlanConfig, RecommendationKind
from echelon.plan.rebalance import RebalanceResult, first_unit_value, rebalance, solve_rebalance
from echelon.policies.normal import expected_shortage, stockout_probability

T_STAR = 50 + 10 * stats.norm.ppf(0.9)  # 62.8155


def placement(
    loc: str, mean: float, std: float, lead: float, base: float, tier: int = 0
) -> Placement:
    return Placement(
        item="FOODS_1", location=loc, tier=tier, mean_demand=mean, std_demand=std,
        lead_time=lead, inbound_service_time=0.0, outbound_service_time=0.0,
        net_replenishment_time=lead, target=0.95, base_stock=base, safety_stock=10.0,
        safety_stock_value=20.0, single_echelon_base_stock=base, single_echelon_safety_stock=10.0,
        explanation=Explanation(summary="test placement"),
    )  # fmt: skip


def two_stores(
    lead_a: float = 2.0,
    on_hand_b: float = 200.0,
    transfer_cost: float = 0.5,
    lead_time: float = 0.0,
    on_order: pd.DataFrame | None = None,
) -> RebalanceResult:
    """Stores A and B under DC (the DC holds 500 units it may not move laterally)."""
    net = Network(
        name="two-stores", nodes=[Node(id="DC", external_supplier=True, lead_time=2),
                                  Node(id="A", lead_time=lead_a), Node(id="B", lead_time=2)],
        lanes=[Lane(**{"from": "DC", "to": "A"}), Lane(**{"from": "DC", "to": "B"})],
    )  # fmt: skip
    # per-period std so that the window demand over 2 periods is N(50, 10) and N(20, 5)
    places = [
        placement("A", 25.0, 10 / math.sqrt(2), lead_a, 80.0),
        placement("B", 10.0, 5 / math.sqrt(2), 2.0, 40.0),
        placement("DC", 35.0, 8.0, 2.0, 100.0, tier=1),
    ]
    items = pd.DataFrame({"item_id": ["FOODS_1"], "unit_cost": [2.0], "price": [7.0],
                          "category": ["FOODS"], "pack_size": [1.0], "moq": [0.0]})  # fmt: skip
    inventory = pd.DataFrame({"item_id": ["FOODS_1"] * 3, "location_id": ["A", "B", "DC"],
                              "on_hand": [0.0, on_hand_b, 500.0]})  # fmt: skip
    oo = on_order if on_order is not None else pd.DataFrame(
        {"item_id": [], "location_id": [], "quantity": [], "due": []})  # fmt: skip
    config = PlanConfig(transfer_cost=transfer_cost, transfer_lead_time=lead_time)
    return rebalance(places, context(net, items, inventory, oo, config=config))


# ----------------------------------------------------------------------------- the LP core
def test_transfer_between_two_stores_matches_the_hand_calculation() -> None:
    sol = solve_rebalance([0, 200], [50, 20], [10, 5], [5, 5], transfer_cost=0.5)
    assert sol.status == "Optimal"
    assert sol.transfers[1, 0] == 63 and sol.transfers[0, 1] == 0
    assert abs(sol.transfers[1, 0] - T_STAR) < 1
    assert sol.cost_before == pytest.approx(250.0, abs=1e-3)
    assert sol.objective == pytest.approx(
        5 * 10 * (stats.norm.pdf(1.3) - 1.3 * stats.norm.sf(1.3)) + 31.5, abs=0.01
    )
    assert sol.objective == pytest.approx(33.78, abs=0.01)


def test_no_transfer_when_transfer_cost_exceeds_shortage_cost() -> None:
    sol = solve_rebalance([0, 200], [50, 20], [10, 5], [5, 5], transfer_cost=6.0)
    assert not sol.transfers.any()
    assert sol.objective == pytest.approx(250.0, abs=1e-3)
    # the first unit saves 5·P(D_A > 0) − 5·P(D_B > 199) ≈ 5.00 < 6
    assert first_unit_value(sol, [50, 20], [10, 5], 1, 0) == pytest.approx(5.0, abs=1e-5)


def test_sender_shortage_stops_the_transfer_at_the_balance_point() -> None:
    # B has only 40 for N(20, 5): move while 5·P(D_A > t) > 0.5 + 5·P(D_B > 40 − t) → t = 26
    mean, std = np.array([50.0, 20.0]), np.array([10.0, 5.0])
    sol = solve_rebalance([0, 40], mean, std, [5, 5], transfer_cost=0.5)
    t = sol.transfers[1, 0]
    assert t == 26

    def gain(k: float) -> float:  # net money saved by the k-th unit moved
        a = 5 * (expected_shortage(k - 1, 50, 10) - expected_shortage(k, 50, 10))
        b = 5 * (expected_shortage(40 - k, 20, 5) - expected_shortage(41 - k, 20, 5))
        return float(a - b) - 0.5

    assert gain(t) > 0 > gain(t + 1)


def test_fixed_transfer_cost_above_the_saving_blocks_the_move() -> None:
    small = solve_rebalance([0, 200], [50, 20], [10, 5], [5, 5], transfer_cost=0.5, fixed_cost=10)
    big = solve_rebalance([0, 200], [50, 20], [10, 5], [5, 5], transfer_cost=0.5, fixed_cost=300)
    assert small.transfers[1, 0] == 63
    assert not big.transfers.any()  # saving 250 − 33.78 = 216 < 300


def test_expedite_an_open_order_when_no_store_can_send() -> None:
    # A: 0 units, an open order of 60 due after the window; B has nothing to spare
    sol = solve_rebalance(
        [0, 0], [50, 20], [10, 5], [5, 5], transfer_cost=0.5,
        expedite_location=[0], expedite_quantity=[60], expedite_cost=[1.0],
    )  # fmt: skip
    assert not sol.transfers.any()
    # expedite while a unit saves more than it costs: 5·P(D_A > e) > 1, i.e. up to e ≈ 58.4
    assert (
        5 * float(stockout_probability(59, 50, 10))
        < 1.0
        < 5 * float(stockout_probability(58, 50, 10))
    )
    e = sol.expedite[0]
    assert e == int(e)

    def gain(k: float) -> float:  # net money saved by the k-th unit expedited
        return float(5 * (expected_shortage(k - 1, 50, 10) - expected_shortage(k, 50, 10))) - 1.0

    assert gain(e) > 0 > gain(e + 1)


def test_non_finite_demand_is_an_input_error() -> None:
    with pytest.raises(InputError, match="field 'mean'"):
        solve_rebalance([0, 200], [float("nan"), 20], [10, 5], [5, 5])
    with pytest.raises(InputError, match="field 'std'"):
        solve_rebalance([0, 200], [50, 20], [-1, 5], [5, 5])


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-20, 150), st.floats(0, 80), st.floats(0, 20)), min_size=2, max_size=4
    ),
    st.floats(0, 3),
)
def test_moves_conserve_stock_and_never_cost_more_than_doing_nothing(
    rows: list[tuple[int, float, float]], cost: float
) -> None:
    x0 = np.array([r[0] for r in rows], float)
    mean = np.array([r[1] for r in rows])
    std = np.array([r[2] for r in rows])
    sol = solve_rebalance(x0, mean, std, np.full(len(rows), 4.0), transfer_cost=cost)
    assert sol.stock_after.sum() == pytest.approx(x0.sum())
    assert np.all(sol.transfers.sum(axis=1) <= np.maximum(x0, 0) + 1e-6)
    assert np.all(sol.transfers >= 0)
    tol = 4.0 * len(rows) * 2e-3 * (std.max() + 1)  # tangent-envelope error
    assert sol.objective <= sol.cost_before + tol

    def total(x: np.ndarray, moved: float) -> float:
        return 4.0 * float(expected_shortage(x, mean, std).sum()) + cost * moved

    # no single extra unit moved (or one moved back) lowers the exact cost beyond the tolerance
    base = total(sol.stock_after, sol.transfers.sum())
    for i in range(len(rows)):
        for j in range(len(rows)):
            if i == j:
                continue
            x = sol.stock_after.copy()
            x[i] -= 1
            x[j] += 1
            if sol.stock_after[i] - 1 >= -1e-9 and sol.transfers.sum(axis=1)[i] + 1 <= max(
                x0[i], 0
            ):
                assert total(x, sol.transfers.sum() + 1) >= base - tol
            if sol.transfers[i, j] >= 1:
                x[i] += 2
                x[j] -= 2
                assert total(x, sol.transfers.sum() - 1) >= base - tol


# ----------------------------------------------------------------------------- adapter
def test_adapter_moves_stock_between_stores_and_explains_why() -> None:
    res = two_stores()
    moves = [r for r in res.recommendations if r.kind is RecommendationKind.TRANSFER]
    assert len(moves) == 1
    t = moves[0]
    assert (t.source, t.location, t.quantity, t.key) == ("B", "A", 63.0, "transfer:FOODS_1:B->A")
    s = t.explanation.summary
    assert "move 63 units of FOODS_1 from B to A" in s
    assert "avoids 247.72 USD of expected shortage at A" in s
    assert "costs 31.50 USD to move (0.50 USD per unit)" in s
    assert "adds 0.00 USD at B" in s
    assert "net saving 216.22 USD" in s
    assert (
        "waiting for a new order instead: expected shortage cost 250.00 USD"
        in t.explanation.drivers[3]
    )
    assert "above 5.00 USD per unit" in (t.explanation.counterfactual or "")
    orders = {r.location: r for r in res.recommendations if r.kind is RecommendationKind.ORDER}
    # A orders 80 − 63 = 17 instead of 80; B (137 left) and the DC (500) order nothing
    assert set(orders) == {"A"} and orders["A"].quantity == 17
    assert "changed from 80 to 17 units" in orders["A"].explanation.drivers[-1]


def test_adapter_no_transfer_when_it_costs_more_than_the_shortage() -> None:
    res = two_stores(transfer_cost=6.0)
    assert not [r for r in res.recommendations if r.kind is RecommendationKind.TRANSFER]
    note = res.notes[("FOODS_1", "A")]
    assert "first unit from B would save 5.00 USD" in note
    assert "transfer cost 6.00 USD" in note and "250.00 USD" in note
    orders = {r.location: r for r in res.recommendations if r.kind is RecommendationKind.ORDER}
    assert orders["A"].quantity == 80 and note in orders["A"].explanation.drivers


def test_adapter_no_transfer_when_a_new_order_arrives_as_fast() -> None:
    res = two_stores(lead_a=1.0, lead_time=1.0)
    assert not [r for r in res.recommendations if r.kind is RecommendationKind.TRANSFER]
    assert "no later than a transfer would (1 period)" in res.notes[("FOODS_1", "A")]


def test_adapter_expedites_a_late_open_order() -> None:
    oo = pd.DataFrame({"item_id": ["FOODS_1"], "location_id": ["A"], "quantity": [60.0],
                       "due": [pd.Timestamp("2026-01-26")]})  # fmt: skip
    res = two_stores(on_hand_b=0.0, on_order=oo)  # due in 3 periods, window 2: advance 2
    exp = [r for r in res.recommendations if r.kind is RecommendationKind.EXPEDITE]
    assert len(exp) == 1 and exp[0].location == "A"
    assert "by 2 periods" in exp[0].explanation.summary
    assert exp[0].arrival == date(2026, 1, 12)
