"""Simulation-optimization of policy parameters on the batch simulator (docs/simopt.md).

``solve_simopt`` searches the parameters of installation base-stock, echelon base-stock,
(s, S) or (r, Q) policies with a Hooke–Jeeves pattern search (``search.py``) on a sample-average
objective under common random numbers (one seed for every candidate, ``evaluator.py``), then
evaluates the best policy once more on an independent seed and reports that estimate with its
95% confidence interval.

Objectives (money per period):

- ``cost``: expected total cost (holding + pipeline holding + penalty + ordering), optionally
  subject to ``inventory value <= budget`` (on hand + in transit, at unit values);
- ``inventory``: inventory value (holding cost when no node has a ``unit_value``) subject to
  service targets (fill rate or cycle service level) at the demand nodes.

Explicit ``fill_rate_targets`` are constraints under either objective.

Constraints are handled by an exact penalty ``ρ · violation`` (ρ escalated tenfold, up to three
times, while the best point still violates on the search seed), against targets tightened by a
safety margin so that the independent final evaluation meets them: ``margin × ci95`` of the
constrained KPI at the start policy on the search seed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np

from echelon.errors import InputError, OptimizationError
from echelon.network.graph import topological_order
from echelon.network.model import Network, ServiceMeasure, StockoutMode
from echelon.optimize.result import OptimizationResult, OptimizeMethod
from echelon.optimize.simopt.decisions import decisions, level_metadata
from echelon.optimize.simopt.evaluator import (
    CRNEvaluator,
    Evaluation,
    pipeline_value,
)
from echelon.optimize.simopt.population import cma_search, ga_search
from echelon.optimize.simopt.search import pattern_search
from echelon.optimize.simopt.space import (
    build_space,
    initial_steps,
    lane_pairs,
    start_policy,
)
from echelon.policies.model import PolicyKind, PolicySet
from echelon.sim.batch import check_run
from echelon.sim.results import Estimate
from echelon.sim.scenario import Scenario

MAX_ROUNDS = 4  # penalty rounds: ρ, 10ρ, 100ρ, 1000ρ
PAIR_LIMIT = 24  # lanes polled as coordinate pairs (above: coordinate poll only)


class Objective(StrEnum):
    COST = "cost"
    INVENTORY = "inventory"


class SearchMethod(StrEnum):
    """The search on the lattice: Hooke–Jeeves pattern search, CMA-ES or a genetic algorithm."""

    PATTERN = "pattern"
    CMAES = "cmaes"
    GA = "ga"


class BudgetInfeasibleError(OptimizationError):
    """The inventory-value budget is below the least value any policy reaches."""


@dataclass(frozen=True)
class ServiceConstraint:
    """``measure`` of node ``node`` must be at least ``target`` (a fraction)."""

    node: str
    measure: ServiceMeasure
    target: float


def _targets(net: Network, given: dict[str, float] | None) -> list[ServiceConstraint]:
    """The given fill-rate targets, else the demand nodes' own ``service`` targets."""
    if given:
        out = []
        for nid, target in given.items():
            if nid not in net.node_ids():
                raise InputError(
                    "fill-rate target for an unknown node",
                    field="fill_rate_targets",
                    expected="ids of nodes of the network",
                    found=nid,
                    fix="use the node ids of the network file",
                )
            if not 0 < target < 1:
                raise InputError(
                    "fill-rate target out of range",
                    where=f"node '{nid}'",
                    field="fill_rate_targets",
                    expected="a fraction strictly between 0 and 1",
                    found=f"{target:g}",
                    fix="give e.g. 0.95",
                )
            out.append(ServiceConstraint(nid, ServiceMeasure.FILL_RATE, float(target)))
        return out
    return [
        ServiceConstraint(n.id, n.service.measure, n.service.target)
        for n in net.nodes
        if n.demand is not None and n.service is not None
    ]


def _default_warmup(net: Network) -> int:
    """Five times (the longest cumulative lead time + 1), at least 20 periods."""
    longest: dict[str, float] = {}
    for nid in topological_order(net):
        node = net.node(nid)
        ins = [ln for ln in net.lanes if ln.target == nid]
        best = node.lead_time.mean() if node.external_supplier else 0.0
        for ln in ins:
            best = max(best, longest[ln.source] + net.lane_lead_time(ln).mean())
        longest[nid] = best
    return max(20, 5 * (math.ceil(max(longest.values())) + 1))


def _est(x: np.ndarray) -> dict[str, float | None]:
    return Estimate.of(x).to_dict()


