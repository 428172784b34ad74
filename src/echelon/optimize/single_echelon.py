"""The single-echelon baseline as an optimization result.

Every node sets its own installation base-stock level ``μL + z·σ_LTD`` for its own service
target from its own replenishment lead time and the demand it serves, ignoring the rest of the
network (:func:`echelon.policies.heuristics.single_echelon_levels`). This is the practice
multi-echelon optimization replaces; echelon always reports it beside the optimized policy.

``objective`` = Σ_j h_j · max(0, safety stock_j): the safety-stock holding cost per period,
the quantity the guaranteed-service model minimizes, so the two can be read side by side.
``net_replenishment_time`` is the mean exposure ``max(1, ⌈L⌉)`` the node plans for (periods).
"""

from __future__ import annotations

import time

from echelon.network.model import Network
from echelon.optimize.result import NodeDecision, OptimizationResult, OptimizeMethod
from echelon.policies.heuristics import single_echelon_base_stock, single_echelon_levels


def solve_single_echelon(net: Network, default_target: float = 0.95) -> OptimizationResult:
    """Single-echelon base-stock levels for every node, with their safety-stock cost."""
    start = time.perf_counter()
    levels = single_echelon_levels(net, default_target)
    nodes: dict[str, NodeDecision] = {}
    total = 0.0
    for node in net.nodes:
        lv = levels[node.id]
        safety = max(0.0, lv.level - lv.ltd_mean)
        cost = node.holding_cost * safety
        total += cost
        nodes[node.id] = NodeDecision(
            node=node.id,
            committed_service_time=0.0,
            net_replenishment_time=lv.exposure,
            safety_stock=round(safety, 6),
            base_stock_level=lv.level,
            safety_stock_cost=cost,
            extra={"z": lv.z, "service_target": lv.target},
        )
    return OptimizationResult(
        method=OptimizeMethod.SINGLE_ECHELON,
        objective=total,
        objective_definition="safety-stock holding cost per period, sum of h_j * SS_j",
        seconds=time.perf_counter() - start,
        nodes=nodes,
        policy=single_echelon_base_stock(net, default_target),
        gap=None,
        status="heuristic",
        details={"default_target": default_target},
    )
