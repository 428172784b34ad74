"""Property tests: tree DP == MIP == brute-force enumeration on tiny random trees and DAGs;
solutions feasible; the objective equals the recomputed Σ h·z·σ·√τ."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from echelon.optimize.gsm import GSMInstance, evaluate, service_bounds, solve_gsm
from echelon.optimize.gsm.heuristic import solve_heuristic
from echelon.optimize.gsm.mip import solve_mip
from echelon.optimize.gsm.tree import is_forest, solve_tree

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def instances(draw: st.DrawFn, tree: bool) -> GSMInstance:
    n = draw(st.integers(1, 5))
    arcs: list[tuple[int, int]] = []
    for j in range(1, n):
        # connect j to an earlier node, in either direction (assembly or distribution arc)
        i = draw(st.integers(0, j - 1))
        arcs.append((i, j) if draw(st.booleans()) else (j, i))
    if not tree:
        extra = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3))
        for a, b in extra:
            lo, hi = min(a, b), max(a, b)
            if lo != hi and (lo, hi) not in arcs and (hi, lo) not in arcs:
                # keep acyclic: orient every extra arc from the lower to the higher index only
                # when that does not close a cycle with the tree arcs (checked below)
                arcs.append((lo, hi))
    times = draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))
    costs = draw(st.lists(st.floats(0.0, 5.0), min_size=n, max_size=n))
    sigma = draw(st.lists(st.floats(0.0, 3.0), min_size=n, max_size=n))
    outdeg = [sum(1 for a, _ in arcs if a == j) for j in range(n)]
    bounds = [
        draw(st.sampled_from([0, 1, 3])) if outdeg[j] == 0 else draw(st.sampled_from([None, 2]))
        for j in range(n)
    ]
    delays = draw(st.lists(st.integers(0, 1), min_size=len(arcs), max_size=len(arcs)))
    inst = GSMInstance.from_arrays(
        [f"n{j}" for j in range(n)], times, costs, [1.5] * n, sigma, arcs,
        max_service=bounds, arc_delay=delays, min_inbound=[draw(st.integers(0, 1))] * n,
    )  # fmt: skip
    try:
        service_bounds(inst)
    except Exception:
        from hypothesis import assume

        assume(False)
    return inst


def brute_force(inst: GSMInstance) -> float:
    b = service_bounds(inst)
    ranges = [range(int(lo), int(hi) + 1) for lo, hi in zip(b.s_lo, b.s_hi, strict=True)]
    return min(evaluate(inst, np.array(s, np.int64))[2] for s in itertools.product(*ranges))


def check_feasible(inst: GSMInstance, committed: np.ndarray, tau: np.ndarray) -> None:
    si = np.maximum(inst.min_inbound, committed - inst.processing_time)
    for i, j, d in zip(inst.arc_src, inst.arc_dst, inst.arc_delay, strict=True):
        si[j] = max(si[j], committed[i] + d)
    assert np.all(committed >= 0)
    assert np.all(committed <= inst.max_service + 1e-9)
    assert np.all(tau == si + inst.processing_time - committed)
    assert np.all(tau >= 0)


@FAST
@given(instances(tree=True))
def test_tree_dp_equals_mip_equals_brute_force(inst: GSMInstance) -> None:
    best = brute_force(inst)
    dp = solve_tree(inst)
    mip = solve_mip(inst, gap_tolerance=0.0, time_limit=20)
    assert dp.objective == pytest.approx(best, rel=1e-9, abs=1e-6)
    assert mip.objective == pytest.approx(best, rel=1e-9, abs=1e-6)
    check_feasible(inst, dp.committed, dp.tau)
    recomputed = sum(
        inst.holding_cost[j] * inst.z[j] * inst.sigma[j] * math.sqrt(dp.tau[j])
        for j in range(inst.n)
    )
    assert dp.objective == pytest.approx(recomputed, rel=1e-12, abs=1e-12)


@FAST
@given(instances(tree=False))
def test_mip_equals_brute_force_on_dags(inst: GSMInstance) -> None:
    best = brute_force(inst)
    mip = solve_mip(inst, gap_tolerance=0.0, time_limit=20)
    assert mip.objective == pytest.approx(best, rel=1e-9, abs=1e-6)
    assert mip.gap is not None and mip.gap <= 1e-6
    check_feasible(inst, mip.committed, mip.tau)
    heur = solve_heuristic(inst, time_limit=1.0)
    assert heur.objective >= best - 1e-9
    check_feasible(inst, heur.committed, heur.tau)
    if is_forest(inst):
        assert solve_tree(inst).objective == pytest.approx(best, rel=1e-9, abs=1e-6)


@FAST
@given(instances(tree=False))
def test_result_identities(inst: GSMInstance) -> None:
    result = solve_gsm(inst, gap_tolerance=0.0, time_limit=20)
    total = 0.0
    for j, d in enumerate(result.nodes.values()):
        tau = d.net_replenishment_time
        assert tau is not None
        ss = inst.z[j] * inst.sigma[j] * math.sqrt(tau)
        assert d.safety_stock == pytest.approx(ss, abs=1e-12)
        assert d.base_stock_level == pytest.approx(inst.mean[j] * tau + ss, abs=1e-9)
        total += inst.holding_cost[j] * ss
    assert result.objective == pytest.approx(total, rel=1e-12, abs=1e-12)
