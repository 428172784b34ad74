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
class Rooted:
    """A forest rooted component by component (DFS from the lowest-numbered node)."""

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


def _root(inst: GSMInstance) -> Rooted:
    arcs = zip(inst.arc_src.tolist(), inst.arc_dst.tolist(), inst.arc_delay.tolist(), strict=True)
    return root_forest(inst.n, list(arcs))


def root_forest(n: int, arcs: list[tuple[int, int, int]]) -> Rooted:
    """Root the forest of nodes 0..n−1 with arcs (i, j, delay) i → j; raises NotATreeError."""
    adj: list[list[tuple[int, bool, int]]] = [[] for _ in range(n)]
    for i, j, d in arcs:
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
    if len(arcs) != n - int(np.sum(parent < 0)):
        raise NotATreeError("the underlying undirected graph has a cycle (parallel paths)")
    return Rooted(order, parent, parent_delay, upstream, children)


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


def node_table(inst: GSMInstance, k: int, up: FloatArray, down: FloatArray) -> FloatArray:
    """``Φ_k(S, SI) = c_k(SI + T_k − S) + up[SI] + down[S]`` on S ∈ [0, down.size), SI ∈ [0,
    up.size): the stage cost plus what node k's subtrees (and bounds, as +inf) add."""
    phi = stage_grid(inst, k, down.size - 1, up.size - 1) + up[None, :]
    phi += down[:, None]
    return phi


def root_min(phi: FloatArray) -> tuple[tuple[int, int], float]:
    """A root's (S, SI) minimizing Φ (the first in row-major order) and the minimum."""
    y, x = divmod(int(np.argmin(phi)), phi.shape[1])
    return (y, x), float(phi[y, x])


def pass_up(phi: FloatArray, supplies_parent: bool) -> tuple[IntArray, FloatArray, IntArray]:
    """What a non-root node passes to its parent: the arg of its other coordinate, and the
    coupled table with its arg — ``min_{S' ≤ S} F(S')`` with ``F(S) = min_SI Φ`` if it supplies
    the parent, else ``min_{SI' ≥ SI} G(SI')`` with ``G(SI) = min_S Φ``."""
    if supplies_parent:
        passed = np.argmin(phi, axis=1).astype(np.int64)
        best, arg = prefix_min(phi[np.arange(phi.shape[0]), passed])
    else:
        passed = np.argmin(phi, axis=0).astype(np.int64)
        best, arg = suffix_min(phi[passed, np.arange(phi.shape[1])])
    return passed, best, arg


def coupled_cost(table: FloatArray, d: int, size: int, supplies_parent: bool) -> FloatArray:
    """A child's coupled table (``pass_up``) as a cost of its parent's SI (child supplies it,
    ``table[SI − d]``) or S (parent supplies the child, ``table[S + d]``) on [0, size);
    +inf where the child's grid has no such point."""
    idx = np.arange(size) - d if supplies_parent else np.arange(size) + d
    vals = table[np.clip(idx, 0, table.size - 1)]
    return np.where(idx >= 0 if supplies_parent else idx < table.size, vals, np.inf)


def child_choice(
    supplies_parent: bool,
    d: int,
    passed: IntArray,
    coupled_arg: IntArray,
    parent_s: int,
    parent_si: int,
) -> tuple[int, int]:
    """Backtracking: a child's (S, SI) given its parent's, from its ``pass_up`` args."""
    if supplies_parent:
        s = int(coupled_arg[max(min(parent_si - d, coupled_arg.size - 1), 0)])
        return s, int(passed[s])
    si = int(coupled_arg[min(parent_s + d, coupled_arg.size - 1)])
    return int(passed[si]), si


def forest_dp(
    inst: GSMInstance,
    rooted: Rooted,
    nodes: list[int],
    s_lo: list[int],
    s_hi: list[int],
    si_lo: list[int],
    si_hi: list[int],
    s_cost: dict[int, FloatArray] | None = None,
    si_cost: dict[int, FloatArray] | None = None,
    total: float = 0.0,
) -> tuple[float, list[int], list[int]]:
    """The Graves–Willems DP (module doc) over a rooted forest of local nodes k (instance node
    ``nodes[k]``) with bounds S ∈ [s_lo, s_hi], SI ∈ [si_lo, si_hi] (local); ``s_cost`` and
    ``si_cost`` are extra costs of S and of SI by instance node (index = S or SI), ``total`` a
    constant added to the value. Returns the value, S and SI (local; meaningless if inf)."""
    s_cost = s_cost or {}
    si_cost = si_cost or {}
    n = len(nodes)
    passed_arg: list[IntArray] = [np.zeros(0, np.int64)] * n
    coupled_best: list[FloatArray] = [np.zeros(0)] * n
    coupled_arg: list[IntArray] = [np.zeros(0, np.int64)] * n
    root_choice: dict[int, tuple[int, int]] = {}
    for k in reversed(rooted.order):
        j = nodes[k]
        sic, sc = si_cost.get(j), s_cost.get(j)
        up = np.zeros(si_hi[k] + 1) if sic is None else sic[: si_hi[k] + 1].astype(float)
        up[: si_lo[k]] = np.inf
        down = np.zeros(s_hi[k] + 1) if sc is None else sc[: s_hi[k] + 1].astype(float)
        down[: s_lo[k]] = np.inf
        for c in rooted.children[k]:
            d = int(rooted.parent_delay[c])
            if rooted.child_is_upstream[c]:
                up += coupled_cost(coupled_best[c], d, up.size, True)
            else:
                down += coupled_cost(coupled_best[c], d, down.size, False)
        phi = node_table(inst, j, up, down)
        if rooted.parent[k] < 0:
            root_choice[k], value = root_min(phi)
            total += value
        else:
            passed_arg[k], coupled_best[k], coupled_arg[k] = pass_up(
                phi, bool(rooted.child_is_upstream[k])
            )
    s = [0] * n
    si = [0] * n
    for k in rooted.order:
        p = int(rooted.parent[k])
        if p < 0:
            s[k], si[k] = root_choice[k]
            continue
        s[k], si[k] = child_choice(
            bool(rooted.child_is_upstream[k]),
            int(rooted.parent_delay[k]),
            passed_arg[k],
            coupled_arg[k],
            s[p],
            si[p],
        )
    return total, s, si


def solve_tree(inst: GSMInstance, bounds: Bounds | None = None) -> GSMSolution:
    """Optimal committed service times of a tree (forest) instance; raises NotATreeError."""
    start = time.perf_counter()
    b = bounds or service_bounds(inst)
    rooted = _root(inst)
    total, s, _ = forest_dp(
        inst,
        rooted,
        list(range(inst.n)),
        b.s_lo.tolist(),
        b.s_hi.tolist(),
        b.si_lo.tolist(),
        b.si_hi.tolist(),
    )
    sol = make_solution(inst, np.array(s, np.int64), "tree", status="optimal")
    sol.lower_bound = sol.objective
    sol.details.update(
        dp_value=total,
        grid_cells=int(np.sum((b.s_hi + 1) * (b.si_hi + 1))),
        seconds=time.perf_counter() - start,
    )
    return sol
