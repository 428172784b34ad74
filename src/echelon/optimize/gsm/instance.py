"""The guaranteed-service model (GSM) as numpy arrays, built from a :class:`Network`.

A :class:`GSMInstance` holds, per node j (units: periods, units of the node's item, money):

- ``processing_time`` T_j (integer periods) and ``min_inbound`` (the least inbound service
  time SI_j, e.g. an external supplier's committed service time; 0 by default);
- ``holding_cost`` h_j (money per unit per period), ``z`` (safety factor), ``sigma`` σ_j (std of
  the demand per period the node serves), ``mean`` μ_j (mean demand per period it serves) and
  ``lead_time_sd`` (a lead-time term, 0 unless asked for explicitly);
- ``max_service`` the bound on the committed service time S_j (``inf`` = none);
- arcs ``arc_src -> arc_dst`` with an integer ``arc_delay`` d_ij ≥ 0: SI_j ≥ S_i + d_ij.

Safety stock at net replenishment time τ: ``z·sqrt(σ²τ + (μ·σ_L)²)`` for τ > 0 and 0 at τ = 0
(``z·σ·√τ`` without a lead-time term); its cost is ``h`` times that. docs/gsm.md states the
conventions that :func:`build_instance` uses to fill these arrays from a network.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from echelon.errors import NetworkError
from echelon.network.graph import echelon_demand, topological_order
from echelon.network.model import Network, ServiceMeasure
from echelon.optimize.checks import require_demand
from echelon.policies.fill_rate_z import z_for_fill_rate

Convention = Literal["auto", "willems", "general"]
IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
WILLEMS_ATTRIBUTES = ("stageTime", "relDepth")
_EPS = 1e-9


@dataclass
class GSMInstance:
    """A GSM instance: one entry per node in ``ids`` order (see the module doc for units)."""

    name: str
    ids: list[str]
    processing_time: IntArray
    holding_cost: FloatArray
    z: FloatArray
    sigma: FloatArray
    mean: FloatArray
    max_service: FloatArray
    min_inbound: IntArray
    arc_src: IntArray
    arc_dst: IntArray
    arc_delay: IntArray
    is_demand: NDArray[np.bool_]
    lead_time_sd: FloatArray
    convention: str = "general"
    notes: dict[str, Any] = field(default_factory=dict)
    fixed_service: IntArray | None = None
    """S_j fixed by the user (−1 = free)."""

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def cost_rate(self) -> FloatArray:
        """h·z·σ: safety-stock cost per √period (without a lead-time term), money per period."""
        return np.asarray(self.holding_cost * self.z * self.sigma, dtype=float)

    def safety_stock(self, tau: ArrayLike, node: int | IntArray | None = None) -> FloatArray:
        """Safety stock (units) at net replenishment times ``tau`` for ``node`` (all if None)."""
        idx = np.arange(self.n) if node is None else node
        t = np.asarray(tau, dtype=float)
        var = self.sigma[idx] ** 2 * t + (self.mean[idx] * self.lead_time_sd[idx]) ** 2
        ss = self.z[idx] * np.sqrt(np.maximum(var, 0.0))
        return np.asarray(np.where(t > 0, ss, 0.0), dtype=float)

    def stage_cost(self, tau: ArrayLike, node: int | IntArray | None = None) -> FloatArray:
        """Safety-stock holding cost (money per period) at net replenishment times ``tau``."""
        idx = np.arange(self.n) if node is None else node
        return np.asarray(self.holding_cost[idx] * self.safety_stock(tau, node), dtype=float)

    @classmethod
    def from_arrays(
        cls,
        ids: Sequence[str],
        processing_time: Sequence[int],
        holding_cost: Sequence[float],
        z: Sequence[float],
        sigma: Sequence[float],
        arcs: Sequence[tuple[int, int]] = (),
        *,
        mean: Sequence[float] | None = None,
        max_service: Sequence[float | None] | None = None,
        min_inbound: Sequence[int] | None = None,
        arc_delay: Sequence[int] | None = None,
        is_demand: Sequence[bool] | None = None,
        name: str = "gsm",
    ) -> GSMInstance:
        """Build an instance from plain sequences (arcs as index pairs ``(from, to)``)."""
        n = len(ids)
        src = np.array([a for a, _ in arcs], dtype=np.int64)
        dst = np.array([b for _, b in arcs], dtype=np.int64)
        bounds = [math.inf if b is None else float(b) for b in (max_service or [None] * n)]
        return cls(
            name=name,
            ids=list(ids),
            processing_time=np.asarray(processing_time, dtype=np.int64),
            holding_cost=np.asarray(holding_cost, dtype=float),
            z=np.asarray(z, dtype=float),
            sigma=np.asarray(sigma, dtype=float),
            mean=np.zeros(n) if mean is None else np.asarray(mean, dtype=float),
            max_service=np.asarray(bounds, dtype=float),
            min_inbound=np.zeros(n, np.int64)
            if min_inbound is None
            else np.asarray(min_inbound, np.int64),
            arc_src=src,
            arc_dst=dst,
            arc_delay=np.zeros(len(src), np.int64)
            if arc_delay is None
            else np.asarray(arc_delay, np.int64),
            is_demand=np.isfinite(bounds) if is_demand is None else np.asarray(is_demand, bool),
            lead_time_sd=np.zeros(n),
        )


ArrayLike = FloatArray | IntArray | Sequence[float] | float | int


@dataclass
class Bounds:
    """Longest-path bounds: S_j ∈ [s_lo, s_hi], SI_j ∈ [si_lo, si_hi], τ_j ∈ [0, tau_hi]."""

    order: IntArray
    s_lo: IntArray
    s_hi: IntArray
    si_lo: IntArray
    si_hi: IntArray
    tau_hi: IntArray
    preds: list[list[tuple[int, int]]]
    succs: list[list[tuple[int, int]]]


def service_bounds(inst: GSMInstance) -> Bounds:
    """Topological order and bounds that every optimal solution can be taken to satisfy.

    ``si_hi_j = max(min_inbound_j, max_i s_hi_i + d_ij)`` and ``s_hi_j = min(bound_j, si_hi_j +
    T_j)``: a larger S_j can be lowered to ``s_hi_j`` without raising any cost (docs/gsm.md).
    """
    n = inst.n
    preds: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    succs: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    for i, j, d in zip(
        inst.arc_src.tolist(), inst.arc_dst.tolist(), inst.arc_delay.tolist(), strict=True
    ):
        preds[j].append((i, d))
        succs[i].append((j, d))
    indeg = [len(p) for p in preds]
    ready = [j for j in range(n) if indeg[j] == 0]
    order: list[int] = []
    while ready:
        j = ready.pop()
        order.append(j)
        for k, _ in succs[j]:
            indeg[k] -= 1
            if indeg[k] == 0:
                ready.append(k)
    if len(order) != n:
        raise NetworkError("the network has a cycle", fix="remove one lane of the cycle")
    s_hi = np.zeros(n, np.int64)
    si_hi = np.zeros(n, np.int64)
    T = inst.processing_time
    fixed = inst.fixed_service if inst.fixed_service is not None else np.full(n, -1, np.int64)
    for j in order:
        top = int(inst.min_inbound[j])
        for i, d in preds[j]:
            top = max(top, int(s_hi[i]) + d)
        si_hi[j] = top
        cap = inst.max_service[j]
        reach = top + int(T[j])
        s_hi[j] = reach if not math.isfinite(cap) else min(reach, math.floor(cap + _EPS))
        if fixed[j] >= 0:
            s_hi[j] = fixed[j]
            si_hi[j] = max(top, int(fixed[j] - T[j]))
    return Bounds(
        order=np.asarray(order, np.int64),
        s_lo=np.maximum(fixed, 0),
        s_hi=s_hi,
        si_lo=inst.min_inbound.copy(),
        si_hi=si_hi,
        tau_hi=np.maximum(si_hi + T - np.maximum(fixed, 0), 0),
        preds=preds,
        succs=succs,
    )


def detect_convention(net: Network) -> Literal["willems", "general"]:
    """``willems`` when every node carries the Willems importer's raw stage attributes."""
    if all(all(a in n.attributes for a in WILLEMS_ATTRIBUTES) for n in net.nodes):
        return "willems"
    return "general"


