"""The net-flow rebalancing model solved exactly by steepest descent, without a MIP solver.

The integer net-flow model of :func:`echelon.plan.rebalance.solve_rebalance` (every sender may
ship to every receiver at one cost ``c`` per unit) depends on the transfers only through each
location's net units ``n_j`` (received − sent, ``Σ_j n_j = 0``; ``n_j ≥ −⌊ship_j⌋`` where j may
send, ``n_j ≤ 0`` where it may not receive). With ``E_j`` units of open orders expedited at j
(cheapest orders first) the cost of location j is

    H_j(n_j, E_j) = p_j·f_j(x_j + n_j + E_j) + c·n_j^+ + C_j(E_j)    (money)

with ``f_j`` the model's piecewise-linear shortage (the maximum of 0, the asymptote ``μ − x``
and the tangents of ``E[(D − x)^+]`` at ``μ + σ·u``, exactly the MIP's epigraph rows) and
``C_j`` the expedite cost, convex in ``E_j``. ``h_j(n) = min_E H_j(n, E)`` is an infimal
convolution of convex sequences, hence convex, so the model minimizes a separable convex
function over the integer points of ``{Σ n = 0}`` within bounds: an M-convex function, for which
a point is optimal as soon as no exchange (one unit less at i, one more at j) improves it. The
kernel descends from ``n = 0`` by the best exchange until none improves by more than
``TOLERANCE`` (money); the optimal ``E`` moves by at most one unit per exchange. Its optimum is
the MIP's without the MIP gap (tests/plan/test_rebalance_netflow.py).
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

from echelon.policies.normal import expected_shortage, stockout_probability

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
TOLERANCE = 1e-9  # money: an exchange must improve the objective by more than this


def tangent_table(
    m: FloatArray, s: FloatArray, tangents: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per location (rows) the tangent points ``c = μ + σ·u`` (units), ``E[(D − c)^+]``
    (units) and the slopes ``−P(D > c)``, as the MIP's rows compute them."""
    c = m[:, None] + s[:, None] * tangents[None, :]
    es = expected_shortage(c, m[:, None], s[:, None])
    slope = -stockout_probability(c, m[:, None], s[:, None])
    return c, es, slope


def solve_net_flow(
    x0: FloatArray, m: FloatArray, s: FloatArray, p: FloatArray, ship: FloatArray,
    recv: IntArray, send: IntArray, unit: float, e_loc: IntArray, e_qty: FloatArray,
    e_cost: FloatArray, tangents: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray]:  # fmt: skip
    """Units received and sent per location (n,) and expedited per open order (k,) at the
    optimum of the integer net-flow model (module doc). ``recv``/``send``: the locations
    that may receive / send; ``ship``: units that may leave; ``unit``: money per unit moved;
    ``e_loc``/``e_qty``/``e_cost``: the open orders' location, units and money per unit."""
    n = x0.size
    c, es, slope = tangent_table(m, s, tangents)
    lo = np.zeros(n)
    lo[send] = -np.floor(ship[send] + 1e-9)
    can_recv = np.zeros(n, np.bool_)
    can_recv[recv] = True
    qty = np.floor(np.asarray(e_qty, float) + 1e-9)
    whole = np.flatnonzero(qty >= 1.0)  # orders with at least one whole unit to expedite
    loc, cost = np.asarray(e_loc, np.int64)[whole], np.asarray(e_cost, float)[whole]
    order = np.lexsort((whole, cost, loc)).astype(np.int64)  # by location, cheapest first
    net, used_whole = _descend(
        x0, m, s > 0, p, c, es, slope, lo, can_recv, float(unit), loc, qty[whole], cost, order
    )
    used = np.zeros(e_loc.size)
    used[whole] = used_whole
    return np.maximum(net, 0.0), np.maximum(-net, 0.0), used


@njit(cache=True)
def _f(j, x, m, curved, c, es, slope):
    """The model's shortage of location j at stock x (units)."""
    v = max(0.0, m[j] - x)
    if curved[j]:
        for k in range(c.shape[1]):
            t = es[j, k] + slope[j, k] * (x - c[j, k])
            if t > v:
                v = t
    return v