def _margin(x: np.ndarray, factor: float) -> float:
    ci = Estimate.of(x).ci95
    return 0.0 if ci is None else factor * ci


def solve_simopt(
    net: Network,
    *,
    start: PolicySet | None = None,
    kind: PolicyKind | str | None = None,
    objective: Objective | str = Objective.COST,
    fill_rate_targets: dict[str, float] | None = None,
    budget: float | None = None,
    periods: int = 1000,
    reps: int = 40,
    seed: int = 0,
    warmup: int | None = None,
    final_periods: int | None = None,
    final_reps: int | None = None,
    final_seed: int | None = None,
    max_evaluations: int = 400,
    grid: float | None = None,
    margin: float = 1.5,
    scenario: Scenario | None = None,
    progress: Callable[[int, int], None] | None = None,
    search: SearchMethod | str = SearchMethod.PATTERN,
) -> OptimizationResult:
    """Optimize policy parameters by simulation (module docstring; docs/simopt.md).

    Search on ``reps`` replications of ``warmup + periods`` periods drawn from ``seed`` (the
    same draws for every candidate), at most ``max_evaluations`` simulations; then one final
    evaluation of the best policy on ``final_reps`` (default ``2·reps``) replications of
    ``final_periods`` (default ``periods``) from ``final_seed`` (default ``seed + 1``, which
    must differ from ``seed``). ``kind`` is the policy kind of every node (default: the start's
    kinds, or installation base-stock); ``grid`` the parameter resolution in units (default:
    1 for integer demand, else 0.01). ``progress(evaluations, max_evaluations)`` is called
    after every simulation. Raises :class:`BudgetInfeasibleError` for a budget below the least
    reachable inventory value. ``search``: ``pattern`` (default), ``cmaes`` or ``ga``
    (``population.py``), all on the same draws and evaluation budget.
    """
    t0 = time.perf_counter()
    obj = Objective(objective)
    method = _search_method(search)
    pkind = None if kind is None else PolicyKind(kind)
    warm = _default_warmup(net) if warmup is None else warmup
    f_reps = 2 * reps if final_reps is None else final_reps
    f_periods = periods if final_periods is None else final_periods
    f_seed = seed + 1 if final_seed is None else final_seed
    check_run(periods, reps, warm)
    check_run(f_periods, f_reps, warm)
    _check_args(net, obj, budget, f_seed, seed, max_evaluations, grid, margin)
    targets = (
        _targets(net, fill_rate_targets) if obj is Objective.INVENTORY or fill_rate_targets else []
    )
    if obj is Objective.INVENTORY and not targets:
        raise InputError(
            "minimizing inventory needs service targets",
            field="fill_rate_targets",
            expected="fill_rate_targets, or demand nodes with a 'service' target",
            found="none",
            fix="pass fill_rate_targets={'node': 0.95}, or use objective='cost'",
        )
    use_value = any(n.unit_value is not None for n in net.nodes)

    pol0 = start_policy(net, start, pkind)
    space = build_space(net, pol0, grid)
    k0 = space.from_policy(pol0)
    measures = {t.node: t.measure for t in targets}
    ev = CRNEvaluator(
        net, space, periods=periods, reps=reps, seed=seed, warmup=warm, scenario=scenario,
        service_targets=measures, start=k0,
        on_evaluation=None if progress is None else lambda e: progress(e, max_evaluations),
    )  # fmt: skip
    e0 = ev(k0)

    # constraint targets on the search seed, tightened by the safety margin
    tight = {
        t.node: min(t.target + _margin(e0.service[t.node], margin), (1 + t.target) / 2)
        for t in targets
    }
    budget_info: dict[str, Any] = {}
    cap = math.inf
    if budget is not None:
        cap, budget_info = _budget_cap(net, ev, e0, budget, margin)

    def base(e: Evaluation) -> float:
        if obj is Objective.COST:
            return Evaluation.mean(e.cost)
        return Evaluation.mean(e.inventory_value if use_value else e.holding)

    scale = max(abs(base(e0)), 1e-9)
    rho_s = {t.node: 10 * scale / (1 - t.target) for t in targets}
    rho_b = _budget_rho(net)

    def violation(e: Evaluation) -> tuple[float, bool]:
        pen, ok = 0.0, True
        for t in targets:
            m = Evaluation.mean(e.service[t.node])
            short = tight[t.node] - m if not math.isnan(m) else 0.0
            if short > 1e-12:
                pen += rho_s[t.node] * short
                ok = False
        over = Evaluation.mean(e.inventory_value) - cap if budget is not None else 0.0
        if over > 1e-9:
            pen += rho_b * over
            ok = False
        return pen, ok

    def penalized(k: np.ndarray) -> float:
        e = ev(k)
        return base(e) + violation(e)[0]

    steps0 = initial_steps(net, space, k0)
    pairs = lane_pairs(net, space) if len(net.lanes) <= PAIR_LIMIT else []
    x, steps = k0, steps0
    start_value = penalized(k0)
    history: list[list[float]] = []
    rounds = 0
    converged = False
    iterations = calls = 0
    while rounds < MAX_ROUNDS:
        rounds += 1
        budget_left = lambda: ev.evaluations >= max_evaluations  # noqa: E731
        if method is SearchMethod.PATTERN:
            res = pattern_search(
                penalized, x, steps, space.lower, pairs=pairs, exhausted=budget_left
            )
        else:
            runner = cma_search if method is SearchMethod.CMAES else ga_search
            res = runner(
                penalized, x, steps, space.lower, exhausted=budget_left, seed=seed + rounds
            )
        x, converged = res.x, res.converged
        iterations += res.iterations
        calls += res.calls
        history += [[float(ev.evaluations), v] for _c, v in res.history]
        if violation(ev(x))[1] or ev.evaluations >= max_evaluations:
            break
        rho_s = {nid: 10 * r for nid, r in rho_s.items()}
        rho_b *= 10
        steps = np.maximum(1, steps0 // 4)
    best = ev(x)
    best_value = penalized(x)
    search_seconds = time.perf_counter() - t0

    # final evaluation on independent draws
    fe = CRNEvaluator(
        net, space, periods=f_periods, reps=f_reps, seed=f_seed, warmup=warm,
        scenario=scenario, service_targets=measures, start=x,
    )  # fmt: skip
    acc = fe.run(x)
    final = fe.kpis(acc)
    sim = fe.summary(acc)
    policy = space.to_policy(x, network=net.name)

    status = "evaluation limit"
    if converged:
        status = "local optimum" if method is SearchMethod.PATTERN else "converged"
    service_report: dict[str, Any] = {}
    for t in targets:
        est = Estimate.of(final.service[t.node])
        met = est.mean >= t.target
        service_report[t.node] = {
            "measure": str(t.measure),
            "target": t.target,
            "search_target": tight[t.node],
            "search": Evaluation.mean(best.service[t.node]),
            **est.to_dict(),
            "met": bool(met),
            "met_with_confidence": bool(est.ci95 is not None and est.mean - est.ci95 >= t.target),
        }
        if not met:
            status = "targets not met"
    if budget is not None:
        inv = Estimate.of(final.inventory_value)
        budget_info.update(
            inventory_value=inv.to_dict(),
            met=bool(inv.mean <= budget),
            met_with_confidence=bool(inv.ci95 is not None and inv.mean + inv.ci95 <= budget),
        )
        if inv.mean > budget:
            status = "budget exceeded"

    final_value = (
        Evaluation.mean(final.cost)
        if obj is Objective.COST
        else Evaluation.mean(final.inventory_value if use_value else final.holding)
    )
    definition = {
        Objective.COST: "expected total cost per period (holding + pipeline holding + penalty "
        "+ ordering), simulated on an independent seed",
        Objective.INVENTORY: (
            "average inventory value (on hand + in transit, at unit values)"
            if use_value
            else "average holding cost per period (on hand + pipeline)"
        )
        + " subject to service targets, simulated on an independent seed",
    }[obj]
    if budget is not None:
        definition += f", subject to inventory value <= {budget:g}"
    nodes = decisions(net, space, x, sim)
    policy.metadata = {
        **level_metadata(nodes),
        "search_method": str(method),
        "objective": str(obj),
        "search_seed": seed,
        "final_seed": f_seed,
        "final_cost": Evaluation.mean(final.cost),
    }
    details: dict[str, Any] = {
        "objective": str(obj),
        "search_method": str(method),
        "evaluations": ev.evaluations,
        "cache_hits": ev.cache_hits,
        "search_calls": calls,
        "iterations": iterations,
        "penalty_rounds": rounds,
        "converged": converged,
        "seconds": time.perf_counter() - t0,
        "search_seconds": search_seconds,
        "kinds": {c.node: str(c.kind) for c in space.coords},
        "grid": float(space.grid.min()),
        "search": {"seed": seed, "periods": periods, "reps": reps, "warmup": warm},
        "final": {"seed": f_seed, "periods": f_periods, "reps": f_reps, "warmup": warm},
        "start_policy": {nid: p.model_dump(mode="json") for nid, p in pol0.policies.items()},
        "start_objective_search": start_value,
        "best_objective_search": best_value,
        "start_cost_search": Evaluation.mean(e0.cost),
        "cost_search": Evaluation.mean(best.cost),
        "cost": _est(final.cost),
        "holding_cost": _est(final.holding),
        "inventory_value": _est(final.inventory_value),
        "on_hand_value": _est(final.on_hand_value),
        "transit_value": _est(final.transit_value),
        "fill_rates": {n.id: n.fill_rate.to_dict() for n in sim.nodes if n.is_demand_node},
        "network_fill_rate": sim.fill_rate.to_dict(),
        "history": history,
    }
    if targets:
        details["service_targets"] = service_report
    if budget is not None:
        details["budget"] = budget_info
    return OptimizationResult(
        method=OptimizeMethod.SIMOPT,
        objective=final_value,
        objective_definition=definition,
        seconds=time.perf_counter() - t0,
        nodes=nodes,
        policy=policy,
        gap=None,
        status=status,
        details=details,
    )


def _check_args(
    net: Network,
    obj: Objective,
    budget: float | None,
    f_seed: int,
    seed: int,
    max_evaluations: int,
    grid: float | None,
    margin: float,
) -> None:
    problems = []
    if f_seed == seed:
        problems.append(("final_seed", "a seed other than the search seed", str(f_seed)))
    if max_evaluations < 1:
        problems.append(("max_evaluations", "at least 1", str(max_evaluations)))
    if grid is not None and not grid > 0:
        problems.append(("grid", "a positive number of units", f"{grid:g}"))
    if margin < 0:
        problems.append(("margin", "a non-negative multiple of the CI half-width", f"{margin}"))
    if budget is not None:
        if obj is not Objective.COST:
            problems.append(("budget", "only with objective='cost'", f"objective='{obj}'"))
        elif not budget > 0:
            problems.append(("budget", "a positive inventory value", f"{budget:g}"))
        elif not any(n.unit_value is not None for n in net.nodes):
            problems.append(("budget", "nodes with a unit_value", "no unit values"))
    for name, expected, found in problems:
        raise InputError(
            "bad simulation-optimization argument",
            field=name,
            expected=expected,
            found=found,
            fix=f"change {name}",
        )


def _budget_rho(net: Network) -> float:
    """Penalty per unit of inventory value over the budget: 10 × an upper bound of its shadow
    price (one more unit of stock saves at most one unit of penalty and one order per period)."""
    values = [n.unit_value for n in net.nodes if n.unit_value]
    v_min = min(values) if values else 1.0
    top = max(n.penalty_cost + n.fixed_order_cost + n.holding_cost for n in net.nodes)
    return 10 * max(top, 1e-6) / v_min


def _budget_cap(
    net: Network, ev: CRNEvaluator, e0: Evaluation, budget: float, margin: float
) -> tuple[float, dict[str, Any]]:
    """Check that ``budget`` is reachable; return the cap used on the search seed."""
    lost = any(n.stockout is StockoutMode.LOST_SALES for n in net.nodes)
    pipe = pipeline_value(net, ev.cn)
    if not lost and budget < pipe:
        raise BudgetInfeasibleError(
            "inventory-value budget below the unavoidable in-transit value",
            field="budget",
            expected=f"at least {pipe:.6g} (Σ unit value × quantity × mean demand × lead time)",
            found=f"{budget:g}",
            fix="raise the budget, or shorten lead times",
        )
    low = ev(ev.space.lower.copy())
    least = Evaluation.mean(low.inventory_value)
    if budget < least:
        raise BudgetInfeasibleError(
            "inventory-value budget below the least value any policy reaches",
            field="budget",
            expected=f"at least {least:.6g} (every level at its lower bound, simulated)",
            found=f"{budget:g}",
            fix="raise the budget (order rules such as MOQ or lot sizes also hold stock)",
        )
    slack = _margin(e0.inventory_value, margin)
    cap = max(budget - slack, (budget + least) / 2)
    info = {"budget": budget, "search_cap": cap, "pipeline_value": pipe, "least_value": least}
    return cap, info


def _search_method(search: SearchMethod | str) -> SearchMethod:
    try:
        return SearchMethod(search)
    except ValueError:
        raise InputError(
            "unknown simulation-optimization search",
            field="search",
            expected="pattern, cmaes or ga",
            found=repr(search),
            fix="choose one of the listed searches",
        ) from None
