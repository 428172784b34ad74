"""The common result of every optimization method (GSM, Clark–Scarf, simulation-optimization,
single-echelon): per-node decisions, the objective, the proven gap and the policy it implies.

Units: service and replenishment times in periods; safety stock and base-stock levels in units;
``objective`` in money per period (the method's own expected-cost definition, stated in
``objective_definition``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from echelon.policies.model import PolicySet


class OptimizeMethod(StrEnum):
    GSM = "gsm"
    CLARK_SCARF = "clark-scarf"
    SIMOPT = "simopt"
    SINGLE_ECHELON = "single-echelon"


@dataclass
class NodeDecision:
    """What a method decided for one node (fields a method does not set stay ``None``)."""

    node: str
    committed_service_time: float | None = None
    inbound_service_time: float | None = None
    net_replenishment_time: float | None = None
    safety_stock: float | None = None
    base_stock_level: float | None = None
    echelon_base_stock: float | None = None
    safety_stock_cost: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "committed_service_time": self.committed_service_time,
            "inbound_service_time": self.inbound_service_time,
            "net_replenishment_time": self.net_replenishment_time,
            "safety_stock": self.safety_stock,
            "base_stock_level": self.base_stock_level,
            "echelon_base_stock": self.echelon_base_stock,
            "safety_stock_cost": self.safety_stock_cost,
        }
        out.update(self.extra)
        return {k: _clean(v) for k, v in out.items()}


@dataclass
class OptimizationResult:
    """A method's answer. ``gap`` is the proven relative optimality gap (0 for an exact method,
    ``None`` where the method proves none, e.g. simulation-optimization)."""

    method: OptimizeMethod
    objective: float
    objective_definition: str
    seconds: float
    nodes: dict[str, NodeDecision]
    policy: PolicySet
    gap: float | None = None
    status: str = "optimal"
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": str(self.method),
            "objective": _clean(self.objective),
            "objective_definition": self.objective_definition,
            "gap": _clean(self.gap),
            "status": self.status,
            "seconds": round(self.seconds, 6),
            "nodes": {nid: d.to_dict() for nid, d in self.nodes.items()},
            "details": {k: _clean(v) for k, v in self.details.items()},
        }


def _clean(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x
