"""One aggregate fill-rate target for the whole plan ("stock mix", ``aggregate_fill_rate``).

With ``PlanConfig.aggregate_fill_rate`` = β the planner asks for β over all items × stores
(units of demand, or sales value with ``aggregate_measure: value``), not per segment. The plan:

1. places every item with the **uniform** target β at every store (the comparison);
2. measures each item × store's stock-to-service curve from that placement: the MEIO policy
   with every node's safety stock scaled by :data:`FACTORS` (pipeline kept,
   :func:`echelon.plan.placement.scaled_policy`), simulated on the tuning's random numbers
   (never the KPI ones): safety stock (units) against the store's fill rate;
3. chooses each series' target on those curves so that the aggregate meets β at the least
   investment (money: units × unit cost) — the Lagrangian over the curves'
   convex hulls of :func:`echelon.optimize.aggregate.aggregate_targets`;
4. places every item again with the chosen targets (store levels tuned to them as usual).

Both placements are then simulated on the KPI random numbers: :class:`StockMixSummary` holds
the aggregate fill rate and the inventory value of each, and the saving of the mix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from echelon.optimize.aggregate import aggregate_targets
from echelon.plan.context import PlanContext
from echelon.plan.forecasting import PlanForecasts
from echelon.plan.kpis import run_policy
from echelon.plan.leadtimes import LaneLeadTime
from echelon.plan.model import PolicyName, StockMixSummary, inventory_saving
from echelon.plan.placement import (
    SEARCH_SEED_OFFSET,
    Placements,
    SimRun,
    StoreTarget,
    Targets,
    place,
    run,
    scaled_policy,
    store_targets,
)

Progress = Callable[[str, float], None]
FACTORS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0)  # multipliers of safety stock
MEIO = PolicyName.MEIO


@dataclass
class _Curve:
    """One item × store: safety stock (units) and fill rate at each factor."""

    item: str
    store: str
    stock: np.ndarray
    fill: np.ndarray
    demand: float  # units per period
    unit_cost: float  # money per unit
    price: float  # money per unit sold


def _curves(ctx: PlanContext, placed: Placements) -> list[_Curve]:
    """The stock-to-service curve of every item × store with demand (module doc, step 2)."""
    cfg = ctx.config
    out = []
    for item, plan in placed.items.items():
        fills = []
        for f in FACTORS:
            sim = SimRun(cfg.sim_periods, cfg.sim_reps, plan.seed + SEARCH_SEED_OFFSET)
            res = run(plan.simulated(search=True), scaled_policy(plan, MEIO, f), sim)
            fills.append({s: res.node(s).fill_rate.mean for s in plan.stores})
        flows = {s: res.node(s).demand_per_period for s in plan.stores}
        for s in plan.stores:
            fill = np.array([x[s] for x in fills], float)
            if flows[s] <= 0 or np.isnan(fill).any():
                continue  # no demand: no service to weigh
            stock = np.array(FACTORS) * plan.safety_stock(MEIO, s)
            keep = np.r_[True, np.diff(stock) > 1e-9]  # no safety stock: a single point
            rec = ctx.items[item]
            out.append(
                _Curve(item, s, stock[keep], np.maximum.accumulate(fill)[keep], flows[s],
                       rec.unit_cost, rec.sale_value)
            )  # fmt: skip
    return out


def _mix_targets(ctx: PlanContext, curves: list[_Curve], base: Targets) -> Targets:
    """Per-series targets meeting the aggregate at least investment (module doc, step 3)."""
    cfg = ctx.config
    assert cfg.aggregate_fill_rate is not None
    chosen = aggregate_targets(
        [c.stock for c in curves],
        [c.fill for c in curves],
        [c.demand for c in curves],
        cfg.aggregate_fill_rate,
        unit_value=[c.unit_cost for c in curves],
        price=[c.price for c in curves],
        measure=cfg.aggregate_measure,
    )
    out = dict(base)
    for c, target in zip(curves, chosen.fill_rate, strict=True):
        seg = base.get((c.item, c.store), StoreTarget("", cfg.aggregate_fill_rate)).segment
        out[(c.item, c.store)] = StoreTarget(seg, float(min(target, 0.9999)))
    return out


def _simulated(ctx: PlanContext, placed: Placements) -> tuple[float, float]:
    """Aggregate fill rate (the configured measure) and network inventory value (money) of
    MEIO, simulated on the KPI random numbers."""
    cfg = ctx.config
    runs = run_policy(placed, MEIO, cfg.sim_periods, cfg.sim_reps)
    served = demand = value = 0.0
    for r in runs:
        weight = ctx.items[r.plan.item].sale_value if cfg.aggregate_measure == "value" else 1.0
        for s in r.plan.stores:
            node = r.result.node(s)
            d, f = node.demand_per_period, node.fill_rate.mean
            if d > 0 and not np.isnan(f):
                demand += weight * d
                served += weight * d * f
        value += sum(n.avg_on_hand.mean for n in r.result.nodes) * r.plan.unit_cost
    return (served / demand if demand > 0 else float("nan")), value


def place_with_mix(
    ctx: PlanContext,
    forecasts: PlanForecasts,
    lead_times: dict[tuple[str, str], LaneLeadTime],
    progress: Progress | None = None,
) -> tuple[Placements, StockMixSummary | None]:
    """The plan's placement: by segment targets, or with ``aggregate_fill_rate`` set the stock
    mix against the uniform target (module doc); the summary is None without the setting."""
    target = ctx.config.aggregate_fill_rate
    if target is None:
        return place(ctx, forecasts, lead_times, progress), None

    def step(share: float, offset: float) -> Progress:
        return lambda stage, x: progress(stage, offset + share * x) if progress else None

    base = store_targets(ctx, forecasts.history)
    uniform_targets = {k: StoreTarget(t.segment, target) for k, t in base.items()}
    uniform = place(ctx, forecasts, lead_times, step(0.45, 0.0), targets=uniform_targets)
    curves = _curves(ctx, uniform)
    if not curves:
        return uniform, None
    mix = place(ctx, forecasts, lead_times, step(0.45, 0.5), _mix_targets(ctx, curves, base))
    mix_fill, mix_value = _simulated(ctx, mix)
    uni_fill, uni_value = _simulated(ctx, uniform)
    chosen = [t.fill_rate for k, t in _targets_of(mix).items()]
    summary = StockMixSummary(
        target=target,
        measure=ctx.config.aggregate_measure,
        series=len(curves),
        mix_fill_rate=mix_fill,
        uniform_fill_rate=uni_fill,
        mix_inventory_value=mix_value,
        uniform_inventory_value=uni_value,
        saving=inventory_saving(mix_value, uni_value),
        lowest_target=min(chosen),
        highest_target=max(chosen),
    )
    return mix, summary


def _targets_of(placed: Placements) -> Targets:
    """The store targets the placements were tuned to."""
    return {
        (item, s): StoreTarget(plan.segments.get(s, ""), t)
        for item, plan in placed.items.items()
        for s, t in plan.targets.items()
    }
