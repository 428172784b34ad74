"""Projected KPIs of the plan's policies by simulation, and the stock-to-service curve.

Each item's network is simulated (``echelon.sim.batch.simulate``: ``config.sim_periods``
periods counted after a warm-up of :data:`echelon.plan.placement.WARMUP`, ``config.sim_reps``
replications) under the meio, single-echelon and current policies with the same random numbers
(seed ``config.seed + item index``: common random numbers across policies, independent items).
KPIs over all items, per store and for the network (money in the item's unit cost):

- fill rate: units of store demand filled from stock in the period / units demanded
  (demand-weighted over items); its CI half-width combines the items' independent 95% CIs,
  ``√Σ (w_i · ci_i)²`` with the demand weights ``w_i``;
- cycle service level: the items' CSLs weighted by demand;
- inventory value: average on hand × unit cost (pipeline excluded), summed; at the network level
  it includes the DCs;
- turns per year: cost of goods sold per year (store demand × unit cost × periods per year) /
  inventory value; days of supply: inventory value / cost of goods sold per day;
- safety-stock value: Σ safety stock × unit cost of the policy (:class:`ItemPlan`);
- ``target_met``: every item's simulated fill rate ≥ its target at the store (all stores for the
  network).

``saving`` = (single-echelon − meio inventory value) / single-echelon inventory value (network);
``service_met`` = meio's fill rate ≥ target at every store for every item.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from echelon.plan.current_policy import DEFAULT_COVER, describe
from echelon.plan.model import CurvePoint, Kpis, PolicyKpis
from echelon.plan.placement import ItemPlan, Placements, SimRun, run, scaled_policy
from echelon.policies.model import PolicySet
from echelon.sim.results import SimulationResult

Progress = Callable[[str, float], None]
CURVE_FACTORS = (0.0, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)  # multipliers of the safety stocks
TARGET_TOL = 1e-9
DESCRIPTIONS = {
    "meio": "multi-echelon: guaranteed-service placement, store levels tuned in simulation to "
    "their fill-rate targets",
    "single_echelon": "single-echelon practice: every location mu*L + z*sigma_LTD on its own, "
    "store levels tuned in simulation to the same targets",
}


@dataclass
class ItemRun:
    """One item simulated under one policy."""

    plan: ItemPlan
    result: SimulationResult
    safety_value: float  # money


def sim_item(plan: ItemPlan, policy: PolicySet, periods: int, reps: int) -> SimulationResult:
    """Simulate one item's policy on the item's KPI random numbers."""
    return run(plan.network, policy, SimRun(periods, reps, plan.seed))


def _store_kpis(runs: Sequence[ItemRun], store: str, period_days: float) -> tuple[Kpis, float]:
    dem = fill_num = csl_num = ci_sq = cogs = value = 0.0
    met = True
    for r in runs:
        node = r.result.node(store)
        d = node.demand_per_period
        c = r.plan.unit_cost
        fr = node.fill_rate.mean
        if d > 0 and not math.isnan(fr):
            dem += d
            fill_num += d * fr
            ci_sq += (d * (node.fill_rate.ci95 or 0.0)) ** 2
            csl = node.cycle_service_level.mean
            csl_num += d * (csl if not math.isnan(csl) else fr)
            met &= fr >= r.plan.targets.get(store, 0.0) - TARGET_TOL
        cogs += d * c
        value += node.avg_on_hand.mean * c
    ppy = 365.0 / period_days
    k = Kpis(
        fill_rate=fill_num / dem if dem > 0 else None,
        fill_rate_ci=math.sqrt(ci_sq) / dem if dem > 0 else None,
        cycle_service_level=csl_num / dem if dem > 0 else None,
        turns=cogs * ppy / value if value > 0 else None,
        days_of_supply=value / cogs * period_days if cogs > 0 else None,
        inventory_value=value,
        target_met=met,
    )
    return k, dem


def policy_kpis(
    runs: Sequence[ItemRun], policy: str, description: str, period_days: float, stores: list[str]
) -> PolicyKpis:
    """Aggregate the items' simulations of one policy (module doc)."""
    per_store: dict[str, Kpis] = {}
    weights: dict[str, float] = {}
    for s in stores:
        per_store[s], weights[s] = _store_kpis(runs, s, period_days)
    dem = sum(weights.values())
    cogs = sum(r.result.node(s).demand_per_period * r.plan.unit_cost for r in runs for s in stores)
    value = sum(n.avg_on_hand.mean * r.plan.unit_cost for r in runs for n in r.result.nodes)
    ss_value = sum(r.safety_value for r in runs)
    fill = sum(weights[s] * (per_store[s].fill_rate or 0.0) for s in stores)
    ci = math.sqrt(sum((weights[s] * (per_store[s].fill_rate_ci or 0.0)) ** 2 for s in stores))
    csl = sum(weights[s] * (per_store[s].cycle_service_level or 0.0) for s in stores)
    for s in stores:
        store_ss = sum(r.plan.safety_stock(policy, s) * r.plan.unit_cost for r in runs)
        per_store[s] = per_store[s].model_copy(update={"safety_stock_value": store_ss})
    ppy = 365.0 / period_days
    network = Kpis(
        fill_rate=fill / dem if dem > 0 else None,
        fill_rate_ci=ci / dem if dem > 0 else None,
        cycle_service_level=csl / dem if dem > 0 else None,
        turns=cogs * ppy / value if value > 0 else None,
        days_of_supply=value / cogs * period_days if cogs > 0 else None,
        inventory_value=value,
        safety_stock_value=ss_value,
        target_met=all(k.target_met for k in per_store.values()),
    )
    return PolicyKpis(policy=policy, description=description, network=network, stores=per_store)


