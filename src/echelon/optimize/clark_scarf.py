"""Clark–Scarf / Chen–Zheng optimal echelon base-stock levels of a serial :class:`Network`.

The network must be a chain: one node with an external supplier at the top, lanes with
``quantity: 1``, one demand node at the bottom (normal, Poisson, negative-binomial or
integer-valued empirical demand), backorders, ``penalty_cost > 0`` at the demand node,
deterministic whole-period lead times, no order rules (capacity, MOQ, lot multiple, fixed order
cost) and local holding costs that do not decrease downstream (echelon holding costs >= 0).

Mapping to the textbook model (:mod:`echelon.optimize.clark_scarf_core`, Snyder & Shen §6.2):
stage 1 is the demand node; the lead time L_j of a node is the lead time of its inbound lane
(``Network.lane_lead_time``), or the node's own ``lead_time`` at the top (external supplier).
Under docs/model.md an order with lead time L >= 1 arrives at the start of period t + L, before
demand: exactly Snyder & Shen's L (Example 6.1: stage 1, 2, 3 have L = 1, 1, 2). An order with
lead time 0 arrives at the end of the same period, i.e. in time for the next period's demand, so
the dynamics are those of L = 1; only the cost count differs: the shipment is on hand at j
(charged h_j) instead of in transit from j + 1 (charged h_{j+1}; the external supplier's pipeline
is free). Such a stage is solved with L = 1 and its objective gets the constant
``(h_j − h_{j+1})·E[D]`` per period (the echelon holding cost times the mean flow).

Normal demand is modelled truncated at 0, as the simulator draws it. The result's policy gives
every node an ``echelon_base_stock`` level (method ``clark-scarf``) that the simulator reads.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
from scipy import stats

from echelon.errors import NetworkError
from echelon.network.distributions import (
    DeterministicLeadTime,
    EmpiricalDemand,
    NegativeBinomialDemand,
    NormalDemand,
    PoissonDemand,
)
from echelon.network.graph import predecessors, successors, validate_graph
from echelon.network.model import Network, Node, StockoutMode
from echelon.optimize import clark_scarf_core as core
from echelon.optimize.result import NodeDecision, OptimizationResult, OptimizeMethod
from echelon.policies.model import EchelonBaseStock, PolicySet

_OTHER_METHODS = "use --method gsm or simopt for this network"

OBJECTIVE_DEFINITION = (
    "long-run expected cost per period of the echelon base-stock policy under docs/model.md: "
    "holding on hand (h_j per unit per period) + pipeline holding (units in transit at the "
    "shipping node's h) + backorder penalty at the demand node (p per unit per period); "
    "Chen–Zheng recursion on a grid"
)


def _where(net: Network, node: Node) -> str:
    return f"node '{node.id}' (nodes[{net.node_ids().index(node.id)}])"


def _demand_model(net: Network, node: Node, tail: float) -> core.Demand:
    d = node.demand
    if isinstance(d, NormalDemand):
        if d.std() <= 0:
            raise NetworkError(
                "Clark–Scarf needs random demand",
                where=_where(net, node),
                field="demand.std",
                expected="> 0",
                found="0",
                fix="give the demand a positive std",
            )
        return core.Normal(d.mean(), d.std(), truncate_at_zero=True)
    if isinstance(d, PoissonDemand):
        return core.Poisson(d.mean())
    if isinstance(d, NegativeBinomialDemand):
        n, p = d.numpy_params()
        hi = int(stats.nbinom.isf(tail, n, p)) + 1
        return core.Discrete(tuple(stats.nbinom.pmf(np.arange(hi + 1), n, p)))
    if isinstance(d, EmpiricalDemand) and all(float(v).is_integer() for v in d.values):
        pmf = np.zeros(int(max(d.values)) + 1)
        np.add.at(pmf, np.asarray(d.values, dtype=int), d.weights())
        return core.Discrete(tuple(pmf))
    kind = getattr(d, "kind", None)
    raise NetworkError(
        "Clark–Scarf supports normal, Poisson, negative-binomial and integer empirical demand",
        where=_where(net, node),
        field="demand",
        expected="kind normal, poisson, negative_binomial or empirical with whole values",
        found=f"kind {kind}",
        fix=_OTHER_METHODS,
    )


def serial_chain(net: Network) -> tuple[list[Node], list[int]]:
    """The nodes of a serial network from the demand node up (stage 1 first) and their lead
    times in whole periods (as the network gives them). Raises NetworkError naming the node or
    lane that makes the network unfit for Clark–Scarf."""
    validate_graph(net)
    preds, succs = predecessors(net), successors(net)
    demand_nodes = [n for n in net.nodes if n.demand is not None]
    if len(demand_nodes) != 1:
        raise NetworkError(
            "Clark–Scarf needs a serial network with exactly one demand node",
            where="nodes",
            field="demand",
            expected="1 demand node",
            found=f"{len(demand_nodes)}: " + ", ".join(n.id for n in demand_nodes),
            fix=_OTHER_METHODS,
        )
    chain: list[Node] = []
    lead: list[int] = []
    node = demand_nodes[0]
    if succs[node.id]:
        raise NetworkError(
            "the demand node of a serial network must be at the bottom of the chain",
            where=_where(net, node),
            found="lanes to " + ", ".join(succs[node.id]),
            fix=_OTHER_METHODS,
        )
    while True:
        chain.append(node)
        if node.stockout is not StockoutMode.BACKORDER:
            raise NetworkError(
                "Clark–Scarf assumes backorders",
                where=_where(net, node),
                field="stockout",
                expected="backorder",
                found=str(node.stockout),
                fix="set stockout: backorder, or use --method simopt",
            )
        for field in ("capacity", "min_order_qty", "lot_multiple", "fixed_order_cost"):
            if getattr(node, field):
                raise NetworkError(
                    "Clark–Scarf has no order rules or fixed order costs",
                    where=_where(net, node),
                    field=field,
                    expected="none",
                    found=f"{getattr(node, field):g}",
                    fix=f"remove {field}, or use --method simopt",
                )
        if len(succs[node.id]) > 1:
            raise NetworkError(
                "a node of a serial network supplies one customer",
                where=_where(net, node),
                found="lanes to " + ", ".join(succs[node.id]),
                fix=_OTHER_METHODS,
            )
        inbound = [ln for ln in net.lanes if ln.target == node.id]
        if len(inbound) > 1:
            raise NetworkError(
                "a node of a serial network has one supplier",
                where=_where(net, node),
                found="lanes from " + ", ".join(preds[node.id]),
                fix=_OTHER_METHODS,
            )
        if inbound:
            lane = inbound[0]
            where = f"lane {lane.source} -> {lane.target} (lanes[{net.lanes.index(lane)}])"
            if lane.quantity != 1:
                raise NetworkError(
                    "Clark–Scarf needs plain transfers",
                    where=where,
                    field="quantity",
                    expected="1",
                    found=f"{lane.quantity:g}",
                    fix=_OTHER_METHODS,
                )
            lt = net.lane_lead_time(lane)
        else:
            where, lt = _where(net, node), node.lead_time
        if not isinstance(lt, DeterministicLeadTime) or not float(lt.value).is_integer():
            raise NetworkError(
                "Clark–Scarf needs deterministic lead times in whole periods",
                where=where,
                field="lead_time",
                expected="a whole number of periods",
                found=str(lt.value) if isinstance(lt, DeterministicLeadTime) else f"{lt.kind}",
                fix="give a deterministic whole-period lead time, or use --method simopt",
            )
        lead.append(int(lt.value))
        if not inbound:
            break
        node = net.node(inbound[0].source)
    if len(chain) != len(net.nodes):
        on_chain = {nd.id for nd in chain}
        rest = [n.id for n in net.nodes if n.id not in on_chain]
        raise NetworkError(
            "nodes off the chain from the demand node to the external supplier",
            where="nodes",
            found=", ".join(rest),
            fix="remove them, or " + _OTHER_METHODS,
        )
    for j, nd in enumerate(chain[:-1]):
        up = chain[j + 1]
        if nd.holding_cost < up.holding_cost:
            raise NetworkError(
                "Clark–Scarf needs local holding costs that do not decrease downstream "
                "(echelon holding costs >= 0)",
                where=_where(net, nd),
                field="holding_cost",
                expected=f">= {up.holding_cost:g} (the holding cost of its supplier '{up.id}')",
                found=f"{nd.holding_cost:g}",
                fix="check the holding costs, or use --method simopt",
            )
    if chain[0].penalty_cost <= 0:
        raise NetworkError(
            "Clark–Scarf needs a backorder cost at the demand node",
            where=_where(net, chain[0]),
            field="penalty_cost",
            expected="> 0 (money per unit backordered per period)",
            found=f"{chain[0].penalty_cost:g}",
            fix="set penalty_cost",
        )
    return chain, lead


def solve_clark_scarf(
    net: Network,
    *,
    step: float | None = None,
    tail: float = core.DEFAULT_TAIL,
    round_to: float | None = None,
) -> OptimizationResult:
    """Optimal echelon base-stock levels of a serial network and their expected cost per period.

    ``step``: grid step for normal demand (units; default std/200, integer demand uses 1);
    ``tail``: probability cut from each tail of each lead-time demand distribution;
    ``round_to``: round the levels to multiples of this many units (e.g. 0.01) and report the
    exact cost of the rounded levels (default: the grid optimum, unrounded).
    """
    start = time.perf_counter()
    chain, lead = serial_chain(net)
    demand = _demand_model(net, chain[0], tail)
    local_h = [nd.holding_cost for nd in chain]
    ech_h = [h - h_up for h, h_up in zip(local_h, [*local_h[1:], 0.0], strict=True)]
    model_lt = [max(L, 1) for L in lead]
    mean = core.period_mean(demand)
    shift = sum(h for h, L in zip(ech_h, lead, strict=True) if L == 0) * mean
    p = chain[0].penalty_cost
    sol = core.solve_serial(model_lt, ech_h, p, demand, step=step, tail=tail)
    levels, cost = sol.levels, sol.cost
    details: dict[str, Any] = {
        "model_lead_times": model_lt,
        "echelon_holding_costs": ech_h,
        "penalty_cost": p,
        "demand_model": type(demand).__name__.lower(),
        "grid_step": sol.step,
        "grid_points": sol.grid_points,
        "tail": tail,
        "zero_lead_time_constant": shift,
        "continuous_levels": [float(s) for s in levels],
        "rounding": "none: grid optimum (integer demand: exact integers; normal: multiples of "
        "grid_step, within step/2 of the continuous optimum)",
    }
    if isinstance(demand, core.Normal):
        details["normal_negative_probability"] = float(stats.norm.cdf(-demand.mean / demand.std))
    if round_to is not None:
        details["unrounded_objective"] = cost + shift
        levels = np.round(np.floor(levels / round_to + 0.5) * round_to, 12)  # half up
        cost = core.expected_cost(model_lt, ech_h, p, demand, levels, step=sol.step, tail=tail)
        details["rounding"] = f"levels rounded to the nearest multiple of {round_to:g}"
    local = core.local_levels(levels)
    nodes = {
        nd.id: NodeDecision(
            node=nd.id,
            base_stock_level=float(local[j]),
            echelon_base_stock=float(levels[j]),
            net_replenishment_time=float(model_lt[j]),
            extra={
                "stage": j + 1,
                "lead_time": lead[j],
                "echelon_holding_cost": ech_h[j],
                "stage_cost": float(sol.stage_costs[j]),
            },
        )
        for j, nd in enumerate(chain)
    }
    policy = PolicySet(
        network=net.name,
        method=str(OptimizeMethod.CLARK_SCARF),
        metadata={"objective": cost + shift, "objective_definition": OBJECTIVE_DEFINITION},
        policies={nd.id: EchelonBaseStock(level=float(levels[j])) for j, nd in enumerate(chain)},
    )
    if not math.isfinite(cost):
        raise RuntimeError("Clark–Scarf recursion produced a non-finite cost")
    return OptimizationResult(
        method=OptimizeMethod.CLARK_SCARF,
        objective=cost + shift,
        objective_definition=OBJECTIVE_DEFINITION,
        seconds=time.perf_counter() - start,
        nodes=nodes,
        policy=policy,
        gap=0.0,
        status="optimal",
        details=details,
    )
