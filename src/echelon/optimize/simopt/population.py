"""Population-based searches on the integer lattice of simopt: CMA-ES and a genetic algorithm.

Both minimize the same deterministic sample-average objective as the pattern search
(``search.py``: common random numbers, results cached by parameter vector) under the same
evaluation budget (``exhausted()``, checked before every objective call that may be new), and
return a :class:`SearchResult`. The start point is evaluated first and a point replaces the
incumbent only on strict improvement, so the result is never worse than the start on the
search draws.

Coordinates are scaled by the first steps of the pattern search (``step0``, grid units:
``max(σ·√L, μ/4)`` for levels), i.e. the search runs on ``y = (x − x0) / step0`` and every
candidate is rounded to the lattice: ``x = max(lower, round(x0 + step0·y))``.

- **CMA-ES** (``cma`` package, Hansen's covariance matrix adaptation): initial step 1 in the
  scaled units, the lattice's lower bounds as box bounds, a minimum std of 0.3 grid units per
  coordinate (rounding would otherwise flatten the landscape and stall the adaptation), and
  restarts from the incumbent with a doubled population (IPOP) while budget is left. A
  one-parameter problem gets a second, ignored coordinate (the ``cma`` package needs two).
- **Genetic algorithm** (DEAP's operators): a population of ``max(16, min(60, 4n))`` around
  the start (Gaussian, one step), tournament selection (size 3), uniform crossover
  (probability 0.7, genes swapped with probability 0.5), Gaussian mutation of each gene with
  probability ``max(1/n, 0.1)`` and a standard deviation of one step that shrinks by a factor
  0.85 per generation without improvement (down to half a grid unit), elitism (the two best
  survive unchanged); it stops after 30 generations without improvement.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

import numpy as np
from deap import base, tools

from echelon.optimize.simopt.search import SearchResult


class _Objective:
    """Rounding to the lattice, call counting and the incumbent (strict improvement only)."""

    def __init__(
        self,
        objective: Callable[[np.ndarray], float],
        x0: np.ndarray,
        step0: np.ndarray,
        lower: np.ndarray,
    ) -> None:
        self.objective = objective
        self.lower = np.asarray(lower, np.int64)
        self.x0 = np.maximum(np.asarray(x0, np.int64), self.lower)
        self.step = np.maximum(1, np.asarray(step0, np.int64)).astype(float)
        self.calls = 0
        self.best_x = self.x0.copy()
        self.best = self.raw(self.x0)
        self.history: list[tuple[int, float]] = [(self.calls, self.best)]

    def to_lattice(self, y: np.ndarray) -> np.ndarray:
        x = np.rint(self.x0 + self.step * np.asarray(y, float)).astype(np.int64)
        return np.maximum(x, self.lower)

    def raw(self, x: np.ndarray) -> float:
        self.calls += 1
        return float(self.objective(x))

    def __call__(self, x: np.ndarray) -> float:
        value = self.raw(x)
        if value < self.best:
            self.best, self.best_x = value, x.copy()
            self.history.append((self.calls, value))
        return value

    def result(self, converged: bool, iterations: int) -> SearchResult:
        return SearchResult(
            x=self.best_x,
            value=self.best,
            converged=converged,
            iterations=iterations,
            calls=self.calls,
            history=self.history,
        )


def cma_search(
    objective: Callable[[np.ndarray], float],
    x0: np.ndarray,
    step0: np.ndarray,
    lower: np.ndarray,
    *,
    exhausted: Callable[[], bool] = lambda: False,
    seed: int = 0,
    max_restarts: int = 6,
    max_calls: int = 100_000,
) -> SearchResult:
    """CMA-ES with IPOP restarts on the lattice (module doc); ``seed`` fixes its sampling."""
    f = _Objective(objective, x0, step0, lower)
    n = f.x0.size
    lb = (f.lower - f.x0) / f.step
    pad = n == 1  # the cma package needs two dimensions: a dummy one, ignored, is added
    if pad:
        lb = np.append(lb, -np.inf)
    popsize = 4 + int(3 * math.log(max(n, 1)))
    iterations = 0
    converged = False
    for restart in range(max_restarts + 1):
        if exhausted() or f.calls >= max_calls:
            break
        start = (f.best_x - f.x0) / f.step
        minstd = 0.3 / f.step
        if pad:
            start, minstd = np.append(start, 0.0), np.append(minstd, 0.0)
        opts = {
            "seed": 1 + seed * 1000 + restart,  # cma treats seed 0 as "random"
            "popsize": popsize,
            "bounds": [lb.tolist(), None],
            "minstd": minstd.tolist(),
            "verbose": -9,
            "verb_log": 0,
            "verb_disp": 0,
            "tolflatfitness": 10,
        }
        es = _cma().CMAEvolutionStrategy(start.tolist(), 1.0 if restart == 0 else 0.5, opts)
        while not es.stop() and not exhausted() and f.calls < max_calls:
            iterations += 1
            ys = es.ask()
            values = []
            for y in ys:
                if exhausted():
                    break
                values.append(f(f.to_lattice(y[:n])))
            if len(values) < len(ys):
                break
            es.tell(ys, values)
        if not exhausted() and es.stop():
            converged = True
        popsize *= 2
    return f.result(converged and not exhausted(), iterations)


def _cma() -> Any:
    """The ``cma`` package, imported on first use: it imports matplotlib (about a second),
    which no other command should pay for."""
    import cma

    return cma


class _Fitness(base.Fitness):
    weights = (-1.0,)


class _Individual(list[int]):
    def __init__(self, values: list[int]) -> None:
        super().__init__(values)
        self.fitness = _Fitness()


def ga_search(
    objective: Callable[[np.ndarray], float],
    x0: np.ndarray,
    step0: np.ndarray,
    lower: np.ndarray,
    *,
    exhausted: Callable[[], bool] = lambda: False,
    seed: int = 0,
    max_generations: int = 10_000,
) -> SearchResult:
    """A generational GA with elitism on the lattice (module doc); ``seed`` fixes it."""
    f = _Objective(objective, x0, step0, lower)
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    n = f.x0.size
    size = max(16, min(60, 4 * n))
    p_gene = max(1.0 / n, 0.1)
    scale = 1.0

    def individual(x: np.ndarray) -> _Individual:
        return _Individual([int(v) for v in x])

    def evaluate(ind: _Individual) -> bool:
        if exhausted():
            return False
        ind.fitness.values = (f(np.asarray(ind, np.int64)),)
        return True

    pop = [individual(f.x0)]
    pop[0].fitness.values = (f.best,)
    while len(pop) < size:
        pop.append(individual(f.to_lattice(nrng.normal(0.0, 1.0, n))))
    alive = all(evaluate(ind) for ind in pop[1:])
    pop = [ind for ind in pop if ind.fitness.valid]
    generation = 0
    stale = 0
    converged = False
    while alive and generation < max_generations and len(pop) >= 2:
        if stale >= 30:  # thirty generations without improvement
            converged = True
            break
        generation += 1
        elite = [individual(np.asarray(ind)) for ind in tools.selBest(pop, 2)]
        for e, src in zip(elite, tools.selBest(pop, 2), strict=True):
            e.fitness.values = src.fitness.values
        parents = [individual(np.asarray(ind)) for ind in tools.selTournament(pop, size, 3)]
        for a, b in zip(parents[::2], parents[1::2], strict=False):
            if rng.random() < 0.7:
                tools.cxUniform(a, b, 0.5)
        children = []
        for ind in parents[: size - len(elite)]:
            y = np.asarray(ind, float)
            mask = nrng.random(n) < p_gene
            y[mask] += nrng.normal(0.0, 1.0, int(mask.sum())) * f.step[mask] * scale
            x = np.maximum(np.rint(y).astype(np.int64), f.lower)
            children.append(individual(x))
        before = f.best
        for child in children:
            if not evaluate(child):
                alive = False
                break
        pop = elite + [c for c in children if c.fitness.valid]
        if f.best < before:
            stale = 0
        else:
            stale += 1
            scale = max(scale * 0.85, float(np.min(0.5 / f.step)))
    return f.result(converged, generation)
