"""Explanation numbers and texts: the Normal loss function against textbook values, the
counterfactual target and the sentences built from them."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from echelon.plan.explain import (
    alternative_target,
    counterfactual_base_stock,
    no_transfer_note,
    order_explanation,
    periods,
    units,
)
from echelon.plan.model import Explanation, Placement
from echelon.policies.fill_rate_z import z_for_fill_rate


def placement(target: float | None = 0.98, base: float = 120.0) -> Placement:
    return Placement(
        item="A", location="S1", tier=0, mean_demand=50.0, std_demand=15.0, lead_time=2.0,
        inbound_service_time=0.0, outbound_service_time=0.0, net_replenishment_time=2.0,
        target=target, base_stock=base, safety_stock=20.0, safety_stock_value=40.0,
        single_echelon_base_stock=base, single_echelon_safety_stock=20.0,
        explanation=Explanation(summary="test placement"),
    )  # fmt: skip


def test_alternative_targets_shown_in_counterfactuals() -> None:
    assert [alternative_target(t) for t in (0.98, 0.99, 0.95, 0.9, 0.52)] == [
        0.95, 0.95, 0.9, 0.85, 0.5,
    ]  # fmt: skip


def test_counterfactual_level_moves_by_the_safety_factor_difference() -> None:
    sigma = 15 * math.sqrt(2)
    dz = z_for_fill_rate(0.95, 50, sigma) - z_for_fill_rate(0.98, 50, sigma)
    assert counterfactual_base_stock(placement(), 0.95) == pytest.approx(120 + dz * sigma)
    assert counterfactual_base_stock(placement(), 0.98) == pytest.approx(120.0)
    assert counterfactual_base_stock(placement(target=None), 0.95) is None


@given(st.floats(0.5, 0.97), st.floats(0.005, 0.02))
def test_a_lower_target_never_raises_the_level(target: float, step: float) -> None:
    p = placement(target=0.98)
    hi = counterfactual_base_stock(p, target + step)
    lo = counterfactual_base_stock(p, target)
    assert hi is not None and lo is not None and lo <= hi + 1e-9


def test_no_order_sentence_when_the_position_is_at_the_level() -> None:
    e = order_explanation(placement(), quantity=0.0, raw_quantity=-5.0, on_hand=125.0,
                          on_order=0.0, backorders=0.0, rules=[], counterfactual_quantity=None,
                          counterfactual_target=None, source=None)  # fmt: skip
    assert e.summary.startswith("no order today for A at S1: the inventory position 125 is at or")
    assert e.counterfactual == "no order if the position were >= 120"


def test_no_transfer_notes_name_the_reason() -> None:
    common = dict(receiver="A", unit_transfer_cost=0.5, wait_cost=250.0, currency="USD")
    fast = no_transfer_note(sender="B", value=5.0, window=1.0, transfer_lead_time=1.0, **common)  # type: ignore[arg-type]
    assert "a new order arrives in 1 period, no later than a transfer would (1 period)" in fast
    none = no_transfer_note(sender=None, value=0.0, window=2.0, transfer_lead_time=0.0, **common)  # type: ignore[arg-type]
    assert "no other location of the same echelon has stock" in none and "250.00 USD" in none


def test_number_formats() -> None:
    assert (units(62.98), units(1.25), units(1234.0)) == ("63", "1.2", "1,234")
    assert (periods(1), periods(2), periods(0.5)) == ("1 period", "2 periods", "0.5 periods")
