"""An aggregate fill-rate target over a network's demand nodes, measured in simulation.

``stock_mix(net, target)`` is what ``echelon optimize --aggregate-fill-rate`` runs:

1. every node starts at its single-echelon installation base-stock level (the upstream nodes
   keep it throughout);
2. **curves**: the demand nodes' levels are set to ``μ_L + z·σ_LTD`` (their lead-time demand,
   ``policies.heuristics.single_echelon_levels``) for each z of a grid (``points`` values from
   ``z_range``), all demand nodes at once, and the network is simulated once per grid point on
   the search seed; each demand node's curve is (average on-hand units, fill rate) over the
   grid (the network's other demand nodes move too, so upstream congestion is priced as the
   plan will meet it);
3. :func:`echelon.optimize.aggregate.aggregate_targets` picks each node's point at least
   inventory investment (unit value × average on hand; units when no node has a unit value)
   meeting the aggregate target, and :func:`uniform_targets` the least common fill-rate
   target meeting it;
4. both policies are simulated on an independent seed (``seed + 1``, same draws for both);
   the saving is ``1 − value(mix) / value(uniform)`` over the demand nodes' average on-hand
   value, with both measured aggregates beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from echelon.errors import OptimizationError
from echelon.network.model import Network
from echelon.optimize.aggregate import (
    AggregateResult,
    Measure,
    aggregate_targets,
    check_target,
    uniform_targets,
)
from echelon.optimize.checks import require_demand
from echelon.policies.heuristics import single_echelon_levels
from echelon.policies.model import BaseStock, PolicySet
from echelon.sim.batch import simulate
from echelon.sim.results import SimulationResult


@dataclass
class StockMixResult:
    """The aggregate plan, the uniform comparison and their simulated service and value."""

    target: float
    measure: str
    nodes: list[str]
    mix: AggregateResult
    uniform: AggregateResult
    mix_levels: dict[str, float]
    uniform_levels: dict[str, float]
    mix_policy: PolicySet
    uniform_policy: PolicySet
    mix_sim: SimulationResult
    uniform_sim: SimulationResult
    details: dict[str, Any] = field(default_factory=dict)

    def measured(self, sim: SimulationResult) -> float:
        """Aggregate fill rate measured in ``sim`` (unit- or value-weighted)."""
        w = self._weights(sim)
        f = np.array([sim.node(k).fill_rate.mean for k in self.nodes])
        return float(np.sum(w * f) / np.sum(w))

    def value(self, sim: SimulationResult) -> float:
        """Average on-hand value of the demand nodes (money; units without unit values)."""
        return float(sum(self._unit_value(k) * sim.node(k).avg_on_hand.mean for k in self.nodes))

    @property
    def saving(self) -> float:
        base = self.value(self.uniform_sim)
        return 0.0 if base <= 0 else 1.0 - self.value(self.mix_sim) / base

    def _unit_value(self, k: str) -> float:
        return float(self.details["unit_values"][k])

    def _weights(self, sim: SimulationResult) -> np.ndarray:
        d = np.array([sim.node(k).demand_per_period for k in self.nodes])
        if self.measure == "unit":
            return d
        return d * np.array([self._unit_value(k) for k in self.nodes])

    def to_dict(self) -> dict[str, Any]:
        per_node = {
            k: {
                "target_fill_rate": float(self.mix.fill_rate[i]),
                "level": self.mix_levels[k],
                "simulated_fill_rate": self.mix_sim.node(k).fill_rate.mean,
                "uniform_target": float(self.uniform.fill_rate[i]),
                "uniform_level": self.uniform_levels[k],
                "uniform_simulated_fill_rate": self.uniform_sim.node(k).fill_rate.mean,
            }
            for i, k in enumerate(self.nodes)
        }
        return {
            "aggregate_target": self.target,
            "measure": self.measure,
            "investment_curves": {
                "mix": self.mix.investment,
                "uniform": self.uniform.investment,
                "lower_bound": self.mix.lower_bound,
            },
            "simulated": {
                "mix": {
                    "aggregate_fill_rate": self.measured(self.mix_sim),
                    "on_hand_value": self.value(self.mix_sim),
                },
                "uniform": {
                    "aggregate_fill_rate": self.measured(self.uniform_sim),
                    "on_hand_value": self.value(self.uniform_sim),
                },
            },
            "saving": self.saving,
            "nodes": per_node,
            **self.details,
        }


def stock_mix(
    net: Network,
    target: float,
    *,
    measure: Measure = "unit",
    periods: int = 1000,
    reps: int = 40,
    seed: int = 0,
    warmup: int = 100,
    points: int = 41,
    z_range: tuple[float, float] = (-1.5, 4.0),
    progress: Callable[[int, int], None] | None = None,
) -> StockMixResult:
    """Per-demand-node fill-rate targets meeting an aggregate target (module doc)."""
    require_demand(net)
    check_target(target)
    if measure not in ("unit", "value"):
        raise OptimizationError(
            "unknown aggregate fill-rate measure",
            field="aggregate-measure",
            expected="unit or value",
            found=repr(measure),
            fix="use unit (units of demand) or value (demand × unit value)",
        )
    se = single_echelon_levels(net)
    base = {nid: lv.level for nid, lv in se.items()}
    nodes = [n.id for n in net.nodes if n.demand is not None]
    any_value = any(n.unit_value is not None for n in net.nodes)
    unit_values = {k: float(net.node(k).unit_value or 0.0) if any_value else 1.0 for k in nodes}
    zs = np.linspace(z_range[0], z_range[1], points)
    grid = {
        k: np.maximum(0.0, se[k].ltd_mean + zs * max(se[k].ltd_sd, 1e-9)).round(6) for k in nodes
    }

    def policy(levels: dict[str, float], method: str) -> PolicySet:
        pols = {nid: BaseStock(level=levels.get(nid, base[nid])) for nid in net.node_ids()}
        return PolicySet(network=net.name, method=method, policies=pols)

    on_hand = {k: np.zeros(points) for k in nodes}
    fill = {k: np.zeros(points) for k in nodes}
    total = points + 2
    for m in range(points):
        res = simulate(net, policy({k: float(grid[k][m]) for k in nodes}, "curve"), periods,
                       reps, seed=seed, warmup=warmup)  # fmt: skip
        for k in nodes:
            on_hand[k][m] = res.node(k).avg_on_hand.mean
            fill[k][m] = res.node(k).fill_rate.mean
        if progress is not None:
            progress(m + 1, total)
    stock, fills, keep = [], [], []
    for k in nodes:  # strictly increasing stock: drop repeated points (e.g. levels clipped at 0)
        idx = [0]
        for m in range(1, points):
            if on_hand[k][m] > on_hand[k][idx[-1]] + 1e-12:
                idx.append(m)
        keep.append(np.array(idx))
        stock.append(on_hand[k][idx])
        fills.append(np.clip(np.maximum.accumulate(fill[k][idx]), 0.0, 1.0))
    demand = np.array([res.node(k).demand_per_period for k in nodes])
    v = np.array([unit_values[k] for k in nodes])
    mix = aggregate_targets(stock, fills, demand, target, unit_value=v, measure=measure)
    uni = uniform_targets(stock, fills, demand, target, unit_value=v, measure=measure)
    mix_levels = {k: float(grid[k][keep[i][mix.index[i]]]) for i, k in enumerate(nodes)}
    uni_levels = {k: float(grid[k][keep[i][uni.index[i]]]) for i, k in enumerate(nodes)}
    mix_policy = policy(mix_levels, "aggregate-fill-rate")
    uni_policy = policy(uni_levels, "uniform-fill-rate")
    mix_sim = simulate(net, mix_policy, periods, reps, seed=seed + 1, warmup=warmup)
    if progress is not None:
        progress(points + 1, total)
    uni_sim = simulate(net, uni_policy, periods, reps, seed=seed + 1, warmup=warmup)
    if progress is not None:
        progress(total, total)
    for pol in (mix_policy, uni_policy):
        pol.metadata = {"aggregate_target": target, "measure": measure}
    return StockMixResult(
        target=target, measure=measure, nodes=nodes, mix=mix, uniform=uni,
        mix_levels=mix_levels, uniform_levels=uni_levels, mix_policy=mix_policy,
        uniform_policy=uni_policy, mix_sim=mix_sim, uniform_sim=uni_sim,
        details={
            "unit_values": unit_values,
            "curve_points": points,
            "z_range": list(z_range),
            "search": {"seed": seed, "periods": periods, "reps": reps, "warmup": warmup},
            "final": {"seed": seed + 1, "periods": periods, "reps": reps, "warmup": warmup},
        },
    )  # fmt: skip
