"""Running sums of one policy's KPIs over items, added one simulated item at a time.

:class:`KpiSums` keeps, per store and for the network, the sums the KPIs of
:mod:`echelon.plan.kpis` are ratios of (its module doc gives the definitions), so that a plan
of many items never holds every item's :class:`~echelon.sim.results.SimulationResult` at once:
a chunk of items is simulated, added and dropped. Items are added in the order given and every
sum is accumulated in that order, so the KPIs equal those of the whole list of items at once.

Units: demand in units per period, values in money (the item's unit cost), fill rates and
service levels fractions (0–1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from echelon.plan.model import Kpis, PolicyKpis, PolicyName
from echelon.plan.placement import ItemPlan
from echelon.sim.results import SimulationResult

TARGET_TOL = 1e-9  # a fill rate this far below its target still meets it


@dataclass
class _StoreSums:
    """Sums over items at one store (module doc)."""

    demand: float = 0.0  # units per period, items with a fill rate
    fill: float = 0.0  # Σ demand × fill rate
    ci_sq: float = 0.0  # Σ (demand × fill-rate CI half width)²
    csl: float = 0.0  # Σ demand × cycle service level (fill rate where it has none)
    cogs: float = 0.0  # Σ demand × unit cost: money per period
    value: float = 0.0  # Σ average on hand × unit cost: money
    safety: float = 0.0  # Σ safety stock × unit cost: money
    met: bool = True  # every item's fill rate ≥ its target


@dataclass
class KpiSums:
    """The KPI sums of one policy over the items added so far, at ``stores`` and the network."""

    policy: PolicyName
    stores: list[str]
    per_store: dict[str, _StoreSums] = field(default_factory=dict)
    cogs: float = 0.0  # network: Σ store demand × unit cost (money per period)
    value: float = 0.0  # network: Σ over every node of average on hand × unit cost (money)
    safety: float = 0.0  # network: Σ of the items' safety-stock values (money)

    def __post_init__(self) -> None:
        self.per_store = {s: _StoreSums() for s in self.stores}

    def add(self, plan: ItemPlan, result: SimulationResult, safety_value: float) -> None:
        """Add one item simulated under the policy; ``safety_value``: its network safety-stock
        value (money)."""
        c = plan.unit_cost
        for s in self.stores:
            acc = self.per_store[s]
            node = result.node(s)
            d = node.demand_per_period
            fr = node.fill_rate.mean
            if d > 0 and not math.isnan(fr):
                acc.demand += d
                acc.fill += d * fr
                acc.ci_sq += (d * (node.fill_rate.ci95 or 0.0)) ** 2
                csl = node.cycle_service_level.mean
                acc.csl += d * (csl if not math.isnan(csl) else fr)
                acc.met &= fr >= plan.targets.get(s, 0.0) - TARGET_TOL
            acc.cogs += d * c
            acc.value += node.avg_on_hand.mean * c
            acc.safety += plan.safety_stock(self.policy, s) * c
            self.cogs += d * c
        for n in result.nodes:  # one term at a time: the order of a sum over every item
            self.value += n.avg_on_hand.mean * c
        self.safety += safety_value

    def kpis(self, description: str, period_days: float) -> PolicyKpis:
        """The policy's KPIs per store and for the network (:mod:`echelon.plan.kpis`)."""
        ppy = 365.0 / period_days
        stores = {s: _ratios(a, ppy, period_days) for s, a in self.per_store.items()}
        dem = sum(a.demand for a in self.per_store.values())
        fill = sum(a.demand * (stores[s].fill_rate or 0.0) for s, a in self.per_store.items())
        ci = math.sqrt(
            sum(
                (a.demand * (stores[s].fill_rate_ci or 0.0)) ** 2 for s, a in self.per_store.items()
            )
        )
        csl = sum(
            a.demand * (stores[s].cycle_service_level or 0.0) for s, a in self.per_store.items()
        )
        network = Kpis(
            fill_rate=fill / dem if dem > 0 else None,
            fill_rate_ci=ci / dem if dem > 0 else None,
            cycle_service_level=csl / dem if dem > 0 else None,
            turns=self.cogs * ppy / self.value if self.value > 0 else None,
            days_of_supply=self.value / self.cogs * period_days if self.cogs > 0 else None,
            inventory_value=self.value,
            safety_stock_value=self.safety,
            target_met=all(k.target_met for k in stores.values()),
        )
        return PolicyKpis(
            policy=self.policy, description=description, network=network, stores=stores
        )


def _ratios(a: _StoreSums, ppy: float, period_days: float) -> Kpis:
    """One store's KPIs from its sums (``ppy``: periods per year)."""
    dem, cogs, value = a.demand, a.cogs, a.value
    return Kpis(
        fill_rate=a.fill / dem if dem > 0 else None,
        fill_rate_ci=math.sqrt(a.ci_sq) / dem if dem > 0 else None,
        cycle_service_level=a.csl / dem if dem > 0 else None,
        turns=cogs * ppy / value if value > 0 else None,
        days_of_supply=value / cogs * period_days if cogs > 0 else None,
        inventory_value=value,
        safety_stock_value=a.safety,
        target_met=a.met,
    )
