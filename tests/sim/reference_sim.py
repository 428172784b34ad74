"""A pure-Python reference simulator written from docs/model.md (not from the numba kernel).

It is deliberately slow and literal: one period at a time, one node at a time, in the documented
sequence of events

1. receive (arrivals join the input buffers, then complete input sets are made, up to ``OO``);
2. observe demand (after demand-spike multipliers) — it joins ``BO``;
3./4. for every node from downstream to upstream: **ship** (ration, backorder or lose), then
   **order** (policy on the local or echelon inventory position, then the order rules);
5. zero-lead-time receipts (step 1 again), then costs and KPIs.

``compile_network`` is used only to learn the node order, the lane numbering and which draw
column belongs to which node / lane / random closure; everything else comes from the network,
the policy set and the scenario objects.

Numerical conventions (not semantics): the position a node orders on is its position before
shipping plus what it lost or cancelled (shipping does not change it, docs/model.md step 4), and
a customer's echelon position is taken as it stood after its own order (less later cancellations):
both are the documented quantities, computed so that float rounding of rationed shipments does not
flip the policies' threshold tests differently from the engine. A position within
``POLICY_TOL * (1 + |threshold| + |IP|)`` of an (s, S) or (r, Q) threshold is a tie (docs/model.md
step 4), so exact ties are decided by the model, not by float rounding. An order of at most 1e-9
units is no order. The stockout flag of a period where on hand equals the requirement up to 1e-9 is
reported as a tie (``kpi["ties"]``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from echelon.network.distributions import (
    DeterministicLeadTime,
    EmpiricalLeadTime,
    ceil_periods,
)
from echelon.network.model import Network, Rationing, StockoutMode
from echelon.policies.model import RQ, SS, BaseStock, EchelonBaseStock, PolicySet
from echelon.sim.compiled import CompiledNetwork
from echelon.sim.scenario import Closure, DemandSpike, Scenario, SupplierDelay

# an order of at most this many units is no order (float noise of inventory positions)
ORDER_TOL = 1e-9
ROUND_TOL = 1e-9
TIE_TOL = 1e-9
# the policies' threshold tests (IP <= s, IP + n*Q > r) count a difference of at most
# POLICY_TOL * (1 + |threshold| + |IP|) as a tie (docs/model.md, step 4)
POLICY_TOL = 1e-9

# names of the KPI sums, in the spirit of docs/model.md "KPIs"
KPI_NAMES = (
    "hold",  # h_j * OH_j
    "pipe",  # sum over inbound lanes of h_from * (in transit + input buffer)
    "pen",  # p_j * BO_j (backorder) or p_j * lost_j (lost sales)
    "ord",  # K_j if j ordered
    "oh",  # end-of-period on hand
    "bo",  # end-of-period external backorders
    "extdem",  # external demand of the period
    "extfill",  # external demand shipped in the period it was demanded
    "lost",  # external demand lost
    "short",  # 1 if the node could not ship all that was required
    "dem",  # external demand + orders its customers placed in the period
    "fill",  # of "dem", units shipped in the same period
    "ship",  # units shipped (external + all lanes)
    "transit",  # units in transit to the node (not the input buffers)
    "intbo",  # end-of-period backlog of the node's outbound lanes
    "nord",  # orders placed
    "qord",  # units ordered
    "cyc",  # replenishment cycles completed (= orders placed)
    "cycbad",  # of those, cycles with a stockout
    "ties",  # periods whose stockout flag is a float-rounding tie (not a KPI)
)


@dataclass
class _Lane:
    index: int
    src: int  # -1 = external supplier
    dst: int
    a: float  # units of src per unit of dst
    h_src: float
    fixed_lead: int | None
    lead_col: int | None
    backlog: float = 0.0  # BL_e, units of src
    buffer: float = 0.0  # BUF_e, units of src
    due: dict[int, float] = field(default_factory=dict)  # due period -> units in transit
    last_due: int = -1
    new_order: float = 0.0  # a_e * q ordered on the lane this period
    shipped: float = 0.0  # shipped on the lane this period
    filled: float = 0.0  # of new_order, shipped this period
    priority: int = 0  # the customer's priority

    def in_transit(self) -> float:
        return sum(self.due.values())


@dataclass
class _Node:
    id: str
    h: float
    p: float
    lost_mode: bool
    priority_rationing: bool
    policy: BaseStock | EchelonBaseStock | SS | RQ
    capacity: float
    moq: float
    lot: float
    K: float
    demand_col: int | None
    inbound: list[_Lane]
    outbound: list[_Lane]
    OH: float = 0.0
    OO: float = 0.0
    BO: float = 0.0
    closed: bool = False
    closed_until: int = 0  # random closures
    rc_col: int | None = None
    rc_prob: float = 0.0
    d_new: float = 0.0
    q: float = 0.0
    lost: float = 0.0
    cancelled: float = 0.0  # internal orders lost this period (lost-sales mode)
    ip_before_ship: float = 0.0
    eip: float = 0.0  # echelon inventory position after the node's order of this period
    short: bool = False
    near_tie: bool = False  # on hand equal to the requirement up to float rounding
    shipped_ext: float = 0.0
    filled_ext: float = 0.0
    stockout_in_cycle: bool = False


@dataclass
class ReferenceResult:
    """Trajectories ``[T, n]`` (node order ``ids``) and KPI sums ``kpi[name][n]``."""

    ids: list[str]
    on_hand: np.ndarray
    backorders: np.ndarray
    on_order: np.ndarray
    order_qty: np.ndarray
    cost: np.ndarray
    shipped_ext: np.ndarray
    lost: np.ndarray
    kpi: dict[str, np.ndarray]


def _filled_new(shipped: float, requirement: float, new: float) -> float:
    """Units of this period's new requirement among ``shipped`` (the old backlog goes first)."""
    old = requirement - new
    return min(new, max(0.0, shipped - old))


