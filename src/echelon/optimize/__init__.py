"""Network-wide safety-stock placement and policy optimization (GSM, Clark–Scarf,
simulation-optimization) and the single-echelon baseline they are compared with.

The command line and other front ends go through :mod:`echelon.optimize.service`. The names
below are imported on first use (PEP 562), so that importing one submodule (e.g. the ABC/XYZ
segments the planner needs) does not import every solver and its libraries.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from echelon.optimize.clark_scarf import solve_clark_scarf
    from echelon.optimize.gsm.solve import solve_gsm
    from echelon.optimize.result import NodeDecision, OptimizationResult, OptimizeMethod
    from echelon.optimize.simopt.solve import solve_simopt
    from echelon.optimize.single_echelon import solve_single_echelon

_HOMES = {
    "solve_clark_scarf": "echelon.optimize.clark_scarf",
    "solve_gsm": "echelon.optimize.gsm.solve",
    "NodeDecision": "echelon.optimize.result",
    "OptimizationResult": "echelon.optimize.result",
    "OptimizeMethod": "echelon.optimize.result",
    "solve_simopt": "echelon.optimize.simopt.solve",
    "solve_single_echelon": "echelon.optimize.single_echelon",
}

__all__ = [
    "NodeDecision",
    "OptimizationResult",
    "OptimizeMethod",
    "solve_clark_scarf",
    "solve_gsm",
    "solve_simopt",
    "solve_single_echelon",
]


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'echelon.optimize' has no attribute {name!r}")
