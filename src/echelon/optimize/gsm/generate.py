"""Random GSM instances with long processing times and a small 2-core (tests and benchmarks).

:func:`long_time_instance` builds a supply chain of ``n`` stages around one plant: a supply
in-tree (suppliers → … → plant, arcs towards the plant) and a distribution out-tree (plant →
DCs → … → customers, arcs away from it), processing times drawn uniformly from ``t_range``
periods, then ``extra_arcs`` additional arcs, each closing an undirected cycle of ``cycle``
stages (a path a – b – c – d of the tree gets the arc a → d or d → a, whichever keeps the
network acyclic). The maximum replenishment times (longest paths) reach several hundred to
a few thousand periods, too long for the time-indexed model of the whole network.

Units: processing times in periods, σ and μ in units per period, holding costs in money per
unit per period (cumulative: a stage's own added cost plus its suppliers' costs, as in the
Willems convention), z = 1.645 (95 % CSL) everywhere; customers (the out-tree's leaves) quote
service time 0.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from echelon.optimize.gsm.instance import GSMInstance


def _random_tree(rng: np.random.Generator, n: int, max_children: int) -> list[int]:
    """Parent of every node (−1 at node 0) of a random tree with bounded branching."""
    parent = [-1]
    open_slots = [0]
    children = [0]
    for t in range(1, n):
        k = int(rng.integers(0, len(open_slots)))
        p = open_slots[k]
        parent.append(p)
        children[p] += 1
        children.append(0)
        if children[p] >= max_children:
            open_slots.pop(k)
        open_slots.append(t)
    return parent


def _reaches(n: int, arcs: list[tuple[int, int]], a: int, b: int) -> bool:
    succ: list[list[int]] = [[] for _ in range(n)]
    for i, j in arcs:
        succ[i].append(j)
    seen = {a}
    queue = deque([a])
    while queue:
        k = queue.popleft()
        if k == b:
            return True
        for m in succ[k]:
            if m not in seen:
                seen.add(m)
                queue.append(m)
    return False


def long_time_instance(
    n: int = 250,
    *,
    seed: int = 0,
    t_range: tuple[int, int] = (5, 240),
    extra_arcs: int = 1,
    cycle: int = 4,
    max_children: int = 3,
) -> GSMInstance:
    """A GSM instance as described in the module doc (``n`` ≥ 2·cycle stages)."""
    rng = np.random.default_rng(seed)
    n_supply = n // 2
    # supply in-tree on nodes 0..n_supply-1 (0 = plant), distribution out-tree on the rest
    # with its root attached below the plant
    sup_parent = _random_tree(rng, n_supply, max_children)
    dist_parent = _random_tree(rng, n - n_supply, max_children)
    arcs: list[tuple[int, int]] = []
    tree_adj: list[list[int]] = [[] for _ in range(n)]
    for t in range(1, n_supply):
        arcs.append((t, sup_parent[t]))
    arcs.append((0, n_supply))
    for t in range(1, n - n_supply):
        arcs.append((n_supply + dist_parent[t], n_supply + t))
    for i, j in arcs:
        tree_adj[i].append(j)
        tree_adj[j].append(i)
    added = 0
    tries = 0
    while added < extra_arcs and tries < 10_000:
        tries += 1
        path = [int(rng.integers(0, n))]
        while len(path) < cycle:
            options = [k for k in tree_adj[path[-1]] if k not in path]
            if not options:
                break
            path.append(options[int(rng.integers(0, len(options)))])
        a, d = path[0], path[-1]
        if len(path) < cycle or (a, d) in arcs or (d, a) in arcs:
            continue
        # a → d closes a directed cycle iff d already reaches a; then d → a cannot
        arcs.append((d, a) if _reaches(n, arcs, d, a) else (a, d))
        tree_adj[a].append(d)
        tree_adj[d].append(a)
        added += 1
    T = rng.integers(t_range[0], t_range[1] + 1, size=n)
    outdeg = np.zeros(n, np.int64)
    for i, _ in arcs:
        outdeg[i] += 1
    is_demand = outdeg == 0
    dem_sd = np.where(is_demand, rng.uniform(5.0, 40.0, size=n), 0.0)
    order = _topological(n, arcs)
    succ: list[list[int]] = [[] for _ in range(n)]
    pred: list[list[int]] = [[] for _ in range(n)]
    for i, j in arcs:
        succ[i].append(j)
        pred[j].append(i)
    reach = np.zeros((n, n), bool)
    for j in reversed(order):
        reach[j, j] = is_demand[j]
        for k in succ[j]:
            reach[j] |= reach[k]
    sigma = np.sqrt(reach.astype(float) @ dem_sd**2)
    added_cost = rng.uniform(0.1, 2.0, size=n)
    h = np.zeros(n)
    for j in order:
        h[j] = added_cost[j] + sum(h[i] for i in pred[j])
    return GSMInstance.from_arrays(
        [f"s{j:03d}" for j in range(n)],
        T.tolist(),
        h.tolist(),
        [1.645] * n,
        sigma.tolist(),
        arcs,
        max_service=[0.0 if d else None for d in is_demand],
        is_demand=is_demand.tolist(),
        name=f"long-times-{n}-seed{seed}",
    )


def _topological(n: int, arcs: list[tuple[int, int]]) -> list[int]:
    indeg = [0] * n
    succ: list[list[int]] = [[] for _ in range(n)]
    for i, j in arcs:
        succ[i].append(j)
        indeg[j] += 1
    ready = [j for j in range(n) if indeg[j] == 0]
    order: list[int] = []
    while ready:
        j = ready.pop()
        order.append(j)
        for k in succ[j]:
            indeg[k] -= 1
            if indeg[k] == 0:
                ready.append(k)
    if len(order) != n:
        raise ValueError("generated arcs contain a directed cycle")
    return order
