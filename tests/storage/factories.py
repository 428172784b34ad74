"""A realistic, hand-built :class:`PlanResult` for tests (reusable by other test folders).

The network: DC_US (national DC, external supplier) → DC_CA → stores CA_1, CA_2; weekly
periods; two items. Numbers are consistent: value = quantity × unit_cost, safety stock value
= safety stock × unit cost, safety-stock parts add up to their total.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from echelon.plan.model import (
    CurvePoint,
    ExceptionKind,
    Explanation,
    ForecastSeries,
    Kpis,
    NetworkNode,
    Placement,
    PlanException,
    PlanResult,
    PolicyKpis,
    Recommendation,
    RecommendationKind,
    SafetyStockParts,
    Severity,
    ShadowResult,
)

AS_OF = date(2016, 4, 25)
UNIT_COST = {"FOODS_1": 2.5, "HOBBIES_1": 7.25}
TIERS = {"CA_1": 0, "CA_2": 0, "DC_CA": 1, "DC_US": 2}
UPSTREAM = {"CA_1": "DC_CA", "CA_2": "DC_CA", "DC_CA": "DC_US", "DC_US": None}


def _placement(item: str, loc: str, mean: float) -> Placement:
    cost = UNIT_COST[item]
    tier = TIERS[loc]
    std = round(0.3 * mean, 3)
    lead = 1.0 + tier
    parts = SafetyStockParts(
        demand_variability=round(1.645 * std * lead**0.5, 3),
        lead_time_variability=1.5,
        service_target=0.25,
        upstream_service_time=0.0 if tier else 2.0,
        total=0.0,
    )
    total = round(
        parts.demand_variability
        + parts.lead_time_variability
        + parts.service_target
        + parts.upstream_service_time,
        3,
    )
    parts = parts.model_copy(update={"total": total})
    return Placement(
        item=item,
        location=loc,
        tier=tier,
        segment="AX" if item == "FOODS_1" else "BY",
        mean_demand=mean,
        std_demand=std,
        lead_time=lead,
        inbound_service_time=0.0 if tier == 2 else 1.0,
        outbound_service_time=0.0 if tier == 0 else 1.0,
        net_replenishment_time=lead,
        target=0.95 if tier == 0 else None,
        base_stock=round(mean * lead + total, 3),
        safety_stock=total,
        safety_stock_value=round(total * cost, 4),
        single_echelon_base_stock=round(mean * lead + 1.3 * total, 3),
        single_echelon_safety_stock=round(1.3 * total, 3),
        explanation=Explanation(
            summary=f"Hold {total} units of {item} at {loc} to meet the target.",
            drivers=[f"mean demand {mean} units/period", f"std {std} units/period"],
            safety_stock=parts,
            counterfactual="with a 90% target the safety stock would drop by 30%",
        ),
    )


def _rec(kind: RecommendationKind, item: str, loc: str, src: str | None, qty: float, k: int):
    cost = UNIT_COST[item]
    source = src if src is not None else "supplier"
    return Recommendation(
        key=f"{kind.value}:{item}:{source}->{loc}",
        kind=kind,
        item=item,
        location=loc,
        source=src,
        quantity=qty,
        unit_cost=cost,
        value=round(qty * cost, 6),
        arrival=AS_OF + timedelta(days=7 * k),
        inventory_position=40.0 + k,
        order_up_to=40.0 + k + qty,
        explanation=Explanation(
            summary=f"{kind.value} {qty:g} units of {item} to {loc}",
            drivers=["inventory position below the order-up-to level"],
            counterfactual="no order if on hand were 30 units higher",
        ),
    )


def _kpis(policy: str, value: float, fill: float) -> PolicyKpis:
    stores = {
        s: Kpis(fill_rate=fill - 0.002 * i, cycle_service_level=fill - 0.05, target_met=True)
        for i, s in enumerate(("CA_1", "CA_2"))
    }
    return PolicyKpis(
        policy=policy,
        description=f"{policy} policy",
        network=Kpis(
            fill_rate=fill,
            fill_rate_ci=0.004,
            cycle_service_level=fill - 0.04,
            turns=11.8,
            days_of_supply=24.5,
            inventory_value=value,
            safety_stock_value=value * 0.4,
            target_met=fill >= 0.95,
        ),
        stores=stores,
    )


def make_plan_result(
    name: str = "demo",
    input_hash: str = "a" * 64,
    parameters: dict[str, Any] | None = None,
    n_orders: int = 4,
    created_at: str = "2026-11-25T10:00:00+00:00",
) -> PlanResult:
    """A complete plan result: placements, ``n_orders`` store orders plus a transfer and an
    expedite, exceptions, KPIs of three policies, a forecast series, a curve and a shadow run."""
    items = list(UNIT_COST)
    locs = list(TIERS)
    placements = [
        _placement(i, loc, 20.0 * (1 + TIERS[loc]) + 3 * j)
        for j, i in enumerate(items)
        for loc in locs
    ]
    recs = []
    for k in range(n_orders):
        item = items[k % 2]
        loc = locs[(k // 2) % 2] if k < 4 else f"CA_{k + 1}"
        recs.append(
            _rec(RecommendationKind.ORDER, item, loc, UPSTREAM.get(loc, "DC_CA"), 12 + k, k)
        )
    recs.append(_rec(RecommendationKind.TRANSFER, "HOBBIES_1", "CA_2", "CA_1", 5.0, 0))
    recs.append(_rec(RecommendationKind.EXPEDITE, "FOODS_1", "DC_US", None, 30.5, 1))
    weeks = [AS_OF - timedelta(days=7 * w) for w in range(4, 0, -1)]
    future = [AS_OF + timedelta(days=7 * w) for w in range(3)]
    return PlanResult(
        name=name,
        created_at=created_at,
        as_of=AS_OF,
        input_hash=input_hash,
        parameters=parameters if parameters is not None else {"period_days": 7, "seed": 0},
        currency="USD",
        period_days=7,
        items=items,
        locations=locs,
        network_nodes=[
            NetworkNode(id=n, tier=t, x=float(i), y=float(t), safety_stock_value=12.5 * (t + 1))
            for i, (n, t) in enumerate(TIERS.items())
        ],
        network_lanes=[("DC_US", "DC_CA"), ("DC_CA", "CA_1"), ("DC_CA", "CA_2")],
        placements=placements,
        recommendations=recs,
        exceptions=[
            PlanException(
                kind=ExceptionKind.STOCKOUT_RISK,
                severity=Severity.HIGH,
                message="CA_1 FOODS_1 runs out in 3 days, lead time 7 days",
                item="FOODS_1",
                location="CA_1",
                value=3.0,
            ),
            PlanException(
                kind=ExceptionKind.DATA_QUALITY,
                severity=Severity.LOW,
                message="12 negative demand rows set to 0",
            ),
        ],
        kpis=[
            _kpis("meio", 1830.25, 0.962),
            _kpis("single_echelon", 2210.5, 0.958),
            _kpis("current", 2600.0, 0.91),
        ],
        saving=round(1 - 1830.25 / 2210.5, 6),
        service_met=True,
        forecasts=[
            ForecastSeries(
                item="FOODS_1",
                location="CA_1",
                model="AutoETS",
                history_ds=weeks,
                history=[18.0, 22.0, 19.5, 21.0],
                ds=future,
                actual=[20.0, None, None],
                mean=[20.1, 20.3, 20.2],
                quantiles={"0.1": [14.0, 14.1, 13.9], "0.9": [26.2, 26.5, 26.6]},
            )
        ],
        stock_to_service=[
            CurvePoint(policy="meio", inventory_value=1500.0, fill_rate=0.93),
            CurvePoint(policy="meio", inventory_value=1830.25, fill_rate=0.962),
            CurvePoint(policy="single_echelon", inventory_value=2210.5, fill_rate=0.958),
        ],
        shadow=ShadowResult(
            periods=8,
            start=AS_OF - timedelta(days=56),
            end=AS_OF - timedelta(days=1),
            current_policy="order up to 4 weeks of last month's mean demand",
            kpis=[_kpis("meio", 1790.0, 0.955), _kpis("current", 2580.0, 0.9)],
        ),
        warnings=["lead-time observations missing for DC_US: quoted lead time used"],
    )
