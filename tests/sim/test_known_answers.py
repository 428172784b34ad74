"""Known answers: Snyder & Shen Example 6.1, closed forms of docs/model.md, newsvendor checks."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from echelon.network.model import Network
from echelon.policies.model import PolicySet
from echelon.sim.batch import simulate


def _serial_6_1() -> Network:
    """Snyder & Shen (2019) Example 6.1: stage 3 (upstream, external supplier) -> 2 -> 1."""
    return Network.model_validate(
        {
            "name": "snyder-shen-6.1",
            "nodes": [
                {"id": "stage3", "external_supplier": True, "lead_time": 2, "holding_cost": 2},
                {"id": "stage2", "lead_time": 1, "holding_cost": 4},
                {
                    "id": "stage1",
                    "lead_time": 1,
                    "holding_cost": 7,
                    "penalty_cost": 37.12,
                    "demand": {"kind": "normal", "mean": 5, "std": 1},
                },
            ],
            "lanes": [{"from": "stage3", "to": "stage2"}, {"from": "stage2", "to": "stage1"}],
        }
    )


@pytest.mark.parametrize(
    ("kind", "levels"),
    [
        ("echelon_base_stock", (6.49, 12.02, 22.71)),
        ("base_stock", (6.49, 5.53, 10.69)),  # the equivalent local (installation) levels
    ],
)
def test_snyder_shen_example_6_1(kind: str, levels: tuple[float, float, float]) -> None:
    policy = PolicySet.model_validate(
        {
            "policies": {
                f"stage{i + 1}": {"kind": kind, "level": level} for i, level in enumerate(levels)
            }
        }
    )
    res = simulate(_serial_6_1(), policy, periods=5000, reps=200, seed=4, warmup=100)
    assert res.cost_per_period.contains(47.67), res.cost_per_period


def test_echelon_and_local_levels_give_identical_runs() -> None:
    """In a serial system echelon levels (6.49, 12.02, 22.71) and local levels (6.49, 5.53, 10.69)
    are the same policy, and the initial on hand is the same: identical KPIs."""
    net = _serial_6_1()
    ech = PolicySet.model_validate(
        {
            "policies": {
                "stage1": {"kind": "echelon_base_stock", "level": 6.49},
                "stage2": {"kind": "echelon_base_stock", "level": 12.02},
                "stage3": {"kind": "echelon_base_stock", "level": 22.71},
            }
        }
    )
    loc = PolicySet.model_validate(
        {
            "policies": {
                "stage1": {"kind": "base_stock", "level": 6.49},
                "stage2": {"kind": "base_stock", "level": 12.02 - 6.49},
                "stage3": {"kind": "base_stock", "level": 22.71 - 12.02},
            }
        }
    )
    a = simulate(net, ech, periods=300, reps=5, seed=3, warmup=10)
    b = simulate(net, loc, periods=300, reps=5, seed=3, warmup=10)
    assert a.cost_per_period.mean == pytest.approx(b.cost_per_period.mean, rel=1e-9)
    for na, nb in zip(a.nodes, b.nodes, strict=True):
        assert na.avg_on_hand.mean == pytest.approx(nb.avg_on_hand.mean, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("L", [0, 1, 3])
def test_single_node_deterministic_closed_form(L: int) -> None:
    """Constant demand d, lead time L, base stock S = d·L + 5. From docs/model.md: every period
    the node orders d; an order arrives L periods later before demand (L = 0: at the end of the
    period), so the end-of-period on hand settles at S − d·L = 5, on order d·L, in transit d·L.
    Cost = 5h + K (the external supplier's pipeline is free)."""
    d, h, K, days = 4.0, 1.5, 2.0, 7.0
    net = Network.model_validate(
        {
            "period_days": days,
            "nodes": [
                {
                    "id": "a",
                    "external_supplier": True,
                    "lead_time": L,
                    "holding_cost": h,
                    "penalty_cost": 100.0,
                    "fixed_order_cost": K,
                    "unit_value": 10.0,
                    "demand": {"kind": "constant", "value": d},
                }
            ],
        }
    )
    pol = PolicySet.model_validate({"policies": {"a": {"kind": "base_stock", "level": d * L + 5}}})
    res = simulate(net, pol, periods=50, reps=2, seed=1, warmup=max(L, 1))
    node = res.node("a")
    assert res.cost_per_period.mean == pytest.approx(5 * h + K)
    assert res.holding_cost.mean == pytest.approx(5 * h)
    assert res.pipeline_cost.mean == pytest.approx(0.0)
    assert res.penalty_cost.mean == pytest.approx(0.0)
    assert res.order_cost.mean == pytest.approx(K)
    assert node.avg_on_hand.mean == pytest.approx(5.0)
    assert node.avg_in_transit.mean == pytest.approx(d * L)
    assert node.avg_backorders.mean == pytest.approx(0.0)
    assert node.fill_rate.mean == pytest.approx(1.0)
    assert node.stockout_frequency.mean == pytest.approx(0.0)
    assert node.cycle_service_level.mean == pytest.approx(1.0)
    assert node.orders_per_period.mean == pytest.approx(1.0)
    assert node.days_of_supply == pytest.approx(5.0 / d * days)
    assert node.inventory_turns == pytest.approx(d * 365.0 / days / 5.0)
    assert node.inventory_value == pytest.approx(50.0)


def test_two_stage_deterministic_pipeline_charged_at_supplier_cost() -> None:
    """A (external, lead L_A) -> B (lead L_B), constant demand d at B, local base stock
    S_A = d·L_A + 3, S_B = d·L_B + 5: on hand settles at 3 and 5, d·L_B units are always on the
    lane A->B, charged at h_A; the external supplier's pipeline is free."""
    d, LA, LB, hA, hB = 3.0, 2, 3, 1.0, 2.5
    net = Network.model_validate(
        {
            "nodes": [
                {"id": "A", "external_supplier": True, "lead_time": LA, "holding_cost": hA},
                {
                    "id": "B",
                    "lead_time": LB,
                    "holding_cost": hB,
                    "demand": {"kind": "constant", "value": d},
                },
            ],
            "lanes": [{"from": "A", "to": "B"}],
        }
    )
    pol = PolicySet.model_validate(
        {
            "policies": {
                "A": {"kind": "base_stock", "level": d * LA + 3},
                "B": {"kind": "base_stock", "level": d * LB + 5},
            }
        }
    )
    res = simulate(net, pol, periods=40, reps=2, seed=0, warmup=LA + LB)
    assert res.node("A").avg_on_hand.mean == pytest.approx(3.0)
    assert res.node("B").avg_on_hand.mean == pytest.approx(5.0)
    assert res.node("A").pipeline_cost.mean == pytest.approx(0.0)
    assert res.node("B").pipeline_cost.mean == pytest.approx(hA * d * LB)
    assert res.cost_per_period.mean == pytest.approx(3 * hA + 5 * hB + hA * d * LB)


def _newsvendor_cost(lam: float, S: int, h: float, p: float) -> float:
    k = np.arange(0, 200)
    pmf = stats.poisson.pmf(k, lam)
    return float(h * np.sum(np.maximum(S - k, 0) * pmf) + p * np.sum(np.maximum(k - S, 0) * pmf))


def _single_poisson(stockout: str, lam: float, S: int, h: float, p: float):
    net = Network.model_validate(
        {
            "nodes": [
                {
                    "id": "a",
                    "external_supplier": True,
                    "lead_time": 1,
                    "holding_cost": h,
                    "penalty_cost": p,
                    "stockout": stockout,
                    "demand": {"kind": "poisson", "mean": lam},
                }
            ]
        }
    )
    pol = PolicySet.model_validate({"policies": {"a": {"kind": "base_stock", "level": S}}})
    return simulate(net, pol, periods=2000, reps=100, seed=77, warmup=20)


def test_poisson_backorder_base_stock_lead_time_one() -> None:
    """L = 1, backorders: the order placed after demand arrives before the next demand, so the
    end-of-period inventory level is S − D: cost h·E(S−D)+ + p·E(D−S)+."""
    lam, S, h, p = 5.0, 7, 1.0, 9.0
    res = _single_poisson("backorder", lam, S, h, p)
    assert res.cost_per_period.contains(_newsvendor_cost(lam, S, h, p)), res.cost_per_period


def test_poisson_lost_sales_base_stock_lead_time_one() -> None:
    """L = 1, lost sales: ship min(OH, D), lose (D − OH)+, then order up to S on IP = OH + OO:
    every period starts with S, so on hand = (S − D)+ and lost = (D − S)+."""
    lam, S, h, p = 5.0, 6, 1.0, 4.0
    res = _single_poisson("lost_sales", lam, S, h, p)
    k = np.arange(0, 200)
    pmf = stats.poisson.pmf(k, lam)
    assert res.node("a").lost_sales.contains(float(np.sum(np.maximum(k - S, 0) * pmf)))
    assert res.cost_per_period.contains(_newsvendor_cost(lam, S, h, p)), res.cost_per_period


def test_fill_rate_and_service_kpis_on_a_scenario_path() -> None:
    """Worked by hand from docs/model.md (S = 6, L = 1, backorders, demand path below):

    t   D  start OH  shipped (new)  end OH  BO  order
    0   4     6        4 (4)          2     0    4
    1   0     6        0 (0)          6     0    0
    2  10     6        6 (6)          0     4   10   stockout
    3   2    10        6 (2)          4     0    2
    4   6     6        6 (6)          0     0    6
    5   0     6        0 (0)          6     0    0
    6   8     6        6 (6)          0     2    8   stockout
    7   3     8        5 (3)          3     0    3
    """
    path = [4.0, 0.0, 10.0, 2.0, 6.0, 0.0, 8.0, 3.0]
    net = Network.model_validate(
        {
            "nodes": [
                {
                    "id": "a",
                    "external_supplier": True,
                    "lead_time": 1,
                    "holding_cost": 1.0,
                    "penalty_cost": 10.0,
                    "demand": {"kind": "scenarios", "paths": [path]},
                }
            ]
        }
    )
    pol = PolicySet.model_validate({"policies": {"a": {"kind": "base_stock", "level": 6}}})
    res = simulate(net, pol, periods=8, reps=1, seed=0)
    node = res.node("a")
    assert res.fill_rate.mean == pytest.approx(27 / 33)
    assert node.fill_rate.mean == pytest.approx(27 / 33)
    assert node.stockout_frequency.mean == pytest.approx(2 / 8)
    assert node.cycle_service_level.mean == pytest.approx(4 / 6)  # orders at 0,2,3,4,6,7
    assert node.orders_per_period.mean == pytest.approx(6 / 8)
    assert node.avg_on_hand.mean == pytest.approx(21 / 8)
    assert node.avg_backorders.mean == pytest.approx(6 / 8)
    assert res.cost_per_period.mean == pytest.approx((21 + 10 * 6) / 8)


def test_reference_lost_sales_lead_time_one_is_pathwise_exact() -> None:
    """The reference simulator (docs/model.md) path by path: L = 1, lost sales, base stock S:
    end-of-period on hand = (S − D)+ and lost = (D − S)+ in every period."""
    from reference_sim import reference_run

    from echelon.sim.compiled import compile_network
    from echelon.sim.draws import make_draws

    net = Network.model_validate(
        {
            "nodes": [
                {
                    "id": "a",
                    "external_supplier": True,
                    "lead_time": 1,
                    "stockout": "lost_sales",
                    "demand": {"kind": "poisson", "mean": 5.0},
                }
            ]
        }
    )
    S = 6.0
    pol = PolicySet.model_validate({"policies": {"a": {"kind": "base_stock", "level": S}}})
    cn = compile_network(net, pol)
    draws = make_draws(cn, net, 5, [0], 300)
    ref = reference_run(net, pol, cn, draws)
    D = draws.demand[0, :, 0]
    assert (D > S).sum() > 10  # the path has stockouts
    np.testing.assert_array_equal(ref.on_hand[:, 0], np.maximum(S - D, 0.0))
    np.testing.assert_array_equal(ref.lost[:, 0], np.maximum(D - S, 0.0))
