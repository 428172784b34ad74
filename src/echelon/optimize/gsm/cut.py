"""Exact GSM on networks whose 2-core has few cycles: cut arcs + branch and bound on the tree DP.

After the exact pendant-tree reduction (``reduce.py``) the 2-core is left, each core node p
with its stage cost c_p(τ_p) and the pendant trees' exact costs of S_p and SI_p. A spanning
forest of the core is chosen (Kruskal, keeping the arcs whose tail has the widest S range);
the r = arcs − nodes + components arcs outside it are **cut arcs** i → j (delay d). For a box
``S_i ∈ [lo_i, hi_i]`` of every cut tail i the problem with each cut arc replaced by the bound
``SI_j ≥ lo_i + d`` is a tree problem, solved exactly by the Graves–Willems DP on the core
(with the pendant costs as unary terms). It is a relaxation of the original restricted to the
box (``S_i ≥ lo_i`` implies the bound), so its value is a **lower bound** there; and any
service times S are feasible in the GSM, so the true cost of the DP's S (expanded to the
removed nodes, ``evaluate``) is an **upper bound**. When the DP solution satisfies every cut
arc, it is optimal for its box; a box of width 0 is solved exactly by construction.

Best-first branch and bound: the box with the least lower bound is split at the midpoint of
its widest dimension whose cut arc the DP solution violates; boxes whose bound is within the
tolerance of the incumbent are dropped. The proven lower bound is the least bound of the open
boxes (or the incumbent when none is left). Work per box: Σ over core nodes of
(S range + 1)(SI range + 1) grid cells, independent of the length of the processing times
in the pendant trees, and the tree is never rebuilt.
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass

import numpy as np

from echelon.optimize.gsm.instance import Bounds, GSMInstance, IntArray, service_bounds
from echelon.optimize.gsm.reduce import Reduction, reduce_to_core
from echelon.optimize.gsm.solution import GSMSolution, evaluate, make_solution, settle, start_point
from echelon.optimize.gsm.tree import Rooted, forest_dp, root_forest

CUT_RANK_LIMIT = 4  # cut arcs up to which ``formulation="auto"`` uses this method


@dataclass
class _Core:
    """The core as a rooted forest in local indices, plus its cut arcs."""

    red: Reduction
    nodes: list[int]  # local -> original index
    rooted: Rooted  # the spanning forest (local indices)
    cuts: list[tuple[int, int, int]]  # (tail, head, delay), local indices
    tails: list[int]  # distinct cut tails (local), the box dimensions


def cycle_rank(red: Reduction) -> int:
    """Arcs of the core minus a spanning forest's: the number of cut arcs needed."""
    return len(_spanning_forest(red)[1])


def _spanning_forest(
    red: Reduction,
) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]:
    """The core's arcs (tail, head, delay) in local indices, split into a spanning forest
    (Kruskal, widest tail S range first) and the cut arcs that close a cycle."""
    inst, b = red.inst, red.bounds
    nodes = red.core.tolist()
    loc = {j: p for p, j in enumerate(nodes)}
    arcs = [
        (loc[int(inst.arc_src[a])], loc[int(inst.arc_dst[a])], int(inst.arc_delay[a]))
        for a in red.core_arcs.tolist()
    ]
    width = [int(b.s_hi[j] - b.s_lo[j]) for j in nodes]
    uf = list(range(len(nodes)))

    def find(x: int) -> int:
        while uf[x] != x:
            uf[x] = uf[uf[x]]
            x = uf[x]
        return x

    tree: list[tuple[int, int, int]] = []
    cuts: list[tuple[int, int, int]] = []
    for i, j, d in sorted(arcs, key=lambda a: -width[a[0]]):  # cut the narrow tails
        ri, rj = find(i), find(j)
        if ri == rj:
            cuts.append((i, j, d))
        else:
            uf[ri] = rj
            tree.append((i, j, d))
    return tree, cuts


def _build_core(red: Reduction) -> _Core:
    nodes = red.core.tolist()
    tree, cuts = _spanning_forest(red)
    tails = sorted({i for i, _, _ in cuts})
    return _Core(red, nodes, root_forest(len(nodes), tree), cuts, tails)


