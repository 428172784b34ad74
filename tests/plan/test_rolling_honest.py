"""The rolling shadow mode's earlier origins reuse the plan fit's backtest windows run before
them (plan/forecasting.py ``earlier_windows``, ``origin_view(..., backtest)``): an origin's
forecasts and placement are made with data before the origin only, so demand after it changes
the plan (it sees it) and leaves the origin's forecasts and levels as they were."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from test_placement import small_plan_data

from echelon.plan.context import PlanContext
from echelon.plan.forecasting import PlanForecasts, earlier_windows, origin_view, plan_forecasts
from echelon.plan.leadtimes import fit_lead_times
from echelon.plan.placement import place

WEEKS = 80  # enough history for several backtest windows before the second origin
HOLD = 8


def changed_after(ctx: PlanContext, cut: pd.Timestamp) -> PlanContext:
    """``ctx`` with every series' demand from ``cut`` on tripled plus 5 units a period."""
    hist = ctx.history.copy()
    later = hist["ds"] >= cut
    hist.loc[later, "y"] = hist.loc[later, "y"] * 3 + 5
    return dataclasses.replace(ctx, history=hist)


@pytest.fixture(scope="module")
def both() -> tuple[PlanContext, PlanForecasts, PlanContext, PlanForecasts, pd.Timestamp]:
    data = small_plan_data(weeks=WEEKS, shadow_origins=3)
    cut = pd.Timestamp(data.as_of - timedelta(weeks=2 * HOLD))  # the second origin
    other = changed_after(data, cut)
    return data, plan_forecasts(data), other, plan_forecasts(other), cut


def test_the_plan_fit_keeps_only_windows_scored_before_the_second_origin(both: tuple) -> None:
    _, fc, _, _, cut = both
    bt = fc.backtest
    assert bt is not None and not bt.forecasts.empty
    assert (bt.forecasts["ds"] < cut).all()
    assert bt.forecasts["cutoff"].nunique() >= 2
    later = earlier_windows(bt, cut - pd.Timedelta(weeks=HOLD))  # the third origin: fewer
    assert later is not None
    assert later.forecasts["cutoff"].nunique() < bt.forecasts["cutoff"].nunique()
    assert set(later.champions["demand_class"]) <= set(bt.scores["demand_class"])
    assert earlier_windows(bt, pd.Timestamp("2000-01-03")) is None  # nothing before it


def test_demand_after_an_origin_changes_the_plan_but_not_the_origins_plan(both: tuple) -> None:
    data, fc, other, fc_other, cut = both
    # the plan itself sees the change (its forecasts use every period)
    assert any(
        fc.series[k].mean != pytest.approx(fc_other.series[k].mean, rel=0.05) for k in fc.series
    )
    view = origin_view(data, cut.date(), HOLD, fc.backtest)
    view_other = origin_view(other, cut.date(), HOLD, fc_other.backtest)
    assert view is not None and view_other is not None
    assert set(view.series) == set(view_other.series) == set(fc.series)
    for key, s in view.series.items():
        t = view_other.series[key]
        assert (s.model, s.mean, s.std, s.std_from_backtest) == (
            t.model, t.mean, t.std, t.std_from_backtest,
        )  # fmt: skip
        assert s.std_from_backtest  # the error model of the earlier windows
        assert s.errors is not None and t.errors is not None
        assert np.array_equal(s.errors.curve, t.errors.curve)
        assert s.errors.bias == t.errors.bias
    lead = fit_lead_times(data)
    placed = place(data, view, lead)
    placed_other = place(other, view_other, lead)
    assert placed.placements == placed_other.placements


def test_an_origin_without_earlier_windows_is_backtested_afresh(both: tuple) -> None:
    data, fc, _, _, _ = both
    early = pd.Timestamp(data.as_of - timedelta(weeks=WEEKS - 30))
    assert earlier_windows(fc.backtest, early) is None
    shared = origin_view(data, early.date(), HOLD, fc.backtest)
    fresh = origin_view(data, early.date(), HOLD)
    assert shared is not None and fresh is not None
    assert {k: s.mean for k, s in shared.series.items()} == {
        k: s.mean for k, s in fresh.series.items()
    }
