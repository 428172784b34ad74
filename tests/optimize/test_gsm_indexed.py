"""The pendant-tree reduction and the time-indexed core MIP: exact optimum and a lower bound
that never exceeds the brute-force optimum on small random DAGs (hypothesis)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import highspy
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_gsm_properties import brute_force

from echelon.optimize.gsm import GSMInstance, GSMSolution, evaluate, service_bounds, solve_gsm
from echelon.optimize.gsm.mip import solve_mip
from echelon.optimize.gsm.mip_indexed import build_core_model, solve_indexed
from echelon.optimize.gsm.reduce import reduce_to_core

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
WILLEMS = Path(__file__).resolve().parents[3] / "shared" / "data" / "willems"
BRUTE_LIMIT = 30_000


@st.composite
def dags(draw: st.DrawFn) -> GSMInstance:
    """Random DAGs with cycles in the undirected sense, pendant trees, delays, bounds, fixed
    service times and (sometimes) a lead-time variance term."""
    n = draw(st.integers(2, 7))
    perm = draw(st.permutations(range(n)))  # topological order
    arcs: list[tuple[int, int]] = []
    for t in range(1, n):
        s = draw(st.integers(0, t - 1))
        arcs.append((perm[s], perm[t]) if draw(st.booleans()) else (perm[t], perm[s]))
    for _ in range(draw(st.integers(0, 4))):
        s, t = sorted(draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=2, unique=True)))
        pair = (perm[s], perm[t])
        if pair not in arcs and pair[::-1] not in arcs:
            arcs.append(pair)
    # orient every arc along the topological order ``perm`` so the graph is acyclic
    rank = {v: k for k, v in enumerate(perm)}
    arcs = [(a, b) if rank[a] < rank[b] else (b, a) for a, b in arcs]
    outdeg = [sum(1 for a, _ in arcs if a == j) for j in range(n)]
    bounds = [
        draw(st.sampled_from([0, 1, 2, 4])) if outdeg[j] == 0 else draw(st.sampled_from([None, 3]))
        for j in range(n)
    ]
    inst = GSMInstance.from_arrays(
        [f"n{j}" for j in range(n)],
        draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)),
        draw(st.lists(st.floats(0.0, 5.0), min_size=n, max_size=n)),
        [1.3] * n,
        draw(st.lists(st.floats(0.0, 3.0), min_size=n, max_size=n)),
        arcs,
        max_service=bounds,
        arc_delay=draw(st.lists(st.integers(0, 1), min_size=len(arcs), max_size=len(arcs))),
        min_inbound=draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)),
    )
    if draw(st.booleans()):
        inst = dataclasses.replace(
            inst,
            mean=np.asarray(draw(st.lists(st.floats(0.0, 4.0), min_size=n, max_size=n))),
            lead_time_sd=np.asarray(draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n))),
        )
    if draw(st.booleans()):
        fixed = np.full(n, -1, np.int64)
        j = draw(st.integers(0, n - 1))
        cap = inst.max_service[j]
        fixed[j] = draw(st.integers(0, 3 if not math.isfinite(cap) else int(cap)))
        inst = dataclasses.replace(inst, fixed_service=fixed)
    b = service_bounds(inst)
    assume(int(np.prod((b.s_hi - b.s_lo + 1).astype(float))) <= BRUTE_LIMIT)
    return inst


def assert_exact(inst: GSMInstance, sol: GSMSolution, *, abs_tol: float, gap: float) -> float:
    """``sol`` is the brute-force optimum (within ``abs_tol``) with a valid lower bound and a
    proven gap of at most ``gap``; returns the optimum."""
    best = brute_force(inst)
    assert sol.objective == pytest.approx(best, rel=1e-9, abs=abs_tol)
    assert sol.lower_bound is not None and sol.lower_bound <= best + 1e-7 * max(1.0, best)
    assert sol.gap is not None and sol.gap <= gap
    return best


@FAST
@given(dags())
def test_indexed_mip_is_exact_and_its_bounds_are_valid(inst: GSMInstance) -> None:
    sol = solve_indexed(inst, gap_tolerance=0.0, time_limit=20)
    # abs 1e-7: HiGHS does not tell apart costs below its tolerances (e.g. σ = 1e-8 gives
    # stage costs of 1e-8), as for the piecewise-linear model below
    best = assert_exact(inst, sol, abs_tol=1e-7, gap=1e-6)
    # the LP relaxation alone is a valid lower bound too
    b = service_bounds(inst)
    red = reduce_to_core(inst, b)
    if red.core.size:
        model = build_core_model(inst, red)
        if model.highs.getNumCol() == 0:  # every core service time fixed: nothing to relax
            return
        model.highs.setOptionValue("solve_relaxation", True)
        model.highs.run()
        assert model.highs.getModelStatus() == highspy.HighsModelStatus.kOptimal
        lp = model.highs.getInfo().objective_function_value
        assert lp <= best + 1e-7 * max(1.0, best)
        # the dual-based bound is valid for any duals, accurate or not
        duals = np.asarray(model.highs.getSolution().row_dual)
        assert model.safe_bound(duals) <= best + 1e-9 * max(1.0, best)
        noisy = duals + np.random.default_rng(0).normal(0.0, 1.0, duals.size)
        assert model.safe_bound(noisy) <= best + 1e-9 * max(1.0, best)
    # the piecewise-linear fallback agrees (up to HiGHS's absolute tolerances on tiny costs)
    pwl = solve_mip(inst, gap_tolerance=0.0, time_limit=20, formulation="pwl")
    assert pwl.objective == pytest.approx(best, rel=1e-9, abs=1e-6)


@FAST
@given(dags())
def test_reduction_is_exact(inst: GSMInstance) -> None:
    """Pendant trees folded into cost functions: with the core fixed at an optimal solution,
    the expanded solution is optimal, and the constant + folded costs never exceed it."""
    best = brute_force(inst)
    b = service_bounds(inst)
    red = reduce_to_core(inst, b)
    opt = solve_indexed(inst, gap_tolerance=0.0, time_limit=20)
    core = red.core.tolist()
    s_core = {j: int(opt.committed[j]) for j in core}
    si_core = {j: int(opt.inbound[j]) for j in core}
    expanded = red.expand(s_core, si_core)
    assert evaluate(inst, expanded)[2] == pytest.approx(best, rel=1e-9, abs=1e-9)
    folded = red.constant + sum(
        float(inst.stage_cost(np.array([opt.tau[j]]), j)[0])
        + float(red.s_cost[j][s_core[j]] if j in red.s_cost else 0.0)
        + float(red.si_cost[j][si_core[j]] if j in red.si_cost else 0.0)
        for j in core
    )
    assert folded == pytest.approx(best, rel=1e-9, abs=1e-9)


@pytest.mark.skipif(not (WILLEMS / "07.csv").exists(), reason="shared Willems data missing")
def test_willems_chain_07_proven_optimal() -> None:
    from echelon.network.io import load_network

    result = solve_gsm(load_network(WILLEMS / "07.csv"), time_limit=60)
    assert result.details["solver"] == "mip"
    assert result.gap is not None and result.gap <= 1e-4
    assert result.objective == pytest.approx(10_433_080.8440, rel=1e-9)
    assert result.details["core_nodes"] == 19
