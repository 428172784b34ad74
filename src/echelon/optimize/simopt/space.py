"""The search space of simulation-optimization: start policy, coordinates, grids, first steps.

Conventions (units of the node's item):

- grid: 1 unit when every external demand is integer-valued (Poisson, negative binomial,
  integer constant or empirical values), else 0.01 unit; an (r, Q) order quantity uses the
  node's ``lot_multiple`` as its grid when it has one;
- lower bounds: levels, reorder points and the spread ``S − s`` are at least 0; ``Q`` at least
  one grid unit;
- start: the given policy (converted between installation and echelon base-stock if ``kind``
  asks), else the single-echelon base-stock levels ``l_j`` (``single_echelon_base_stock``),
  turned into echelon levels ``E_j = l_j + Σ_{j→k} a·E_k``, or into ``s = r = max(0, l_j − μ_j)``
  and ``S − s = Q = max(EOQ_j, μ_j, MOQ_j, lot_j)`` with ``EOQ = √(2Kμ/h)``
  (μ_j: mean demand per period the node supplies);
- first step of a coordinate: ``max(σ_j·√L_j, μ_j / 4)`` for levels and reorder points
  (σ_j: std of the demand the node supplies, L_j: its lead time, at least 1), half the start
  value for ``S − s`` and ``Q``; at least one grid unit.
"""

from __future__ import annotations

import math

import numpy as np

from echelon.errors import PolicyError
from echelon.network.distributions import (
    ConstantDemand,
    EmpiricalDemand,
    NegativeBinomialDemand,
    PoissonDemand,
)
from echelon.network.graph import echelon_demand, topological_order
from echelon.network.model import Network
from echelon.optimize.simopt.evaluator import (
    LEVEL,
    QUANTITY,
    REORDER,
    SPREAD,
    Coordinate,
    PolicySpace,
)
from echelon.policies.heuristics import replenishment_lead_time, single_echelon_base_stock
from echelon.policies.io import check_policy
from echelon.policies.model import RQ, SS, BaseStock, EchelonBaseStock, PolicyKind, PolicySet


def default_grid(net: Network) -> float:
    """1 unit if every external demand is integer-valued, else 0.01 unit."""
    for node in net.nodes:
        d = node.demand
        if d is None or isinstance(d, PoissonDemand | NegativeBinomialDemand):
            continue
        if isinstance(d, ConstantDemand) and float(d.value).is_integer():
            continue
        if isinstance(d, EmpiricalDemand) and all(float(v).is_integer() for v in d.values):
            continue
        return 0.01
    return 1.0


def _order_qty(net: Network, node_id: str, mean: float) -> float:
    node = net.node(node_id)
    q = mean
    if node.fixed_order_cost > 0 and node.holding_cost > 0 and mean > 0:
        q = max(q, math.sqrt(2 * node.fixed_order_cost * mean / node.holding_cost))
    q = max(q, node.min_order_qty, node.lot_multiple, 1e-6)
    if node.capacity is not None:
        q = min(q, node.capacity)
    return q


def _local_to_echelon(net: Network, local: dict[str, float]) -> dict[str, float]:
    ech: dict[str, float] = {}
    for nid in reversed(topological_order(net)):
        down = sum(ln.quantity * ech[ln.target] for ln in net.lanes if ln.source == nid)
        ech[nid] = local[nid] + down
    return ech


def _echelon_to_local(net: Network, ech: dict[str, float]) -> dict[str, float]:
    out = {}
    for nid in net.node_ids():
        down = sum(ln.quantity * ech[ln.target] for ln in net.lanes if ln.source == nid)
        out[nid] = max(0.0, ech[nid] - down)
    return out


