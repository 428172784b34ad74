"""The order rules of docs/model.md (MOQ, lot multiple, capacity), their one home
:mod:`echelon.policies.order_rules`, used by the simulator and the planner alike."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from echelon.policies.order_rules import apply_order_rules, round_order


@pytest.mark.parametrize(
    ("q", "moq", "pack", "cap", "expected"),
    [
        (0.0, 10, 6, None, 0.0),  # no need, no order
        (7.0, 10, 0, None, 10.0),  # raised to the MOQ
        (7.0, 0, 6, None, 12.0),  # rounded up to 2 packs
        (7.0, 10, 6, None, 12.0),  # MOQ 10, then 2 packs
        (50.0, 0, 12, 40, 36.0),  # capped at 40, rounded down to 3 packs
        (50.0, 30, 12, 35, 0.0),  # the cap allows 24 < MOQ 30: no order
        (50.0, 0, 0, 40, 40.0),  # capped, any quantity
    ],
)
def test_order_rules_known_cases(q: float, moq: float, pack: float, cap: float | None,
                                 expected: float) -> None:  # fmt: skip
    assert apply_order_rules(q, moq, pack, cap) == expected


@given(st.floats(0, 500), st.integers(0, 60), st.integers(0, 24),
       st.one_of(st.none(), st.integers(1, 300)))  # fmt: skip
def test_order_rules_hold_for_any_need(q: float, moq: int, pack: int, cap: int | None) -> None:
    if cap is not None and (moq > cap or pack > cap):
        return  # the network model rejects such nodes
    out = apply_order_rules(q, moq, pack, cap)
    if out > 0:
        assert out >= moq
        assert pack == 0 or out / pack == pytest.approx(round(out / pack))
        assert cap is None or out <= cap + 1e-9
    if cap is None and q > 1e-9:
        assert out >= q  # unconstrained: the order reaches the order-up-to level


def test_the_kernel_and_the_planner_round_the_same_way() -> None:
    for q, moq, lot, cap in [(7.0, 10.0, 6.0, 1e18), (50.0, 0.0, 12.0, 40.0), (0.0, 5.0, 0.0, 9.0)]:
        assert round_order(q, moq, lot, cap) == apply_order_rules(q, moq, lot, cap)
