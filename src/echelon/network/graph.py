"""Graph checks and graph quantities of a :class:`~echelon.network.model.Network`.

``validate_graph`` raises :class:`~echelon.errors.NetworkError` naming the node or lane at fault;
the other functions assume a validated network.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict

from echelon.errors import NetworkError
from echelon.network.model import Network, StockoutMode


def validate_graph(net: Network, source: str | None = None) -> None:
    """Check ids, lanes, acyclicity and supply paths; raise NetworkError on the first problem."""
    seen: dict[str, int] = {}
    for i, node in enumerate(net.nodes):
        if node.id in seen:
            raise NetworkError(
                "duplicate node id",
                source=source,
                where=f"node '{node.id}' (nodes[{i}])",
                field="id",
                expected="a unique id",
                found=f"the same id as nodes[{seen[node.id]}]",
                fix="rename one of the two nodes",
            )
        seen[node.id] = i
    pairs: dict[tuple[str, str], int] = {}
    for k, lane in enumerate(net.lanes):
        where = f"lane {lane.source} -> {lane.target} (lanes[{k}])"
        for end, field in ((lane.source, "from"), (lane.target, "to")):
            if end not in seen:
                raise NetworkError(
                    "unknown node id",
                    source=source,
                    where=where,
                    field=field,
                    expected="the id of a node listed under 'nodes'",
                    found=f"'{end}'",
                    fix="add the node or correct the id",
                )
        if lane.source == lane.target:
            raise NetworkError(
                "a lane cannot connect a node to itself",
                source=source,
                where=where,
                fix="remove the lane",
            )
        key = (lane.source, lane.target)
        if key in pairs:
            raise NetworkError(
                "duplicate lane",
                source=source,
                where=where,
                found=f"the same lane as lanes[{pairs[key]}]",
                fix="merge the two lanes into one (add their quantities)",
            )
        pairs[key] = k
    cycle = find_cycle(net)
    if cycle:
        raise NetworkError(
            "the network has a cycle",
            source=source,
            where="lanes",
            expected="a directed acyclic graph",
            found=" -> ".join([*cycle, cycle[0]]),
            fix="remove one lane of the cycle",
        )
    preds = predecessors(net)
    lost = {n.id for n in net.nodes if n.stockout is StockoutMode.LOST_SALES}
    for k, lane in enumerate(net.lanes):
        if lane.source in lost and len(preds[lane.target]) > 1:
            raise NetworkError(
                "a lost-sales node cannot supply an assembly node (a node with several inputs): "
                "its cancelled orders would leave unmatched input sets",
                source=source,
                where=f"lane {lane.source} -> {lane.target} (lanes[{k}])",
                field="stockout",
                found=f"'{lane.source}' is lost_sales and '{lane.target}' has "
                f"{len(preds[lane.target])} inputs",
                fix=f"set stockout: backorder on '{lane.source}'",
            )
    for i, node in enumerate(net.nodes):
        where = f"node '{node.id}' (nodes[{i}])"
        if not preds[node.id] and not node.external_supplier:
            what = "demand node" if node.is_demand_node else "node"
            raise NetworkError(
                f"{what} has no supply path: no lane leads to it and it has no external supplier",
                source=source,
                where=where,
                field="external_supplier",
                fix="add a lane into it, or set external_supplier: true",
            )
        if preds[node.id] and node.external_supplier:
            raise NetworkError(
                "a node with inbound lanes cannot also have an external supplier",
                source=source,
                where=where,
                field="external_supplier",
                found="true, with lanes from " + ", ".join(preds[node.id]),
                fix="remove external_supplier, or model the supplier as a node with a lane",
            )


def successors(net: Network) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {n.id: [] for n in net.nodes}
    for lane in net.lanes:
        out[lane.source].append(lane.target)
    return out


def predecessors(net: Network) -> dict[str, list[str]]:
    inc: dict[str, list[str]] = {n.id: [] for n in net.nodes}
    for lane in net.lanes:
        if lane.target in inc:
            inc[lane.target].append(lane.source)
    return inc


def find_cycle(net: Network) -> list[str] | None:
    """Return the node ids of one directed cycle, or None if the graph is acyclic."""
    succ = successors(net)
    for ids in succ.values():
        ids[:] = [i for i in ids if i in succ]
    white, grey, black = 0, 1, 2
    color = dict.fromkeys(succ, white)
    parent: dict[str, str] = {}
    for root in succ:
        if color[root] != white:
            continue
        stack = [(root, iter(succ[root]))]
        color[root] = grey
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                color[node] = black
                stack.pop()
            elif color[nxt] == grey:
                cycle = [nxt]
                cur = node
                while cur != nxt:
                    cycle.append(cur)
                    cur = parent[cur]
                return list(reversed(cycle))
            elif color[nxt] == white:
                parent[nxt] = node
                color[nxt] = grey
                stack.append((nxt, iter(succ[nxt])))
    return None


def topological_order(net: Network) -> list[str]:
    """Node ids, every supplier before its customers; ties keep file order (Kahn)."""
    indeg = {n.id: 0 for n in net.nodes}
    succ = successors(net)
    for lane in net.lanes:
        indeg[lane.target] += 1
    position = {n.id: i for i, n in enumerate(net.nodes)}
    ready = [(position[i], i) for i, d in indeg.items() if d == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, nid = heapq.heappop(ready)
        order.append(nid)
        for s in succ[nid]:
            indeg[s] -= 1
            if indeg[s] == 0:
                heapq.heappush(ready, (position[s], s))
    if len(order) != len(net.nodes):
        raise NetworkError("the network has a cycle", fix="remove one lane of the cycle")
    return order


def echelon_demand(net: Network) -> dict[str, tuple[float, float]]:
    """Mean and std of the demand each node must supply per period.

    Convention: the external demand at every demand node downstream (itself included) is
    multiplied by the units of this node's item it requires along the bill of materials (sum
    over paths of the product of lane quantities); means add, and variances add as if the
    demand nodes were independent (the same item counted once per demand node).
    """
    order = topological_order(net)
    out_lanes: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for lane in net.lanes:
        out_lanes[lane.source].append((lane.target, lane.quantity))
    # multiplier[j][k]: units of j per unit of demand at k
    multiplier: dict[str, dict[str, float]] = {}
    for nid in reversed(order):
        m: dict[str, float] = defaultdict(float)
        node = net.node(nid)
        if node.demand is not None:
            m[nid] += 1.0
        for tgt, qty in out_lanes[nid]:
            for k, v in multiplier[tgt].items():
                m[k] += qty * v
        multiplier[nid] = dict(m)
    result = {}
    for nid in order:
        mean = 0.0
        var = 0.0
        for k, v in multiplier[nid].items():
            d = net.node(k).demand
            assert d is not None
            mean += v * d.mean()
            var += (v * d.std()) ** 2
        result[nid] = (mean, math.sqrt(var))
    return result


def tiers(net: Network) -> dict[str, int]:
    """Tier of every node: 0 for nodes without outbound lanes (stores), else 1 + the highest
    tier among the nodes it supplies."""
    succ = successors(net)
    out: dict[str, int] = {}
    for nid in reversed(topological_order(net)):
        out[nid] = 1 + max((out[s] for s in succ[nid]), default=-1)
    return out
