"""The planning pipeline: a validated data folder in, one :class:`PlanResult` out.

Stages (each reports progress as ``progress(stage, fraction)``):

1. **forecast** — per item × store demand per period, forecast-error spread and backtest bias
   (:mod:`echelon.plan.forecasting`); lead-time distributions per lane from the observations
   (:mod:`echelon.plan.leadtimes`);
2. **place** — per item, the Guaranteed-Service Model places safety stock across the network,
   then every store's level is tuned in simulation until its fill-rate target (by ABC/XYZ
   segment, or chosen to meet one aggregate target, :mod:`echelon.plan.stock_mix`) is met; the
   single-echelon practice and the current policy are built alongside
   (:mod:`echelon.plan.placement`);
3. **kpis** — the three policies simulated on common random numbers: fill rate, cycle service
   level, turns, days of supply, inventory value; the saving of MEIO over single-echelon and the
   stock-to-service curve (:mod:`echelon.plan.kpis`);
4. **shadow** — planned as of the start of the hold-out periods and replayed against their
   actual demand, next to the current policy (:mod:`echelon.plan.shadow`), and the same from
   ``config.shadow_origins`` earlier origins: realized service per ABC class and the saving at
   realized service (:mod:`echelon.plan.rolling`);
5. **orders** — today's orders (order-up-to level minus inventory position, then MOQ, pack size,
   capacity and budget), rebalanced by the HiGHS LP against lateral transfers and expediting
   (:mod:`echelon.plan.orders`, :mod:`echelon.plan.rebalance`);
6. **exceptions** — projected stockouts, excess, forecast bias, large changes since the last
   plan and data-quality findings (:mod:`echelon.plan.exceptions`).

Nothing here writes anything: :mod:`echelon.plan.service` stores the result (one transaction)
and renders it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from echelon.plan.context import PlanContext
from echelon.plan.exceptions import find_exceptions
from echelon.plan.forecasting import PlanForecasts, plan_forecasts
from echelon.plan.kpis import project_kpis
from echelon.plan.leadtimes import LaneLeadTime, fit_lead_times
from echelon.plan.model import NetworkNode, PlanResult, StockMixSummary, plan_parameters
from echelon.plan.orders import propose_orders
from echelon.plan.placement import Placements
from echelon.plan.rebalance import rebalance
from echelon.plan.rolling import rolling_shadow, shadow_windows, shortfall_exceptions
from echelon.plan.stock_mix import place_with_mix

Progress = Callable[[str, float], None]

STAGES: tuple[str, ...] = ("forecast", "place", "kpis", "shadow", "orders", "exceptions")


def _noop(_: str, __: float) -> None:
    return None


def forecast_bias(fc: PlanForecasts) -> pd.DataFrame:
    """Hold-out bias per item × store as a share of actual demand, ``(Σ forecast − Σ actual) /
    Σ actual``, with the mean actual demand per period (units)."""
    rows = []
    for (item, loc), s in fc.series.items():
        if s.bias is None:
            continue
        hold = fc.holdout.get((item, loc))
        actual = hold.actual_mean if hold is not None else None
        if actual is None:
            continue
        rows.append(
            {"item_id": item, "location_id": loc, "bias_share": s.bias, "mean_actual": actual}
        )
    return pd.DataFrame(rows, columns=["item_id", "location_id", "bias_share", "mean_actual"])


def network_drawing(ctx: PlanContext, placed: Placements) -> list[NetworkNode]:
    """Nodes laid out by tier (top: the most upstream), with safety-stock value per node."""
    value: dict[str, float] = {}
    for p in placed.placements:
        value[p.location] = value.get(p.location, 0.0) + p.safety_stock_value
    out = []
    top = max(ctx.tiers.values(), default=0)
    for t in range(top + 1):
        ids = [n.id for n in ctx.network.nodes if ctx.tiers[n.id] == t]
        for k, nid in enumerate(ids):
            x = (k + 1) / (len(ids) + 1)
            out.append(
                NetworkNode(id=nid, tier=t, x=x, y=float(t), safety_stock_value=value.get(nid, 0.0))
            )
    return out


@dataclass
class Prepared:
    """Stages 1–2 of a plan: forecasts, fitted lead times and the placement of every item."""

    forecasts: PlanForecasts
    lead_times: dict[tuple[str, str], LaneLeadTime]
    placements: Placements
    stock_mix: StockMixSummary | None = None  # with ``aggregate_fill_rate``


def prepare(ctx: PlanContext, progress: Progress | None = None) -> Prepared:
    """Stages 1–2: forecasts, fitted lead times and the placement of every item."""
    step = progress or _noop
    fc = plan_forecasts(ctx, step)
    lead_times = fit_lead_times(ctx)
    placed, mix = place_with_mix(ctx, fc, lead_times, step)
    return Prepared(fc, lead_times, placed, mix)


def run_plan(
    ctx: PlanContext,
    *,
    previous: PlanResult | None = None,
    progress: Progress | None = None,
    options: dict[str, Any] | None = None,
) -> PlanResult:
    """Run every stage on ``ctx``; ``previous``: the last stored plan of the same name (for the
    large-change exceptions); ``options``: command options recorded with the run."""
    step = progress or _noop
    cfg = ctx.config
    prep = prepare(ctx, step)
    fc, placed = prep.forecasts, prep.placements
    projected = project_kpis(placed, cfg, step)
    shadow, rolling = rolling_shadow(ctx, shadow_windows(ctx, fc, prep.lead_times, step))
    step("shadow", 1.0)
    step("orders", 0.0)
    orders = propose_orders(placed.placements, ctx)
    rebalanced = rebalance(placed.placements, ctx, orders=orders)
    step("orders", 1.0)
    exceptions = find_exceptions(
        placed.placements,
        ctx,
        forecast_bias=forecast_bias(fc),
        previous=previous.placements if previous is not None else None,
        extra=shortfall_exceptions(rolling),
    )
    step("exceptions", 1.0)
    return PlanResult(
        name=cfg.name,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        as_of=ctx.as_of,
        input_hash=ctx.input_hash,
        parameters=plan_parameters(cfg, options),
        currency=cfg.currency,
        period_days=cfg.period_days,
        items=sorted(placed.items),
        locations=[n.id for n in ctx.network.nodes],
        network_nodes=network_drawing(ctx, placed),
        network_lanes=[(ln.source, ln.target) for ln in ctx.network.lanes],
        placements=placed.placements,
        recommendations=rebalanced.recommendations,
        exceptions=exceptions,
        kpis=projected.kpis,
        saving=projected.saving,
        service_met=projected.service_met,
        forecasts=fc.fan,
        stock_to_service=projected.curve,
        shadow=shadow,
        rolling_shadow=rolling,
        stock_mix=prep.stock_mix,
        warnings=[*fc.warnings, *placed.warnings],
    )
