"""The order lines as array operations (plan/order_lines.py) equal, exactly, the scalar lines
and the Python priority queue they replaced (tests/plan/orders_reference.py), on random
networks, stock, order rules, capacities and budgets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from contexts import AS_OF, context
from hypothesis import given, settings
from hypothesis import strategies as st
from orders_reference import propose_orders as reference_orders
from test_orders import placement

from echelon.network.model import Lane, Network, Node
from echelon.plan.model import PlanConfig
from echelon.plan.order_lines import allocate, build_lines, order_windows, round_orders
from echelon.plan.orders import order_window, propose_orders
from echelon.policies.order_rules import apply_order_rules

STORES = ["S1", "S2", "S3"]
LOCATIONS = ["DC", *STORES]
MEANS = st.one_of(st.just(0.0), st.floats(0.1, 80.0))  # units per period
CAPS = st.one_of(st.none(), st.floats(0, 300))


def network(caps: list[float | None]) -> Network:
    stores = [Node(id=s, lead_time=1, capacity=c) for s, c in zip(STORES, caps, strict=True)]
    return Network(
        name="two-level",
        nodes=[Node(id="DC", external_supplier=True, lead_time=2), *stores],
        lanes=[Lane(**{"from": "DC", "to": s}) for s in STORES],
    )


@st.composite
def plans(draw: st.DrawFn):  # type: ignore[no-untyped-def]
    n_items = draw(st.integers(1, 6))
    names = [f"I{k}" for k in range(n_items)]
    money = st.floats(0.5, 40.0)
    rows = [(nm, draw(money), draw(st.floats(0.0, 80.0)), float(draw(st.integers(1, 12))),
             float(draw(st.sampled_from([0, 0, 5, 20, 60])))) for nm in names]  # fmt: skip
    item_df = pd.DataFrame(rows, columns=["item_id", "unit_cost", "price", "pack_size", "moq"])
    item_df = item_df.assign(category="C")
    stock = st.floats(0.0, 300.0)
    inv = pd.DataFrame(
        [(nm, loc, draw(stock), draw(st.floats(0.0, 20.0))) for nm in names for loc in LOCATIONS],
        columns=["item_id", "location_id", "on_hand", "backorders"],
    )
    k = draw(st.integers(0, 4))
    oo = pd.DataFrame({
        "item_id": [draw(st.sampled_from(names)) for _ in range(k)],
        "location_id": [draw(st.sampled_from(LOCATIONS)) for _ in range(k)],
        "quantity": [draw(st.floats(1.0, 80.0)) for _ in range(k)],
        "due": pd.to_datetime([AS_OF] * k) + pd.to_timedelta(
            [7 * draw(st.integers(0, 4)) for _ in range(k)], unit="D"),
    })  # fmt: skip
    caps = [draw(st.one_of(st.none(), st.floats(10.0, 400.0))) for _ in STORES]
    budget = draw(st.one_of(st.none(), st.floats(50.0, 20_000.0)))
    places = [
        placement(nm, loc, draw(st.floats(0.0, 600.0)), mean=draw(MEANS),
                  std=draw(st.sampled_from([0.0, 1.0, 7.5, 30.0])),
                  target=draw(st.sampled_from([None, 0.9, 0.98])), tier=int(loc == "DC"))
        for nm in names for loc in LOCATIONS
    ]  # fmt: skip
    ctx = context(network(caps), item_df, inv, oo, config=PlanConfig(budget=budget))
    return places, ctx


@settings(max_examples=150, deadline=None)
@given(plans(), st.booleans())
def test_orders_equal_the_scalar_lines_exactly(plan, adjusted: bool) -> None:  # type: ignore[no-untyped-def]
    places, ctx = plan
    adjust = {(p.item, p.location): 7.0 * (k % 3 - 1) for k, p in enumerate(places)}
    kw = {"position_adjust": adjust} if adjusted else {}
    assert propose_orders(places, ctx, **kw) == reference_orders(places, ctx, **kw)  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(plans())
def test_windows_equal_the_scalar_window(plan) -> None:  # type: ignore[no-untyped-def]
    places, ctx = plan
    from orders_reference import order_window as reference_window

    got = order_windows(places, ctx)
    assert got.tolist() == [reference_window(p, ctx) for p in places]
    assert [order_window(p, ctx) for p in places] == got.tolist()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.floats(-50, 500), st.floats(0, 60), st.floats(1, 12),
                          CAPS), min_size=1, max_size=30))  # fmt: skip
def test_round_orders_is_the_scalar_rule_elementwise(rows) -> None:  # type: ignore[no-untyped-def]
    q, moq, pack, cap = (np.array([r[k] if r[k] is not None else np.inf for r in rows])
                         for k in range(4))  # fmt: skip
    want = [apply_order_rules(a, b, c, d) for a, b, c, d in rows]
    assert round_orders(q, moq, pack, cap).tolist() == want


def test_a_tight_budget_goes_to_the_best_ratio_first() -> None:
    """Known answer: two identical stores but one item's shortage costs 10× the other's; a
    budget for one order only buys the expensive item's units first."""
    item_df = pd.DataFrame({"item_id": ["A", "B"], "unit_cost": [1.0, 1.0],
                            "price": [2.0, 11.0], "pack_size": [1.0, 1.0], "moq": [0.0, 0.0],
                            "category": "C"})  # fmt: skip
    inv = pd.DataFrame({"item_id": ["A", "B"], "location_id": ["S1", "S1"], "on_hand": [0.0, 0.0]})
    places = [placement("A", "S1", 100.0), placement("B", "S1", 100.0)]
    ctx = context(network([None, None, None]), item_df, inv, config=PlanConfig(budget=100.0))
    lines = build_lines(places, ctx, {}, None)
    granted = allocate(lines, 100.0)
    assert granted.tolist() == [0.0, 100.0]
    assert lines.rule_qty.tolist() == [100.0, 100.0]


def test_missing_item_is_a_data_error() -> None:
    from echelon.errors import DataError

    item_df = pd.DataFrame({"item_id": ["A"], "unit_cost": [1.0], "price": [2.0],
                            "pack_size": [1.0], "moq": [0.0], "category": "C"})  # fmt: skip
    inv = pd.DataFrame({"item_id": ["A"], "location_id": ["S1"], "on_hand": [0.0]})
    ctx = context(network([None, None, None]), item_df, inv)
    with pytest.raises(DataError):
        propose_orders([placement("Z", "S1", 10.0)], ctx)
