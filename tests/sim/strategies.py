"""Hypothesis strategies: random valid networks, policy sets and scenarios for the simulator.

Networks have 1-7 nodes and are serial, assembly, distribution or general DAGs. Quantities are
mostly on a 0.5 grid so that the two engines' sums are exact and ties break the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from echelon.network.model import Network
from echelon.policies.model import PolicySet
from echelon.sim.scenario import Scenario

TOPOLOGIES = ("serial", "assembly", "distribution", "general")


@dataclass
class Case:
    net: Network
    policy: PolicySet
    scenario: Scenario | None
    periods: int  # simulated periods, warm-up included
    warmup: int
    seed: int

    def __repr__(self) -> str:  # readable falsifying examples
        scen = None if self.scenario is None else self.scenario.model_dump(mode="json")
        return (
            f"Case(periods={self.periods}, warmup={self.warmup}, seed={self.seed},\n"
            f"  net={self.net.model_dump(mode='json', by_alias=True, exclude_unset=True)},\n"
            f"  policy={self.policy.model_dump(mode='json', exclude_unset=True)},\n"
            f"  scenario={scen})"
        )


halves = st.integers(0, 40).map(lambda k: k / 2)


@st.composite
def topologies(draw, max_nodes: int = 7) -> tuple[int, list[tuple[int, int]]]:
    """(n, edges) with node i's suppliers among nodes < i."""
    kind = draw(st.sampled_from(TOPOLOGIES))
    n = draw(st.integers(1, max_nodes))
    edges: list[tuple[int, int]] = []
    if n == 1:
        return n, edges
    if kind == "serial":
        edges = [(i - 1, i) for i in range(1, n)]
    elif kind == "assembly":  # nodes 0..n-2 all feed node n-1 (maybe through one level)
        for i in range(n - 1):
            edges.append((i, n - 1))
    elif kind == "distribution":  # a tree from node 0
        for i in range(1, n):
            edges.append((draw(st.integers(0, i - 1)), i))
    else:
        for i in range(1, n):
            sup = draw(st.sets(st.integers(0, i - 1), max_size=min(i, 3)))
            edges.extend((s, i) for s in sorted(sup))
    return n, edges


demand_dists = st.one_of(
    st.builds(lambda v: {"kind": "constant", "value": v}, halves),
    st.builds(
        lambda m, s: {"kind": "normal", "mean": m, "std": s},
        st.integers(0, 10),
        st.sampled_from([0.0, 0.5, 1.0, 2.5]),
    ),
    st.builds(lambda m: {"kind": "poisson", "mean": m}, st.sampled_from([0.5, 2.0, 5.0, 8.0])),
    st.lists(st.integers(0, 12), min_size=1, max_size=4).flatmap(
        lambda vals: st.one_of(
            st.just({"kind": "empirical", "values": [float(v) for v in vals]}),
            st.lists(st.integers(1, 5), min_size=len(vals), max_size=len(vals)).map(
                lambda w: {
                    "kind": "empirical",
                    "values": [float(v) for v in vals],
                    "probabilities": [x / sum(w) for x in w],
                }
            ),
        )
    ),
)

lead_times = st.one_of(
    st.integers(0, 4),
    st.lists(st.integers(0, 4), min_size=2, max_size=3, unique=True).map(
        lambda vals: {"kind": "empirical", "values": [float(v) for v in vals]}
    ),
)


@st.composite
def node_dicts(draw, nid: str, external: bool, demand: bool, lost_ok: bool) -> dict:
    d: dict = {
        "id": nid,
        "holding_cost": draw(st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0])),
        "penalty_cost": draw(st.sampled_from([0.0, 1.0, 5.0, 12.5])),
        "lead_time": draw(lead_times),
    }
    if external:
        d["external_supplier"] = True
    if demand:
        d["demand"] = draw(demand_dists)
    if lost_ok and draw(st.booleans()):
        d["stockout"] = "lost_sales"
    if draw(st.booleans()):
        d["rationing"] = "priority"
    d["priority"] = draw(st.integers(0, 2))
    cap = draw(st.one_of(st.none(), st.sampled_from([4.0, 7.5, 10.0, 25.0])))
    if cap is not None:
        d["capacity"] = cap
    if draw(st.integers(0, 3)) == 0:
        d["min_order_qty"] = draw(st.sampled_from([1.0, 3.0, 4.0]))
    if draw(st.integers(0, 3)) == 0:
        d["lot_multiple"] = draw(st.sampled_from([0.5, 1.0, 2.0, 4.0]))
    for key in ("min_order_qty", "lot_multiple"):
        if cap is not None and d.get(key, 0.0) > cap:
            d[key] = cap
    if draw(st.integers(0, 2)) == 0:
        d["fixed_order_cost"] = draw(st.sampled_from([1.0, 10.0]))
    if draw(st.integers(0, 3)) == 0:
        d["initial_on_hand"] = draw(halves)
    return d


@st.composite
def policies_for(draw, nid: str) -> dict:
    kind = draw(st.sampled_from(["base_stock", "echelon_base_stock", "s_S", "r_Q"]))
    if kind == "base_stock":
        return {"kind": kind, "level": draw(st.integers(-4, 80)) / 2}
    if kind == "echelon_base_stock":
        return {"kind": kind, "level": float(draw(st.integers(0, 80)))}
    if kind == "s_S":
        s = draw(st.integers(-4, 30)) + 0.25  # off the 0.5 grid: no float ties at "IP <= s"
        return {"kind": kind, "s": s, "S": s + draw(halves)}
    return {
        "kind": kind,
        "r": draw(st.integers(-4, 30)) + 0.25,  # off the grid: no ties in the floor of r_Q
        "Q": draw(st.sampled_from([0.5, 1.0, 3.0, 5.0, 12.0])),
    }


