"""Invariants of the numba engine on random networks (flows, signs, modes, CRN, chunking)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import Case, cases

from echelon.network.model import Network
from echelon.policies.model import PolicySet
from echelon.sim import batch
from echelon.sim import kernel as K
from echelon.sim.compiled import LF_QTY, LI_DST, LI_SRC, NI_LOST, compile_network
from echelon.sim.draws import make_draws

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TOL = 1e-7


def instrumented_run(case: Case) -> list[dict[str, np.ndarray]]:
    """Drive the kernel's period steps from Python and record the full state after each."""
    cn = compile_network(case.net, case.policy, case.scenario, case.warmup)
    d = make_draws(cn, case.net, case.seed, [0], case.periods)
    NS = np.zeros((cn.n, K.N_S))
    LS = np.zeros((cn.m, K.N_L))
    PIPE = np.zeros((cn.m, cn.horizon))
    closed_until = np.zeros(cn.n, dtype=np.int64)
    ACC = np.zeros((cn.n, K.N_K))
    cost = np.zeros(cn.n)
    net = cn.kernel_net
    K.init_state(net, NS, LS, PIPE, closed_until)
    states = []
    for t in range(case.periods):
        K.begin_period(
            t, net, d.demand[0, t], d.onset[0, t], d.duration[0, t], NS, LS, PIPE, closed_until
        )
        before = NS.copy()
        requirement = NS[:, K.S_BO].copy()
        K.ship_order_step(t, True, np.zeros(0), net, d.lead[0, t], NS, LS, PIPE)
        K.end_period(t, t >= case.warmup, net, NS, LS, PIPE, ACC, cost)
        states.append(
            {
                "NS": NS.copy(),
                "LS": LS.copy(),
                "PIPE": PIPE.copy(),
                "oh_before": before[:, K.S_OH],
                "ext_requirement": requirement,
            }
        )
    return cn, states


def _close(a, b) -> bool:
    return bool(np.all(np.abs(np.asarray(a) - np.asarray(b)) <= TOL * (1 + np.abs(b))))


@SETTINGS
@given(cases(lost_sales=False, overlapping_delays=False))
def test_unit_conservation_backorder_networks(case: Case) -> None:
    cn, states = instrumented_run(case)
    src, dst, a = cn.LI[:, LI_SRC], cn.LI[:, LI_DST], cn.LF[:, LF_QTY]
    ordered = np.zeros(cn.n)
    lane_shipped = np.zeros(cn.m)
    ext_shipped = np.zeros(cn.n)
    for s in states:
        NS, LS, PIPE = s["NS"], s["LS"], s["PIPE"]
        q = NS[:, K.S_Q]
        ordered += q
        ext_shipped += NS[:, K.S_SEXT]
        for e in range(cn.m):
            lane_shipped[e] += LS[e, K.L_SHIP] if src[e] >= 0 else q[dst[e]]
        transit, buf, bl = LS[:, K.L_TRANSIT], LS[:, K.L_BUF], LS[:, K.L_BL]
        assert np.all(PIPE >= -TOL) and np.all(buf >= -TOL) and np.all(bl >= -TOL)
        # in transit = what the pipeline holds
        assert _close(transit, PIPE.sum(axis=1))
        # lane: units ordered on it = shipped + backlog (internal lanes)
        internal = src >= 0
        assert _close((a * ordered[dst])[internal], (lane_shipped + bl)[internal])
        # lane: shipped = arrived + in transit; arrived = buffered + used to make the item
        made_by_lane = (lane_shipped - transit - buf) / a
        for j in range(cn.n):
            lanes_in = np.flatnonzero(dst == j)
            made = made_by_lane[lanes_in]
            assert _close(made, np.full(len(made), made[0])), "inputs used in BOM proportions"
            # node: ordered = made + on order
            assert _close(ordered[j], made[0] + NS[j, K.S_OO])
            # node: on hand = initial + made - shipped
            out = np.flatnonzero(src == j)
            assert _close(
                NS[j, K.S_OH],
                cn.init_on_hand[j] + made[0] - ext_shipped[j] - lane_shipped[out].sum(),
            )


@SETTINGS
@given(cases(lost_sales=True, overlapping_delays=False))
def test_signs_modes_and_closures(case: Case) -> None:
    cn, states = instrumented_run(case)
    lost_mode = cn.NI[:, NI_LOST] == 1
    src = cn.LI[:, LI_SRC]
    for s in states:
        NS, LS = s["NS"], s["LS"]
        assert np.all(NS[:, K.S_OH] >= -TOL), "on hand never negative"
        assert np.all(NS[:, K.S_BO] >= -TOL), "backorders never negative"
        assert np.all(NS[:, K.S_OO] >= -TOL)
        assert np.all(NS[:, K.S_Q] >= 0.0)
        # lost-sales nodes carry no external backorders; what they do not ship is lost
        assert np.all(NS[lost_mode, K.S_BO] == 0.0)
        unmet = s["ext_requirement"] - NS[:, K.S_SEXT]
        assert _close(NS[lost_mode, K.S_LOST], unmet[lost_mode])
        # backorder nodes never lose sales
        assert np.all(NS[~lost_mode, K.S_LOST] == 0.0)
        assert np.all(LS[src >= 0, K.L_BL][lost_mode[src[src >= 0]]] == 0.0)
        # a closed node ships nothing
        for j in np.flatnonzero(NS[:, K.S_CLOSED] > 0):
            assert NS[j, K.S_SEXT] == 0.0
            assert np.all(LS[src == j, K.L_SHIP] == 0.0)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(max_nodes=4), st.integers(0, 5), st.integers(1, 5))