def solve_cut(
    inst: GSMInstance,
    *,
    time_limit: float = 60.0,
    gap_tolerance: float = 1e-4,
    start: IntArray | None = None,
    bounds: Bounds | None = None,
    reduction: Reduction | None = None,
) -> GSMSolution:
    """Cut arcs + branch and bound on the core tree DP (module doc); proven bound and gap."""
    t0 = time.perf_counter()
    b = bounds or service_bounds(inst)
    red = reduction or reduce_to_core(inst, b)
    core = _build_core(red)
    nodes = core.nodes
    base_lo = [int(b.s_lo[j]) for j in nodes]
    base_hi = [int(b.s_hi[j]) for j in nodes]
    base_si = [int(red.si_lo[j]) for j in nodes]
    base_si_hi = [int(b.si_hi[j]) for j in nodes]
    best_s, best_ub = start_point(inst, b, start)
    boxes_solved = 0

    def solve_box(box: tuple[tuple[int, int], ...]) -> tuple[float, list[int], list[int]]:
        lo, hi, si = list(base_lo), list(base_hi), list(base_si)
        for (blo, bhi), t in zip(box, core.tails, strict=True):
            lo[t], hi[t] = blo, bhi
        for i, j, d in core.cuts:
            si[j] = max(si[j], lo[i] + d)
        for k in range(len(nodes)):  # a head bound above the SI grid: empty box
            if si[k] > base_si_hi[k]:
                return math.inf, [], []
        value, s, si = forest_dp(
            inst, core.rooted, nodes, lo, hi, si, base_si_hi, red.s_cost, red.si_cost, red.constant
        )
        return (value, s, si) if math.isfinite(value) else (math.inf, [], [])

    root = tuple((base_lo[t], base_hi[t]) for t in core.tails)
    heap: list[tuple[float, int, int, tuple[tuple[int, int], ...]]] = []
    counter = 0

    def push(box: tuple[tuple[int, int], ...]) -> None:
        nonlocal best_s, best_ub, counter, boxes_solved
        value, s, si = solve_box(box)
        boxes_solved += 1
        if not math.isfinite(value):
            return
        full = red.expand(
            {nodes[k]: s[k] for k in range(len(nodes))},
            {nodes[k]: si[k] for k in range(len(nodes))},
        )
        full = np.clip(full, b.s_lo, b.s_hi)
        ub = evaluate(inst, full)[2]
        if ub < best_ub:
            best_s, best_ub = full, ub
        violated = [
            q
            for q, t in enumerate(core.tails)
            if any(i == t and si[j] < s[i] + d for i, j, d in core.cuts)
        ]
        if not violated:
            return  # the relaxation's solution is feasible: box solved
        q = max(violated, key=lambda q: box[q][1] - box[q][0])  # widest violated dimension
        counter += 1
        heapq.heappush(heap, (value, counter, q, box))

    push(root)
    status = "optimal"
    while heap:
        value, _, q, box = heap[0]
        if value >= best_ub * (1 - gap_tolerance) - 1e-9:
            break
        if time.perf_counter() - t0 > time_limit:
            status = "time_limit"
            break
        heapq.heappop(heap)
        lo, hi = box[q]
        mid = (lo + hi) // 2
        for part in ((lo, mid), (mid + 1, hi)):
            child = (*box[:q], part, *box[q + 1 :])
            push(child)
    lower = min((entry[0] for entry in heap), default=best_ub)
    lower = min(lower, best_ub)
    sol = make_solution(
        inst,
        best_s,
        "mip",
        lower_bound=lower,
        status=status,
        details={
            "formulation": "cut arcs + branch and bound on the core tree DP",
            "core_nodes": int(red.core.size),
            "core_arcs": int(red.core_arcs.size),
            "cut_arcs": len(core.cuts),
            "boxes": boxes_solved,
            "mip_seconds": time.perf_counter() - t0,
        },
    )
    gap = settle(sol).gap
    if gap is not None and gap > 1e-9:  # within the tolerance, or stopped on the bound test
        stopped = status == "time_limit" and gap > gap_tolerance + 1e-12
        sol.status = "time_limit" if stopped else "gap_reached"
    return sol
