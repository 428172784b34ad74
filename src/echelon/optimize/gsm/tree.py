"""Exact Graves–Willems (2000) dynamic program for spanning trees (serial, assembly,
distribution and mixed trees; forests are solved component by component).

The underlying undirected graph must be a forest. Each component is rooted at one node and
processed leaves first. For node k with the subtree below it (in the rooted sense) the table

    Φ_k(S, SI) = c_k(SI + T_k − S) + Σ_{c upstream child} min_{S_c ≤ SI − d_ck} F_c(S_c)
                                   + Σ_{c downstream child} min_{SI_c ≥ S + d_kc} G_c(SI_c)

is built on the whole integer grid S ∈ [s_lo, s_hi], SI ∈ [si_lo, si_hi] at once with numpy
(``c_k`` = safety-stock cost, +inf where τ < 0). A node that supplies its parent passes up
``F_k(S) = min_SI Φ_k``, a node its parent supplies passes ``G_k(SI) = min_S Φ_k``; the root
takes the minimum of Φ. Prefix/suffix minima give the ``≤``/``≥`` couplings in O(grid).
Cost: O(Σ_k (s_hi_k + 1)(si_hi_k + 1)) time, O(Σ_k grid) memory for the backtracking.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from echelon.optimize.gsm.instance import Bounds, FloatArray, GSMInstance, IntArray, service_bounds
from echelon.optimize.gsm.solution import GSMSolution, make_solution


class NotATreeError(ValueError):
    """The network's underlying undirected graph has a cycle (the DP needs a forest)."""


@dataclass
class _Rooted:
    order: list[int]  # parents before children
    parent: IntArray  # -1 at roots
    parent_delay: IntArray
    child_is_upstream: np.ndarray  # True if k supplies its parent
    children: list[list[int]]


def is_forest(inst: GSMInstance) -> bool:
    """True if the underlying undirected graph of the network has no cycle."""
    try:
        _root(inst)
    except NotATreeError:
        return False
    return True


def _root(inst: GSMInstance) -> _Rooted:
    n = inst.n
    adj: list[list[tuple[int, bool, int]]] = [[] for _ in range(n)]
    for i, j, d in zip(
        inst.arc_src.tolist(), inst.arc_dst.tolist(), inst.arc_delay.tolist(), strict=True
    ):
        adj[j].append((i, True, d))  # i is upstream of j
        adj[i].append((j, False, d))
    parent = np.full(n, -1, np.int64)
    parent_delay = np.zeros(n, np.int64)
    upstream = np.zeros(n, bool)
    children: list[list[int]] = [[] for _ in range(n)]
    seen = np.zeros(n, bool)
    order: list[int] = []
    for root in range(n):
        if seen[root]:
            continue
        seen[root] = True
        stack = [root]
        while stack:
            k = stack.pop()
            order.append(k)
            for nb, nb_upstream, d in adj[k]:
                if nb == parent[k]:
                    continue
                if seen[nb]:
                    raise NotATreeError("the underlying undirected graph has a cycle")
                seen[nb] = True
                parent[nb] = k
                parent_delay[nb] = d
                upstream[nb] = nb_upstream
                children[k].append(nb)
                stack.append(nb)
    if len(inst.arc_src) != n - int(np.sum(parent < 0)):
        raise NotATreeError("the underlying undirected graph has a cycle (parallel paths)")
    return _Rooted(order, parent, parent_delay, upstream, children)


def stage_grid(inst: GSMInstance, k: int, s_hi: int, si_hi: int) -> FloatArray:
    """Read-only ``c_k(SI + T_k − S)`` on S ∈ [0, s_hi] × SI ∈ [0, si_hi] (+inf where τ < 0).

    The table is Toeplitz (it depends on SI − S only), so it is a strided view of one vector
    ``w`` with ``w[s_hi + τ] = c_k(τ)`` (and +inf below): row S is ``w[T − S + s_hi :][: si_hi
    + 1]``. No index arrays are materialized.
    """
    T = int(inst.processing_time[k])
    stage = inst.stage_cost(np.arange(si_hi + T + 1), k)
    w = np.concatenate([np.full(s_hi, np.inf), stage])
    view: FloatArray = sliding_window_view(w, si_hi + 1)[T : T + s_hi + 1][::-1]
    return view