def test_common_random_numbers(case: Case, rep: int, other: int) -> None:
    cn = compile_network(case.net, case.policy, case.scenario, case.warmup)
    a = make_draws(cn, case.net, case.seed, [rep], case.periods)
    b = make_draws(cn, case.net, case.seed, [rep + other, rep], case.periods)
    for name in ("demand", "lead", "onset", "duration"):
        assert np.array_equal(getattr(a, name)[0], getattr(b, name)[1]), name
    tr_a = batch.trace_replication(cn, a, 0)
    tr_b = batch.trace_replication(cn, b, 1)
    assert np.array_equal(tr_a, tr_b), "same seed and replication -> identical trajectory"


def test_other_replication_gets_other_draws() -> None:
    net = Network.model_validate(
        {
            "nodes": [
                {
                    "id": "a",
                    "external_supplier": True,
                    "lead_time": {"kind": "empirical", "values": [1, 2, 3]},
                    "demand": {"kind": "normal", "mean": 5, "std": 2},
                }
            ]
        }
    )
    pol = PolicySet.model_validate({"policies": {"a": {"kind": "base_stock", "level": 12}}})
    cn = compile_network(net, pol)
    d = make_draws(cn, net, 11, [0, 1], 50)
    assert not np.array_equal(d.demand[0], d.demand[1])
    assert not np.array_equal(d.lead[0], d.lead[1])
    d2 = make_draws(cn, net, 12, [0], 50)
    assert not np.array_equal(d.demand[0], d2.demand[0])


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(max_nodes=4), st.integers(3, 9))
def test_simulate_independent_of_chunking(case: Case, reps: int) -> None:
    periods = case.periods - case.warmup
    kw = dict(periods=periods, reps=reps, seed=case.seed, warmup=case.warmup)
    kw["scenario"] = case.scenario
    whole = batch.simulate(case.net, case.policy, **kw).to_dict()
    again = batch.simulate(case.net, case.policy, **kw).to_dict()
    with pytest.MonkeyPatch.context() as m:
        m.setattr(batch, "DRAW_BUDGET_BYTES", 1)  # one replication per chunk
        one_by_one = batch.simulate(case.net, case.policy, **kw).to_dict()
        m.setattr(batch, "DRAW_BUDGET_BYTES", 2 * case.periods * 8 * 20)
        small = batch.simulate(case.net, case.policy, **kw).to_dict()
    for res in (whole, again, one_by_one, small):
        for key in ("seconds", "node_periods_per_second"):
            res.pop(key)
    assert whole == again, "deterministic for a seed"
    assert whole == one_by_one
    assert whole == small


@SETTINGS
@given(cases(lost_sales=True, overlapping_delays=False))
def test_unit_conservation_with_cancellations(case: Case) -> None:
    """Lost-sales suppliers cancel what they cannot ship: per node, units ordered = units made
    (received) + on order + cancelled, per lane, ordered = shipped + backlog + cancelled, with
    cancelled >= 0 and zero on lanes out of backorder nodes (nodes with one input each, so that
    a cancellation on one input cannot strand the units of another)."""
    cn, states = instrumented_run(case)
    src, dst, a = cn.LI[:, LI_SRC], cn.LI[:, LI_DST], cn.LF[:, LF_QTY]
    if np.bincount(dst, minlength=cn.n).max() > 1:
        return
    lost_mode = cn.NI[:, NI_LOST] == 1
    ordered = np.zeros(cn.n)
    lane_shipped = np.zeros(cn.m)
    for s in states:
        NS, LS = s["NS"], s["LS"]
        q = NS[:, K.S_Q]
        ordered += q
        for e in range(cn.m):
            lane_shipped[e] += LS[e, K.L_SHIP] if src[e] >= 0 else q[dst[e]]
        transit, buf, bl = LS[:, K.L_TRANSIT], LS[:, K.L_BUF], LS[:, K.L_BL]
        cancelled = a * ordered[dst] - lane_shipped - bl
        internal = src >= 0
        assert np.all(cancelled[internal] >= -TOL)
        from_backorder = internal.copy()
        from_backorder[internal] = ~lost_mode[src[internal]]
        assert _close(cancelled[from_backorder], 0.0)
        assert _close(cancelled[~internal], 0.0)
        made = (lane_shipped - transit - buf) / a
        for e in range(cn.m):
            j = dst[e]
            assert _close(ordered[j], made[e] + NS[j, K.S_OO] + cancelled[e] / a[e])
