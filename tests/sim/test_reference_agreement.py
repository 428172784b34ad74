"""The numba engine agrees with the reference simulator written from docs/model.md."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from reference_sim import reference_run
from strategies import Case, cases

from echelon.network.model import Network
from echelon.policies.model import PolicySet
from echelon.sim import kernel as K
from echelon.sim.batch import run_kernel, trace_replication
from echelon.sim.compiled import compile_network
from echelon.sim.draws import make_draws
from echelon.sim.scenario import Scenario

TOL = 1e-9
KPI_COLUMNS = {
    "hold": K.K_HOLD,
    "pipe": K.K_PIPE,
    "pen": K.K_PEN,
    "ord": K.K_ORD,
    "oh": K.K_OH,
    "bo": K.K_BO,
    "extdem": K.K_EXTDEM,
    "extfill": K.K_EXTFILL,
    "lost": K.K_LOST,
    "short": K.K_SHORT,
    "dem": K.K_DEM,
    "fill": K.K_FILL,
    "ship": K.K_SHIP,
    "transit": K.K_TRANSIT,
    "intbo": K.K_INTBO,
    "nord": K.K_NORD,
    "qord": K.K_QORD,
    "cyc": K.K_CYC,
    "cycbad": K.K_CYCBAD,
}
SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _close(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a - b) <= TOL * (1.0 + np.maximum(np.abs(a), np.abs(b)))


def check_agreement(case: Case, rep: int = 0) -> None:
    cn = compile_network(case.net, case.policy, case.scenario, case.warmup)
    draws = make_draws(cn, case.net, case.seed, [rep], case.periods)
    tr = trace_replication(cn, draws, 0)
    ref = reference_run(case.net, case.policy, cn, draws, 0, case.scenario, case.warmup)
    for name, col, want in (
        ("on hand", K.T_OH, ref.on_hand),
        ("backorders", K.T_BO, ref.backorders),
        ("on order", K.T_OO, ref.on_order),
        ("order qty", K.T_Q, ref.order_qty),
        ("cost", K.T_COST, ref.cost),
        ("shipped (external)", K.T_SHIPPED, ref.shipped_ext),
    ):
        ok = _close(tr[:, :, col], want)
        if not ok.all():
            t, j = np.argwhere(~ok)[0]
            raise AssertionError(
                f"{name} differs first in period {t} at node {cn.ids[j]}: "
                f"numba {tr[t, j, col]!r}, reference {want[t, j]!r}"
            )
    acc = run_kernel(cn, draws, case.warmup)[0]
    # "could not ship all that was required" when on hand equals the requirement up to float
    # rounding is decided by the last bit: allow one flip per such period, and no more
    ties = ref.kpi["ties"]
    for name, col in KPI_COLUMNS.items():
        ok = _close(acc[:, col], ref.kpi[name])
        if name in ("short", "cycbad"):
            ok |= np.abs(acc[:, col] - ref.kpi[name]) <= ties
        assert ok.all(), f"KPI sum {name}: numba {acc[:, col]}, reference {ref.kpi[name]}"


def _single_node_case(node: dict, policy: dict, periods: int, scenario: dict | None = None) -> Case:
    net = Network.model_validate({"nodes": [{"id": "a", "external_supplier": True, **node}]})
    pol = PolicySet.model_validate({"policies": {"a": policy}})
    scen = None if scenario is None else Scenario.model_validate(scenario)
    return Case(net, pol, scen, periods, 0, 0)


# One lost-sales node, L = 1, base stock 5, demand 10 in period 0. docs/model.md: ship 5, lose 5,
# then order up to 5 on IP = OH + OO = 0, so q = 5 and on hand never exceeds 5. The kernel orders
# on the position before the loss (IP = 5 - 10 = -5, q = 10) and starts period 1 with 10 on hand.
LOST_SALES_MINIMAL = _single_node_case(
    {
        "lead_time": 1,
        "stockout": "lost_sales",
        "demand": {"kind": "scenarios", "paths": [[10.0, 0.0, 0.0]]},
    },
    {"kind": "base_stock", "level": 5.0},
    3,
)
# Lead time 0 and two overlapping supplier delays of 1 period: a shipment leaving in period 0
# takes 0 + 1 + 1 = 2 periods. The kernel sizes its pipeline ring with the largest single delay
# (horizon 0 + 1 + 1 = 2), so the shipment lands in slot (0 + 2) mod 2 = 0 and is received at the
# end of period 0.
OVERLAPPING_DELAYS_MINIMAL = _single_node_case(
    {"lead_time": 0, "demand": {"kind": "constant", "value": 1.0}, "holding_cost": 1.0},
    {"kind": "base_stock", "level": 3.0},
    4,
    {
        "disruptions": [
            {"kind": "supplier_delay", "node": "a", "start": 0, "end": 1, "extra_periods": 1},
            {"kind": "supplier_delay", "node": "a", "start": 0, "end": 1, "extra_periods": 1},
        ]
    },
)


def _zero_lead_case(nodes: list[dict], lanes: list[tuple[str, str]], policies: dict) -> Case:
    net = Network.model_validate(
        {
            "nodes": [{"lead_time": 0, **node} for node in nodes],
            "lanes": [{"from": a, "to": b} for a, b in lanes],
        }
    )
    return Case(net, PolicySet.model_validate({"policies": policies}), None, 8, 0, 0)


_ZERO = {"kind": "constant", "value": 0.0}
_BS0 = {"kind": "base_stock", "level": 0.0}
# Exact (s, S) tie, found by hypothesis. n0 (external, MOQ 1, echelon base stock 0) supplies n1..n6;
# n6: (s, S) = (0.25, 17.25), constant demand 8.5, initial on hand 0.25. n6's IP before ordering is
# exactly s = 0.25 every other period (0.25 + 17 - 2 * 8.5), where docs/model.md says it orders
# S - s = 17. The engines decided "IP <= s" by the last bit of IP (the reference summed n0's
# echelon position in another order, so its rounding differed) and disagreed in period 7.
SS_TIE = _zero_lead_case(
    [
        {"id": "n0", "external_supplier": True, "min_order_qty": 1.0, "fixed_order_cost": 1.0,
         "initial_on_hand": 0.0},
        {"id": "n1", "demand": _ZERO, "min_order_qty": 1.0, "lot_multiple": 0.5,
         "fixed_order_cost": 1.0, "initial_on_hand": 0.0},
        {"id": "n2", "demand": _ZERO, "min_order_qty": 1.0},
        {"id": "n3", "demand": _ZERO, "min_order_qty": 1.0, "lot_multiple": 0.5},
        {"id": "n4", "demand": _ZERO, "min_order_qty": 1.0, "lot_multiple": 0.5,
         "fixed_order_cost": 1.0},
        {"id": "n5", "demand": _ZERO, "min_order_qty": 1.0, "lot_multiple": 0.5,
         "fixed_order_cost": 1.0},
        {"id": "n6", "demand": {"kind": "constant", "value": 8.5}, "fixed_order_cost": 1.0,
         "initial_on_hand": 0.25},
    ],
    [("n0", f"n{i}") for i in range(1, 7)],
    {
        "n0": {"kind": "echelon_base_stock", "level": 0.0},
        "n1": _BS0,
        "n2": _BS0,
        "n3": {"kind": "s_S", "s": 0.25, "S": 0.5},
        "n4": {"kind": "s_S", "s": 0.25, "S": 0.5},
        "n5": {"kind": "s_S", "s": 0.25, "S": 0.26},
        "n6": {"kind": "s_S", "s": 0.25, "S": 17.25},
    },
)  # fmt: skip
# Exact (r, Q) ties, found by hypothesis: n0 -> n1 ((r, Q) = (0.25, 4/3), initial on hand r + Q)
# -> n2 (Poisson(5) demand, base stock 0, MOQ 1), n3..n6 other customers of n0. With seed 0,
# n2 orders 6, 7, 2, 5, 8, ...: n1's IP before ordering is exactly r - 3Q in period 3 and r - 5Q
# in period 4, where "the least n with IP + nQ > r" is n = 4 (resp. 6), not 3 (resp. 5). Float
# rounding decided these ties (differently in the two engines: period 4 differed).
RQ_TIE = _zero_lead_case(
    [
        {"id": "n0", "demand": _ZERO, "external_supplier": True, "min_order_qty": 1.0,
         "fixed_order_cost": 1.0},
        {"id": "n1"},
        {"id": "n2", "demand": {"kind": "poisson", "mean": 5.0}, "min_order_qty": 1.0},
        {"id": "n3", "demand": _ZERO, "min_order_qty": 1.0},
        {"id": "n4", "demand": _ZERO, "min_order_qty": 1.0, "lot_multiple": 0.5,
         "fixed_order_cost": 1.0, "initial_on_hand": 0.0},
        {"id": "n5", "demand": _ZERO},
        {"id": "n6", "demand": _ZERO, "min_order_qty": 1.0},
    ],
    [("n0", "n1"), ("n1", "n2"), ("n0", "n3"), ("n0", "n4"), ("n0", "n5"), ("n0", "n6")],
    {
        "n0": {"kind": "echelon_base_stock", "level": 0.0},
        "n1": {"kind": "r_Q", "r": 0.25, "Q": 4.0 / 3.0},
        "n2": _BS0,
        "n3": _BS0,
        "n4": _BS0,
        "n5": _BS0,
        "n6": {"kind": "s_S", "s": 1.25, "S": 1.5},
    },
)  # fmt: skip


@example(SS_TIE)
@example(RQ_TIE)
@SETTINGS
@given(cases(lost_sales=False, overlapping_delays=False))
def test_backorder_networks_agree(case: Case) -> None:
    check_agreement(case)


@example(LOST_SALES_MINIMAL)
@example(SS_TIE)
@example(RQ_TIE)
@SETTINGS
@given(cases(lost_sales=True, overlapping_delays=False))
def test_all_networks_agree(case: Case) -> None:
    check_agreement(case)


@example(OVERLAPPING_DELAYS_MINIMAL)
@SETTINGS
@given(cases(lost_sales=False, overlapping_delays=True))
def test_overlapping_supplier_delays_agree(case: Case) -> None:
    check_agreement(case)


def test_lost_sales_orders_after_losing_minimal() -> None:
    check_agreement(LOST_SALES_MINIMAL)


def test_overlapping_supplier_delays_minimal() -> None:
    check_agreement(OVERLAPPING_DELAYS_MINIMAL)


def _order_trace(case: Case) -> tuple[list[str], np.ndarray]:
    cn = compile_network(case.net, case.policy, case.scenario, case.warmup)
    draws = make_draws(cn, case.net, case.seed, [0], case.periods)
    return list(cn.ids), trace_replication(cn, draws, 0)[:, :, K.T_Q]


def test_ss_exact_tie_orders() -> None:
    check_agreement(SS_TIE)
    ids, q = _order_trace(SS_TIE)
    # IP = 0.25 - 8.5 in period 0 (order 25.5), then IP = s exactly in periods 2, 4, 6: order
    # S - s = 17 each time; IP = 8.75 > s in the periods between
    assert list(q[:, ids.index("n6")]) == pytest.approx([25.5, 0, 17, 0, 17, 0, 17, 0])


def test_rq_exact_tie_takes_one_more_q() -> None:
    check_agreement(RQ_TIE)
    ids, q = _order_trace(RQ_TIE)
    qq = 4.0 / 3.0
    # IP = r - 3Q in period 3 (n = 4), then r - 5Q in period 4 (n = 6)
    assert q[3, ids.index("n1")] == pytest.approx(4 * qq)
    assert q[4, ids.index("n1")] == pytest.approx(6 * qq)


@pytest.mark.parametrize("rep", [0, 3])
def test_serial_example_agrees_over_a_long_run(rep: int) -> None:
    net = Network.model_validate(
        {
            "nodes": [
                {"id": "s3", "external_supplier": True, "lead_time": 2, "holding_cost": 2},
                {"id": "s2", "lead_time": 1, "holding_cost": 4},
                {
                    "id": "s1",
                    "lead_time": 1,
                    "holding_cost": 7,
                    "penalty_cost": 37.12,
                    "demand": {"kind": "normal", "mean": 5, "std": 1},
                },
            ],
            "lanes": [{"from": "s3", "to": "s2"}, {"from": "s2", "to": "s1"}],
        }
    )
    pol = PolicySet.model_validate(
        {
            "policies": {
                "s1": {"kind": "echelon_base_stock", "level": 6.49},
                "s2": {"kind": "echelon_base_stock", "level": 12.02},
                "s3": {"kind": "echelon_base_stock", "level": 22.71},
            }
        }
    )
    check_agreement(Case(net, pol, None, 500, 20, 7), rep=rep)
