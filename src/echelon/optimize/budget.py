"""A budget cap on safety-stock investment for the guaranteed-service model (Lagrangian).

Investment = Σ_j v_j · SS_j (money), with ``v_j`` the node's ``unit_value`` and ``SS_j`` its
safety stock in units. Pipeline (in-transit) stock is set by lead times and flows, not by the
placement, and is not counted. For a multiplier ``λ ≥ 0`` the GSM is solved with holding cost
``h_j + λ·v_j`` per unit per period; ``λ = 0`` is the unconstrained optimum, and as ``λ`` grows the
solution moves to the placement of least investment. The smallest ``λ`` whose solution fits the
budget is found by bisection (the investment of the Lagrangian solution does not increase with
``λ``); the result's ``objective`` is then re-stated with the true holding costs. A budget below
the investment of the least-investment placement at the service targets cannot be met: that is
an :class:`~echelon.errors.OptimizationError` naming both numbers.
"""

from __future__ import annotations

from collections.abc import Callable

from echelon.errors import OptimizationError
from echelon.network.model import Network
from echelon.optimize.result import OptimizationResult

Solver = Callable[[Network], OptimizationResult]
LAMBDA_MIN = 1e-8
LAMBDA_MAX = 1e6
BISECTION_STEPS = 60
RELATIVE_TOLERANCE = 1e-4


def unit_values(net: Network) -> dict[str, float]:
    """Unit value per node (money per unit); every node must have one for a budget."""
    missing = [n.id for n in net.nodes if n.unit_value is None]
    if missing:
        raise OptimizationError(
            "a budget needs the unit value of every node",
            source=net.name,
            where=f"node '{missing[0]}'" + (f" and {len(missing) - 1} more" if missing[1:] else ""),
            field="unit_value",
            expected="money per unit",
            found="nothing",
            fix="add 'unit_value' to every node, or drop --budget",
        )
    return {n.id: float(n.unit_value or 0.0) for n in net.nodes}


def investment(result: OptimizationResult, values: dict[str, float]) -> float:
    """Σ v_j · SS_j of a result (money)."""
    return sum(values[nid] * (d.safety_stock or 0.0) for nid, d in result.nodes.items())


def _priced(net: Network, values: dict[str, float], lam: float) -> Network:
    nodes = [
        n.model_copy(update={"holding_cost": n.holding_cost + lam * values[n.id]})
        for n in net.nodes
    ]
    return net.model_copy(update={"nodes": nodes})


def _true_cost(net: Network, result: OptimizationResult) -> float:
    return sum(
        net.node(nid).holding_cost * (d.safety_stock or 0.0) for nid, d in result.nodes.items()
    )


def solve_within_budget(net: Network, budget: float, solve: Solver) -> OptimizationResult:
    """The cheapest placement whose safety-stock investment is at most ``budget`` (money)."""
    if budget < 0:
        raise OptimizationError(
            "the budget must not be negative", field="budget", expected=">= 0", found=f"{budget:g}"
        )
    values = unit_values(net)
    free = solve(net)
    spent = investment(free, values)
    if spent <= budget:
        free.details.update(budget=budget, investment=spent, budget_multiplier=0.0)
        return free
    tightest = solve(_priced(net, values, LAMBDA_MAX))
    floor = investment(tightest, values)
    if floor > budget * (1 + 1e-9):
        raise OptimizationError(
            "the budget is below the minimum safety-stock investment that meets the service "
            "targets",
            field="budget",
            expected=f">= {floor:,.2f} (least-investment placement; unconstrained optimum "
            f"{spent:,.2f})",
            found=f"{budget:,.2f}",
            fix="raise --budget, or lower the service targets (--targets)",
        )
    lo, hi, best = LAMBDA_MIN, LAMBDA_MAX, tightest
    for _ in range(BISECTION_STEPS):  # geometric bisection on the multiplier
        mid = (lo * hi) ** 0.5
        trial = solve(_priced(net, values, mid))
        if investment(trial, values) <= budget * (1 + 1e-9):
            hi, best = mid, trial
        else:
            lo = mid
        if hi / lo <= 1 + RELATIVE_TOLERANCE:
            break
    best.objective = _true_cost(net, best)
    for nid, d in best.nodes.items():
        d.safety_stock_cost = net.node(nid).holding_cost * (d.safety_stock or 0.0)
    best.details.update(
        budget=budget,
        investment=investment(best, values),
        budget_multiplier=hi,
        unconstrained_objective=free.objective,
    )
    best.status = f"{best.status}; budget binding (lambda={hi:.4g})"
    return best
