"""CMA-ES and the genetic algorithm beside pattern search: known answers on lattice problems,
the same draws and budget in ``solve_simopt``, and both views of base-stock levels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from echelon.errors import InputError
from echelon.network.io import load_network
from echelon.optimize.simopt import CRNEvaluator, solve_simopt
from echelon.optimize.simopt.population import cma_search, ga_search
from echelon.optimize.simopt.space import build_space, start_policy
from echelon.policies.model import BaseStock, EchelonBaseStock

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "echelon" / "examples"
SEARCHES = [cma_search, ga_search]


TARGET = np.array([7, 3, 12, 0])


@pytest.mark.parametrize("runner", SEARCHES)
def test_population_search_finds_a_lattice_optimum(runner) -> None:  # type: ignore[no-untyped-def]
    """A separable quadratic plus a coupling term on the lattice x >= 0: optimum TARGET."""
    seen: set[tuple[int, ...]] = set()

    def objective(x: np.ndarray) -> float:
        seen.add(tuple(int(v) for v in x))
        return float(np.sum((x - TARGET) ** 2) + 0.5 * abs(int(x[0]) - int(x[1]) - 4))

    res = runner(objective, np.array([20, 20, 20, 20]), np.array([4, 4, 4, 4]),
                 np.zeros(4, np.int64), exhausted=lambda: len(seen) >= 3000, seed=3)  # fmt: skip
    assert res.value == pytest.approx(0.0)
    assert res.x.tolist() == TARGET.tolist()
    assert len(seen) <= 3000


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.integers(0, 30), min_size=1, max_size=5),
    st.integers(5, 60),
    st.integers(0, 5),
    st.sampled_from(SEARCHES),
)
def test_never_worse_than_start_and_budget_respected(x0, limit, seed, runner) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    c = rng.integers(0, 30, len(x0))
    seen: set[tuple[int, ...]] = set()

    def objective(x: np.ndarray) -> float:
        seen.add(tuple(int(v) for v in x))
        return float(np.sum(np.abs(x - c)) + np.sin(x).sum())

    start = np.array(x0, np.int64)
    res = runner(objective, start, np.full(len(x0), 3), np.zeros(len(x0), np.int64),
                 exhausted=lambda: len(seen) >= limit, seed=seed)  # fmt: skip
    assert res.value <= objective(start) + 1e-12
    assert res.value == pytest.approx(objective(res.x))
    assert np.all(res.x >= 0)
    assert len(seen) <= limit + 1  # the final check above may add one point


def test_one_stage_reaches_the_sample_average_optimum() -> None:
    """Newsvendor-like single stage: every search reaches the best level on the search draws
    (brute force over all levels on the same common random numbers)."""
    from test_simopt import one_stage

    net = one_stage()
    space = build_space(net, start_policy(net, None, None))
    ev = CRNEvaluator(net, space, periods=300, reps=10, seed=4, warmup=20)
    brute = min(float(np.mean(ev(np.array([k])).cost)) for k in range(0, 40))
    for search in ("pattern", "cmaes", "ga"):
        res = solve_simopt(net, periods=300, reps=10, seed=4, warmup=20, max_evaluations=60,
                           search=search)  # fmt: skip
        assert res.details["cost_search"] == pytest.approx(brute, rel=1e-12), search
        assert res.details["search_method"] == search
        assert res.details["evaluations"] <= 60


def test_same_draws_and_budget_for_every_search() -> None:
    net = load_network(EXAMPLES / "snyder_shen_6_1.yaml")
    runs = {
        s: solve_simopt(net, periods=200, reps=8, seed=2, max_evaluations=40, search=s)
        for s in ("pattern", "cmaes", "ga")
    }
    starts = {r.details["start_cost_search"] for r in runs.values()}
    assert len(starts) == 1  # one set of draws: the start costs the same everywhere
    for r in runs.values():
        assert r.details["evaluations"] <= 40
        assert r.details["best_objective_search"] <= r.details["start_objective_search"]


def test_unknown_search_is_an_input_error() -> None:
    net = load_network(EXAMPLES / "snyder_shen_6_1.yaml")
    with pytest.raises(InputError, match="unknown simulation-optimization search"):
        solve_simopt(net, periods=50, reps=2, max_evaluations=2, search="annealing")


@pytest.mark.parametrize("kind", ["base_stock", "echelon_base_stock"])
def test_both_level_views_are_reported_and_written(kind: str) -> None:
    """Serial line stage1 ← stage2 ← stage3: E1 = l1, E2 = l2 + E1, E3 = l3 + E2."""
    net = load_network(EXAMPLES / "snyder_shen_6_1.yaml")
    res = solve_simopt(net, kind=kind, periods=200, reps=8, seed=2, max_evaluations=30)
    n = res.nodes
    assert all(d.base_stock_level is not None and d.echelon_base_stock is not None
               for d in n.values())  # fmt: skip
    e1, e2, e3 = (n[s].echelon_base_stock for s in ("stage1", "stage2", "stage3"))
    l1, l2, l3 = (n[s].base_stock_level for s in ("stage1", "stage2", "stage3"))
    assert e1 == pytest.approx(l1)
    assert e2 == pytest.approx(l2 + e1)  # type: ignore[operator]
    assert e3 == pytest.approx(l3 + e2)  # type: ignore[operator]
    meta = res.policy.metadata
    assert meta["installation_levels"]["stage2"] == pytest.approx(l2)
    assert meta["echelon_levels"]["stage3"] == pytest.approx(e3)
    pol = res.policy.policies["stage3"]
    assert isinstance(pol, BaseStock if kind == "base_stock" else EchelonBaseStock)