@st.composite
def scenarios(draw, ids: list[str], demand_ids: list[str], periods: int) -> Scenario | None:
    if draw(st.integers(0, 2)) == 0:
        return None
    window = st.integers(0, periods - 1).flatmap(
        lambda s: st.integers(s + 1, periods + 2).map(lambda e: (s, e))
    )
    dis: list[dict] = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["closure", "demand_spike", "supplier_delay"]))
        start, end = draw(window)
        if kind == "closure":
            dis.append(
                {"kind": kind, "node": draw(st.sampled_from(ids)), "start": start, "end": end}
            )
        elif kind == "demand_spike":
            node = draw(st.one_of(st.none(), st.sampled_from(demand_ids)))
            dis.append(
                {
                    "kind": kind,
                    "node": node,
                    "start": start,
                    "end": end,
                    "multiplier": draw(st.sampled_from([0.0, 0.5, 2.0, 3.0])),
                }
            )
        else:
            dis.append(
                {
                    "kind": kind,
                    "node": draw(st.sampled_from(ids)),
                    "start": start,
                    "end": end,
                    "extra_periods": draw(st.integers(1, 3)),
                }
            )
    for nid in draw(st.sets(st.sampled_from(ids), max_size=2)):  # at most one per node
        rc: dict = {"kind": "random_closure", "node": nid}
        rc["probability"] = draw(st.sampled_from([0.05, 0.2, 0.5]))
        if draw(st.booleans()):
            rc["duration"] = {"kind": "empirical", "values": [1.0, 2.0, 3.0]}
        else:
            rc["mean_duration"] = draw(st.sampled_from([1.0, 2.5]))
        dis.append(rc)
    return Scenario.model_validate({"disruptions": dis})


@st.composite
def cases(
    draw,
    max_nodes: int = 7,
    lost_sales: bool = True,
    with_scenarios: bool = True,
    overlapping_delays: bool = True,
    exact_ties: bool = False,
) -> Case:
    n, edges = draw(topologies(max_nodes))
    ids = [f"n{i}" for i in range(n)]
    has_in = {b for _, b in edges}
    has_out = {a for a, _ in edges}
    demand_at = {i for i in range(n) if i not in has_out}  # every sink has demand
    demand_at |= {i for i in range(n) if draw(st.integers(0, 3)) == 0}
    # a lost-sales node may not supply an assembly node (several inputs): see docs/model.md
    in_degree = {i: sum(1 for _, b in edges if b == i) for i in range(n)}
    feeds_assembly = {a for a, b in edges if in_degree[b] > 1}
    nodes = [
        draw(
            node_dicts(
                ids[i], i not in has_in, i in demand_at, lost_sales and i not in feeds_assembly
            )
        )
        for i in range(n)
    ]
    lanes = []
    for a, b in edges:
        lane: dict = {"from": ids[a], "to": ids[b]}
        qty = draw(st.sampled_from([1.0, 1.0, 2.0, 0.5, 3.0]))
        if qty != 1.0:
            lane["quantity"] = qty
        if draw(st.integers(0, 3)) == 0:
            lane["lead_time"] = draw(lead_times)
        lanes.append(lane)
    # file order need not be topological
    nodes = draw(st.permutations(nodes))
    lanes = draw(st.permutations(lanes))
    pols = {nid: draw(policies_for(nid)) for nid in ids}
    # (s, S) and (r, Q) started at their default target keep IP - s (or r - IP) on the grid of
    # the demands and orders: "IP <= s" and the floor of r_Q then meet exact ties that the float
    # rounding of rationed shipments decides either way in either engine. Unless exact_ties,
    # avoid them with a generic initial on hand, or a generic S - s (resp. Q) with the default
    # initial on hand.
    for node in nodes:
        pol = pols[node["id"]]
        if pol["kind"] not in ("s_S", "r_Q") or exact_ties:
            continue
        generic = draw(st.floats(0.01, 0.49, allow_nan=False))
        if draw(st.booleans()):
            node["initial_on_hand"] = draw(st.integers(0, 30)) + generic
        elif pol["kind"] == "s_S":
            pol["S"] += generic
            node.pop("initial_on_hand", None)
        else:
            pol["Q"] = draw(st.sampled_from([1.0, 3.0, 5.0])) + generic
            node.pop("initial_on_hand", None)
            node.pop("lot_multiple", None)  # a lot multiple would put orders back on the grid
    policy = PolicySet.model_validate({"policies": pols})
    net = Network.model_validate({"name": "random", "nodes": nodes, "lanes": lanes})
    periods = draw(st.integers(8, 40))
    warmup = draw(st.integers(0, min(5, periods - 1)))
    scenario = None
    if with_scenarios:
        scenario = draw(scenarios(ids, [ids[i] for i in sorted(demand_at)], periods - warmup))
        if scenario is not None and not overlapping_delays:
            kept, seen = [], set()
            for d in scenario.disruptions:
                if d.kind == "supplier_delay":
                    if d.node in seen:
                        continue
                    seen.add(d.node)
                kept.append(d)
            scenario = Scenario(disruptions=kept)
    seed = draw(st.integers(0, 2**31 - 1))
    return Case(net, policy, scenario, periods, warmup, seed)
