"""Rebalancing: lateral transfers versus new orders versus expediting, chosen by a HiGHS LP/MIP.

The window of location ``j`` is the time until a new order placed today could arrive there:
``w_j`` periods (:func:`echelon.plan.order_lines.order_windows`: the lead time when the supplier can
ship from stock now, else its committed service time + the lead time). Over it the location
has the stock ``x_j`` = on hand − backorders + open orders due within the window, and faces
demand ``D_j ~ Normal(μ_j·w_j, σ_j·√w_j)``. A new order cannot help before ``w_j``; a
lateral transfer from a location of the same echelon (arriving within ``transfer_lead_time <
w_j`` periods) or expediting an open order due later can. With backorders the units short
at the end of the window are ``(D_j − x_j)^+``, so the model (:func:`solve_rebalance`) minimizes

    Σ_j p_j·E[(D_j − x_j − in_j + out_j − e_j)^+] + Σ c_ij·t_ij + f·Σ y_ij + Σ_k c^E_k·e_k

(money): ``p_j`` money per unit short, ``t_ij ≥ 0`` units moved ``i → j`` at ``c_ij`` per unit
(``f`` fixed per transfer used, binary ``y_ij``: a MIP), ``e_k`` units of open order ``k``
expedited into the window at ``c^E_k`` per unit (``expedite_cost`` per unit per period
advanced), shipments out of ``i`` at most its physical stock. The expected shortage
``E[(D − x)^+]`` is convex in ``x``; it is replaced by the maximum of its tangents at
``μ + σ·u``, ``u ∈ {−4, −3.9, …, 4}`` and the asymptote ``μ − x`` (an LP epigraph; exact at
the tangent points, within 0.2% of σ elsewhere). Transfers and expedites are whole units (a
MIP) by default.

Then the orders are recomputed with the transfers in the inventory positions (receiver +t,
sender −t): the receiver orders less, the sender orders the units back. The adapter
(:func:`rebalance`) explains each choice: shortage cost avoided at the receiver, shortage cost
added at the sender, the transfer cost, and what waiting for a new order would cost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

import highspy
import numpy as np
from numpy.typing import ArrayLike, NDArray

from echelon.errors import OptimizationError
from echelon.plan.context import PlanContext
from echelon.plan.explain import (
    annotate_orders,
    expedite_explanation,
    no_transfer_note,
    stock_line,
    transfer_explanation,
)
from echelon.plan.model import Placement, Recommendation, RecommendationKind
from echelon.plan.order_lines import order_windows, positions
from echelon.plan.orders import propose_orders, recommendation_key
from echelon.plan.rebalance_greedy import solve_net_flow
from echelon.plan.rebalance_rows import (
    Columns,
    constraint_rows,
    decompose,
    net_flow_sets,
    net_rows,
    run_model,
)
from echelon.policies.normal import expected_shortage, stockout_probability, window_demands

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
TANGENTS = np.linspace(-4.0, 4.0, 81)  # tangent points of the shortage curve, in std units
TIME_LIMIT = 30.0  # seconds per HiGHS solve; the best solution found by then is used


@dataclass(frozen=True)
class RebalanceSolution:
    """The optimal moves for one item over ``n`` locations (units; money as stated)."""

    status: str  # HiGHS model status, e.g. "Optimal"
    objective: float  # money: exact expected shortage cost after + transfer + expedite costs
    transfers: FloatArray  # (n, n) units moved from i to j
    expedite: FloatArray  # (k,) units of each open order expedited into the window
    stock_before: FloatArray  # (n,) units available within the window without moves
    stock_after: FloatArray  # (n,) with transfers and expedites
    shortage_before: FloatArray  # (n,) expected units short at the end of the window
    shortage_after: FloatArray  # (n,)
    shortage_cost: FloatArray  # (n,) money per unit short
    cost_before: float = 0.0  # money: expected shortage cost without moves
    extra: dict[str, float] = field(default_factory=dict)

    def marginal_value(self, mean: ArrayLike, std: ArrayLike) -> FloatArray:
        """Money one more unit would save at each location after the moves: p·P(D > x)."""
        return self.shortage_cost * stockout_probability(self.stock_after, mean, std)


def _as(a: ArrayLike, n: int, name: str) -> FloatArray:
    out = np.broadcast_to(np.asarray(a, dtype=float), (n,)).astype(float)
    if not np.all(np.isfinite(out)) or (name != "stock" and np.any(out < 0)):
        raise OptimizationError(
            "rebalancing needs finite, non-negative numbers per location",
            field=name, expected="finite values >= 0", found=str(out.tolist()),
            fix="check the forecasts and placements of this item",
        )  # fmt: skip
    return out


def solve_rebalance(
    stock: ArrayLike,
    mean: ArrayLike,
    std: ArrayLike,
    shortage_cost: ArrayLike,
    *,
    shippable: ArrayLike | None = None,
    transfer_cost: float | ArrayLike = 0.5,
    allowed: ArrayLike | None = None,
    fixed_cost: float = 0.0,
    expedite_location: ArrayLike | None = None,
    expedite_quantity: ArrayLike | None = None,
    expedite_cost: ArrayLike | None = None,
    integer: bool = True,
    pairwise: bool = False,
) -> RebalanceSolution:
    """Transfers and expedites minimizing expected shortage plus move costs (module doc).

    Per location (length n): ``stock`` units available within the window, ``mean``/``std`` of
    demand over the window (units), ``shortage_cost`` money per unit short, ``shippable`` units
    that may leave (default ``max(stock, 0)``). ``transfer_cost``: money per unit, scalar or
    (n, n); ``allowed``: (n, n) bool, default every pair i ≠ j; ``fixed_cost``: money per
    transfer used (> 0 makes it a MIP). Open orders (length k): ``expedite_location`` (index),
    ``expedite_quantity`` (units), ``expedite_cost`` (money per unit expedited).
    """
    x0 = np.asarray(stock, dtype=float).ravel()
    n = x0.size
    x0 = _as(x0, n, "stock")
    m, s, p = _as(mean, n, "mean"), _as(std, n, "std"), _as(shortage_cost, n, "shortage_cost")
    ship = np.maximum(x0, 0.0) if shippable is None else _as(shippable, n, "shippable")
    cost = np.broadcast_to(np.asarray(transfer_cost, dtype=float), (n, n))
    ok = np.ones((n, n), bool) if allowed is None else np.asarray(allowed, bool).copy()
    np.fill_diagonal(ok, False)
    ok &= ship[:, None] > 1e-9
    e_loc = (
        np.zeros(0, np.int64)
        if expedite_location is None
        else np.asarray(expedite_location, np.int64)
    )
    k = e_loc.size
    e_qty = _as(0.0 if expedite_quantity is None else expedite_quantity, k, "expedite_quantity")
    e_cost = _as(0.0 if expedite_cost is None else expedite_cost, k, "expedite_cost")

    pairs = np.argwhere(ok)  # (P, 2): i, j
    n_t = len(pairs)
    if _nothing_pays(x0, m, s, p, pairs, cost, e_loc, e_cost):
        return _solution("Optimal", x0, m, s, p, np.zeros((n, n)), np.zeros(k), cost, 0.0, e_cost)
    sets = None if fixed_cost > 0 or pairwise else net_flow_sets(ok, cost)
    if sets is not None:
        return _solve_net(x0, m, s, p, ship, cost, sets, e_loc, e_qty, e_cost, integer)
    use_y = fixed_cost > 0
    # columns: t (n_t) | y (n_t if use_y) | e (k) | z (n)
    c_t, c_y = 0, n_t
    c_e = c_y + (n_t if use_y else 0)
    c_z = c_e + k
    lb = np.zeros(c_z + n)
    ub = np.full(c_z + n, highspy.kHighsInf)
    obj = np.zeros(c_z + n)
    if n_t:
        ub[c_t : c_t + n_t] = ship[pairs[:, 0]]
        obj[c_t : c_t + n_t] = cost[pairs[:, 0], pairs[:, 1]]
    if use_y:
        ub[c_y : c_y + n_t] = 1.0
        obj[c_y : c_y + n_t] = fixed_cost
    ub[c_e : c_e + k] = e_qty
    obj[c_e : c_e + k] = e_cost
    obj[c_z : c_z + n] = p
    rows, lb[c_z:] = constraint_rows(
        x0, m, s, ship, pairs, e_loc, Columns(c_t, c_y if use_y else None, c_e, c_z), TANGENTS
    )
    ints = np.arange(c_z) if integer else np.zeros(0, np.int64)  # t, y, e
    if not integer and use_y:
        ints = np.arange(c_y, c_e)
    status, sol = run_model(lb, ub, obj, ints, rows, TIME_LIMIT)
    if sol is None:
        return _solution(status, x0, m, s, p, np.zeros((n, n)), np.zeros(k), cost, 0.0, e_cost)
    moves = np.zeros((n, n))
    if n_t:
        moves[pairs[:, 0], pairs[:, 1]] = np.round(sol[c_t : c_t + n_t], 6)
    exp = np.round(sol[c_e : c_e + k], 6) if k else np.zeros(0)
    return _solution(status, x0, m, s, p, moves, exp, cost, fixed_cost, e_cost, e_loc)


def _solve_net(
    x0: FloatArray, m: FloatArray, s: FloatArray, p: FloatArray, ship: FloatArray,
    cost: FloatArray, sets: tuple[IntArray, IntArray, float], e_loc: IntArray, e_qty: FloatArray,
    e_cost: FloatArray, integer: bool,
) -> RebalanceSolution:  # fmt: skip
    """:func:`solve_rebalance` on the net-flow model (``rebalance_rows.net_rows``: units in and
    out per location at one cost per unit; the same optimum as the pairwise model), its
    flows split into pairwise transfers (``rebalance_rows.decompose``). Whole units: solved
    exactly by steepest descent (:func:`echelon.plan.rebalance_greedy.solve_net_flow`);
    continuous units: the LP with HiGHS."""
    n, k = x0.size, e_loc.size
    recv, send, unit = sets
    if integer:  # the exact optimum without a solver (plan/rebalance_greedy.py)
        inflow, outflow, exp = solve_net_flow(
            x0, m, s, p, ship, recv, send, unit, e_loc, e_qty, e_cost, TANGENTS
        )
        moves = decompose(inflow, outflow)
        return _solution("Optimal", x0, m, s, p, moves, exp, cost, 0.0, e_cost, e_loc)
    r, c_e = len(recv), len(recv) + len(send)
    c_z = c_e + k
    lb = np.zeros(c_z + n)
    ub = np.full(c_z + n, highspy.kHighsInf)
    ub[r:c_e] = ship[send]
    ub[c_e:c_z] = e_qty
    obj = np.concatenate([np.full(r, unit), np.zeros(len(send)), e_cost, p])
    rows, lb[c_z:] = net_rows(x0, m, s, recv, send, e_loc, c_e, c_z, TANGENTS)
    status, sol = run_model(lb, ub, obj, np.zeros(0, np.int64), rows, TIME_LIMIT)
    if sol is None:
        return _solution(status, x0, m, s, p, np.zeros((n, n)), np.zeros(k), cost, 0.0, e_cost)
    inflow, outflow = np.zeros(n), np.zeros(n)
    inflow[recv] = np.round(sol[:r], 6)
    outflow[send] = np.round(sol[r:c_e], 6)
    exp = np.round(sol[c_e:c_z], 6) if k else np.zeros(0)
    moves = decompose(inflow, outflow)
    return _solution(status, x0, m, s, p, moves, exp, cost, 0.0, e_cost, e_loc)


def _nothing_pays(
    x0: FloatArray, m: FloatArray, s: FloatArray, p: FloatArray, pairs: IntArray,
    cost: FloatArray, e_loc: IntArray, e_cost: FloatArray,
) -> bool:  # fmt: skip
    """True when no move improves on doing nothing: every move's cost is at least the shortage
    cost its first unit avoids, ``p_j·P(D_j > x_j)`` at the receiver less ``p_i·P(D_i ≥ x_i)``
    added at the sender (the objective is convex, so zero moves are then optimal)."""
    gain = p * stockout_probability(x0, m, s)
    loss = p * stockout_probability(x0 - 1e-9, m, s)
    if len(pairs) and np.any(
        gain[pairs[:, 1]] - loss[pairs[:, 0]] > cost[pairs[:, 0], pairs[:, 1]]
    ):
        return False
    return not (len(e_loc) and np.any(gain[e_loc] > e_cost))


def _solution(
    status: str, x0: FloatArray, m: FloatArray, s: FloatArray, p: FloatArray, moves: FloatArray,
    exp: FloatArray, cost: FloatArray, fixed_cost: float, e_cost: FloatArray,
    e_loc: IntArray | None = None,
) -> RebalanceSolution:  # fmt: skip
    """The solution with its exact expected shortages and costs (money)."""
    n = x0.size
    arrived = np.bincount(e_loc, exp, minlength=n) if e_loc is not None and len(e_loc) else 0.0
    x1 = x0 + moves.sum(axis=0) - moves.sum(axis=1) + arrived
    es0 = expected_shortage(x0, m, s)
    es1 = expected_shortage(x1, m, s)
    total = float(p @ es1 + (moves * cost).sum() + fixed_cost * (moves > 0).sum() + e_cost @ exp)
    return RebalanceSolution(
        status=status,
        objective=total,
        transfers=moves,
        expedite=exp,
        stock_before=x0,
        stock_after=x1,
        shortage_before=es0,
        shortage_after=es1,
        shortage_cost=p,
        cost_before=float(p @ es0),
    )


def first_unit_values(
    sol: RebalanceSolution, mean: ArrayLike, std: ArrayLike, j: int
) -> FloatArray:
    """Money the first unit moved from each location i to ``j`` saves before transfer cost,
    at the stock before moves: ``p_j·P(D_j > x_j) − p_i·P(D_i > x_i − 1)`` (no transfer pays
    if the cost is above it), for every i at once."""
    m, s = np.asarray(mean, float), np.asarray(std, float)
    x, p = sol.stock_before, sol.shortage_cost
    gain = p[j] * float(stockout_probability(x[j], m[j], s[j]))
    return np.asarray(gain - p * stockout_probability(x - 1, m, s), dtype=float)


def first_unit_value(
    sol: RebalanceSolution, mean: ArrayLike, std: ArrayLike, i: int, j: int
) -> float:
    """:func:`first_unit_values` of the one sender ``i`` (money)."""
    return float(first_unit_values(sol, mean, std, j)[i])


# ----------------------------------------------------------------------------- adapter
@dataclass
class RebalanceResult:
    """The adapter's output: every recommendation (orders recomputed after the transfers,
    TRANSFERs, EXPEDITEs), the LP solution per (item, tier) and the why-not notes per
    (item, location) of locations at risk that receive nothing."""

    recommendations: list[Recommendation]
    solutions: dict[tuple[str, int], RebalanceSolution]
    notes: dict[tuple[str, str], str]


@dataclass
class _Group:
    """One item × echelon: the arrays of :func:`solve_rebalance` and their labels."""

    item: str
    places: list[Placement]
    window: FloatArray  # periods until a new order arrives
    stock: FloatArray
    shippable: FloatArray
    mean: FloatArray  # demand over the window
    std: FloatArray
    late: list[tuple[int, float, date, float]]  # (location index, units, due, periods advanced)


def _group(item: str, places: list[Placement], window: FloatArray, ctx: PlanContext) -> _Group:
    """The arrays of one item × echelon; ``window``: the places' order windows (periods)."""
    window = np.maximum(0.0, window)
    stock = positions([(item, p.location) for p in places], ctx).available
    ship = np.maximum(0.0, stock)
    mean, std = window_demands(
        [p.mean_demand for p in places], [p.std_demand for p in places], window
    )
    late: list[tuple[int, float, date, float]] = []
    index = {p.location: j for j, p in enumerate(places)}
    for order in ctx.stock.open_orders.get(item, []):
        j_loc = index.get(order.location)
        if j_loc is None:
            continue
        qty, due_d = order.quantity, order.due
        periods = (due_d - ctx.as_of).days / ctx.config.period_days
        if periods < window[j_loc]:
            stock[j_loc] += qty
        elif qty > 0:
            late.append((j_loc, qty, due_d, float(math.floor(periods - window[j_loc]) + 1)))
    return _Group(item, places, window, stock, ship, mean, std, late)


