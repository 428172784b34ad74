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

``saving`` = (single-echelon − meio inventory value) / single-echelon inventory value (network;
:func:`echelon.plan.model.inventory_saving`); ``service_met`` = meio's fill rate ≥ target at
every store for every item.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from echelon.plan.current_policy import DEFAULT_COVER, describe
from echelon.plan.model import (
    CurvePoint,
    Kpis,
    PlanConfig,
    PolicyKpis,
    PolicyName,
    inventory_saving,
)
from echelon.plan.placement import WARMUP, ItemPlan, Placements, SimRun, run, scaled_policy
from echelon.plan.tuning import chunk_draws
from echelon.policies.model import PolicySet
from echelon.sim.items import compile_items, items_per_chunk, simulate_items
from echelon.sim.results import SimulationResult, summarize

Progress = Callable[[str, float], None]
CURVE_FACTORS = (0.0, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)  # multipliers of the safety stocks
TARGET_TOL = 1e-9
CURVE_POLICIES = (PolicyName.MEIO, PolicyName.SINGLE_ECHELON)


def policy_description(policy: PolicyName, period_days: float) -> str:
    """The description shown with a policy's KPIs (the current policy's names its cover)."""
    if policy is PolicyName.CURRENT:
        return describe(DEFAULT_COVER, period_days)
    return policy.description


@dataclass(frozen=True)
class KpiProjection:
    """What :func:`project_kpis` projects: KPIs per policy, the saving of MEIO over
    single-echelon (fraction of inventory value), whether MEIO meets every store's target, and
    the stock-to-service curve."""

    kpis: list[PolicyKpis]
    saving: float | None
    service_met: bool
    curve: list[CurvePoint]


@dataclass
class ItemRun:
    """One item simulated under one policy."""

    plan: ItemPlan
    result: SimulationResult
    safety_value: float  # money


def sim_item(plan: ItemPlan, policy: PolicySet, periods: int, reps: int) -> SimulationResult:
    """Simulate one item's policy on the item's KPI random numbers (one item alone)."""
    return run(plan.simulated(), policy, SimRun(periods, reps, plan.seed))


def _item_bytes(plan: ItemPlan, periods: int, reps: int) -> int:
    """Bytes of draws and KPI sums of one item of a KPI chunk."""
    cols = 2 * len(plan.stores) + len(plan.network.lanes) + len(plan.network.nodes)
    return reps * (periods + WARMUP) * cols * 8 + reps * len(plan.network.nodes) * 19 * 8


def sim_items(
    plans: Sequence[ItemPlan], policies: Sequence[PolicySet], periods: int, reps: int
) -> list[SimulationResult]:
    """:func:`sim_item` for every item (one policy set each): in chunks of items sized by
    :data:`echelon.sim.items.ITEM_BUDGET_BYTES`, one kernel call per chunk on the items' KPI
    random numbers (:mod:`echelon.sim.items`: the results of :func:`sim_item`)."""
    if not plans:
        return []
    size = items_per_chunk(_item_bytes(plans[0], periods, reps))
    out: list[SimulationResult] = []
    for lo in range(0, len(plans), size):
        part, pols = plans[lo : lo + size], policies[lo : lo + size]
        nets = [p.network for p in part]
        batch = compile_items(nets, pols)
        draws = chunk_draws(
            batch, nets, [p.seed for p in part], [p.demand_paths() for p in part], reps,
            periods + WARMUP,
        )  # fmt: skip
        acc = simulate_items(batch, None, draws.demand, draws.lead, WARMUP)
        cn = batch.structure
        for i, plan in enumerate(part):
            net = plan.network
            res = summarize(
                acc[i], cn.ids, cn.demand_nodes, batch.unit_value[i], periods, net.period_days,
                net.name, WARMUP, plan.seed,
            )  # fmt: skip
            out.append(res)
    return out


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
    runs: Sequence[ItemRun],
    policy: PolicyName,
    description: str,
    period_days: float,
    stores: list[str],
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
    placements: Placements, policy: PolicyName, periods: int, reps: int, factor: float = 1.0
) -> list[ItemRun]:
    """Simulate ``policy`` (safety stocks × ``factor``) for every item (:func:`sim_items`)."""
    plans = list(placements.items.values())
    pols = [
        plan.policies[policy] if factor == 1.0 else scaled_policy(plan, policy, factor)
        for plan in plans
    ]
    out = []
    for plan, res in zip(plans, sim_items(plans, pols, periods, reps), strict=True):
        ss = sum(plan.safety_stock(policy, n) for n in plan.tiers) * plan.unit_cost * factor
        out.append(ItemRun(plan, res, ss))
    return out


def project_kpis(
    placements: Placements,
    config: PlanConfig,
    progress: Progress | None = None,
    curve_factors: Sequence[float] = CURVE_FACTORS,
) -> KpiProjection:
    """KPIs of every policy (:class:`PolicyName`), the saving, service_met and the curve.

    ``config.sim_periods`` / ``config.sim_reps`` per simulation; ``config.period_days`` days
    per period. The curve scales every node's safety stock (pipeline kept) by
    ``curve_factors`` for meio and single-echelon: inventory value (money) vs network fill
    rate.
    """
    if not placements.items:
        return KpiProjection([], None, False, [])
    periods, reps, period_days = config.sim_periods, config.sim_reps, config.period_days
    stores = list(next(iter(placements.items.values())).stores)
    steps = len(PolicyName) + len(CURVE_POLICIES) * len(curve_factors)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress:
            progress("kpis", done / steps)

    kpis = []
    for policy in PolicyName:
        runs = run_policy(placements, policy, periods, reps)
        desc = policy_description(policy, period_days)
        kpis.append(policy_kpis(runs, policy, desc, period_days, stores))
        tick()
    by = {k.policy: k.network for k in kpis}
    meio, single = by[PolicyName.MEIO], by[PolicyName.SINGLE_ECHELON]
    saving = inventory_saving(meio.inventory_value, single.inventory_value)
    curve = []
    for policy in CURVE_POLICIES:
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
            tick()
    return KpiProjection(kpis, saving, bool(meio.target_met), curve)
