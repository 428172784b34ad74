"""Per-lane lead-time distributions (in periods) fitted from observed lead times.

An observation of ``d`` days on a lane is ``d / period_days`` periods, rounded **up** to whole
periods — the simulator's convention (docs/model.md: a shipment taking 1.2 periods is available
at the start of the second period). A lane's fitted distribution is the empirical distribution
of those whole periods (:class:`EmpiricalLeadTime`, values with their observed frequencies); its
mean and std are those of the discrete distribution. A lane with a single distinct value becomes
a deterministic lead time. Lanes without observations keep the network file's lead time
(``origin = "network"``); an external supplier's lead time is fitted from the observations whose
``to_id`` is the supplied node and whose ``from_id`` is not a location of the network (e.g.
``external``) or is the node itself; it is keyed ``(node, node)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from echelon.errors import DataError
from echelon.network.distributions import (
    DeterministicLeadTime,
    EmpiricalLeadTime,
    LeadTimeDistribution,
    ceil_periods,
)
from echelon.network.model import Network
from echelon.plan.context import PlanContext


@dataclass(frozen=True)
class LaneLeadTime:
    """One lane's lead time in periods (``source``: "observed" or "network")."""

    source_id: str
    target_id: str
    mean: float  # periods
    std: float  # periods
    observations: int
    distribution: LeadTimeDistribution
    origin: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.source_id, self.target_id)


def empirical_periods(days: np.ndarray, period_days: float) -> LeadTimeDistribution:
    """The whole-period distribution of lead times observed in ``days`` (see the module doc)."""
    x = np.asarray(days, dtype=float)
    if x.size == 0 or not np.all(np.isfinite(x)) or np.any(x < 0):
        raise DataError(
            "lead-time observations must be finite numbers >= 0",
            source="lead_times.csv",
            field="lead_time_days",
            found=f"{x.size} values, min {np.nanmin(x) if x.size else 'none'}",
            fix="remove negative or empty lead times",
        )
    periods = np.array([ceil_periods(v / period_days) for v in x], dtype=float)
    values, counts = np.unique(periods, return_counts=True)
    if values.size == 1:
        return DeterministicLeadTime(value=float(values[0]))
    probs = counts / counts.sum()
    probs[-1] = 1.0 - float(probs[:-1].sum())
    return EmpiricalLeadTime(values=values.tolist(), probabilities=probs.tolist())


def fit_lead_times(data: PlanContext) -> dict[tuple[str, str], LaneLeadTime]:
    """Lead time of every lane (and of every external supplier, key ``(node, node)``)."""
    net = data.network
    pdays = float(data.config.period_days)
    obs = data.lead_times if data.lead_times is not None else pd.DataFrame()
    groups: dict[tuple[str, str], np.ndarray] = {}
    ids = set(net.node_ids())
    if not obs.empty:
        for (a, b), g in obs.groupby(["from_id", "to_id"], sort=True):
            key = (str(b), str(b)) if str(a) not in ids else (str(a), str(b))
            days = g["lead_time_days"].to_numpy(float)
            groups[key] = np.concatenate([groups[key], days]) if key in groups else days
    out: dict[tuple[str, str], LaneLeadTime] = {}
    keys = [(lane.source, lane.target) for lane in net.lanes]
    keys += [(n.id, n.id) for n in net.nodes if n.external_supplier]
    for a, b in keys:
        if (a, b) in groups:
            dist = empirical_periods(groups[(a, b)], pdays)
            n, origin = len(groups[(a, b)]), "observed"
        else:
            dist = _network_lead_time(net, a, b)
            n, origin = 0, "network"
        out[(a, b)] = LaneLeadTime(a, b, dist.mean(), dist.std(), n, dist, origin)
    return out


def _network_lead_time(net: Network, a: str, b: str) -> LeadTimeDistribution:
    if a == b:
        return net.node(a).lead_time
    for lane in net.lanes:
        if lane.source == a and lane.target == b:
            return net.lane_lead_time(lane)
    raise KeyError((a, b))


def with_lead_times(net: Network, fitted: dict[tuple[str, str], LaneLeadTime]) -> Network:
    """A copy of ``net`` whose lanes (and external suppliers) carry the fitted lead times."""
    lanes = [
        lane.model_copy(update={"lead_time": fitted[(lane.source, lane.target)].distribution})
        if (lane.source, lane.target) in fitted
        else lane
        for lane in net.lanes
    ]
    nodes = [
        n.model_copy(update={"lead_time": fitted[(n.id, n.id)].distribution})
        if n.external_supplier and (n.id, n.id) in fitted
        else n
        for n in net.nodes
    ]
    return net.model_copy(update={"lanes": lanes, "nodes": nodes})


def inbound_lead_time(net: Network, node_id: str) -> tuple[float, float]:
    """Mean and std (periods) of a node's replenishment lead time: its slowest inbound lane, or
    its external supplier's lead time."""
    best: tuple[float, float] | None = None
    for lane in net.lanes:
        if lane.target == node_id:
            lt = net.lane_lead_time(lane)
            if best is None or lt.mean() > best[0]:
                best = (lt.mean(), lt.std())
    if best is None:
        lt = net.node(node_id).lead_time
        best = (lt.mean(), lt.std())
    return (float(best[0]), float(best[1]) if math.isfinite(best[1]) else 0.0)
