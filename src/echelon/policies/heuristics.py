"""Simple policies computed node by node (the single-echelon practice).

``single_echelon_base_stock`` gives every node an installation base-stock level from its own
replenishment lead time and the demand it serves, ignoring the rest of the network — the
practice that multi-echelon optimization replaces, and a sound default to simulate a network
before it is optimized.

Convention (docs/model.md): with the period's sequence of events, an order placed in period t
covers demand until the next order arrives, i.e. over ``L`` periods for a lead time of ``L >= 1``
(``max(L, 1)`` in general). The simulator rounds a sampled lead time up to whole periods, so
the exposure is ``E = max(1, ⌈L⌉)`` — for a random lead time its mean and std are taken over
that rounded distribution (a lead time of 1 or 2 periods with mean 1.04 exposes 1.04 periods,
not 2). Lead-time demand over ``E`` periods has mean ``μ·E[E]`` and variance
``E[E]·σ² + μ²·Var[E]``; the level is
``S = μL + z·σ_LTD`` with ``z = Φ⁻¹(target)`` for a cycle-service-level target, or the z whose
standard normal loss ``G(z) = (1 − β)·μ / σ_LTD`` for a fill-rate target β (one period of
demand lost per cycle at most). Nodes without a service target use ``default_target``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from echelon.network.distributions import (
    DeterministicLeadTime,
    EmpiricalLeadTime,
    LeadTimeDistribution,
    NormalLeadTime,
    ceil_periods,
)
from echelon.network.graph import echelon_demand, predecessors
from echelon.network.model import Network, ServiceMeasure
from echelon.policies.fill_rate_z import z_for_fill_rate
from echelon.policies.model import BaseStock, PolicySet


def replenishment_lead_time(net: Network, node_id: str) -> tuple[float, float]:
    """Mean and std of a node's replenishment lead time (the slowest inbound lane), periods."""
    lt = replenishment_lead_time_distribution(net, node_id)
    return lt.mean(), lt.std()


def replenishment_lead_time_distribution(net: Network, node_id: str) -> LeadTimeDistribution:
    """A node's replenishment lead time: its own (external supplier) or its slowest inbound
    lane's (largest mean)."""
    node = net.node(node_id)
    if not predecessors(net)[node_id]:
        return node.lead_time
    best: LeadTimeDistribution | None = None
    for lane in net.lanes:
        if lane.target == node_id:
            lt = net.lane_lead_time(lane)
            if best is None or lt.mean() >= best.mean():
                best = lt
    assert best is not None
    return best


def exposure_moments(lt: LeadTimeDistribution) -> tuple[float, float]:
    """Mean and std (periods) of the exposure ``max(1, ⌈L⌉)`` of a lead time L, with L rounded
    up to whole periods as the simulator does (normal lead times below 0 count as 0)."""
    if isinstance(lt, DeterministicLeadTime):
        return float(max(1, ceil_periods(lt.value))), 0.0
    if isinstance(lt, EmpiricalLeadTime):
        k = np.array([max(1, ceil_periods(v)) for v in lt.values], dtype=float)
        p = lt.weights()
    else:
        top = lt.max_periods()
        edges = np.arange(0, top + 1, dtype=float)  # P(⌈L⌉ <= k) = P(L <= k)
        if isinstance(lt, NormalLeadTime):
            cdf = stats.norm.cdf(edges, lt.mean(), lt.std()) if lt.std() > 0 else edges >= lt.mean()
        else:
            shape, scale = lt.shape_scale()
            cdf = stats.gamma.cdf(edges, shape, scale=scale)
        cdf = np.asarray(cdf, dtype=float)
        cdf[-1] = 1.0  # the simulator caps a draw at max_periods
        p = np.diff(np.concatenate([[0.0], cdf]))
        k = np.maximum(1.0, edges)
    mean = float(p @ k)
    return mean, math.sqrt(max(0.0, float(p @ (k - mean) ** 2)))


@dataclass(frozen=True)
class SingleEchelonLevel:
    """One node's single-echelon calculation (units; ``exposure`` in periods)."""

    mean_demand: float
    sd_demand: float
    exposure: float
    ltd_mean: float
    ltd_sd: float
    target: float
    z: float
    level: float

    @property
    def safety_stock(self) -> float:
        """``level − ltd_mean`` (may be negative below 50% service), units."""
        return self.level - self.ltd_mean


def single_echelon_levels(
    net: Network, default_target: float = 0.95
) -> dict[str, SingleEchelonLevel]:
    """Every node's level ``μL + z·σ_LTD`` computed from its own lead time (see module doc)."""
    flows = echelon_demand(net)
    out: dict[str, SingleEchelonLevel] = {}
    for node in net.nodes:
        mean, sd = flows[node.id]
        exposure, lt_sd = exposure_moments(replenishment_lead_time_distribution(net, node.id))
        ltd_mean = mean * exposure
        ltd_sd = math.sqrt(exposure * sd**2 + (mean * lt_sd) ** 2)
        target = node.service.target if node.service else default_target
        if node.service and node.service.measure is ServiceMeasure.FILL_RATE:
            z = z_for_fill_rate(target, mean, ltd_sd)
        else:
            z = float(stats.norm.ppf(target))
        level = max(0.0, ltd_mean + z * ltd_sd)
        out[node.id] = SingleEchelonLevel(
            mean, sd, exposure, ltd_mean, ltd_sd, target, z, round(level, 6)
        )
    return out


def single_echelon_base_stock(net: Network, default_target: float = 0.95) -> PolicySet:
    """Installation base-stock levels set node by node: ``μL + z·σ_LTD`` (see module doc)."""
    levels = single_echelon_levels(net, default_target)
    return PolicySet(
        network=net.name,
        method="single-echelon",
        metadata={"default_target": default_target, "rule": "S = mu*L + z*sigma_LTD per node"},
        policies={nid: BaseStock(level=lv.level) for nid, lv in levels.items()},
    )
