"""A fast heuristic for large general (acyclic) GSM instances: an upper bound, no proof.

Every S within its bounds is feasible (a node that commits to more than SI + T waits), so the
problem is the box-constrained minimization of ``cost(S) = Σ_j c_j(τ_j(S))``. Two
neighbourhoods alternate until neither improves or the time budget runs out:

1. **coordinate descent**: for each node j, every S_j on its grid is priced at once (its own
   τ_j and the τ of its customers), the best is kept;
2. **spanning-tree moves**: a random spanning forest is drawn; every arc (i, c) outside it is
   frozen at the current value (S_i ≤ S_i*, SI_c ≥ S_i* + d_ic) and the exact tree DP solves
   the rest. The current solution is feasible for that subproblem, so a move never worsens
   the cost; it changes many service times at once where coordinate descent is stuck.

The start is the best, after coordinate descent, of: the tree DP on a spanning forest that
keeps each node's in-arc from the supplier with the longest replenishment path (the other arcs
relaxed), all S at their lower bounds, and all S at their upper bounds.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from echelon.optimize.gsm.instance import Bounds, FloatArray, GSMInstance, IntArray, service_bounds
from echelon.optimize.gsm.solution import GSMSolution, evaluate, inbound_times, make_solution
from echelon.optimize.gsm.tree import solve_tree


def _cost_tables(inst: GSMInstance, b: Bounds) -> list[FloatArray]:
    return [inst.stage_cost(np.arange(int(b.tau_hi[j]) + 1), j) for j in range(inst.n)]


def local_search(
    inst: GSMInstance, committed: IntArray, b: Bounds, tables: list[FloatArray]
) -> IntArray:
    """Coordinate descent on S until no single-node change lowers the cost."""
    s = committed.copy()
    T = inst.processing_time
    improved = True
    while improved:
        improved = False
        si_need = inbound_times(inst, s)
        for j in b.order.tolist():
            lo, hi = int(b.s_lo[j]), int(b.s_hi[j])
            if hi <= lo:
                continue
            v = np.arange(lo, hi + 1)
            total = tables[j][np.clip(int(si_need[j]) + int(T[j]) - v, 0, None)]
            for c, d in b.succs[j]:
                other = int(inst.min_inbound[c])
                for i, di in b.preds[c]:
                    if i != j:
                        other = max(other, int(s[i]) + di)
                tau_c = np.maximum(np.maximum(other, v + d) + int(T[c]) - int(s[c]), 0)
                total = total + tables[c][np.minimum(tau_c, tables[c].size - 1)]
            best = int(np.argmin(total))
            if total[best] < total[int(s[j]) - lo] - 1e-12 * max(1.0, abs(total[best])):
                s[j] = lo + best
                improved = True
                for c, _ in b.succs[j]:
                    si_need[c] = inbound_times_one(inst, s, b, c)
    return s


def inbound_times_one(inst: GSMInstance, s: IntArray, b: Bounds, c: int) -> int:
    top = int(inst.min_inbound[c])
    for i, d in b.preds[c]:
        top = max(top, int(s[i]) + d)
    return top


def _forest_arcs(inst: GSMInstance, weights: FloatArray) -> np.ndarray:
    """Indices of the arcs of a maximum-weight spanning forest (Kruskal)."""
    parent = list(range(inst.n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    keep = []
    for a in np.argsort(-weights, kind="stable").tolist():
        ri, rj = find(int(inst.arc_src[a])), find(int(inst.arc_dst[a]))
        if ri != rj:
            parent[ri] = rj
            keep.append(a)
    mask = np.zeros(len(inst.arc_src), bool)
    mask[keep] = True
    return mask


def tree_subproblem(
    inst: GSMInstance, committed: IntArray, in_tree: np.ndarray
) -> tuple[GSMInstance, IntArray]:
    """The instance restricted to the arcs in ``in_tree``, arcs outside frozen at ``committed``."""
    min_in = inst.min_inbound.copy()
    cap = inst.max_service.copy()
    out = ~in_tree
    src, dst, dly = inst.arc_src[out], inst.arc_dst[out], inst.arc_delay[out]
    np.maximum.at(min_in, dst, committed[src] + dly)
    np.minimum.at(cap, src, committed[src].astype(float))
    sub = dataclasses.replace(
        inst,
        min_inbound=min_in,
        max_service=cap,
        arc_src=inst.arc_src[in_tree],
        arc_dst=inst.arc_dst[in_tree],
        arc_delay=inst.arc_delay[in_tree],
    )
    return sub, committed


def _relaxed_start(inst: GSMInstance, b: Bounds) -> IntArray:
    """Tree DP on the forest keeping each node's in-arc from its longest-path supplier."""
    weights = (b.s_hi[inst.arc_src] + inst.arc_delay).astype(float)
    mask = _forest_arcs(inst, weights)
    sub = dataclasses.replace(
        inst, arc_src=inst.arc_src[mask], arc_dst=inst.arc_dst[mask], arc_delay=inst.arc_delay[mask]
    )
    s = solve_tree(sub).committed
    return np.clip(s, b.s_lo, b.s_hi)


def improve(
    inst: GSMInstance,
    committed: IntArray,
    *,
    time_limit: float = 5.0,
    seed: int = 0,
    patience: int = 8,
    bounds: Bounds | None = None,
) -> tuple[IntArray, dict[str, float]]:
    """Alternate coordinate descent and spanning-tree moves from ``committed``."""
    start = time.perf_counter()
    b = bounds or service_bounds(inst)
    tables = _cost_tables(inst, b)
    rng = np.random.default_rng(seed)
    s = local_search(inst, np.clip(committed, b.s_lo, b.s_hi), b, tables)
    best = evaluate(inst, s)[2]
    stale = moves = 0
    is_tree = len(inst.arc_src) < inst.n
    while not is_tree and stale < patience and time.perf_counter() - start < time_limit:
        moves += 1
        mask = _forest_arcs(inst, rng.random(len(inst.arc_src)))
        sub, _ = tree_subproblem(inst, s, mask)
        cand = local_search(inst, solve_tree(sub).committed, b, tables)
        cost = evaluate(inst, cand)[2]
        if cost < best - 1e-9 * max(1.0, best):
            s, best, stale = cand, cost, 0
        else:
            stale += 1
    return s, {"tree_moves": moves, "heuristic_seconds": time.perf_counter() - start}


def solve_heuristic(
    inst: GSMInstance, *, time_limit: float = 5.0, seed: int = 0, bounds: Bounds | None = None
) -> GSMSolution:
    """Heuristic solution (upper bound); ``lower_bound`` stays None."""
    b = bounds or service_bounds(inst)
    tables = _cost_tables(inst, b)
    starts = [_relaxed_start(inst, b), b.s_lo.copy(), b.s_hi.copy()]
    descended = [local_search(inst, st, b, tables) for st in starts]
    start = min(descended, key=lambda st: evaluate(inst, st)[2])
    s, stats = improve(inst, start, time_limit=time_limit, seed=seed, bounds=b)
    return make_solution(inst, s, "heuristic", status="heuristic", details=dict(stats))
