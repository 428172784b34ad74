"""Build a :class:`GSMInstance` from a stockpyl ``SupplyChainNetwork`` (duck-typed: stockpyl is
not imported), to compare with stockpyl's GSM tree solver on the same data.

stockpyl's conventions carried over: ``processing_time`` T, ``holding_cost`` h,
``demand_bound_constant`` z (default: a sink's constant, else 1), net demand = the sum of the
external demand means and variances of the node and everything downstream,
``external_inbound_cst`` (least SI, default 0) and ``external_outbound_cst`` (bound on S).
"""

from __future__ import annotations

import math
from typing import Any

from echelon.optimize.gsm.instance import GSMInstance


def instance_from_stockpyl(network: Any, name: str = "stockpyl") -> GSMInstance:
    """Convert a stockpyl GSM network (tree or not) to a GSMInstance (node ids = str(index))."""
    nodes = list(network.nodes)
    pos = {k.index: i for i, k in enumerate(nodes)}
    arcs = [(pos[p], pos[k.index]) for k in nodes for p in k.predecessor_indices()]
    succ: dict[int, list[int]] = {i: [] for i in range(len(nodes))}
    for a, b in arcs:
        succ[a].append(b)
    own_mean = [_demand(k, "mean") for k in nodes]
    own_var = [_demand(k, "standard_deviation") ** 2 for k in nodes]
    reach: dict[int, set[int]] = {}

    def below(i: int) -> set[int]:
        if i not in reach:
            out = {i}
            for j in succ[i]:
                out |= below(j)
            reach[i] = out
        return reach[i]

    sink_z = [k.demand_bound_constant for k in network.sink_nodes]
    sink_z = [v for v in sink_z if v is not None]
    default_z = sink_z[0] if sink_z else 1.0
    return GSMInstance.from_arrays(
        ids=[str(k.index) for k in nodes],
        processing_time=[int(k.processing_time or 0) for k in nodes],
        holding_cost=[float(k.holding_cost or 0.0) for k in nodes],
        z=[float(k.demand_bound_constant or default_z) for k in nodes],
        sigma=[math.sqrt(sum(own_var[j] for j in below(i))) for i in range(len(nodes))],
        mean=[sum(own_mean[j] for j in below(i)) for i in range(len(nodes))],
        arcs=arcs,
        max_service=[k.external_outbound_cst for k in nodes],
        min_inbound=[int(k.external_inbound_cst or 0) for k in nodes],
        is_demand=[k.demand_source is not None and _demand(k, "mean") > 0 for k in nodes],
        name=name,
    )


def _demand(node: Any, attr: str) -> float:
    src = getattr(node, "demand_source", None)
    value = getattr(src, attr, None) if src is not None else None
    return float(value) if value is not None else 0.0
