"""Exact pendant-tree reduction of a GSM instance to the 2-core of its undirected graph.

Nodes of degree ≤ 1 are removed repeatedly (leaves first); what is left is the 2-core. Every
removed node hangs off exactly one later node (its *attachment*: the one neighbour still
present when it was removed) or is the last node of a tree component. The Graves–Willems
tree DP (as in ``tree.py``) runs over the removed nodes in removal order and turns every
subtree hanging off a core node p into an **exact** cost function of p's own variables:

- a subtree *downstream* of p (arc p → k, delay d) costs ``H(S_p) = min_{SI_k ≥ S_p + d}
  G_k(SI_k)``, non-decreasing in S_p;
- a subtree *upstream* of p (arc k → p) costs ``F(SI_p) = min_{S_k ≤ SI_p − d} F_k(S_k)``,
  non-increasing in SI_p.

So ``min cost = constant + min over the core of Σ_{p ∈ core} [c_p(τ_p) + s_cost_p(S_p) +
si_cost_p(SI_p)]`` subject to the core's own arcs, and :meth:`Reduction.expand` rebuilds the
service times of the removed nodes from any core solution (each removed node takes its
arg-min given its attachment's S or SI), at a true cost no higher than the core objective.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from echelon.optimize.gsm.instance import Bounds, FloatArray, GSMInstance, IntArray
from echelon.optimize.gsm.tree import child_choice, coupled_cost, node_table, pass_up, root_min


@dataclass
class Reduction:
    """The 2-core of an instance and the exact cost functions of its pendant trees."""

    inst: GSMInstance
    bounds: Bounds
    core: IntArray
    """Original indices of the core nodes (ascending)."""
    core_arcs: IntArray
    """Indices of the arcs with both ends in the core."""
    s_cost: dict[int, FloatArray]
    """Core node -> cost of its downstream pendant trees as a function of S (index = S)."""
    si_cost: dict[int, FloatArray]
    """Core node -> cost of its upstream pendant trees as a function of SI (index = SI)."""
    si_lo: IntArray
    """Lower bounds of SI implied by every predecessor's lower bound of S (all nodes)."""
    constant: float
    """Optimal cost of the tree components that contain no core node."""
    removed: list[int] = field(default_factory=list)
    parent: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    parent_delay: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    upstream: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    passed_arg: dict[int, IntArray] = field(default_factory=dict)
    coupled_arg: dict[int, IntArray] = field(default_factory=dict)
    root_choice: dict[int, tuple[int, int]] = field(default_factory=dict)

    def expand(self, core_s: dict[int, int], core_si: dict[int, int]) -> IntArray:
        """Service times of every node from the core's S and SI (keys: original indices)."""
        n = self.inst.n
        committed = np.zeros(n, np.int64)
        inbound = np.zeros(n, np.int64)
        for j, s in core_s.items():
            committed[j] = s
            inbound[j] = core_si[j]
        for k in reversed(self.removed):
            p = int(self.parent[k])
            if p < 0:
                committed[k], inbound[k] = self.root_choice[k]
                continue
            committed[k], inbound[k] = child_choice(
                bool(self.upstream[k]),
                int(self.parent_delay[k]),
                self.passed_arg[k],
                self.coupled_arg[k],
                int(committed[p]),
                int(inbound[p]),
            )
        return committed


def reduce_to_core(inst: GSMInstance, b: Bounds) -> Reduction:
    """Remove pendant trees (degree ≤ 1, repeatedly) and fold them into exact cost functions."""
    n = inst.n
    src, dst, dly = inst.arc_src.tolist(), inst.arc_dst.tolist(), inst.arc_delay.tolist()
    adj: list[list[tuple[int, bool, int]]] = [[] for _ in range(n)]  # (nb, nb upstream, d)
    for i, j, d in zip(src, dst, dly, strict=True):
        adj[j].append((i, True, d))
        adj[i].append((j, False, d))
    deg = np.array([len(a) for a in adj], np.int64)
    alive = np.ones(n, bool)
    stack = [j for j in range(n) if deg[j] <= 1]
    removed: list[int] = []
    while stack:
        j = stack.pop()
        if not alive[j]:
            continue
        alive[j] = False
        removed.append(j)
        for k, _, _ in adj[j]:
            if alive[k]:
                deg[k] -= 1
                if deg[k] <= 1:
                    stack.append(k)
    parent = np.full(n, -1, np.int64)
    parent_delay = np.zeros(n, np.int64)
    upstream = np.zeros(n, bool)
    position = np.full(n, n, np.int64)
    for t, j in enumerate(removed):
        position[j] = t
    children: list[list[int]] = [[] for _ in range(n)]
    for j in removed:
        for k, k_up, d in adj[j]:
            if position[k] > position[j]:  # the attachment: still present when j went
                parent[j] = k
                parent_delay[j] = d
                upstream[j] = not k_up  # j supplies k iff k is not upstream of j
                children[k].append(j)
                break
    # SI lower bounds from every predecessor's S lower bound
    si_lo = b.si_lo.copy()
    for i, j, d in zip(src, dst, dly, strict=True):
        si_lo[j] = max(int(si_lo[j]), int(b.s_lo[i]) + d)
    red = Reduction(
        inst=inst,
        bounds=b,
        core=np.flatnonzero(alive).astype(np.int64),
        core_arcs=np.array(
            [a for a in range(len(src)) if alive[src[a]] and alive[dst[a]]], np.int64
        ),
        s_cost={},
        si_cost={},
        si_lo=si_lo,
        constant=0.0,
        removed=removed,
        parent=parent,
        parent_delay=parent_delay,
        upstream=upstream,
    )
    up: dict[int, FloatArray] = {}  # removed node -> its removed subtrees as a cost of SI
    down: dict[int, FloatArray] = {}  # ... as a cost of S
    for k in removed:
        s_hi, si_hi = int(b.s_hi[k]), int(b.si_hi[k])
        u = up.pop(k, np.zeros(si_hi + 1))
        u[: int(b.si_lo[k])] = np.inf
        dn = down.pop(k, np.zeros(s_hi + 1))
        dn[: int(b.s_lo[k])] = np.inf
        phi = node_table(inst, k, u, dn)
        p = int(parent[k])
        if p < 0:
            red.root_choice[k], value = root_min(phi)
            red.constant += value
            continue
        supplies = bool(upstream[k])  # k supplies p: a function of SI_p, else of S_p
        red.passed_arg[k], best, red.coupled_arg[k] = pass_up(phi, supplies)
        size = int(b.si_hi[p] if supplies else b.s_hi[p]) + 1
        vals = coupled_cost(best, int(parent_delay[k]), size, supplies)
        core_cost = red.si_cost if supplies else red.s_cost  # a core node's unary cost
        into = core_cost if alive[p] else (up if supplies else down)
        into[p] = into[p] + vals if p in into else vals
    return red
