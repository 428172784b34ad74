"""Derivative-free search on an integer lattice: Hooke–Jeeves pattern search with shrinking
steps, polling the coordinate directions and, optionally, pairs of coordinates.

The objective is a deterministic function of the integer vector ``x`` (a sample-average cost
under common random numbers, docs/simopt.md), so the search compares candidates exactly and
accepts a move only on **strict** improvement: the returned point is never worse than the
start on the search's draws.

Algorithm (Hooke & Jeeves 1961, on the lattice of generalized pattern search):

1. *Exploratory move* around the base point: for each coordinate i, try ``+step_i`` then
   ``-step_i`` (the sign that last succeeded first) and keep the first improvement.
2. If no coordinate improves and ``pairs`` are given, poll the pair directions
   ``(±step_i, ±step_j)`` (e.g. supplier/customer of a lane: move stock between them, or both
   up or down) — moves a coordinate search misses on ridges of coupled parameters.
3. On success, *pattern moves*: jump to ``y + (y − x)`` and explore there while it keeps
   improving.
4. On failure, halve every step (at least 1 grid unit); stop when a poll with all steps at 1
   fails (a local minimum of the lattice for this poll set) or ``exhausted()``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np


@dataclass
class SearchResult:
    """The best point found, its objective, and how the search ended.

    history: ``(objective calls so far, best value)`` after every improvement.
    """

    x: np.ndarray
    value: float
    converged: bool
    iterations: int
    calls: int
    history: list[tuple[int, float]] = field(default_factory=list)


def pattern_search(
    objective: Callable[[np.ndarray], float],
    x0: np.ndarray,
    step0: np.ndarray,
    lower: np.ndarray,
    *,
    pairs: Sequence[tuple[int, int]] = (),
    exhausted: Callable[[], bool] = lambda: False,
    max_iterations: int = 10_000,
) -> SearchResult:
    """Minimize ``objective`` over integer vectors ``x >= lower`` from ``x0`` (module doc).

    ``step0``: initial step per coordinate (grid units, >= 1). ``pairs``: coordinate pairs
    polled together when the coordinate poll fails. ``exhausted()`` is checked before every
    objective call that may be new (e.g. an evaluation budget).
    """
    lower = np.asarray(lower, dtype=np.int64)
    x = np.maximum(np.asarray(x0, dtype=np.int64), lower)
    step = np.maximum(1, np.asarray(step0, dtype=np.int64))
    n = x.size
    calls = 0

    def f(y: np.ndarray) -> float:
        nonlocal calls
        calls += 1
        return float(objective(y))

    fx = f(x)
    history = [(calls, fx)]
    sign = np.ones(n, dtype=np.int64)

    def explore(base: np.ndarray, fbase: float) -> tuple[np.ndarray, float]:
        y, fy = base.copy(), fbase
        for i in range(n):
            for s in (sign[i], -sign[i]):
                if exhausted():
                    return y, fy
                z = y.copy()
                z[i] = max(lower[i], z[i] + s * step[i])
                if z[i] == y[i]:
                    continue
                fz = f(z)
                if fz < fy:
                    y, fy, sign[i] = z, fz, s
                    break
        return y, fy

    def poll_pairs(base: np.ndarray, fbase: float) -> tuple[np.ndarray, float]:
        for i, j in pairs:
            for si, sj in ((1, -1), (-1, 1), (1, 1), (-1, -1)):
                if exhausted():
                    return base, fbase
                z = base.copy()
                z[i] = max(lower[i], z[i] + si * step[i])
                z[j] = max(lower[j], z[j] + sj * step[j])
                if z[i] == base[i] or z[j] == base[j]:
                    continue
                fz = f(z)
                if fz < fbase:
                    return z, fz
        return base, fbase

    converged = False
    iterations = 0
    while iterations < max_iterations and not exhausted():
        iterations += 1
        y, fy = explore(x, fx)
        if not fy < fx and pairs and not exhausted():
            y, fy = poll_pairs(x, fx)
        if fy < fx:
            while not exhausted():  # pattern moves while they pay
                p = np.maximum(lower, 2 * y - x)
                x, fx = y, fy
                history.append((calls, fx))
                if np.array_equal(p, x) or exhausted():
                    break
                z, fz = explore(p, f(p))
                if not fz < fx:
                    break
                y, fy = z, fz
            continue
        if np.all(step <= 1):
            converged = True
            break
        step = np.maximum(1, step // 2)
    return SearchResult(
        x=x, value=fx, converged=converged, iterations=iterations, calls=calls, history=history
    )