def run_policy(
    placements: Placements, policy: str, periods: int, reps: int, factor: float = 1.0
) -> list[ItemRun]:
    """Simulate ``policy`` (safety stocks × ``factor``) for every item."""
    out = []
    for plan in placements.items.values():
        pol = plan.policies[policy] if factor == 1.0 else scaled_policy(plan, policy, factor)
        res = sim_item(plan, pol, periods, reps)
        ss = sum(plan.safety_stock(policy, n) for n in plan.tiers) * plan.unit_cost * factor
        out.append(ItemRun(plan, res, ss))
    return out


def project_kpis(
    placements: Placements,
    periods: int,
    reps: int,
    period_days: float,
    progress: Progress | None = None,
    curve_factors: Sequence[float] = CURVE_FACTORS,
) -> tuple[list[PolicyKpis], float | None, bool, list[CurvePoint]]:
    """KPIs of meio, single_echelon and current; the saving; service_met; the curve.

    ``periods``/``reps``: ``config.sim_periods`` / ``config.sim_reps``; ``period_days``: days per
    period. The curve scales every node's safety stock (pipeline kept) by ``curve_factors`` for
    meio and single-echelon and gives inventory value (money) vs network fill rate.
    """
    if not placements.items:
        return [], None, False, []
    first = next(iter(placements.items.values()))
    stores = list(first.stores)
    kpis = []
    descriptions = DESCRIPTIONS | {"current": describe(DEFAULT_COVER, period_days)}
    steps = 3 + 2 * len(curve_factors)
    done = 0
    for policy in ("meio", "single_echelon", "current"):
        runs = run_policy(placements, policy, periods, reps)
        kpis.append(policy_kpis(runs, policy, descriptions[policy], period_days, stores))
        done += 1
        if progress:
            progress("kpis", done / steps)
    meio, single = kpis[0].network, kpis[1].network
    saving = None
    if single.inventory_value and meio.inventory_value is not None:
        saving = (single.inventory_value - meio.inventory_value) / single.inventory_value
    service_met = bool(kpis[0].network.target_met)
    curve = []
    for policy in ("meio", "single_echelon"):
        for f in curve_factors:
            runs = run_policy(placements, policy, periods, reps, factor=f)
            k = policy_kpis(runs, policy, "", period_days, stores).network
            curve.append(
                CurvePoint(
                    policy=policy,
                    inventory_value=float(k.inventory_value or 0.0),
                    fill_rate=float(k.fill_rate or 0.0),
                )
            )
            done += 1
            if progress:
                progress("kpis", done / steps)
    return kpis, saving, service_met, curve
