"""Cut arcs + branch and bound on the core tree DP: exact on small random DAGs (brute force),
agrees with the time-indexed MIP on generated long-processing-time networks, and is what
``formulation="auto"`` picks when the pair model would be too large."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from test_gsm_indexed import FAST, assert_exact, dags

from echelon.optimize.gsm import GSMInstance, evaluate, service_bounds, solve_gsm
from echelon.optimize.gsm import mip as mip_module
from echelon.optimize.gsm.cut import cycle_rank, solve_cut
from echelon.optimize.gsm.generate import long_time_instance
from echelon.optimize.gsm.mip import solve_mip
from echelon.optimize.gsm.mip_indexed import solve_indexed
from echelon.optimize.gsm.reduce import reduce_to_core


@FAST
@given(dags())
def test_cut_branch_and_bound_is_exact(inst: GSMInstance) -> None:
    sol = solve_cut(inst, gap_tolerance=0.0, time_limit=20)
    assert_exact(inst, sol, abs_tol=1e-9, gap=1e-9)
    assert sol.status == "optimal"
    assert evaluate(inst, sol.committed)[2] == pytest.approx(sol.objective)


def test_generator_shape() -> None:
    inst = long_time_instance(60, seed=3, t_range=(5, 40))
    assert inst.n == 60
    assert len(inst.arc_src) == 60  # a spanning tree (59 arcs) + one arc closing a cycle
    assert int(inst.processing_time.min()) >= 5 and int(inst.processing_time.max()) <= 40
    red = reduce_to_core(inst, service_bounds(inst))
    assert red.core.size == 4 and red.core_arcs.size == 4  # the 4-cycle is the 2-core
    assert cycle_rank(red) == 1
    two = long_time_instance(60, seed=3, t_range=(5, 40), extra_arcs=2)
    assert cycle_rank(reduce_to_core(two, service_bounds(two))) == 2


@pytest.mark.parametrize(("seed", "extra"), [(0, 1), (1, 1), (2, 2), (4, 3)])
def test_cut_matches_indexed_mip_on_long_time_networks(seed: int, extra: int) -> None:
    inst = long_time_instance(40, seed=seed, t_range=(5, 30), extra_arcs=extra)
    cut = solve_cut(inst, gap_tolerance=0.0)
    ref = solve_indexed(inst, gap_tolerance=0.0)
    assert ref.gap is not None and ref.gap <= 1e-6
    assert cut.status == "optimal" and cut.gap == 0.0
    assert cut.objective == pytest.approx(ref.objective, rel=1e-9)
    assert cut.details["cut_arcs"] == extra


def test_auto_uses_cut_when_the_pair_model_is_too_large(monkeypatch: pytest.MonkeyPatch) -> None:
    inst = long_time_instance(40, seed=5, t_range=(5, 30))
    exact = solve_indexed(inst, gap_tolerance=0.0).objective
    monkeypatch.setattr(mip_module, "INDEXED_PAIR_LIMIT", 10)
    sol = solve_mip(inst, gap_tolerance=0.0)
    assert sol.details["formulation"].startswith("cut arcs")
    assert sol.objective == pytest.approx(exact, rel=1e-9)
    result = solve_gsm(inst, gap_tolerance=1e-4, heuristic_time=0.5)
    assert result.gap is not None and result.gap <= 1e-4


def test_cut_never_worse_than_its_start() -> None:
    inst = long_time_instance(30, seed=7, t_range=(5, 20), extra_arcs=2)
    b = service_bounds(inst)
    start = np.asarray(b.s_hi, np.int64)
    sol = solve_cut(inst, start=start, time_limit=0.0)  # no branching: root box only
    assert sol.objective <= evaluate(inst, start)[2] + 1e-9
    assert sol.lower_bound is not None and sol.lower_bound <= sol.objective
