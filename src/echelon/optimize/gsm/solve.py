"""``solve_gsm``: safety-stock placement with the guaranteed-service model (docs/gsm.md).

Methods: ``tree`` (exact Graves–Willems DP, networks whose undirected graph is a forest),
``mip`` (exact HiGHS model for any acyclic network, proven gap, time limit), ``heuristic``
(fast upper bound for very large networks) and ``auto`` (tree if possible, else the MIP
warm-started by the heuristic).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Mapping
from typing import Literal

import numpy as np

from echelon.errors import NetworkError
from echelon.network.model import Network
from echelon.optimize.gsm.heuristic import solve_heuristic
from echelon.optimize.gsm.instance import Convention, GSMInstance, build_instance, service_bounds
from echelon.optimize.gsm.mip import plan_formulation, solve_mip
from echelon.optimize.gsm.solution import GSMSolution
from echelon.optimize.gsm.tree import is_forest, solve_tree
from echelon.optimize.result import NodeDecision, OptimizationResult, OptimizeMethod
from echelon.policies.model import BaseStock, PolicySet

Method = Literal["auto", "tree", "mip", "heuristic"]
OBJECTIVE_DEFINITION = (
    "safety-stock holding cost per period: sum_j h_j * z_j * sigma_j * sqrt(tau_j) "
    "(pipeline stock excluded)"
)


def solve_gsm(
    net: Network | GSMInstance,
    *,
    method: Method = "auto",
    time_limit: float = 60.0,
    gap_tolerance: float = 1e-4,
    service_override: Mapping[str, float | None] | None = None,
    fixed_service_times: Mapping[str, int] | None = None,
    convention: Convention = "auto",
    default_service_level: float = 0.95,
    lead_time_variance: bool = False,
    heuristic_time: float | None = None,
    seed: int = 0,
) -> OptimizationResult:
    """Optimal (or best found) committed service times and the base-stock policy they imply.

    ``service_override`` replaces max service times (periods; ``None`` removes a bound),
    ``fixed_service_times`` fixes S_j (integer periods). ``time_limit`` (seconds) bounds the
    MIP; ``gap_tolerance`` is the relative gap at which it stops. ``heuristic_time`` defaults to
    min(5 s, 10 % of the time limit).
    """
    start = time.perf_counter()
    inst = net if isinstance(net, GSMInstance) else build_instance(
        net,
        convention=convention,
        default_service_level=default_service_level,
        lead_time_variance=lead_time_variance,
    )  # fmt: skip
    inst = _apply_options(inst, service_override, fixed_service_times)
    bounds = service_bounds(inst)
    h_time = heuristic_time if heuristic_time is not None else min(5.0, 0.1 * time_limit)
    chosen = method
    if method == "auto":
        chosen = "tree" if is_forest(inst) else "mip"
    if chosen == "tree":
        if not is_forest(inst):
            raise NetworkError(
                "method 'tree' needs a network whose undirected graph is a tree (or forest)",
                source=inst.name,
                field="method",
                found=f"{inst.n} nodes and {len(inst.arc_src)} lanes with a cycle",
                fix="use method='mip' (or 'auto') for general acyclic networks",
            )
        sol = solve_tree(inst, bounds)
    elif chosen == "heuristic":
        sol = solve_heuristic(inst, time_limit=h_time, seed=seed, bounds=bounds)
    elif chosen == "mip":
        formulation, red = plan_formulation(inst, bounds)
        warm = None
        if formulation != "cut":  # the cut method's root box gives its own incumbent
            warm = solve_heuristic(inst, time_limit=h_time, seed=seed, bounds=bounds)
        left = max(0.1, time_limit - (time.perf_counter() - start))
        sol = solve_mip(
            inst, time_limit=left, gap_tolerance=gap_tolerance,
            start=None if warm is None else warm.committed, bounds=bounds,
            formulation=formulation, reduction=red,
        )  # fmt: skip
        if warm is not None:
            sol.details["heuristic_objective"] = warm.objective
    else:
        raise NetworkError(
            "unknown GSM method",
            field="method",
            expected="auto, tree, mip or heuristic",
            found=repr(method),
            fix="choose one of the listed methods",
        )
    return to_result(inst, sol, time.perf_counter() - start)


def _apply_options(
    inst: GSMInstance,
    service_override: Mapping[str, float | None] | None,
    fixed: Mapping[str, int] | None,
) -> GSMInstance:
    if not service_override and not fixed:
        return inst
    index = {nid: i for i, nid in enumerate(inst.ids)}
    bound = inst.max_service.copy()
    fixed_arr = np.full(inst.n, -1, np.int64)
    for option, values in (("service_override", service_override), ("fixed_service_times", fixed)):
        for nid in values or {}:
            if nid not in index:
                raise NetworkError(
                    "unknown node id",
                    source=inst.name,
                    field=option,
                    expected="the id of a node of the network",
                    found=repr(nid),
                    fix="correct the node id",
                )
    for nid, value in (service_override or {}).items():
        if value is not None and (not math.isfinite(value) or value < 0):
            raise NetworkError(
                "a maximum service time must be a finite number >= 0",
                source=inst.name,
                where=f"node '{nid}'",
                field="service_override",
                found=repr(value),
                fix="give a bound >= 0 periods, or None for no bound",
            )
        bound[index[nid]] = math.inf if value is None else float(value)
    for nid, value in (fixed or {}).items():
        j = index[nid]
        ok = float(value) == int(value) and 0 <= int(value) <= bound[j] + 1e-9
        if not ok:
            cap = f"[0, {bound[j]:g}]" if math.isfinite(bound[j]) else "[0, ∞)"
            raise NetworkError(
                "fixed committed service time is infeasible",
                source=inst.name,
                where=f"node '{nid}'",
                field="fixed_service_times",
                expected=f"an integer in {cap} (the node's max service time)",
                found=repr(value),
                fix="fix a service time within the node's bound, or raise its max_service_time",
            )
        fixed_arr[j] = int(value)
    return dataclasses.replace(inst, max_service=bound, fixed_service=fixed_arr)


def to_result(inst: GSMInstance, sol: GSMSolution, seconds: float) -> OptimizationResult:
    """Per-node decisions, the installation base-stock policy ``μτ + z·σ·√τ`` and the gap."""
    ss = inst.safety_stock(sol.tau)
    cost = inst.holding_cost * ss
    nodes: dict[str, NodeDecision] = {}
    policies: dict[str, BaseStock] = {}
    for j, nid in enumerate(inst.ids):
        level = float(inst.mean[j] * sol.tau[j] + ss[j])
        nodes[nid] = NodeDecision(
            node=nid,
            committed_service_time=float(sol.committed[j]),
            inbound_service_time=float(sol.inbound[j]),
            net_replenishment_time=float(sol.tau[j]),
            safety_stock=float(ss[j]),
            base_stock_level=level,
            safety_stock_cost=float(cost[j]),
            extra={
                "processing_time": int(inst.processing_time[j]),
                "z": float(inst.z[j]),
                "sigma": float(inst.sigma[j]),
                "mean_demand": float(inst.mean[j]),
            },
        )
        policies[nid] = BaseStock(level=round(level, 9))
    metadata = {
        "convention": inst.convention,
        "objective": sol.objective,
        "solver": sol.method,
        **{k: v for k, v in inst.notes.items() if k != "convention"},
    }
    details = {
        "solver": sol.method,
        "convention": inst.convention,
        "lower_bound": sol.lower_bound,
        "nodes": inst.n,
        "arcs": len(inst.arc_src),
        **sol.details,
    }
    return OptimizationResult(
        method=OptimizeMethod.GSM,
        objective=sol.objective,
        objective_definition=OBJECTIVE_DEFINITION,
        seconds=seconds,
        nodes=nodes,
        policy=PolicySet(network=inst.name, method="gsm", metadata=metadata, policies=policies),
        gap=sol.gap,
        status=sol.status,
        details=details,
    )
