"""KPI summaries of a simulation: per node and for the network, with 95% confidence intervals.

Every KPI is first computed per replication (over the periods after the warm-up), then averaged
over replications; ``ci95`` is the half-width ``t(0.975, R−1) · s / √R`` (None when R = 1).
Definitions (docs/model.md, "KPIs"):

- cost per period = holding (on hand) + pipeline holding (in transit to the node and inputs
  waiting at it, at the supplier's holding cost) + penalty + fixed ordering cost;
- fill rate = units of demand shipped in the period they were demanded / units demanded (all
  customers of the node; at a pure demand node, external demand);
- cycle service level = share of replenishment cycles (the periods between two orders of the
  node) without a stockout; stockout frequency = share of periods in which the node could not
  ship all it was asked;
- inventory turns (per year) = units shipped per year / average on hand;
  days of supply = average on hand / average demand per period × period length in days;
  inventory value = average on hand × unit value (nodes that have one).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import stats

from echelon.sim import kernel as K


@lru_cache(maxsize=64)
def _t975(dof: int) -> float:
    """Student-t 97.5% quantile (cached: a summary asks for the same one thousands of times)."""
    return float(stats.t.ppf(0.975, dof))


@dataclass(frozen=True)
class Estimate:
    """A replication mean with the half-width of its 95% confidence interval."""

    mean: float
    ci95: float | None

    @staticmethod
    def of(samples: np.ndarray) -> Estimate:
        x = np.asarray(samples, dtype=float)
        x = x[~np.isnan(x)]
        if x.size == 0:
            return Estimate(math.nan, None)
        mean = float(x.mean())
        if x.size < 2:
            return Estimate(mean, None)
        half = float(_t975(x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
        return Estimate(mean, half)

    def contains(self, value: float) -> bool:
        return self.ci95 is not None and abs(value - self.mean) <= self.ci95

    def to_dict(self) -> dict[str, float | None]:
        return {"mean": _clean(self.mean), "ci95": _clean(self.ci95)}


@dataclass
class NodeKPIs:
    id: str
    cost_per_period: Estimate
    holding_cost: Estimate
    pipeline_cost: Estimate
    penalty_cost: Estimate
    order_cost: Estimate
    fill_rate: Estimate
    cycle_service_level: Estimate
    stockout_frequency: Estimate
    avg_on_hand: Estimate
    avg_backorders: Estimate
    avg_in_transit: Estimate
    lost_sales: Estimate
    orders_per_period: Estimate
    demand_per_period: float
    inventory_turns: float | None
    days_of_supply: float | None
    inventory_value: float | None
    is_demand_node: bool

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if isinstance(value, dict) and "mean" in value:
                out[key] = {"mean": _clean(value["mean"]), "ci95": _clean(value["ci95"])}
            else:
                out[key] = _clean(value)
        return out


@dataclass
class SimulationResult:
    network: str
    periods: int
    replications: int
    warmup: int
    seed: int
    cost_per_period: Estimate
    holding_cost: Estimate
    pipeline_cost: Estimate
    penalty_cost: Estimate
    order_cost: Estimate
    fill_rate: Estimate  # unit-weighted over external demand at demand nodes
    inventory_value: float | None
    nodes: list[NodeKPIs]
    seconds: float = 0.0
    node_periods: int = 0
    notes: list[str] = field(default_factory=list)

    def node(self, node_id: str) -> NodeKPIs:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "network": self.network,
            "periods": self.periods,
            "replications": self.replications,
            "warmup": self.warmup,
            "seed": self.seed,
            "cost_per_period": self.cost_per_period.to_dict(),
            "holding_cost": self.holding_cost.to_dict(),
            "pipeline_cost": self.pipeline_cost.to_dict(),
            "penalty_cost": self.penalty_cost.to_dict(),
            "order_cost": self.order_cost.to_dict(),
            "fill_rate": self.fill_rate.to_dict(),
            "inventory_value": _clean(self.inventory_value),
            "seconds": self.seconds,
            "node_periods_per_second": self.node_periods / self.seconds if self.seconds else None,
            "notes": self.notes,
            "nodes": {n.id: n.to_dict() for n in self.nodes},
        }


def _clean(x: Any) -> Any:
    if isinstance(x, float) and (math.isnan(x) or math.isinf(x)):
        return None
    return x


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def summarize(
    acc: np.ndarray,
    ids: list[str],
    demand_nodes: list[int],
    unit_value: np.ndarray,
    periods: int,
    period_days: float,
    network: str,
    warmup: int,
    seed: int,
) -> SimulationResult:
    """Turn KPI sums ``acc[R, n, K]`` over ``periods`` counted periods into a result."""
    per = acc / periods
    cost = per[:, :, K.K_HOLD] + per[:, :, K.K_PIPE] + per[:, :, K.K_PEN] + per[:, :, K.K_ORD]
    is_demand = np.zeros(len(ids), dtype=bool)
    is_demand[demand_nodes] = True
    nodes = []
    for j, nid in enumerate(ids):
        a = acc[:, j, :]
        oh = float(per[:, j, K.K_OH].mean())
        dem = float(per[:, j, K.K_DEM].mean())
        ship = float(per[:, j, K.K_SHIP].mean())
        nodes.append(
            NodeKPIs(
                id=nid,
                cost_per_period=Estimate.of(cost[:, j]),
                holding_cost=Estimate.of(per[:, j, K.K_HOLD]),
                pipeline_cost=Estimate.of(per[:, j, K.K_PIPE]),
                penalty_cost=Estimate.of(per[:, j, K.K_PEN]),
                order_cost=Estimate.of(per[:, j, K.K_ORD]),
                fill_rate=Estimate.of(_ratio(a[:, K.K_FILL], a[:, K.K_DEM])),
                cycle_service_level=Estimate.of(1.0 - _ratio(a[:, K.K_CYCBAD], a[:, K.K_CYC])),
                stockout_frequency=Estimate.of(per[:, j, K.K_SHORT]),
                avg_on_hand=Estimate.of(per[:, j, K.K_OH]),
                avg_backorders=Estimate.of(per[:, j, K.K_BO]),
                avg_in_transit=Estimate.of(per[:, j, K.K_TRANSIT]),
                lost_sales=Estimate.of(per[:, j, K.K_LOST]),
                orders_per_period=Estimate.of(per[:, j, K.K_NORD]),
                demand_per_period=dem,
                inventory_turns=(ship * 365.0 / period_days / oh) if oh > 0 else None,
                days_of_supply=(oh / dem * period_days) if dem > 0 else None,
                inventory_value=(oh * float(unit_value[j]))
                if not np.isnan(unit_value[j])
                else None,
                is_demand_node=bool(is_demand[j]),
            )
        )
    dn = np.asarray(demand_nodes, dtype=np.int64)
    fill = _ratio(acc[:, dn, K.K_EXTFILL].sum(axis=1), acc[:, dn, K.K_EXTDEM].sum(axis=1))
    valued = ~np.isnan(unit_value)
    inv_value = (
        float((per[:, valued, K.K_OH].mean(axis=0) * unit_value[valued]).sum())
        if valued.any()
        else None
    )
    return SimulationResult(
        network=network,
        periods=periods,
        replications=acc.shape[0],
        warmup=warmup,
        seed=seed,
        cost_per_period=Estimate.of(cost.sum(axis=1)),
        holding_cost=Estimate.of(per[:, :, K.K_HOLD].sum(axis=1)),
        pipeline_cost=Estimate.of(per[:, :, K.K_PIPE].sum(axis=1)),
        penalty_cost=Estimate.of(per[:, :, K.K_PEN].sum(axis=1)),
        order_cost=Estimate.of(per[:, :, K.K_ORD].sum(axis=1)),
        fill_rate=Estimate.of(fill),
        inventory_value=inv_value,
        nodes=nodes,
    )