def _whole_periods(value: float) -> int:
    return max(0, math.ceil(value - _EPS))


def _z_of_level(level: float) -> float:
    return float(stats.norm.ppf(level))


def _downstream_demand_sets(net: Network, order: list[str]) -> tuple[list[str], np.ndarray]:
    """Demand node ids and a boolean matrix reach[j, k]: demand node k is at or below j."""
    index = {nid: i for i, nid in enumerate(net.node_ids())}
    demand_ids = [n.id for n in net.nodes if n.demand is not None]
    col = {nid: k for k, nid in enumerate(demand_ids)}
    reach = np.zeros((len(net.nodes), len(demand_ids)), dtype=bool)
    succ: dict[str, list[str]] = {nid: [] for nid in index}
    for lane in net.lanes:
        succ[lane.source].append(lane.target)
    for nid in reversed(order):
        row = reach[index[nid]]
        if nid in col:
            row[col[nid]] = True
        for t in succ[nid]:
            row |= reach[index[t]]
    return demand_ids, reach


def build_instance(
    net: Network,
    *,
    convention: Convention = "auto",
    default_service_level: float = 0.95,
    lead_time_variance: bool = False,
) -> GSMInstance:
    """Build the GSM arrays of ``net`` under ``convention`` (docs/gsm.md states both).

    ``willems``: the benchmark convention (T = ceil(stageTime), each downstream demand stage
    counted once in σ and μ, z from the largest downstream service level, bounds on demand
    stages only, no lead-time variance). ``general``: BOM-weighted echelon demand, T from the
    lane lead times, z from the node's own target or the largest downstream one, every node's
    ``max_service_time`` honoured (a demand node without one: 0), optional lead-time variance.
    ``auto`` picks ``willems`` for a network imported from a Willems CSV.
    """
    require_demand(net)
    if convention == "auto":
        convention = detect_convention(net)
    if convention == "willems" and lead_time_variance:
        raise NetworkError(
            "lead-time variance is not part of the Willems benchmark convention",
            source=net.name,
            field="lead_time_variance",
            fix="use convention='general' to include a lead-time variance term",
        )
    order = topological_order(net)
    ids = net.node_ids()
    index = {nid: i for i, nid in enumerate(ids)}
    n = len(ids)
    demand_ids, reach = _downstream_demand_sets(net, order)
    levels = np.array(
        [_service_level(net.node(k), default_service_level) for k in demand_ids], dtype=float
    )
    notes: dict[str, Any] = {"convention": convention}
    lt_sd = np.zeros(n)
    T = np.zeros(n, np.int64)
    src = np.array([index[lane.source] for lane in net.lanes], np.int64)
    dst = np.array([index[lane.target] for lane in net.lanes], np.int64)
    delay = np.zeros(len(net.lanes), np.int64)
    bound = np.full(n, math.inf)
    z = np.zeros(n)
    if convention == "willems":
        dem_sd = np.array([_demand(net, k)[1] for k in demand_ids])
        dem_mu = np.array([_demand(net, k)[0] for k in demand_ids])
        sigma = np.sqrt(reach.astype(float) @ (dem_sd**2))
        mean = reach.astype(float) @ dem_mu
        for i, node in enumerate(net.nodes):
            raw = node.attributes.get("stageTime")
            t = float(raw) if isinstance(raw, int | float) else node.lead_time.mean()
            T[i] = _whole_periods(t)
            if node.demand is not None:
                bound[i] = node.max_service_time or 0.0
        demand_col = {nid: k for k, nid in enumerate(demand_ids)}
        for i in range(n):
            own = demand_col.get(ids[i])
            lv = levels[own] if own is not None else levels[reach[i]].max(initial=-1.0)
            z[i] = _z_of_level(lv) if lv > 0 else 0.0
    else:
        flows = echelon_demand(net)
        mean = np.array([flows[nid][0] for nid in ids])
        sigma = np.array([flows[nid][1] for nid in ids])
        lane_times = [_whole_periods(net.lane_lead_time(lane).mean()) for lane in net.lanes]
        inbound: list[list[int]] = [[] for _ in range(n)]
        for k, j in enumerate(dst.tolist()):
            inbound[j].append(k)
        for i, node in enumerate(net.nodes):
            if inbound[i]:
                T[i] = min(lane_times[k] for k in inbound[i])
                for k in inbound[i]:
                    delay[k] = lane_times[k] - T[i]
                slowest = max(inbound[i], key=lambda k: net.lane_lead_time(net.lanes[k]).mean())
                lt_sd[i] = net.lane_lead_time(net.lanes[slowest]).std()
            else:
                T[i] = _whole_periods(node.lead_time.mean())
                lt_sd[i] = node.lead_time.std()
            if node.max_service_time is not None:
                bound[i] = node.max_service_time
            elif node.demand is not None:
                bound[i] = 0.0  # customers are served from stock unless a time is quoted
            z[i] = _general_z(node, mean[i], sigma[i], levels, reach[i], default_service_level)
        if not lead_time_variance:
            lt_sd[:] = 0.0
        notes["lead_time_variance"] = lead_time_variance
    notes["default_service_level"] = default_service_level
    return GSMInstance(
        name=net.name,
        ids=ids,
        processing_time=T,
        holding_cost=np.array([node.holding_cost for node in net.nodes], dtype=float),
        z=z,
        sigma=np.asarray(sigma, float),
        mean=np.asarray(mean, float),
        max_service=bound,
        min_inbound=np.zeros(n, np.int64),
        arc_src=src,
        arc_dst=dst,
        arc_delay=delay,
        is_demand=np.array([node.demand is not None for node in net.nodes]),
        lead_time_sd=lt_sd,
        convention=convention,
        notes=notes,
    )


def _demand(net: Network, nid: str) -> tuple[float, float]:
    d = net.node(nid).demand
    assert d is not None
    return d.mean(), d.std()


def _service_level(node: Any, default: float) -> float:
    """A demand node's service level: its target (any measure) or ``default``."""
    return float(node.service.target) if node.service is not None else default


def _general_z(
    node: Any,
    mean: float,
    sigma: float,
    levels: FloatArray,
    reach: NDArray[np.bool_],
    default: float,
) -> float:
    """z of the general convention: the node's own target (a fill rate β is converted over one
    period of demand, G(z)·σ = (1 − β)·μ), else the largest target downstream."""
    if node.service is not None:
        if node.service.measure is ServiceMeasure.FILL_RATE:
            return z_for_fill_rate(node.service.target, mean, sigma)
        return _z_of_level(node.service.target)
    downstream = levels[reach]
    return _z_of_level(float(downstream.max()) if downstream.size else default)
