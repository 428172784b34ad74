"""Simple policies computed node by node (the single-echelon practice).

``single_echelon_base_stock`` gives every node an installation base-stock level from its own
replenishment lead time and the demand it serves, ignoring the rest of the network — the
practice that multi-echelon optimization replaces, and a sound default to simulate a network
before it is optimized.

Convention (docs/model.md): with the period's sequence of events, an order placed in period t
covers demand until the next order arrives, i.e. over ``L`` periods for a lead time of ``L >= 1``
(``max(L, 1)`` in general). Lead-time demand over ``L`` periods has mean ``μL`` and variance
``Lσ² + μ²σ_L²`` (random lead time ``L`` with std ``σ_L``); the level is
``S = μL + z·σ_LTD`` with ``z = Φ⁻¹(target)`` for a cycle-service-level target, or the z whose
standard normal loss ``G(z) = (1 − β)·μ / σ_LTD`` for a fill-rate target β (one period of
demand lost per cycle at most). Nodes without a service target use ``default_target``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import optimize, stats

from echelon.network.graph import echelon_demand, predecessors
from echelon.network.model import Network, ServiceMeasure
from echelon.policies.model import BaseStock, PolicySet


def normal_loss(z: float) -> float:
    """Standard normal first-order loss G(z) = E[(Z − z)^+]."""
    return float(stats.norm.pdf(z) - z * stats.norm.sf(z))


def z_for_fill_rate(beta: float, mean: float, sd: float) -> float:
    """Safety factor z with G(z)·sd = (1 − beta)·mean (expected shortage per cycle)."""
    if sd <= 0:
        return 0.0
    target = (1.0 - beta) * mean / sd
    if target >= normal_loss(-8.0):
        return -8.0
    return float(optimize.brentq(lambda z: normal_loss(z) - target, -8.0, 12.0))


def replenishment_lead_time(net: Network, node_id: str) -> tuple[float, float]:
    """Mean and std of a node's replenishment lead time (the slowest inbound lane), periods."""
    node = net.node(node_id)
    preds = predecessors(net)[node_id]
    if not preds:
        return node.lead_time.mean(), node.lead_time.std()
    best = (0.0, 0.0)
    for lane in net.lanes:
        if lane.target == node_id:
            lt = net.lane_lead_time(lane)
            if lt.mean() >= best[0]:
                best = (lt.mean(), lt.std())
    return best


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
        lt_mean, lt_sd = replenishment_lead_time(net, node.id)
        exposure = max(1.0, float(math.ceil(lt_mean - 1e-9)))
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
