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

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from echelon.plan.current_policy import DEFAULT_COVER, describe
from echelon.plan.kpi_sums import KpiSums
from echelon.plan.model import (
    CurvePoint,
    PlanConfig,
    PolicyKpis,
    PolicyName,
    inventory_saving,
)
from echelon.plan.placement import WARMUP, ItemPlan, Placements, SimRun, run, scaled_policy
from echelon.plan.tuning import chunk_draws
from echelon.policies.model import PolicySet
from echelon.sim.items import ItemBatch, compile_items, items_per_chunk, simulate_items
from echelon.sim.results import SimulationResult, summarize

Progress = Callable[[str, float], None]
CURVE_FACTORS = (0.0, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)  # multipliers of the safety stocks
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
        out += [_summary(batch, acc, i, plan, periods) for i, plan in enumerate(part)]
    return out


def _summary(
    batch: ItemBatch, acc: np.ndarray, i: int, plan: ItemPlan, periods: int
) -> SimulationResult:
    """The :class:`SimulationResult` of item ``i`` of a chunk from the chunk's KPI sums
    ``acc[item, rep, node, K]``."""
    cn, net = batch.structure, plan.network
    return summarize(
        acc[i], cn.ids, cn.demand_nodes, batch.unit_value[i], periods, net.period_days, net.name,
        WARMUP, plan.seed,
    )  # fmt: skip


def policy_kpis(
    runs: Sequence[ItemRun],
    policy: PolicyName,
    description: str,
    period_days: float,
    stores: list[str],
) -> PolicyKpis:
    """Aggregate the items' simulations of one policy (module doc; :class:`KpiSums`)."""
    sums = KpiSums(policy, stores)
    for r in runs:
        sums.add(r.plan, r.result, r.safety_value)
    return sums.kpis(description, period_days)


def run_policy(
    placements: Placements, policy: PolicyName, periods: int, reps: int, factor: float = 1.0
) -> list[ItemRun]:
    """Simulate ``policy`` (safety stocks × ``factor``) for every item (:func:`sim_items`)."""
    plans = list(placements.items.values())
    pols = [
        plan.policies[policy] if factor == 1.0 else scaled_policy(plan, policy, factor)
        for plan in plans
    ]
    results = sim_items(plans, pols, periods, reps)
    return [
        ItemRun(plan, res, _safety_value(plan, policy, factor))
        for plan, res in zip(plans, results, strict=True)
    ]


def _safety_value(plan: ItemPlan, policy: PolicyName, factor: float = 1.0) -> float:
    """The item's network safety-stock value of ``policy`` × ``factor`` (money)."""
    return sum(plan.safety_stock(policy, n) for n in plan.tiers) * plan.unit_cost * factor


@dataclass(frozen=True)
class _Run:
    """One simulation of :func:`project_kpis`: a policy with its safety stocks × factor."""

    policy: PolicyName
    factor: float

    def policy_set(self, plan: ItemPlan) -> PolicySet:
        if self.factor == 1.0:
            return plan.policies[self.policy]
        return scaled_policy(plan, self.policy, self.factor)


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
    rate. Items are simulated in chunks (:func:`sim_items`' sizes): a chunk's random numbers
    are drawn once and shared by every policy and curve point (the numbers :func:`run_policy`
    draws for each), its results added to one :class:`KpiSums` per simulation and dropped.
    """
    if not placements.items:
        return KpiProjection([], None, False, [])
    periods, reps, period_days = config.sim_periods, config.sim_reps, config.period_days
    plans = list(placements.items.values())
    stores = list(plans[0].stores)
    sims = [_Run(p, 1.0) for p in PolicyName]
    sims += [_Run(p, f) for p in CURVE_POLICIES for f in curve_factors]
    sums = [KpiSums(s.policy, stores) for s in sims]
    size = items_per_chunk(_item_bytes(plans[0], periods, reps))
    for lo in range(0, len(plans), size):
        part = plans[lo : lo + size]
        nets = [p.network for p in part]
        batch = compile_items(nets, [p.policies[PolicyName.MEIO] for p in part])
        draws = chunk_draws(
            batch, nets, [p.seed for p in part], [p.demand_paths() for p in part], reps,
            periods + WARMUP,
        )  # fmt: skip
        for sim, acc_sums in zip(sims, sums, strict=True):
            levels = batch.levels([sim.policy_set(p) for p in part])
            acc = simulate_items(batch, levels, draws.demand, draws.lead, WARMUP)
            for i, plan in enumerate(part):
                res = _summary(batch, acc, i, plan, periods)
                acc_sums.add(plan, res, _safety_value(plan, sim.policy, sim.factor))
        if progress:
            progress("kpis", min(len(plans), lo + size) / len(plans))
    kpis = [
        acc_sums.kpis(policy_description(sim.policy, period_days), period_days)
        for sim, acc_sums in zip(sims[: len(PolicyName)], sums[: len(PolicyName)], strict=True)
    ]
    by = {k.policy: k.network for k in kpis}
    meio, single = by[PolicyName.MEIO], by[PolicyName.SINGLE_ECHELON]
    saving = inventory_saving(meio.inventory_value, single.inventory_value)
    curve = []
    for sim, acc_sums in zip(sims[len(PolicyName) :], sums[len(PolicyName) :], strict=True):
        k = acc_sums.kpis("", period_days).network
        curve.append(
            CurvePoint(
                policy=sim.policy,
                inventory_value=float(k.inventory_value or 0.0),
                fill_rate=float(k.fill_rate or 0.0),
            )
        )
    return KpiProjection(kpis, saving, bool(meio.target_met), curve)
