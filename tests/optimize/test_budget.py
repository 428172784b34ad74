"""GSM under a cap on safety-stock investment (Lagrangian), and its errors."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from echelon.errors import OptimizationError
from echelon.network.distributions import NormalDemand
from echelon.network.io import load_network
from echelon.network.model import Lane, Network, Node, ServiceTarget
from echelon.optimize.budget import investment, solve_within_budget, unit_values
from echelon.optimize.gsm.solve import solve_gsm
from echelon.optimize.result import OptimizeMethod
from echelon.optimize.service import optimize_network

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "echelon" / "examples"


def serial3() -> Network:
    """Holding cost not proportional to unit value, so the budget moves the placement."""
    target = ServiceTarget(target=0.95)
    return Network(
        name="serial3",
        nodes=[
            Node(id="plant", holding_cost=0.2, unit_value=80, lead_time=6, external_supplier=True),
            Node(id="dc", holding_cost=0.5, unit_value=30, lead_time=3),
            Node(id="shop", holding_cost=1.0, unit_value=5, lead_time=1,
                 demand=NormalDemand(mean=20, std=6), service=target),
        ],
        lanes=[Lane(**{"from": "plant", "to": "dc"}), Lane(**{"from": "dc", "to": "shop"})],
    )  # fmt: skip


def test_a_loose_budget_changes_nothing() -> None:
    net = serial3()
    free = solve_gsm(net)
    res = solve_within_budget(net, 1e9, solve_gsm)
    assert res.objective == pytest.approx(free.objective)
    assert res.details["budget_multiplier"] == 0.0


def test_a_binding_budget_moves_stock_to_cheaper_units() -> None:
    net = serial3()
    values = unit_values(net)
    free = solve_gsm(net)
    spent = investment(free, values)
    res = solve_within_budget(net, 0.8 * spent, solve_gsm)
    assert investment(res, values) <= 0.8 * spent * (1 + 1e-9)
    assert res.objective >= free.objective - 1e-9  # a constraint never lowers the cost
    recomputed = sum(net.node(k).holding_cost * (d.safety_stock or 0) for k, d in res.nodes.items())
    assert res.objective == pytest.approx(recomputed)
    assert res.details["budget_multiplier"] > 0


def test_budget_below_the_minimum_names_both_numbers() -> None:
    net = serial3()
    with pytest.raises(OptimizationError, match="below the minimum") as info:
        solve_within_budget(net, 1.0, solve_gsm)
    assert "found 1.00" in str(info.value) and "fix:" in str(info.value)
    with pytest.raises(OptimizationError, match="must not be negative"):
        solve_within_budget(net, -5.0, solve_gsm)


def test_budget_needs_unit_values() -> None:
    base = load_network(EXAMPLES / "snyder_shen_6_1.yaml")
    nodes = [n.model_copy(update={"unit_value": None}) for n in base.nodes]
    net = base.model_copy(update={"nodes": nodes})
    with pytest.raises(OptimizationError, match="unit_value"):
        optimize_network(net, OptimizeMethod.GSM, budget=100.0)


@settings(max_examples=15, deadline=None)
@given(st.floats(0.3, 1.0))
def test_tighter_budgets_never_cost_less(share: float) -> None:
    net = serial3()
    spent = investment(solve_gsm(net), unit_values(net))
    try:
        loose = solve_within_budget(net, share * spent, solve_gsm)
    except OptimizationError:
        return  # below the least-investment placement
    tight = None
    with contextlib.suppress(OptimizationError):
        tight = solve_within_budget(net, 0.9 * share * spent, solve_gsm)
    if tight is not None:
        assert tight.objective >= loose.objective - 1e-9
