"""Compile a network, a policy set and a scenario into the flat arrays the kernels use.

Nodes are numbered in topological order (every supplier before its customers). Lanes are the
network's lanes plus one *supplier lane* (source ``-1``) into every node that has an external
supplier. Column indices of the parameter arrays are the constants below.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from echelon.errors import NetworkError, PolicyError, ScenarioError
from echelon.network.distributions import (
    DeterministicLeadTime,
    EmpiricalLeadTime,
    LeadTimeDistribution,
    ceil_periods,
    is_stochastic,
)
from echelon.network.graph import topological_order
from echelon.network.model import Network, Rationing, StockoutMode
from echelon.policies.model import EchelonBaseStock, PolicySet
from echelon.sim.scenario import (
    Closure,
    DemandSpike,
    RandomClosure,
    Scenario,
    SupplierDelay,
)

# node float parameters NP[n, :]
NP_H, NP_P, NP_CAP, NP_MOQ, NP_LOT, NP_K, NP_POL1, NP_POL2, NP_RCPROB = range(9)
N_NP = 9
# node int parameters NI[n, :]
NI_LOST, NI_DEMCOL, NI_POL, NI_PRIORITY, NI_RCCOL = range(5)
N_NI = 5
# lane float parameters LF[m, :]
LF_QTY, LF_HSRC = range(2)
N_LF = 2
# lane int parameters LI[m, :]
LI_SRC, LI_DST, LI_LTFIX, LI_LTCOL = range(4)
N_LI = 4

MAX_LEAD_TIME = 100_000  # periods; the pipeline ring holds one slot per period


@dataclass
class CompiledNetwork:
    """A network as arrays, in topological node order."""

    ids: list[str]
    NP: np.ndarray
    NI: np.ndarray
    LF: np.ndarray
    LI: np.ndarray
    in_ptr: np.ndarray
    in_lane: np.ndarray
    out_ptr: np.ndarray
    out_lane: np.ndarray
    init_on_hand: np.ndarray
    unit_value: np.ndarray
    horizon: int  # pipeline ring length: max lead time (incl. delays) + 1
    has_zero_lead_time: bool
    demand_nodes: list[int]
    stochastic_lanes: list[int]
    lane_lead_times: list[LeadTimeDistribution]
    random_closures: list[tuple[int, RandomClosure]]
    period_days: float
    # scenario tables (period indices already shifted by the warm-up)
    closures: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), np.int64))
    spikes_i: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), np.int64))
    spikes_f: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float64))
    delays: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.int64))

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def m(self) -> int:
        return self.LF.shape[0]

    def index(self, node_id: str) -> int:
        return self.ids.index(node_id)

    @property
    def kernel_net(self) -> tuple[np.ndarray | bool, ...]:
        """The read-only network arrays as the kernels take them (``net`` in ``kernel.py``)."""
        return (
            self.NP, self.NI, self.LF, self.LI, self.in_ptr, self.in_lane, self.out_ptr,
            self.out_lane, self.delays, self.has_zero_lead_time, self.init_on_hand, self.closures,
            self.spikes_i, self.spikes_f,
        )  # fmt: skip


def compile_network(
    net: Network,
    policy: PolicySet,
    scenario: Scenario | None = None,
    warmup: int = 0,
) -> CompiledNetwork:
    """Flatten ``net`` + ``policy`` (+ ``scenario``) for the kernels. Check the policy first."""
    order = topological_order(net)
    pos = {nid: i for i, nid in enumerate(order)}
    n = len(order)
    nodes = [net.node(nid) for nid in order]

    NP = np.zeros((n, N_NP))
    NI = np.full((n, N_NI), -1, dtype=np.int64)
    init = np.zeros(n)
    unit_value = np.full(n, np.nan)
    demand_nodes: list[int] = []
    for j, node in enumerate(nodes):
        pol = policy.policies.get(node.id)
        if pol is None:
            raise PolicyError(
                "no policy for a node of the network",
                where=f"node '{node.id}'",
                fix=f"add an entry for '{node.id}' under 'policies'",
            )
        NP[j, NP_H] = node.holding_cost
        NP[j, NP_P] = node.penalty_cost
        NP[j, NP_CAP] = np.inf if node.capacity is None else node.capacity
        NP[j, NP_MOQ] = node.min_order_qty
        NP[j, NP_LOT] = node.lot_multiple
        NP[j, NP_K] = node.fixed_order_cost
        NP[j, NP_POL1], NP[j, NP_POL2] = pol.params()
        NI[j, NI_LOST] = 1 if node.stockout is StockoutMode.LOST_SALES else 0
        NI[j, NI_POL] = int(pol.code())
        NI[j, NI_PRIORITY] = 1 if node.rationing is Rationing.PRIORITY else 0
        if node.demand is not None:
            NI[j, NI_DEMCOL] = len(demand_nodes)
            demand_nodes.append(j)
        if node.unit_value is not None:
            unit_value[j] = node.unit_value
        init[j] = node.initial_on_hand if node.initial_on_hand is not None else np.nan

    # lanes: network lanes, then supplier lanes
    lanes: list[tuple[int, int, float, float, LeadTimeDistribution]] = []
    for lane in net.lanes:
        s, d = pos[lane.source], pos[lane.target]
        lanes.append((s, d, lane.quantity, nodes[s].holding_cost, net.lane_lead_time(lane)))
    for j, node in enumerate(nodes):
        if node.external_supplier:
            lanes.append((-1, j, 1.0, 0.0, node.lead_time))
    m = len(lanes)
    LF = np.zeros((m, N_LF))
    LI = np.zeros((m, N_LI), dtype=np.int64)
    stochastic: list[int] = []
    lead_times: list[LeadTimeDistribution] = []
    max_lt = 0
    for e, (s, d, qty, hsrc, lt) in enumerate(lanes):
        LF[e] = (qty, hsrc)
        LI[e, LI_SRC], LI[e, LI_DST] = s, d
        lead_times.append(lt)
        max_lt = max(max_lt, lt.max_periods())
        if is_stochastic(lt):
            LI[e, LI_LTFIX] = -1
            LI[e, LI_LTCOL] = len(stochastic)
            stochastic.append(e)
        else:
            LI[e, LI_LTFIX] = ceil_periods(
                lt.value if isinstance(lt, DeterministicLeadTime) else _single(lt)
            )
            LI[e, LI_LTCOL] = -1
    if max_lt > MAX_LEAD_TIME:
        worst = max(range(m), key=lambda e: lead_times[e].max_periods())
        s_, d_ = lanes[worst][0], lanes[worst][1]
        raise NetworkError(
            "lead time too long to simulate",
            where=f"lane {order[s_] if s_ >= 0 else 'supplier'} -> {order[d_]}",
            field="lead_time",
            expected=f"at most {MAX_LEAD_TIME} periods",
            found=f"{lead_times[worst].max_periods()} periods",
            fix="check the units (lead times are in periods) or use a longer period_days",
        )
    has_zero = any(lt.max_periods() == 0 or _min_periods(lt) == 0 for lt in lead_times)

    # CSR adjacency; out-lanes sorted by (customer priority, file order) for priority rationing
    in_lists: list[list[int]] = [[] for _ in range(n)]
    out_lists: list[list[int]] = [[] for _ in range(n)]
    for e, (s, d, *_rest) in enumerate(lanes):
        in_lists[d].append(e)
        if s >= 0:
            out_lists[s].append(e)
    for j in range(n):
        out_lists[j].sort(key=lambda e: (nodes[lanes[e][1]].priority, e))
    in_ptr, in_lane = _csr(in_lists)
    out_ptr, out_lane = _csr(out_lists)

    # initial on-hand: the node's own value, or the policy's target (echelon: net of customers)
    for j in range(n):
        if not np.isnan(init[j]):
            continue
        pol = policy.policies[order[j]]
        target = pol.target_on_hand()
        if isinstance(pol, EchelonBaseStock):
            down = 0.0
            for k in range(out_ptr[j], out_ptr[j + 1]):
                e = out_lane[k]
                cust = policy.policies[order[LI[e, LI_DST]]]
                if isinstance(cust, EchelonBaseStock):
                    down += LF[e, LF_QTY] * cust.level
            target = max(0.0, pol.level - down)
        init[j] = target

    cn = CompiledNetwork(
        ids=order,
        NP=NP,
        NI=NI,
        LF=LF,
        LI=LI,
        in_ptr=in_ptr,
        in_lane=in_lane,
        out_ptr=out_ptr,
        out_lane=out_lane,
        init_on_hand=init,
        unit_value=unit_value,
        horizon=max_lt + 1,
        has_zero_lead_time=has_zero,
        demand_nodes=demand_nodes,
        stochastic_lanes=stochastic,
        lane_lead_times=lead_times,
        random_closures=[],
        period_days=net.period_days,
    )
    if scenario is not None:
        _apply_scenario(cn, scenario, pos, warmup)
    return cn


def _single(lt: LeadTimeDistribution) -> float:
    """The one value of a lead time that is not stochastic (e.g. empirical with one value)."""
    if isinstance(lt, EmpiricalLeadTime):
        return max(lt.values)
    return lt.mean()


def _min_periods(lt: LeadTimeDistribution) -> int:
    if isinstance(lt, DeterministicLeadTime):
        return ceil_periods(lt.value)
    if isinstance(lt, EmpiricalLeadTime):
        return min(ceil_periods(v) for v in lt.values)
    return 0  # normal / gamma draws can round to 0


def _csr(lists: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    ptr = np.zeros(len(lists) + 1, dtype=np.int64)
    for i, lst in enumerate(lists):
        ptr[i + 1] = ptr[i] + len(lst)
    flat = np.array([e for lst in lists for e in lst], dtype=np.int64)
    return ptr, flat


def _apply_scenario(
    cn: CompiledNetwork, scenario: Scenario, pos: dict[str, int], warmup: int
) -> None:
    closures, spikes_i, spikes_f, delays = [], [], [], []
    extra_by_node: dict[int, int] = {}
    for d in scenario.disruptions:
        if isinstance(d, Closure):
            closures.append((pos[d.node], d.start + warmup, d.end + warmup))
        elif isinstance(d, DemandSpike):
            spikes_i.append(
                (-1 if d.node is None else pos[d.node], d.start + warmup, d.end + warmup)
            )
            spikes_f.append(d.multiplier)
        elif isinstance(d, SupplierDelay):
            delays.append((pos[d.node], d.start + warmup, d.end + warmup, d.extra_periods))
            # overlapping windows on one node add up, so the ring must hold their sum
            extra_by_node[pos[d.node]] = extra_by_node.get(pos[d.node], 0) + d.extra_periods
        elif isinstance(d, RandomClosure):
            j = pos[d.node]
            if cn.NI[j, NI_RCCOL] >= 0:
                raise ScenarioError(
                    "a node can have only one random_closure",
                    where=f"node '{d.node}'",
                    fix="merge the two random closures into one",
                )
            cn.NI[j, NI_RCCOL] = len(cn.random_closures)
            cn.NP[j, NP_RCPROB] = d.probability
            cn.random_closures.append((j, d))
    cn.closures = np.array(closures, dtype=np.int64).reshape(-1, 3)
    cn.spikes_i = np.array(spikes_i, dtype=np.int64).reshape(-1, 3)
    cn.spikes_f = np.array(spikes_f, dtype=np.float64)
    cn.delays = np.array(delays, dtype=np.int64).reshape(-1, 4)
    cn.horizon += max(extra_by_node.values(), default=0)
