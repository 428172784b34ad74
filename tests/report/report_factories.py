"""A realistic :class:`PlanResult` built by hand for the report tests.

A national DC feeds two state DCs that feed four stores, three items. One store and one item
carry unicode and markup in their names (``<script>``, ``&``) to test escaping. Safety stocks
follow z·σ·√(net replenishment time) with z for the target; values = units × unit cost.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

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
    RecommendationStatus,
    SafetyStockParts,
    Severity,
    ShadowResult,
)

EVIL_STORE = "Zürich <script>alert('store')</script>"
EVIL_ITEM = 'FOODS_9 <b>"bold"</b> & Ünïcødé'
ITEMS = {"FOODS_1": 2.5, "HOBBIES_1": 8.0, EVIL_ITEM: 4.0}  # unit cost
STORES = {"CA_1": "DC_CA", "CA_2": "DC_CA", "TX_1": "DC_TX", EVIL_STORE: "DC_TX"}
DCS = {"DC_CA": "DC_US", "DC_TX": "DC_US"}
Z95 = 1.6448536269514722  # standard normal 95% quantile
AS_OF = date(2016, 4, 25)
SAVING = 0.235


def _parts(total: float) -> SafetyStockParts:
    return SafetyStockParts(
        demand_variability=0.7 * total,
        lead_time_variability=0.2 * total,
        service_target=0.1 * total,
        upstream_service_time=0.0,
        total=total,
    )


def _placement(item: str, loc: str, tier: int, mean: float, std: float, nrt: float) -> Placement:
    ss = Z95 * std * math.sqrt(nrt)
    cost = ITEMS[item]
    return Placement(
        item=item,
        location=loc,
        tier=tier,
        segment="AX" if item == "FOODS_1" else "BY",
        mean_demand=mean,
        std_demand=std,
        lead_time=2.0 if tier else 1.0,
        inbound_service_time=1.0 if tier == 0 else 0.0,
        outbound_service_time=0.0 if tier == 0 else 1.0,
        net_replenishment_time=nrt,
        target=0.95 if tier == 0 else None,
        base_stock=mean * nrt + ss,
        safety_stock=ss,
        safety_stock_value=ss * cost,
        single_echelon_base_stock=mean * (nrt + 1) + Z95 * std * math.sqrt(nrt + 1),
        single_echelon_safety_stock=Z95 * std * math.sqrt(nrt + 1),
        explanation=Explanation(
            summary=f"Hold {ss:.1f} units of {item} at {loc} to reach the target.",
            drivers=[f"σ = {std:.1f} units per period", f"net replenishment time {nrt:g}"],
            safety_stock=_parts(ss),
            counterfactual="With a 90% target the safety stock would be 22% lower.",
        ),
    )


def _kpis(fill: float, value: float, met: bool | None = True) -> Kpis:
    return Kpis(
        fill_rate=fill,
        fill_rate_ci=0.004,
        cycle_service_level=fill - 0.04,
        turns=52 * 0.6 * 1000 / value if value else None,
        days_of_supply=value / 120.0,
        inventory_value=value,
        safety_stock_value=0.4 * value,
        target_met=met,
    )


def _policy(name: str, fill: float, value: float, met: bool) -> PolicyKpis:
    stores = {
        s: _kpis(min(fill + 0.002 * i, 0.999), value / len(STORES) * (1 + 0.05 * i), met)
        for i, s in enumerate(STORES)
    }
    return PolicyKpis(
        policy=name,
        description=f"{name} policy simulated 520 periods x 20 replications",
        network=_kpis(fill, value, met),
        stores=stores,
    )


def _forecast(item: str, loc: str, level: float) -> ForecastSeries:
    start = AS_OF - timedelta(weeks=34)
    hist_ds = [start + timedelta(weeks=k) for k in range(26)]
    hist = [level * (1 + 0.3 * math.sin(k / 3)) for k in range(26)]
    ds = [start + timedelta(weeks=26 + k) for k in range(13)]
    mean = [level * (1 + 0.05 * math.cos(k / 4)) for k in range(13)]
    spread = {"0.1": -1.2816, "0.25": -0.6745, "0.5": 0.0, "0.75": 0.6745, "0.9": 1.2816}
    quantiles = {q: [max(m + z * 0.25 * level, 0.0) for m in mean] for q, z in spread.items()}
    actual: list[float | None] = [level * (1 + 0.2 * math.sin(k)) for k in range(8)]
    actual += [None] * 5
    return ForecastSeries(
        item=item,
        location=loc,
        model="AutoETS",
        history_ds=hist_ds,
        history=hist,
        ds=ds,
        actual=actual,
        mean=mean,
        quantiles=quantiles,
    )


def _explain(summary: str) -> Explanation:
    return Explanation(
        summary=summary,
        drivers=["inventory position 12.0 units", "order-up-to level 40.0 units"],
        counterfactual="No order if the inventory position were 40 units or more.",
    )


def make_result() -> PlanResult:
    """The fixture run: 7 locations, 3 items, every section of the report filled."""
    placements: list[Placement] = []
    for item in ITEMS:
        for store in STORES:
            placements.append(_placement(item, store, 0, 20.0, 6.0, 2.0))
        for dc in DCS:
            placements.append(_placement(item, dc, 1, 40.0, 8.5, 1.0))
        placements.append(_placement(item, "DC_US", 2, 80.0, 12.0, 3.0))
    locations = ["DC_US", *DCS, *STORES]
    tiers = {"DC_US": 2, **{d: 1 for d in DCS}, **{s: 0 for s in STORES}}
    nodes = [
        NetworkNode(
            id=loc,
            tier=tiers[loc],
            x=0.0,
            y=float(tiers[loc]),
            safety_stock_value=sum(p.safety_stock_value for p in placements if p.location == loc),
        )
        for loc in locations
    ]
    lanes = [("DC_US", d) for d in DCS] + [(dc, s) for s, dc in STORES.items()]
    recs = [
        Recommendation(
            key=f"order:{item}:DC_CA->CA_1",
            kind=RecommendationKind.ORDER,
            item=item,
            location="CA_1",
            source="DC_CA",
            quantity=28.0,
            unit_cost=ITEMS[item],
            value=28.0 * ITEMS[item],
            arrival=AS_OF + timedelta(days=7),
            inventory_position=12.0,
            order_up_to=40.0,
            explanation=_explain(f"Order 28 units of {item}: position below order-up-to."),
        )
        for item in ITEMS
    ]
    recs.append(
        Recommendation(
            key=f"transfer:{EVIL_ITEM}:TX_1->{EVIL_STORE}",
            kind=RecommendationKind.TRANSFER,
            item=EVIL_ITEM,
            location=EVIL_STORE,
            source="TX_1",
            quantity=6.0,
            unit_cost=ITEMS[EVIL_ITEM],
            value=6.0 * ITEMS[EVIL_ITEM],
            explanation=_explain("Move 6 units laterally <i>now</i>: cheaper than ordering."),
            status=RecommendationStatus.APPROVED,
        )
    )
    exceptions = [
        PlanException(kind=ExceptionKind.EXCESS, severity=Severity.LOW, message="190 days",
                      item="HOBBIES_1", location="TX_1", value=190.0),
        PlanException(kind=ExceptionKind.STOCKOUT_RISK, severity=Severity.HIGH,
                      message="projected stockout in 1 period <script>x</script>",
                      item=EVIL_ITEM, location=EVIL_STORE, value=1.0),
        PlanException(kind=ExceptionKind.FORECAST_BIAS, severity=Severity.MEDIUM,
                      message="bias 31% of mean", item="FOODS_1", location="CA_2", value=0.31),
        PlanException(kind=ExceptionKind.DATA_QUALITY, severity=Severity.LOW,
                      message="3 negative demand rows set to 0"),
    ]  # fmt: skip
    kpis = [
        _policy("meio", 0.962, 7650.0, True),
        _policy("single_echelon", 0.958, 10000.0, True),
        _policy("current", 0.91, 12100.0, False),
    ]
    curve = [
        CurvePoint(policy=p, inventory_value=v * (1 + 8 * (f - 0.9)), fill_rate=f)
        for p, v in (("meio", 7000.0), ("single_echelon", 9200.0))
        for f in (0.90, 0.93, 0.95, 0.97, 0.99)
    ]
    forecasts = [_forecast(i, s, 15.0 + 5 * k) for k, (i, s) in enumerate(
        (i, s) for i in ITEMS for s in STORES)]  # fmt: skip
    shadow = ShadowResult(
        periods=8,
        start=AS_OF - timedelta(weeks=8),
        end=AS_OF - timedelta(days=1),
        current_policy="order up to 4 weeks of the last 8 weeks' mean demand",
        kpis=[_policy("meio", 0.951, 7400.0, True), _policy("current", 0.902, 11800.0, False)],
    )
    return PlanResult(
        name="M5 demo <plan> ✓",
        created_at="2026-11-25T15:00:00Z",
        as_of=AS_OF,
        input_hash="9f" * 32,
        parameters={
            "period_days": 7,
            "holding_rate": 0.25,
            "seed": 0,
            "options": {"db": "sqlite:///plan.db", "note": "<b>x</b>"},
        },
        currency="USD",
        period_days=7,
        items=list(ITEMS),
        locations=locations,
        network_nodes=nodes,
        network_lanes=lanes,
        placements=placements,
        recommendations=recs,
        exceptions=exceptions,
        kpis=kpis,
        saving=SAVING,
        service_met=True,
        forecasts=forecasts,
        stock_to_service=curve,
        shadow=shadow,
        warnings=["lead times of lane DC_US->DC_TX: 3 observations only"],
    )


def make_minimal_result() -> PlanResult:
    """A run with nothing but its metadata (every section empty)."""
    return PlanResult(
        name="empty",
        created_at="2026-11-25T15:00:00Z",
        as_of=AS_OF,
        input_hash="00" * 32,
        parameters={},
        currency="EUR",
        period_days=7,
        items=[],
        locations=[],
        network_nodes=[],
        network_lanes=[],
        placements=[],
        recommendations=[],
        exceptions=[],
        kpis=[],
    )
