"""The plan's flat mean is the forecast over the periods its levels are in force."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from echelon.plan.forecasting import SEP, _summaries, held_periods


def test_held_periods_is_the_shadow_window_bounded_by_the_horizon() -> None:
    assert held_periods(13, 8) == 8
    assert held_periods(13, 0) == 13
    assert held_periods(4, 8) == 4


def test_the_plan_mean_averages_the_forecast_over_the_held_periods_only() -> None:
    # a season falling from 10 to 0 after 4 periods: levels held for 4 periods must meet 10
    # per period, not the 13-period average 40 / 13
    uid = "I" + SEP + "S"
    means = [10.0] * 4 + [0.0] * 9
    f = pd.DataFrame(
        {
            "unique_id": uid,
            "ds": pd.date_range("2026-01-05", periods=13, freq="W-MON"),
            "mean": means,
            "q0.1": means,
            "q0.9": means,
            "model": "AutoETS+season",
        }
    )
    hist = pd.DataFrame({"item_id": ["I", "I"], "location_id": ["S", "S"], "y": [1.0, 3.0]})
    fc = SimpleNamespace(forecasts=f, backtest=None)
    out = _summaries(fc, hist, None, held_periods(13, 4))  # type: ignore[arg-type]
    assert out[("I", "S")].mean == pytest.approx(10.0)
    assert _summaries(fc, hist, None, 13)[("I", "S")].mean == pytest.approx(40.0 / 13)  # type: ignore[arg-type]
