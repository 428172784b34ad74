"""Exceptions for the planner: stockout risk, excess, forecast bias, large change and
data-quality pass-through, with hand-checked numbers (module doc of plan/exceptions.py)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from contexts import context, standalone

from echelon.network.model import Lane, Network, Node
from echelon.plan.exceptions import find_exceptions
from echelon.plan.explain import units
from echelon.plan.model import (
    ExceptionKind,
    Explanation,
    Placement,
    PlanException,
    Severity,
)

ITEMS = pd.DataFrame({"item_id": ["A"], "unit_cost": [2.0], "price": [7.0], "category": ["C"],
                      "pack_size": [0], "moq": [0]})  # fmt: skip


def placement(loc: str = "S1", base: float = 80.0, mean: float = 25.0,
              std: float = 10 / math.sqrt(2)) -> Placement:  # fmt: skip
    """Lead time 2 periods: demand over it N(2·mean, std·√2) = N(50, 10) by default."""
    return Placement(
        item="A", location=loc, tier=0, mean_demand=mean, std_demand=std, lead_time=2.0,
        inbound_service_time=0.0, outbound_service_time=0.0, net_replenishment_time=2.0,
        target=0.95, base_stock=base, safety_stock=10.0, safety_stock_value=20.0,
        single_echelon_base_stock=base, single_echelon_safety_stock=10.0,
        explanation=Explanation(summary="test placement"),
    )  # fmt: skip


def run(
    places: list[Placement],
    on_hand: list[float],
    findings: tuple[PlanException, ...] = (),
    **kw: object,
) -> list[PlanException]:
    """Exceptions of ``places`` at locations replenished externally (window: service time +
    lead time)."""
    locs = [p.location for p in places]
    inv = pd.DataFrame({"item_id": ["A"] * len(places), "location_id": locs, "on_hand": on_hand})
    ctx = context(standalone(locs), ITEMS, inv, findings=findings)
    return find_exceptions(places, ctx, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("ip", "severity", "prob", "short"),
    [
        # P = Φ̄((ip − 50)/10); short = 10·G((ip − 50)/10); value at risk = 7·short vs 175
        (0.0, Severity.HIGH, 1.0, 50.0),  # 350 at risk ≥ one period's sales 175
        (40.0, Severity.MEDIUM, 0.8413, 10.83),  # 75.8 ≥ 43.75
        (55.0, Severity.LOW, 0.3085, 1.978),  # 13.8 < 43.75
    ],
)
def test_stockout_risk_within_the_lead_time(ip: float, severity: Severity, prob: float,
                                            short: float) -> None:  # fmt: skip
    out = run([placement()], [ip], stockout_threshold=0.2)
    (exc,) = [e for e in out if e.kind is ExceptionKind.STOCKOUT_RISK]
    assert exc.severity is severity
    assert exc.value == pytest.approx(prob, abs=1e-4)
    assert f"expected {units(short)} units short" in exc.message
    assert f"inventory position {ip:.0f} vs demand 50 ± 10" in exc.message


def test_no_stockout_risk_when_the_position_covers_the_lead_time() -> None:
    assert run([placement()], [70.0], stockout_threshold=0.2) == []  # P(D > 70) = 2.3% ≤ 20%
    # default: projected stockout = the position below the expected lead-time demand 50
    assert run([placement()], [55.0]) == []
    (exc,) = run([placement()], [45.0])
    assert exc.kind is ExceptionKind.STOCKOUT_RISK and exc.value == pytest.approx(0.6915, abs=1e-4)


def test_excess_beyond_the_days_of_supply() -> None:
    p = placement(mean=70.0, std=5.0)  # 10 units a day; 90 days = 900 units
    (medium,) = run([p], [1000.0])
    assert medium.kind is ExceptionKind.EXCESS and medium.severity is Severity.MEDIUM
    assert medium.value == pytest.approx(100.0)
    assert "100 units (200.00 USD) beyond it" in medium.message
    (high,) = run([p], [2000.0])
    assert high.severity is Severity.HIGH and high.value == pytest.approx(200.0)
    assert run([p], [900.0]) == []


def test_stock_without_demand_is_excess() -> None:
    (exc,) = run([placement(mean=0.0, std=0.0)], [10.0])
    assert exc.kind is ExceptionKind.EXCESS and exc.severity is Severity.HIGH and exc.value is None


def test_forecast_bias_above_the_threshold() -> None:
    bias = pd.DataFrame({
        "item_id": ["A"] * 4, "location_id": ["S1", "S2", "S3", "S4"],
        "bias": [7.0, -10.0, 2.0, 5.0], "mean_actual": [20.0, 20.0, 20.0, 0.0],
    })  # fmt: skip
    out = run([placement()], [70.0], forecast_bias=bias)
    got = {e.location: e for e in out if e.kind is ExceptionKind.FORECAST_BIAS}
    assert set(got) == {"S1", "S2"}  # 10% is within 20%; no actual demand: no share
    assert got["S1"].severity is Severity.MEDIUM and got["S1"].value == pytest.approx(0.35)
    assert "over-forecasts by 35%" in got["S1"].message
    assert got["S2"].severity is Severity.HIGH and "under-forecasts by 50%" in got["S2"].message


def test_forecast_bias_given_as_a_share_of_actual_demand() -> None:
    bias = pd.DataFrame({"item_id": ["A", "A"], "location_id": ["S1", "S2"],
                         "bias_share": [0.35, -0.1], "mean_actual": [20.0, 20.0]})  # fmt: skip
    (exc,) = [e for e in run([placement()], [70.0], forecast_bias=bias)]
    assert exc.location == "S1" and exc.value == pytest.approx(0.35)
    assert "(+7 units per period on 20)" in exc.message


def test_stockout_window_is_the_lead_time_when_the_supplier_has_stock() -> None:
    # S1: lead time 2, DC committed service time 2 → 4 periods without the DC's stock
    p = placement().model_copy(update={"inbound_service_time": 2.0})
    net = Network(name="n", nodes=[Node(id="DC", external_supplier=True, lead_time=1),
                                   Node(id="S1", lead_time=2)],
                  lanes=[Lane(**{"from": "DC", "to": "S1"})])  # fmt: skip
    inv = pd.DataFrame({"item_id": ["A", "A"], "location_id": ["S1", "DC"],
                        "on_hand": [60.0, 500.0]})  # fmt: skip
    # over 2 periods N(50, 10): P(D > 60) = 16% → none; over 4 periods N(100, 14.1) → 99.8%
    assert find_exceptions([p], context(net, ITEMS, inv)) == []
    (exc,) = find_exceptions([p], context(standalone(["S1", "DC"]), ITEMS, inv))
    assert "(4 periods)" in exc.message and exc.value == pytest.approx(0.9977, abs=1e-4)


def test_large_change_since_the_last_plan() -> None:
    new = [placement("S1", 160.0), placement("S2", 40.0), placement("S3", 120.0),
           placement("S4", 50.0), placement("S5", 300.0)]  # fmt: skip
    old = [placement("S1", 100.0), placement("S2", 100.0), placement("S3", 100.0),
           placement("S4", 0.0), placement("S5", 100.0)]  # fmt: skip
    out = run(new, [60.0] * 5, previous=old)
    got = {e.location: e for e in out if e.kind is ExceptionKind.LARGE_CHANGE}
    assert set(got) == {"S1", "S2", "S4", "S5"}
    assert got["S1"].severity is Severity.MEDIUM and got["S1"].value == pytest.approx(0.6)
    assert "went up from 100 to 160 units (60%)" in got["S1"].message
    assert "went down from 100 to 40" in got["S2"].message
    assert got["S4"].value is None and got["S4"].severity is Severity.HIGH
    assert got["S5"].severity is Severity.HIGH and got["S5"].value == pytest.approx(2.0)


def test_findings_pass_through_and_the_list_is_sorted_high_first() -> None:
    finding = PlanException(kind=ExceptionKind.DATA_QUALITY, severity=Severity.LOW,
                            message="demand.csv: 3 negative values set to 0", item="A")  # fmt: skip
    out = run([placement("S1"), placement("S2")], [0.0, 55.0], findings=(finding,))
    assert finding in out
    ranks = [{"high": 0, "medium": 1, "low": 2}[e.severity.value] for e in out]
    assert ranks == sorted(ranks) and out[0].severity is Severity.HIGH
    for e in out:  # JSON-safe (no infinities)
        assert PlanException.model_validate(e.model_dump(mode="json")) == e
