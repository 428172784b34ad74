"""Network-wide safety-stock placement and policy optimization (GSM, Clark–Scarf,
simulation-optimization) and the single-echelon baseline they are compared with.

The command line and other front ends go through :mod:`echelon.optimize.service`.
"""

from echelon.optimize.clark_scarf import solve_clark_scarf
from echelon.optimize.gsm.solve import solve_gsm
from echelon.optimize.result import NodeDecision, OptimizationResult, OptimizeMethod
from echelon.optimize.simopt.solve import solve_simopt
from echelon.optimize.single_echelon import solve_single_echelon

__all__ = [
    "NodeDecision",
    "OptimizationResult",
    "OptimizeMethod",
    "solve_clark_scarf",
    "solve_gsm",
    "solve_simopt",
    "solve_single_echelon",
]
