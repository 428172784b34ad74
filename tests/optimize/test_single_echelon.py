"""The single-echelon baseline as an optimization result."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from echelon.errors import OptimizationError
from echelon.network.distributions import NormalDemand
from echelon.network.model import Lane, Network, Node, ServiceTarget
from echelon.optimize.checks import require_demand
from echelon.optimize.result import OptimizeMethod
from echelon.optimize.service import optimize_network
from echelon.optimize.single_echelon import solve_single_echelon


def two_stage() -> Network:
    return Network(
        name="two",
        nodes=[
            Node(id="dc", holding_cost=1.0, lead_time=4, external_supplier=True,
                 service=ServiceTarget(target=0.9)),
            Node(id="shop", holding_cost=2.0, lead_time=1, demand=NormalDemand(mean=10, std=2),
                 service=ServiceTarget(target=0.95)),
        ],
        lanes=[Lane(**{"from": "dc", "to": "shop"})],
    )  # fmt: skip


def test_levels_are_mu_l_plus_z_sigma_root_l() -> None:
    res = solve_single_echelon(two_stage())
    z95, z90 = stats.norm.ppf(0.95), stats.norm.ppf(0.90)
    shop, dc = res.nodes["shop"], res.nodes["dc"]
    assert shop.base_stock_level == pytest.approx(10 + z95 * 2, abs=1e-6)
    assert dc.base_stock_level == pytest.approx(40 + z90 * 2 * math.sqrt(4), abs=1e-6)
    assert dc.net_replenishment_time == 4 and shop.net_replenishment_time == 1
    expected = 2.0 * z95 * 2 + 1.0 * z90 * 4
    assert res.objective == pytest.approx(expected, abs=1e-5)
    assert res.method is OptimizeMethod.SINGLE_ECHELON
    assert res.policy.policies["shop"].level == shop.base_stock_level


def test_a_network_without_demand_is_refused() -> None:
    net = two_stage()
    nodes = [n.model_copy(update={"demand": None}) for n in net.nodes]
    bare = net.model_copy(update={"nodes": nodes})
    with pytest.raises(OptimizationError, match="no demand node"):
        require_demand(bare)
    with pytest.raises(OptimizationError, match="no demand node"):
        optimize_network(bare, OptimizeMethod.SINGLE_ECHELON)


def test_budget_is_refused_where_a_method_has_none() -> None:
    with pytest.raises(OptimizationError, match="--budget is not available"):
        optimize_network(two_stage(), OptimizeMethod.SINGLE_ECHELON, budget=100.0)
