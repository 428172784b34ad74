"""A GSM solution (integer service times per node) and its evaluation.

Given committed service times S (periods), the least inbound service time is
``SI_j = max(min_inbound_j, max_i S_i + d_ij)``; a node that commits to more than
``SI_j + T_j`` waits (its SI is raised to ``S_j − T_j``), so every S ≥ 0 within the bounds is
feasible and ``τ_j = max(0, SI_j + T_j − S_j)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from echelon.errors import NetworkError
from echelon.optimize.gsm.instance import Bounds, GSMInstance, IntArray


@dataclass
class GSMSolution:
    """Service times (periods), net replenishment times and the objective (money per period).

    ``lower_bound`` is a proven lower bound on the optimum (``None`` if none was computed);
    ``gap = (objective − lower_bound) / objective`` (0 when they differ by at most 1e-9).
    """

    committed: IntArray
    inbound: IntArray
    tau: IntArray
    objective: float
    method: str
    lower_bound: float | None = None
    status: str = "optimal"
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def gap(self) -> float | None:
        if self.lower_bound is None:
            return None
        if self.objective - self.lower_bound <= 1e-9:  # money per period: nothing left to prove
            return 0.0
        return max(0.0, (self.objective - self.lower_bound) / self.objective)


def inbound_times(inst: GSMInstance, committed: IntArray) -> IntArray:
    """Least feasible SI per node given S (without the wait rule)."""
    si = inst.min_inbound.copy()
    if len(inst.arc_src):
        np.maximum.at(si, inst.arc_dst, committed[inst.arc_src] + inst.arc_delay)
    return si


def evaluate(inst: GSMInstance, committed: IntArray) -> tuple[IntArray, IntArray, float]:
    """(SI, τ, objective) of committed service times S (see the module doc)."""
    s = np.asarray(committed, dtype=np.int64)
    si = np.maximum(inbound_times(inst, s), s - inst.processing_time)
    tau = si + inst.processing_time - s
    return si, tau, float(np.sum(inst.stage_cost(tau)))


def make_solution(
    inst: GSMInstance,
    committed: IntArray,
    method: str,
    *,
    lower_bound: float | None = None,
    status: str = "optimal",
    details: dict[str, Any] | None = None,
) -> GSMSolution:
    """Evaluate S and wrap it (objective recomputed from S, never taken from a solver)."""
    s = np.asarray(committed, dtype=np.int64)
    check_bounds(inst, s)
    si, tau, obj = evaluate(inst, s)
    if lower_bound is not None:
        lower_bound = min(lower_bound, obj)
    return GSMSolution(s, si, tau, obj, method, lower_bound, status, details or {})


def start_point(inst: GSMInstance, b: Bounds, start: IntArray | None) -> tuple[IntArray, float]:
    """The incumbent an exact search starts from: ``start`` (else the least S) clipped to the
    bounds, and its cost."""
    s = np.clip(start if start is not None else b.s_lo, b.s_lo, b.s_hi).astype(np.int64)
    return s, evaluate(inst, s)[2]


def settle(sol: GSMSolution) -> GSMSolution:
    """Mark ``sol`` optimal when its proven gap is nil (≤ 1e-9), whatever stopped the solver."""
    if sol.gap is not None and sol.gap <= 1e-9:
        sol.status = "optimal"
    return sol


def check_bounds(inst: GSMInstance, committed: IntArray) -> None:
    """Raise NetworkError if some S_j is negative or above its bound."""
    bad = np.flatnonzero((committed < 0) | (committed > inst.max_service + 1e-9))
    if bad.size:
        j = int(bad[0])
        cap = inst.max_service[j]
        raise NetworkError(
            "committed service time outside its bounds",
            source=inst.name,
            where=f"node '{inst.ids[j]}'",
            field="committed_service_time",
            expected=f"an integer in [0, {cap:g}]" if math.isfinite(cap) else "an integer >= 0",
            found=str(int(committed[j])),
            fix="use a service time within the node's max_service_time",
        )
