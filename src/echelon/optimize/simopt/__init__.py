"""Simulation-optimization of inventory policies on the batch simulator, with common random
numbers (docs/simopt.md)."""

from echelon.optimize.simopt.evaluator import CRNEvaluator, Evaluation, PolicySpace
from echelon.optimize.simopt.population import cma_search, ga_search
from echelon.optimize.simopt.search import SearchResult, pattern_search
from echelon.optimize.simopt.solve import (
    BudgetInfeasibleError,
    Objective,
    SearchMethod,
    ServiceConstraint,
    solve_simopt,
)

__all__ = [
    "BudgetInfeasibleError",
    "CRNEvaluator",
    "Evaluation",
    "Objective",
    "PolicySpace",
    "SearchMethod",
    "SearchResult",
    "ServiceConstraint",
    "cma_search",
    "ga_search",
    "pattern_search",
    "solve_simopt",
]
