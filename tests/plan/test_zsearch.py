"""zsearch.grid_search: with ``settle = 0`` the bisection's grid point; with ``settle > 0`` a
point at or above it whose fill rate meets the target and exceeds the bisection's by at most
``settle`` — on random monotone fill-rate curves (the normal-loss shape and a stepped one)."""

from __future__ import annotations

import numpy as np
import pytest

from echelon.plan.zsearch import grid_search
from echelon.policies.normal import _pdf, _sf

TOL = 1e-6


def _curves(seed: int, stepped: bool):
    """Fill rates ``f(z)`` of 6 items × 9 stores: ``1 − c·G(z)^b`` (``stepped``: of z rounded
    down to a store's step, a whole-unit level), and their targets."""
    rng = np.random.default_rng(seed)
    shape = (6, 9)
    c = rng.uniform(0.2, 1.5, shape)
    b = rng.uniform(0.6, 1.6, shape)
    step = rng.uniform(0.05, 0.6, shape) if stepped else np.zeros(shape)
    target = rng.choice([0.8, 0.9, 0.95, 0.98, 0.99], shape)

    def fill(z: np.ndarray) -> np.ndarray:
        zz = np.where(step > 0, np.floor(z / np.where(step > 0, step, 1.0)) * step, z)
        return np.clip(1.0 - c * (_pdf(zz) - zz * _sf(zz)) ** b, 0.0, 1.0)

    return fill, target


def _bisect(fill, target, lo, hi, iterations):
    lo, hi = lo.copy(), hi.copy()
    for _ in range(iterations):
        act = hi - lo > TOL
        mid = (lo + hi) / 2
        good = fill(mid) >= target - 1e-12
        hi = np.where(act & good, mid, hi)
        lo = np.where(act & ~good, mid, lo)
    return hi


def _search(fill, target, settle: float, iterations: int = 10):
    lo, hi = np.zeros(target.shape), np.full(target.shape, 8.0)
    calls = []

    def fills(z: np.ndarray, rows: np.ndarray) -> np.ndarray:
        calls.append(len(rows))
        return fill(z)[rows]

    def meets(f: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return ~np.isnan(f) & (f >= target[rows] - 1e-12)

    z = grid_search(lo, hi, fill(lo), fill(hi), target, fills, meets, iterations, TOL, settle)
    return z, len(calls), sum(calls)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("stepped", [False, True])
def test_settle_zero_is_the_bisection(seed: int, stepped: bool) -> None:
    fill, target = _curves(seed, stepped)
    z, _, _ = _search(fill, target, 0.0)
    lo, hi = np.zeros(target.shape), np.full(target.shape, 8.0)
    assert np.array_equal(z, _bisect(fill, target, lo, hi, 10))


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("stepped", [False, True])
@pytest.mark.parametrize("settle", [5e-4, 2e-3, 1e-2])
def test_a_settled_store_meets_its_target_within_settle_of_the_bisection(
    seed: int, stepped: bool, settle: float
) -> None:
    fill, target = _curves(seed, stepped)
    exact, calls0, sims0 = _search(fill, target, 0.0)
    z, calls, sims = _search(fill, target, settle)
    assert np.all(z >= exact)  # the bisection's point lies in the settled bracket
    assert np.all(fill(z) >= target - 1e-12)
    assert np.all(fill(z) - fill(exact) <= settle + 1e-12)
    assert calls <= calls0 and sims <= sims0
    grid = np.isin(z, exact)  # where it did not settle early it is the very same float
    assert np.all(grid | (fill(z) - target <= settle))


def test_settling_saves_probes() -> None:
    fill, target = _curves(0, False)
    _, calls0, sims0 = _search(fill, target, 0.0)
    _, calls, sims = _search(fill, target, 2e-3)
    assert sims < sims0 and calls <= calls0
