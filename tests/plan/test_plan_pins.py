"""Pinned forecast models: a pinned series forecasts with its pinned model (the backtest's
error model of that model), the others as the backtest chooses; a pin that is no candidate of
its series is a warning and the free choice."""

from __future__ import annotations

from dataclasses import replace

import pytest
from test_placement import small_plan_data

from echelon.plan.forecast_fit import PLAN_CANDIDATES
from echelon.plan.forecasting import plan_forecasts
from echelon.plan.model import WarningKind


def test_a_pinned_series_uses_its_model_and_a_foreign_pin_warns() -> None:
    data = small_plan_data(weeks=60)
    free = plan_forecasts(data)
    a = free.series[("A", "S1")]
    pin = "HistoricAverage" if a.model == "Naive" else "Naive"
    assert pin in PLAN_CANDIDATES["smooth"] and "CrostonSBA" not in PLAN_CANDIDATES["smooth"]
    pinned = {("A", "S1"): pin, ("B", "S2"): "CrostonSBA", ("Z", "S9"): "Naive"}
    fc = plan_forecasts(replace(data, pinned=pinned))
    s = fc.series[("A", "S1")]
    assert s.model == pin and fc.holdout[("A", "S1")].model == pin
    assert next(f.model for f in fc.fan if (f.item, f.location) == ("A", "S1")) == pin
    assert s.errors is not None and s.std_from_backtest  # the pinned model's backtest
    hist = fc.history[(fc.history["item_id"] == "A") & (fc.history["location_id"] == "S1")]
    last = float(hist["y"].iloc[-1])
    if pin == "Naive":  # the last period's demand (mean of the sampled paths), plus the bias
        assert s.mean == pytest.approx(max(0.0, last + s.errors.bias), rel=0.03)
        assert abs(s.mean - a.mean) > 0.5 * abs(last - a.mean)
    for key in (("A", "S2"), ("B", "S1"), ("B", "S2")):  # unpinned or not pinnable: as before
        assert fc.series[key].model == free.series[key].model
        assert fc.series[key].mean == pytest.approx(free.series[key].mean)
    (w,) = [w for w in fc.warnings if "pinned" in w.message]
    assert w.kind is WarningKind.FALLBACK and w.value == 1.0
    assert "B at S2: CrostonSBA (smooth)" in w.message
    assert not [w for w in free.warnings if "pinned" in w.message]