def prefix_min(values: FloatArray) -> tuple[FloatArray, IntArray]:
    """Running minimum of ``values`` and the last index attaining it."""
    best = np.minimum.accumulate(values)
    arg = np.maximum.accumulate(np.where(values == best, np.arange(values.size), 0))
    return best, arg.astype(np.int64)


def suffix_min(values: FloatArray) -> tuple[FloatArray, IntArray]:
    """Minimum of ``values[i:]`` for every i and the first index attaining it."""
    best, arg = prefix_min(values[::-1])
    return best[::-1].copy(), (values.size - 1 - arg[::-1]).astype(np.int64)


def solve_tree(inst: GSMInstance, bounds: Bounds | None = None) -> GSMSolution:
    """Optimal committed service times of a tree (forest) instance; raises NotATreeError."""
    start = time.perf_counter()
    b = bounds or service_bounds(inst)
    rooted = _root(inst)
    n = inst.n
    # Per node: the min table passed to the parent, its arg of the other coordinate, and
    # the prefix/suffix arg used when the parent picks this node's coupled coordinate.
    passed_arg: list[IntArray] = [np.zeros(0, np.int64)] * n
    coupled_best: list[FloatArray] = [np.zeros(0)] * n
    coupled_arg: list[IntArray] = [np.zeros(0, np.int64)] * n
    root_choice: dict[int, tuple[int, int]] = {}
    total = 0.0
    for k in reversed(rooted.order):
        s_hi, si_hi = int(b.s_hi[k]), int(b.si_hi[k])
        up = np.zeros(si_hi + 1)
        up[: int(b.si_lo[k])] = np.inf
        down = np.zeros(s_hi + 1)
        down[: int(b.s_lo[k])] = np.inf
        for c in rooted.children[k]:
            d = int(rooted.parent_delay[c])
            table = coupled_best[c]
            if rooted.child_is_upstream[c]:
                idx = np.arange(si_hi + 1) - d
                vals = table[np.clip(idx, 0, table.size - 1)]
                up += np.where(idx >= 0, vals, np.inf)
            else:
                idx = np.arange(s_hi + 1) + d
                vals = table[np.clip(idx, 0, table.size - 1)]
                down += np.where(idx < table.size, vals, np.inf)
        phi = stage_grid(inst, k, s_hi, si_hi) + up[None, :]
        phi += down[:, None]
        p = int(rooted.parent[k])
        if p < 0:
            flat = int(np.argmin(phi))
            y, x = divmod(flat, si_hi + 1)
            root_choice[k] = (y, x)
            total += float(phi[y, x])
        elif rooted.child_is_upstream[k]:
            passed_arg[k] = np.argmin(phi, axis=1).astype(np.int64)
            f = phi[np.arange(s_hi + 1), passed_arg[k]]
            coupled_best[k], coupled_arg[k] = prefix_min(f)
        else:
            passed_arg[k] = np.argmin(phi, axis=0).astype(np.int64)
            g = phi[passed_arg[k], np.arange(si_hi + 1)]
            coupled_best[k], coupled_arg[k] = suffix_min(g)
    committed = np.zeros(n, np.int64)
    inbound = np.zeros(n, np.int64)
    for k in rooted.order:
        p = int(rooted.parent[k])
        if p < 0:
            committed[k], inbound[k] = root_choice[k]
            continue
        d = int(rooted.parent_delay[k])
        if rooted.child_is_upstream[k]:
            s = min(int(inbound[p]) - d, coupled_arg[k].size - 1)
            committed[k] = coupled_arg[k][s]
            inbound[k] = passed_arg[k][committed[k]]
        else:
            si = int(committed[p]) + d
            inbound[k] = coupled_arg[k][si]
            committed[k] = passed_arg[k][inbound[k]]
    sol = make_solution(inst, committed, "tree", status="optimal")
    sol.lower_bound = sol.objective
    sol.details.update(
        dp_value=total,
        grid_cells=int(np.sum((b.s_hi + 1) * (b.si_hi + 1))),
        seconds=time.perf_counter() - start,
    )
    return sol