@njit(cache=True)
def _descend(x0, m, curved, p, c, es, slope, lo, can_recv, unit, e_loc, qty, e_cost, order):
    n = x0.size
    k_all = e_loc.size
    used = np.zeros(k_all)
    first = np.zeros(n + 1, np.int64)  # the location's orders: order[first[j]:first[j + 1]]
    for q in range(k_all):
        first[e_loc[q] + 1] += 1
    for j in range(n):
        first[j + 1] += first[j]
    net = np.zeros(n)
    ex = np.zeros(n)  # units expedited per location
    # the next order with units left (nxt) and the last order used (per location)
    nxt = first[:n].copy()
    big = 1e300

    def cost_next(j):
        return e_cost[order[nxt[j]]] if nxt[j] < first[j + 1] else big

    def fx(j, x):
        return p[j] * _f(j, x, m, curved, c, es, slope)

    # expedite at n = 0: cheapest orders first while a unit saves more than it costs
    for j in range(n):
        while True:
            ce = cost_next(j)
            if ce >= big:
                break
            x = x0[j] + ex[j]
            if fx(j, x) - fx(j, x + 1.0) - ce <= TOLERANCE:
                break
            q = order[nxt[j]]
            used[q] += 1.0
            ex[j] += 1.0
            if used[q] >= qty[q] - 1e-9:
                nxt[j] += 1
    plus = np.empty(n)  # h_j(n_j + 1) − h_j(n_j), money
    minus = np.empty(n)  # h_j(n_j − 1) − h_j(n_j)
    plus_drop = np.zeros(n, np.bool_)  # the best +1 also drops one expedited unit
    minus_add = np.zeros(n, np.bool_)  # the best −1 also expedites one more unit

    def last_cost(j):
        if ex[j] <= 0.0:
            return -1.0
        q_pos = nxt[j] if nxt[j] < first[j + 1] and used[order[nxt[j]]] > 0 else nxt[j] - 1
        return e_cost[order[q_pos]]

    def refresh(j):
        x = x0[j] + net[j] + ex[j]
        here = fx(j, x)
        if net[j] + 1.0 > 0.0 and not can_recv[j]:
            plus[j] = big
        else:
            lin = unit if net[j] >= 0.0 else 0.0
            keep = fx(j, x + 1.0) - here + lin
            plus_drop[j] = False
            if ex[j] > 0.0:
                drop = lin - last_cost(j)
                if drop < keep:
                    keep = drop
                    plus_drop[j] = True
            plus[j] = keep
        if net[j] - 1.0 < lo[j] - 1e-9:
            minus[j] = big
        else:
            lin = -unit if net[j] >= 1.0 else 0.0
            keep = fx(j, x - 1.0) - here + lin
            minus_add[j] = False
            ce = cost_next(j)
            if ce < big:
                add = lin + ce
                if add < keep:
                    keep = add
                    minus_add[j] = True
            minus[j] = keep

    for j in range(n):
        refresh(j)
    for _ in range(100_000_000):
        # the best exchange i → j, i ≠ j (lowest indices on ties)
        j1, j2, i1, i2 = -1, -1, -1, -1
        for j in range(n):
            if j1 < 0 or plus[j] < plus[j1]:
                j2, j1 = j1, j
            elif j2 < 0 or plus[j] < plus[j2]:
                j2 = j
            if i1 < 0 or minus[j] < minus[i1]:
                i2, i1 = i1, j
            elif i2 < 0 or minus[j] < minus[i2]:
                i2 = j
        if n < 2:
            break
        if i1 != j1:
            i, j = i1, j1
        elif minus[i1] + plus[j2] <= minus[i2] + plus[j1]:
            i, j = i1, j2
        else:
            i, j = i2, j1
        if minus[i] + plus[j] >= -TOLERANCE:
            break
        # one unit less at i (maybe expediting one more there), one more at j
        if minus_add[i]:
            q = order[nxt[i]]
            used[q] += 1.0
            ex[i] += 1.0
            if used[q] >= qty[q] - 1e-9:
                nxt[i] += 1
        net[i] -= 1.0
        if plus_drop[j]:
            if nxt[j] < first[j + 1] and used[order[nxt[j]]] > 0:
                q = order[nxt[j]]
            else:
                nxt[j] -= 1
                q = order[nxt[j]]
            used[q] -= 1.0
            ex[j] -= 1.0
        net[j] += 1.0
        refresh(i)
        refresh(j)
    return net, used


def pwl_shortage(x: FloatArray, m: FloatArray, s: FloatArray, tangents: FloatArray) -> FloatArray:
    """The model's piecewise-linear shortage per location at stock ``x`` (units)."""
    c, es, slope = tangent_table(m, s, tangents)
    tan = np.max(es + slope * (x[:, None] - c), axis=1)
    out = np.maximum(0.0, m - x)
    return np.where(s > 0, np.maximum(out, tan), out)
