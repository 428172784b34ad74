"""Per-node decisions of a simopt result, with both views of base-stock levels.

A base-stock result reports, per node j, the installation level ``l_j`` and the echelon level
``E_j = l_j + Σ_{j→k} a_jk·E_k`` (a_jk: units of j per unit of k on the lane; the echelon of j
is j and everything downstream of it), whichever kind was searched; the other is derived:
``l_j = max(0, E_j − Σ_{j→k} a_jk·E_k)``. Units: units of each node's item. Under base-stock
control with orders every period the two policies are equivalent when every ``E_j ≥ Σ a·E_k``
(then no clipping at 0 happens); when a clip happens the installation view is the nearest
installation policy, not an exact equivalent.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from echelon.network.model import Network
from echelon.optimize.result import NodeDecision
from echelon.optimize.simopt.evaluator import PolicySpace
from echelon.optimize.simopt.space import _echelon_to_local, _local_to_echelon
from echelon.policies.model import PolicyKind
from echelon.sim.results import SimulationResult


def level_metadata(nodes: dict[str, NodeDecision]) -> dict[str, Any]:
    """Both views of base-stock levels for the policy file (units of each node's item)."""
    out: dict[str, Any] = {}
    if all(d.base_stock_level is not None for d in nodes.values()):
        out["installation_levels"] = {k: d.base_stock_level for k, d in nodes.items()}
    if all(d.echelon_base_stock is not None for d in nodes.values()):
        out["echelon_levels"] = {k: d.echelon_base_stock for k, d in nodes.items()}
    return out


def decisions(
    net: Network, space: PolicySpace, x: np.ndarray, sim: SimulationResult
) -> dict[str, NodeDecision]:
    """Per-node decisions; a base-stock result carries installation and echelon levels."""
    kinds = {c.node: c.kind for c in space.coords}
    params = space.node_params(x)
    base = {nid: p["level"] for nid, p in params.items() if kinds[nid] is PolicyKind.BASE_STOCK}
    ech = {n: p["level"] for n, p in params.items() if kinds[n] is PolicyKind.ECHELON_BASE_STOCK}
    as_ech = _local_to_echelon(net, base) if len(base) == len(params) else {}
    as_local = _echelon_to_local(net, ech) if len(ech) == len(params) else {}
    as_ech = {k: round(v, 9) for k, v in as_ech.items()}
    as_local = {k: round(v, 9) for k, v in as_local.items()}
    out = {}
    for nid, p in params.items():
        kpi = sim.node(nid)
        extra: dict[str, Any] = {
            "policy_kind": str(kinds[nid]),
            "avg_on_hand": kpi.avg_on_hand.mean,
            "fill_rate": kpi.fill_rate.mean,
            "cost_per_period": kpi.cost_per_period.mean,
        }
        d = NodeDecision(node=nid, extra=extra)
        if kinds[nid] is PolicyKind.BASE_STOCK:
            d.base_stock_level = p["level"]
            d.echelon_base_stock = as_ech.get(nid)
        elif kinds[nid] is PolicyKind.ECHELON_BASE_STOCK:
            d.echelon_base_stock = p["level"]
            d.base_stock_level = as_local.get(nid)
        else:
            extra.update(p)
        out[nid] = d
    return out