def _apply_order_rules(q: float, node: _Node) -> float:
    if q <= ORDER_TOL:
        return 0.0
    q = max(q, node.moq)
    if node.lot > 0:
        q = math.ceil(q / node.lot - ROUND_TOL) * node.lot
    if q > node.capacity:
        q = (
            math.floor(node.capacity / node.lot + ROUND_TOL) * node.lot
            if node.lot > 0
            else node.capacity
        )
        if q < node.moq:
            return 0.0
    return q


def _initial_on_hand(net: Network, policy: PolicySet, node_id: str) -> float:
    node = net.node(node_id)
    if node.initial_on_hand is not None:
        return node.initial_on_hand
    pol = policy.policies[node_id]
    if isinstance(pol, BaseStock):
        return max(0.0, pol.level)
    if isinstance(pol, SS):
        return max(0.0, pol.S)
    if isinstance(pol, RQ):
        return max(0.0, pol.r + pol.Q)
    # echelon base stock: level less the customers' echelon levels (along the BOM)
    down = 0.0
    for lane in net.lanes:
        if lane.source == node_id:
            cust = policy.policies[lane.target]
            if isinstance(cust, EchelonBaseStock):
                down += lane.quantity * cust.level
    return max(0.0, pol.level - down)


class ReferenceSimulator:
    def __init__(
        self,
        net: Network,
        policy: PolicySet,
        cn: CompiledNetwork,
        scenario: Scenario | None = None,
        warmup: int = 0,
    ) -> None:
        self.net = net
        self.ids = list(cn.ids)  # topological order: suppliers before customers
        pos = {nid: i for i, nid in enumerate(self.ids)}
        self.warmup = warmup
        # lanes: the network's lanes in file order, then one supplier lane per external supplier
        lane_defs = []
        for lane in net.lanes:
            lane_defs.append(
                (
                    pos[lane.source],
                    pos[lane.target],
                    lane.quantity,
                    net.node(lane.source).holding_cost,  # pipeline charged at the source's h
                    net.lane_lead_time(lane),
                )
            )
        for nid in self.ids:
            node = net.node(nid)
            if node.external_supplier:
                lane_defs.append((-1, pos[nid], 1.0, 0.0, node.lead_time))  # free pipeline
        assert len(lane_defs) == cn.m
        self.lanes: list[_Lane] = []
        for e, (s, d, a, h_src, lt) in enumerate(lane_defs):
            assert (int(cn.LI[e, 0]), int(cn.LI[e, 1])) == (s, d), "lane numbering differs"
            col = cn.stochastic_lanes.index(e) if e in cn.stochastic_lanes else None
            fixed = None
            if col is None:
                if isinstance(lt, DeterministicLeadTime):
                    fixed = ceil_periods(lt.value)
                else:  # an empirical lead time whose values all round to one period count
                    assert isinstance(lt, EmpiricalLeadTime)
                    fixed = ceil_periods(max(lt.values))
            self.lanes.append(
                _Lane(
                    index=e,
                    src=s,
                    dst=d,
                    a=a,
                    h_src=h_src,
                    fixed_lead=fixed,
                    lead_col=col,
                    priority=net.node(self.ids[d]).priority,
                )
            )
        self.nodes: list[_Node] = []
        for j, nid in enumerate(self.ids):
            node = net.node(nid)
            inbound = [ln for ln in self.lanes if ln.dst == j]
            # customers in priority order (lower first), then file order
            outbound = sorted(
                (ln for ln in self.lanes if ln.src == j), key=lambda ln: (ln.priority, ln.index)
            )
            self.nodes.append(
                _Node(
                    id=nid,
                    h=node.holding_cost,
                    p=node.penalty_cost,
                    lost_mode=node.stockout is StockoutMode.LOST_SALES,
                    priority_rationing=node.rationing is Rationing.PRIORITY,
                    policy=policy.policies[nid],
                    capacity=math.inf if node.capacity is None else node.capacity,
                    moq=node.min_order_qty,
                    lot=node.lot_multiple,
                    K=node.fixed_order_cost,
                    demand_col=cn.demand_nodes.index(j) if j in cn.demand_nodes else None,
                    inbound=inbound,
                    outbound=outbound,
                    OH=_initial_on_hand(net, policy, nid),
                )
            )
        for c, (j, rc) in enumerate(cn.random_closures):
            self.nodes[j].rc_col = c
            self.nodes[j].rc_prob = rc.probability
        # scenario windows, moved from reported periods to simulated periods
        self.closures: list[tuple[int, int, int]] = []
        self.spikes: list[tuple[int | None, int, int, float]] = []
        self.delays: list[tuple[int, int, int, int]] = []
        if scenario is not None:
            for dis in scenario.disruptions:
                if isinstance(dis, Closure):
                    self.closures.append((pos[dis.node], dis.start + warmup, dis.end + warmup))
                elif isinstance(dis, DemandSpike):
                    target = None if dis.node is None else pos[dis.node]
                    self.spikes.append(
                        (target, dis.start + warmup, dis.end + warmup, dis.multiplier)
                    )
                elif isinstance(dis, SupplierDelay):
                    self.delays.append(
                        (pos[dis.node], dis.start + warmup, dis.end + warmup, dis.extra_periods)
                    )

    # ------------------------------------------------------------------ the events

    def _receive(self, t: int) -> None:
        for ln in self.lanes:
            x = ln.due.pop(t, 0.0)
            ln.buffer += x
        for node in self.nodes:
            if node.OO <= 0.0:
                continue
            sets = min(ln.buffer / ln.a for ln in node.inbound)
            y = min(sets, node.OO)
            if y <= 0.0:
                continue
            for ln in node.inbound:
                ln.buffer = max(0.0, ln.buffer - ln.a * y)
            node.OH += y
            node.OO -= y

    def _send(self, ln: _Lane, x: float, t: int, lead: np.ndarray) -> None:
        L = ln.fixed_lead if ln.lead_col is None else int(lead[t, ln.lead_col])
        for dst, start, end, extra in self.delays:
            if dst == ln.dst and start <= t < end:
                L += extra
        due = max(t + L, ln.last_due)
        ln.last_due = due
        ln.due[due] = ln.due.get(due, 0.0) + x

    def _ship(self, node: _Node, t: int, lead: np.ndarray) -> None:
        node.lost = 0.0
        node.near_tie = False
        node.cancelled = 0.0
        node.short = False
        node.shipped_ext = 0.0
        node.filled_ext = 0.0
        for ln in node.outbound:
            ln.shipped = 0.0
            ln.filled = 0.0
        # shipping moves units between terms of the inventory position without changing it
        # (docs/model.md, step 4), so the position the node orders on is the one before
        # shipping plus what it loses or cancels; computing it that way keeps the float
        # rounding of rationed shipments out of the policies' thresholds (s, r, floor of r_Q)
        node.ip_before_ship = self._ip(node)
        req_ext = node.BO
        total = req_ext
        for ln in node.outbound:
            total += ln.backlog
        if total <= 0.0:
            return
        avail = 0.0 if node.closed else node.OH
        # a shortage within float rounding of a tie: the stockout flag is ill-defined there
        node.near_tie = abs(avail - total) <= TIE_TOL * (1.0 + total)
        if avail >= total:
            ext_ship = req_ext
            lane_ship = [ln.backlog for ln in node.outbound]
        else:
            # docs/model.md: a stockout is a shortfall beyond float rounding
            node.short = total - avail > TIE_TOL * (1.0 + total)
            if node.priority_rationing:
                rem = avail
                ext_ship = min(req_ext, rem)
                rem -= ext_ship
                lane_ship = []
                for ln in node.outbound:  # already in priority order
                    s = min(ln.backlog, rem)
                    rem -= s
                    lane_ship.append(s)
            else:
                frac = avail / total
                ext_ship = req_ext * frac
                lane_ship = [ln.backlog * frac for ln in node.outbound]
        # external demand
        node.shipped_ext = ext_ship
        node.filled_ext = _filled_new(ext_ship, req_ext, node.d_new)
        if node.lost_mode:
            node.lost = req_ext - ext_ship
            node.BO = 0.0
        else:
            node.BO = req_ext - ext_ship
        # lanes
        for ln, s in zip(node.outbound, lane_ship, strict=True):
            req = ln.backlog
            if s > 0.0:
                self._send(ln, s, t, lead)
                ln.shipped = s
                ln.filled = _filled_new(s, req, ln.new_order)
            left = req - s
            if node.lost_mode and left > 0.0:
                ln.backlog = 0.0  # the customer's order is cancelled
                node.cancelled += left
                cust = self.nodes[ln.dst]
                cust.OO = max(0.0, cust.OO - left / ln.a)
                cust.eip -= left / ln.a
            else:
                ln.backlog = left
        if node.short:
            if not node.closed:
                node.OH = 0.0
        else:
            node.OH = avail - total

    def _ip(self, node: _Node) -> float:
        ip = node.OH + node.OO - node.BO
        for ln in node.outbound:  # left to right, as the formula reads
            ip -= ln.backlog
        return ip

    def _order(self, j: int, t: int, lead: np.ndarray) -> None:
        node = self.nodes[j]
        pol = node.policy
        # IP_j after shipping: equal to self._ip(node) up to float rounding
        ip = node.ip_before_ship + node.lost + node.cancelled
        assert abs(ip - self._ip(node)) <= 1e-7 * (1.0 + abs(ip))
        # EIP_j = IP_j + (sum of a_e * EIP_k over customers k, which have ordered already),
        # grouped as the formula reads
        down = 0.0
        for ln in node.outbound:
            down += ln.a * self.nodes[ln.dst].eip
        eip = ip + down
        if isinstance(pol, EchelonBaseStock):
            q = max(0.0, pol.level - eip)
        elif isinstance(pol, BaseStock):
            q = max(0.0, pol.level - ip)
        elif isinstance(pol, SS):
            # docs/model.md step 4: a position equal to s up to float rounding is a tie: order
            tol = POLICY_TOL * (1.0 + abs(pol.s) + abs(ip))
            q = pol.S - ip if ip <= pol.s + tol else 0.0
        else:
            # the least n with IP + n*Q > r; IP + n*Q = r up to float rounding is not above r
            tol = POLICY_TOL * (1.0 + abs(pol.r) + abs(ip))
            q = 0.0
            if ip <= pol.r + tol:
                n = 1
                while ip + n * pol.Q <= pol.r + tol:
                    n += 1
                q = n * pol.Q
        q = _apply_order_rules(q, node)
        node.q = q
        node.eip = eip + q  # the order joins OO_j
        if q <= 0.0:
            return
        node.OO += q
        for ln in node.inbound:
            amount = ln.a * q
            if ln.src < 0:
                self._send(ln, amount, t, lead)  # the external supplier ships at once
            else:
                ln.backlog += amount
                ln.new_order = amount

    # ------------------------------------------------------------------ the run

    def run(
        self,
        demand: np.ndarray,
        lead: np.ndarray,
        onset: np.ndarray | None = None,
        duration: np.ndarray | None = None,
    ) -> ReferenceResult:
        """Simulate one replication.

        ``demand[T, nd]``, ``lead[T, ns]``, ``onset[T, nr]``, ``duration[T, nr]``: the draws of
        one replication (``echelon.sim.draws.make_draws``).
        """
        T = demand.shape[0]
        n = len(self.nodes)
        traj = {k: np.zeros((T, n)) for k in ("oh", "bo", "oo", "q", "cost", "ship", "lost")}
        kpi = {k: np.zeros(n) for k in KPI_NAMES}
        for t in range(T):
            # disruptions in force
            for j, node in enumerate(self.nodes):
                if node.rc_col is not None and node.closed_until <= t:
                    assert onset is not None and duration is not None
                    if onset[t, node.rc_col] < node.rc_prob:
                        node.closed_until = t + int(duration[t, node.rc_col])
                node.closed = node.closed_until > t or any(
                    c == j and s <= t < e for c, s, e in self.closures
                )
            for ln in self.lanes:
                ln.new_order = 0.0
            # 1. receive
            self._receive(t)
            # 2. observe demand
            for j, node in enumerate(self.nodes):
                node.d_new = 0.0
                if node.demand_col is None:
                    continue
                d = float(demand[t, node.demand_col])
                for target, s, e, mult in self.spikes:
                    if (target is None or target == j) and s <= t < e:
                        d *= mult
                node.d_new = d
                node.BO += d
            # 3.-4. downstream to upstream: ship, then order
            for j in range(n - 1, -1, -1):
                self._ship(self.nodes[j], t, lead)
                self._order(j, t, lead)
            # 5. zero-lead-time receipts, then costs
            self._receive(t)
            counted = t >= self.warmup
            for j, node in enumerate(self.nodes):
                hold = node.h * node.OH
                pipe = sum(ln.h_src * (ln.in_transit() + ln.buffer) for ln in node.inbound)
                pen = node.p * (node.lost if node.lost_mode else node.BO)
                ordc = node.K if node.q > 0.0 else 0.0
                if node.short:
                    node.stockout_in_cycle = True
                traj["oh"][t, j] = node.OH
                traj["bo"][t, j] = node.BO
                traj["oo"][t, j] = node.OO
                traj["q"][t, j] = node.q
                traj["cost"][t, j] = hold + pipe + pen + ordc
                traj["ship"][t, j] = node.shipped_ext
                traj["lost"][t, j] = node.lost
                if counted:
                    kpi["hold"][j] += hold
                    kpi["pipe"][j] += pipe
                    kpi["pen"][j] += pen
                    kpi["ord"][j] += ordc
                    kpi["oh"][j] += node.OH
                    kpi["bo"][j] += node.BO
                    kpi["extdem"][j] += node.d_new
                    kpi["extfill"][j] += node.filled_ext
                    kpi["lost"][j] += node.lost
                    kpi["short"][j] += 1.0 if node.short else 0.0
                    kpi["ties"][j] += 1.0 if node.near_tie else 0.0
                    kpi["dem"][j] += node.d_new + sum(ln.new_order for ln in node.outbound)
                    kpi["fill"][j] += node.filled_ext + sum(ln.filled for ln in node.outbound)
                    kpi["ship"][j] += node.shipped_ext + sum(ln.shipped for ln in node.outbound)
                    kpi["transit"][j] += sum(ln.in_transit() for ln in node.inbound)
                    kpi["intbo"][j] += sum(ln.backlog for ln in node.outbound)
                if node.q > 0.0:
                    if counted:
                        kpi["nord"][j] += 1.0
                        kpi["qord"][j] += node.q
                        kpi["cyc"][j] += 1.0
                        kpi["cycbad"][j] += 1.0 if node.stockout_in_cycle else 0.0
                    node.stockout_in_cycle = False
        return ReferenceResult(
            ids=self.ids,
            on_hand=traj["oh"],
            backorders=traj["bo"],
            on_order=traj["oo"],
            order_qty=traj["q"],
            cost=traj["cost"],
            shipped_ext=traj["ship"],
            lost=traj["lost"],
            kpi=kpi,
        )


def reference_run(
    net: Network,
    policy: PolicySet,
    cn: CompiledNetwork,
    draws,
    rep: int = 0,
    scenario: Scenario | None = None,
    warmup: int = 0,
) -> ReferenceResult:
    """Run the reference on replication ``rep`` of ``draws`` (an ``echelon.sim.draws.Draws``)."""
    sim = ReferenceSimulator(net, policy, cn, scenario, warmup)
    return sim.run(draws.demand[rep], draws.lead[rep], draws.onset[rep], draws.duration[rep])
