"""Rolling shadow mode (issue 14, point 4): windows planned only with the data before their
origin and replayed against actual demand; realized service per ABC class; the saving at
realized service; an exception for a class more than 2 points below target."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, timedelta

import pytest
from test_placement import small_plan_data

from echelon.plan.forecasting import plan_forecasts
from echelon.plan.leadtimes import fit_lead_times
from echelon.plan.model import (
    ExceptionKind,
    PolicyName,
    RollingShadow,
    SegmentService,
    Severity,
)
from echelon.plan.rolling import rolling_shadow, shadow_windows, shortfall_exceptions
from echelon.plan.shadow import shadow_mode


@pytest.fixture(scope="module")
def windows() -> tuple:
    data = small_plan_data(weeks=60, shadow_origins=3)
    fc = plan_forecasts(data)
    lead = fit_lead_times(data)
    return data, fc, lead, shadow_windows(data, fc, lead)


def test_windows_go_back_one_holdout_at_a_time_and_see_only_earlier_data(windows: tuple) -> None:
    data, _, _, ws = windows
    assert [w.start for w in ws] == [data.as_of - timedelta(weeks=8 * k) for k in (1, 2, 3)]
    assert all(w.periods == 8 for w in ws)
    for w in ws:  # every item was placed again as of the window's origin
        assert {r.plan.item for r in w.runs[next(iter(w.runs))]} == {"A", "B"}


def test_the_latest_window_is_the_plans_shadow_mode(windows: tuple) -> None:
    data, fc, lead, ws = windows
    first, rolling = rolling_shadow(data, ws)
    assert first == shadow_mode(data, fc, lead)
    assert rolling is not None and rolling.origins == [w.start for w in ws]


def test_pooled_kpis_and_segments(windows: tuple) -> None:
    data, _, _, ws = windows
    _, rolling = rolling_shadow(data, ws)
    assert rolling is not None
    for k in rolling.kpis:
        assert 0.0 <= (k.network.fill_rate or 0.0) <= 1.0
    assert {s.segment for s in rolling.segments} <= {"A", "B", "C"}
    for seg in rolling.segments:
        assert seg.target == pytest.approx(0.95)
        assert all(v is None or 0.0 <= v <= 1.0 for v in seg.realized.values())
    by = {k.policy.value: k.network for k in rolling.kpis}
    meio, single = by["meio"].inventory_value, by["single_echelon"].inventory_value
    assert rolling.saving == pytest.approx((single - meio) / single)
    # inventory values are averaged over the windows, not summed
    one = rolling_shadow(data, ws[:1])[1]
    assert one is not None
    one_meio = {k.policy.value: k.network for k in one.kpis}["meio"].inventory_value
    assert 0.3 * one_meio < meio < 3 * one_meio


def test_projected_fill_per_class_is_the_plans_simulated_fill_on_the_same_weights(
    windows: tuple,
) -> None:
    data, _, _, ws = windows
    _, rolling = rolling_shadow(data, ws)
    assert rolling is not None
    num: dict[tuple[str, str], float] = defaultdict(float)
    den: dict[tuple[str, str], float] = defaultdict(float)
    for w in ws:
        for p in (PolicyName.MEIO, PolicyName.SINGLE_ECHELON):
            for r in w.runs[p]:
                for s in r.plan.stores:
                    node = r.result.node(s)
                    if node.demand_per_period > 0 and not math.isnan(node.fill_rate.mean):
                        key = ((r.plan.segments.get(s) or "?")[0], p.value)
                        num[key] += node.demand_per_period * r.plan.fill[p][s]
                        den[key] += node.demand_per_period
    assert rolling.segments
    for seg in rolling.segments:
        for p in ("meio", "single_echelon"):
            assert seg.projected[p] == pytest.approx(num[(seg.segment, p)] / den[(seg.segment, p)])
            assert seg.projected[p] >= seg.target - 1e-9  # tuned to the target in simulation
        assert seg.projected.get("current") is None  # the current policy is not tuned


def _rolling(realized: float, target: float) -> RollingShadow:
    seg = SegmentService(
        segment="A", target=target, series=3, realized={"meio": realized}, realized_ci={}
    )
    return RollingShadow(
        origins=[date(2024, 3, 4), date(2024, 1, 8)], periods=8, kpis=[], segments=[seg],
        saving=None,
    )  # fmt: skip


def test_a_class_more_than_two_points_below_target_is_an_exception() -> None:
    assert shortfall_exceptions(_rolling(0.965, 0.98)) == []  # 1.5 points: within tolerance
    (exc,) = shortfall_exceptions(_rolling(0.95, 0.98))
    assert exc.kind is ExceptionKind.SERVICE_SHORTFALL and exc.severity is Severity.MEDIUM
    assert "3.0 points below its 98.0% target" in exc.message
    (big,) = shortfall_exceptions(_rolling(0.90, 0.98))
    assert big.severity is Severity.HIGH
    assert shortfall_exceptions(None) == []


def test_the_rolling_table_prints_the_projected_fill_in_brackets() -> None:
    from rich.console import Console

    from echelon.cli.plan_cmds import rolling_table

    seg = SegmentService(
        segment="B", target=0.95, series=4, realized={"meio": 0.9441, "single_echelon": 0.953},
        realized_ci={"meio": 0.004}, projected={"meio": 0.951},
    )  # fmt: skip
    rolling = RollingShadow(
        origins=[date(2024, 3, 4)], periods=8, kpis=[], segments=[seg], saving=None
    )
    console = Console(width=200, record=True)
    console.print(rolling_table(rolling))
    text = console.export_text()
    assert "94.41% ± 0.40% (95.1%)" in text
    assert "95.30%" in text and "95.30% (" not in text  # no projection: no brackets