def start_policy(net: Network, start: PolicySet | None, kind: PolicyKind | None) -> PolicySet:
    """The policy the search starts from (module docstring), with every node of kind ``kind``
    (or the start's own kinds when ``kind`` is None)."""
    if start is not None:
        check_policy(start, net)
        if kind is None:
            return start
        pols = start.policies
        if all(p.kind is kind for p in pols.values()):
            return start
        if all(isinstance(p, BaseStock) for p in pols.values()):
            levels = {nid: p.level for nid, p in pols.items() if isinstance(p, BaseStock)}
        elif all(isinstance(p, EchelonBaseStock) for p in pols.values()):
            ech = {nid: p.level for nid, p in pols.items() if isinstance(p, EchelonBaseStock)}
            levels = _echelon_to_local(net, ech)
        else:
            kinds = sorted({str(p.kind) for p in pols.values()})
            raise PolicyError(
                f"cannot convert a start policy of kinds {kinds} to '{kind}'",
                field="start",
                fix="give an installation or echelon base-stock start policy, or pass kind=None",
            )
    else:
        kind = kind or PolicyKind.BASE_STOCK
        se = single_echelon_base_stock(net)
        levels = {nid: p.level for nid, p in se.policies.items() if isinstance(p, BaseStock)}
    flows = echelon_demand(net)
    policies: dict[str, BaseStock | EchelonBaseStock | SS | RQ] = {}
    if kind is PolicyKind.BASE_STOCK:
        policies = {nid: BaseStock(level=v) for nid, v in levels.items()}
    elif kind is PolicyKind.ECHELON_BASE_STOCK:
        ech = _local_to_echelon(net, levels)
        policies = {nid: EchelonBaseStock(level=v) for nid, v in ech.items()}
    else:
        for nid, level in levels.items():
            mean = flows[nid][0]
            reorder = max(0.0, level - mean)
            q = _order_qty(net, nid, mean)
            policies[nid] = (
                SS(s=reorder, S=reorder + q) if kind is PolicyKind.S_S else RQ(r=reorder, Q=q)
            )
    return PolicySet(network=net.name, method="simopt-start", policies=policies)


def build_space(net: Network, policy: PolicySet, grid: float | None = None) -> PolicySpace:
    """Coordinates for every node of ``policy`` (nodes in network order)."""
    g = default_grid(net) if grid is None else grid
    coords: list[Coordinate] = []
    for nid in net.node_ids():
        p = policy.policies[nid]
        if isinstance(p, SS):
            coords += [
                Coordinate(nid, p.kind, REORDER, g, 0),
                Coordinate(nid, p.kind, SPREAD, g, 0),
            ]
        elif isinstance(p, RQ):
            lot = net.node(nid).lot_multiple
            qg = lot if lot > 0 else g
            coords += [
                Coordinate(nid, p.kind, REORDER, g, 0),
                Coordinate(nid, p.kind, QUANTITY, qg, 1),
            ]
        else:
            coords.append(Coordinate(nid, p.kind, LEVEL, g, 0))
    return PolicySpace(coords)


def initial_steps(net: Network, space: PolicySpace, k0: np.ndarray) -> np.ndarray:
    """First step of every coordinate, grid units (module docstring)."""
    flows = echelon_demand(net)
    steps = np.ones(len(space), dtype=np.int64)
    values = space.values(k0)
    for i, c in enumerate(space.coords):
        mean, sd = flows[c.node]
        if c.name in (LEVEL, REORDER):
            lt = max(1.0, replenishment_lead_time(net, c.node)[0])
            scale = max(sd * math.sqrt(lt), mean / 4)
        else:
            scale = values[i] / 2
        steps[i] = max(1, round(scale / c.grid))
    return steps


def lane_pairs(net: Network, space: PolicySpace) -> list[tuple[int, int]]:
    """Coordinate pairs (level or reorder point) of the supplier and customer of every lane."""
    first = {}
    for i, c in enumerate(space.coords):
        if c.name in (LEVEL, REORDER) and c.node not in first:
            first[c.node] = i
    return [
        (first[ln.source], first[ln.target])
        for ln in net.lanes
        if ln.source in first and ln.target in first
    ]
