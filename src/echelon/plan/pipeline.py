"""The planning pipeline: a validated data folder in, one :class:`PlanResult` out.

Stages (each reports progress as ``progress(stage, fraction)``):

1. **forecast** — per item × store demand per period, forecast-error spread and backtest bias
   (:mod:`echelon.plan.forecasting`); lead-time distributions per lane from the observations
   (:mod:`echelon.plan.leadtimes`);
2. **place** — per item, the Guaranteed-Service Model places safety stock across the network,
   then every store's level is tuned in simulation until its fill-rate target (by ABC/XYZ
   segment) is met; the single-echelon practice and the current policy are built alongside
   (:mod:`echelon.plan.placement`);
3. **kpis** — the three policies simulated on common random numbers: fill rate, cycle service
   level, turns, days of supply, inventory value; the saving of MEIO over single-echelon and the
   stock-to-service curve (:mod:`echelon.plan.kpis`);
4. **shadow** — planned as of the start of the hold-out periods and replayed against their
   actual demand, next to the current policy (:mod:`echelon.plan.shadow`);
5. **orders** — today's orders (order-up-to level minus inventory position, then MOQ, pack size,
   capacity and budget), rebalanced by the HiGHS LP against lateral transfers and expediting
   (:mod:`echelon.plan.orders`, :mod:`echelon.plan.rebalance`);
6. **exceptions** — projected stockouts, excess, forecast bias, large changes since the last
   plan and data-quality findings (:mod:`echelon.plan.exceptions`).

Nothing here writes anything: the caller stores the result (one transaction) and renders it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from echelon import __version__
from echelon.plan.current_policy import tiers
from echelon.plan.exceptions import find_exceptions
from echelon.plan.forecasting import PlanForecasts, plan_forecasts
from echelon.plan.kpis import project_kpis
from echelon.plan.leadtimes import LaneLeadTime, fit_lead_times
from echelon.plan.model import NetworkNode, PlanData, PlanResult
from echelon.plan.orders import orders_for_plan
from echelon.plan.placement import Placements, place
from echelon.plan.rebalance import rebalance
from echelon.plan.shadow import shadow_mode

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


def network_drawing(data: PlanData, placed: Placements) -> list[NetworkNode]:
    """Nodes laid out by tier (top: the most upstream), with safety-stock value per node."""
    tier = tiers(data.network)
    value: dict[str, float] = {}
    for p in placed.placements:
        value[p.location] = value.get(p.location, 0.0) + p.safety_stock_value
    out = []
    top = max(tier.values(), default=0)
    for t in range(top + 1):
        ids = [n.id for n in data.network.nodes if tier[n.id] == t]
        for k, nid in enumerate(ids):
            x = (k + 1) / (len(ids) + 1)
            out.append(
                NetworkNode(id=nid, tier=t, x=x, y=float(t), safety_stock_value=value.get(nid, 0.0))
            )
    return out


def prepare(
    data: PlanData, progress: Progress | None = None
) -> tuple[PlanForecasts, dict[tuple[str, str], LaneLeadTime], Placements]:
    """Stages 1–2: forecasts, fitted lead times and the placement of every item."""
    step = progress or _noop
    fc = plan_forecasts(data, step)
    lead_times = fit_lead_times(data)
    return fc, lead_times, place(data, fc, lead_times, step)


def run_plan(
    data: PlanData,
    *,
    previous: PlanResult | None = None,
    progress: Progress | None = None,
    options: dict[str, Any] | None = None,
) -> PlanResult:
    """Run every stage on ``data``; ``previous``: the last stored plan of the same name (for the
    large-change exceptions); ``options``: command options recorded with the run."""
    step = progress or _noop
    cfg = data.config
    fc, lead_times, placed = prepare(data, step)
    kpis, saving, service_met, curve = project_kpis(
        placed, cfg.sim_periods, cfg.sim_reps, cfg.period_days, step
    )
    shadow = shadow_mode(data, fc, lead_times, step)
    step("shadow", 1.0)
    step("orders", 0.0)
    orders = orders_for_plan(data, placed.placements, fc.as_of)
    rebalanced = rebalance(
        placed.placements, items=data.items, inventory=data.inventory, on_order=data.on_order,
        network=data.network, config=cfg, as_of=fc.as_of, orders=orders,
        transfer_lead_time=cfg.transfer_lead_time,
    )  # fmt: skip
    step("orders", 1.0)
    exceptions = find_exceptions(
        placed.placements, items=data.items, inventory=data.inventory, on_order=data.on_order,
        config=cfg, network=data.network, forecast_bias=forecast_bias(fc),
        previous=previous.placements if previous is not None else None, findings=data.findings,
    )  # fmt: skip
    step("exceptions", 1.0)
    parameters: dict[str, Any] = {"config": cfg.model_dump(mode="json")}
    if options:
        parameters["options"] = options
    parameters["echelon_version"] = __version__
    return PlanResult(
        name=cfg.name,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        as_of=fc.as_of,
        input_hash=data.input_hash,
        parameters=parameters,
        currency=cfg.currency,
        period_days=cfg.period_days,
        items=sorted(placed.items),
        locations=[n.id for n in data.network.nodes],
        network_nodes=network_drawing(data, placed),
        network_lanes=[(ln.source, ln.target) for ln in data.network.lanes],
        placements=placed.placements,
        recommendations=rebalanced.recommendations,
        exceptions=exceptions,
        kpis=kpis,
        saving=saving,
        service_met=service_met,
        forecasts=fc.fan,
        stock_to_service=curve,
        shadow=shadow,
        warnings=list(placed.warnings),
    )