def rebalance(
    placements: list[Placement],
    ctx: PlanContext,
    *,
    orders: list[Recommendation] | None = None,
    fixed_cost: float = 0.0,
    shortage_cost: dict[str, float] | None = None,
    same_parent_only: bool = False,
) -> RebalanceResult:
    """Transfers, expedites and recomputed orders for every item × echelon (module doc).

    ``ctx``: as for :func:`echelon.plan.orders.propose_orders`; ``orders``: today's orders
    before rebalancing (to state how each changed; default: computed here);
    ``config.transfer_lead_time``: periods for a lateral move (a transfer is only allowed where
    a new order takes longer); ``fixed_cost``: money per transfer used (> 0: MIP);
    ``config.transfer_cost`` (per unit) and ``config.expedite_cost`` (per unit per period
    advanced) price the moves; ``shortage_cost``: money per unit short by item (default the
    item master's).
    """
    config = ctx.config
    transfer_lead_time = config.transfer_lead_time
    before = (
        orders
        if orders is not None
        else propose_orders(placements, ctx, shortage_cost=shortage_cost)
    )
    costs = shortage_cost or {i: rec.shortage_cost for i, rec in ctx.items.items()}
    cur = config.currency
    as_of = ctx.as_of
    groups: dict[tuple[str, int], list[int]] = {}
    for k, p in enumerate(placements):
        groups.setdefault((p.item, p.tier), []).append(k)
    windows = order_windows(placements, ctx)
    solutions: dict[tuple[str, int], RebalanceSolution] = {}
    notes: dict[tuple[str, str], str] = {}
    moves: list[Recommendation] = []
    adjust: dict[tuple[str, str], float] = {}
    for (item, tier), members in sorted(groups.items()):
        places = [placements[k] for k in members]
        g = _group(item, places, windows[members], ctx)
        n = len(places)
        parent = [ctx.suppliers.get(p.location) for p in places]
        allowed = g.window[None, :] > transfer_lead_time + 1e-9
        allowed = np.broadcast_to(allowed, (n, n)).copy()
        if same_parent_only:
            allowed &= np.array([[a == b for b in parent] for a in parent])
        p_unit = costs.get(item, 1.0)
        sol = solve_rebalance(
            g.stock, g.mean, g.std, np.full(n, p_unit), shippable=g.shippable,
            transfer_cost=config.transfer_cost, allowed=allowed, fixed_cost=fixed_cost,
            expedite_location=[e[0] for e in g.late], expedite_quantity=[e[1] for e in g.late],
            expedite_cost=[config.expedite_cost * e[3] for e in g.late],
        )  # fmt: skip
        solutions[(item, tier)] = sol
        unit_cost = ctx.items[item].unit_cost if item in ctx.items else 0.0
        cols = (g.stock, g.mean, g.std, g.window, sol.shortage_before, sol.shortage_after)
        lines = [
            stock_line(p.location, [float(c[j]) for c in cols], p_unit, cur)
            for j, p in enumerate(places)
        ]
        for i, j in np.argwhere(sol.transfers > 1e-9).tolist():
            t = float(sol.transfers[i, j])
            x1 = sol.stock_after
            avoided = p_unit * float(expected_shortage(x1[j] - t, g.mean[j], g.std[j])
                                     - expected_shortage(x1[j], g.mean[j], g.std[j]))  # fmt: skip
            added = p_unit * float(expected_shortage(x1[i], g.mean[i], g.std[i])
                                   - expected_shortage(x1[i] + t, g.mean[i], g.std[i]))  # fmt: skip
            src, dst = places[i].location, places[j].location
            adjust[(item, dst)] = adjust.get((item, dst), 0.0) + t
            adjust[(item, src)] = adjust.get((item, src), 0.0) - t
            expl = transfer_explanation(
                item=item, qty=t, sender=src, receiver=dst, avoided=avoided, added=added,
                cost=t * config.transfer_cost, unit_transfer_cost=config.transfer_cost,
                receiver_line=lines[j], sender_line=lines[i],
                wait_cost=p_unit * float(sol.shortage_before[j]), window=float(g.window[j]),
                threshold=first_unit_value(sol, g.mean, g.std, i, j),
                transfer_lead_time=transfer_lead_time, currency=cur,
            )  # fmt: skip
            moves.append(Recommendation(
                key=recommendation_key(RecommendationKind.TRANSFER, item, src, dst),
                kind=RecommendationKind.TRANSFER,
                item=item, location=dst, source=src, quantity=t, unit_cost=unit_cost,
                value=t * unit_cost,
                arrival=as_of + timedelta(days=round(transfer_lead_time * config.period_days)),
                inventory_position=None, order_up_to=places[j].base_stock, explanation=expl,
            ))  # fmt: skip
        for q, (j, qty, due, adv) in enumerate(g.late):
            e = float(sol.expedite[q])
            if e <= 1e-9:
                continue
            moves.append(_expedite(places[j], g, j, e, qty, due, adv, sol, p_unit, unit_cost,
                                   ctx, lines[j]))  # fmt: skip
        received = sol.transfers.sum(axis=0) + np.bincount(
            [e[0] for e in g.late], sol.expedite, minlength=n
        )
        for j, p in enumerate(places):
            at_risk = sol.shortage_before[j] >= 0.01 * max(g.mean[j], 1.0)  # ≥ 1% of demand
            if received[j] > 1e-9 or not at_risk:
                continue
            value = first_unit_values(sol, g.mean, g.std, j)
            ok = allowed[:, j] & (g.shippable > 0) & (np.arange(n) != j)
            best = int(np.argmax(np.where(ok, value, -np.inf))) if ok.any() else None
            notes[(item, p.location)] = no_transfer_note(
                receiver=p.location, sender=places[best].location if best is not None else None,
                value=float(value[best]) if best is not None else 0.0,
                unit_transfer_cost=config.transfer_cost,
                wait_cost=p_unit * float(sol.shortage_before[j]), window=float(g.window[j]),
                transfer_lead_time=transfer_lead_time, currency=cur,
            )  # fmt: skip
    after = (
        propose_orders(placements, ctx, shortage_cost=shortage_cost, position_adjust=adjust)
        if adjust
        else before
    )
    return RebalanceResult(annotate_orders(before, after, adjust, notes) + moves, solutions, notes)


def _expedite(
    p: Placement, g: _Group, j: int, e: float, qty: float, due: date, adv: float,
    sol: RebalanceSolution, p_unit: float, unit_cost: float, ctx: PlanContext, line: str,
) -> Recommendation:  # fmt: skip
    config = ctx.config
    src = ctx.suppliers.get(p.location)
    first = p_unit * float(stockout_probability(g.stock[j], g.mean[j], g.std[j]))
    expl = expedite_explanation(
        item=p.item, location=p.location, qty=e, open_qty=qty, due=due, advance=adv,
        avoided=p_unit * float(sol.shortage_before[j] - sol.shortage_after[j]),
        unit_cost=config.expedite_cost, window=float(g.window[j]), first_unit_value=first,
        line=line, currency=config.currency,
    )  # fmt: skip
    return Recommendation(
        key=recommendation_key(
            RecommendationKind.EXPEDITE, p.item, src, p.location, due.isoformat()
        ),
        kind=RecommendationKind.EXPEDITE, item=p.item, location=p.location, source=src,
        quantity=e, unit_cost=unit_cost, value=e * unit_cost,
        arrival=due - timedelta(days=round(adv * config.period_days)),
        order_up_to=p.base_stock, explanation=expl,
    )  # fmt: skip
