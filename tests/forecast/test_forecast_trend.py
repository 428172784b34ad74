"""The pooled trend of the seasonal index and the trend candidates (``<base>+trend``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from echelon.forecast.data import validate_demand
from echelon.forecast.seasonal import (
    EPOCH,
    base_model,
    fit_index,
    has_trend,
    is_seasonal,
    years_since_epoch,
)
from echelon.forecast.service import Settings, forecast

START = "2023-01-02"


def _panel(growth: dict[str, float], weeks: int, seed: int, amplitude: float = 0.3) -> pd.DataFrame:
    """Weekly Poisson demand of 6 stores per item: mean 40 · (1 + a · sin(2π yr)) · (1 + g ·
    t / 52), t the week (0 = the first), g the item's growth per year."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range(START, periods=weeks, freq="W-MON")
    yr = ((ds - EPOCH).days / 365.25).to_numpy()
    t = np.arange(weeks)
    rows = []
    for item, g in growth.items():
        mu = 40.0 * (1.0 + amplitude * np.sin(2 * np.pi * yr)) * (1.0 + g * t / 52)
        for s in range(6):
            y = rng.poisson(mu).astype(float)
            rows.append(pd.DataFrame({"unique_id": f"{item}|{s}", "ds": ds, "y": y}))
    return pd.concat(rows, ignore_index=True)


def _items(df: pd.DataFrame) -> dict[str, str]:
    return {u: u.split("|")[0] for u in df["unique_id"].unique()}


def test_a_linear_trend_is_recovered_relative_to_the_level() -> None:
    df = _panel({"G": 0.3, "F": 0.0}, weeks=104, seed=1)
    index = fit_index(df, _items(df))
    slope, centre = index.trend["G"]
    # the level at the profile's centre (week 51.5) is 1 + 0.3 · 51.5 / 52 of the start's
    assert slope == pytest.approx(0.3 / (1 + 0.3 * 51.5 / 52), rel=0.1)
    assert centre == pytest.approx(float(years_since_epoch(df["ds"].unique()).mean()))
    ds = pd.date_range(START, periods=104, freq="W-MON").to_numpy()[[0, -1]]
    g = index.trend_factors_at(np.array(["G|0", "G|0"]), ds)
    assert g[1] / g[0] == pytest.approx(1 + 0.3 * 103 / 52, rel=0.05)
    # no growth: no trend, a factor of exactly 1
    assert "F" not in index.trend
    assert np.array_equal(index.trend_factors_at(np.array(["F|0", "F|3"]), ds), np.ones(2))


def test_no_trend_from_less_than_a_year() -> None:
    # 40 weeks of a growing, seasonal item: growth and part of the sine are confounded
    df = _panel({"G": 0.3}, weeks=40, seed=2)
    assert fit_index(df, _items(df)).trend == {}


def test_a_seasonal_error_of_mean_zero_is_no_trend() -> None:
    # two whole years of a strong season and no growth: the season is kept, no trend
    df = _panel({"S": 0.0}, weeks=104, seed=3, amplitude=0.5)
    index = fit_index(df, _items(df))
    assert index.amplitude("S|0") == pytest.approx(0.5, abs=0.06)
    assert index.trend == {}


def test_names_of_trend_candidates() -> None:
    assert base_model("HistoricAverage+trend") == "HistoricAverage"
    assert is_seasonal("HistoricAverage+trend") and has_trend("HistoricAverage+trend")
    assert not has_trend("HistoricAverage+season") and not has_trend("HistoricAverage")


def _mean_forecast(model: str, df: pd.DataFrame, horizon: int) -> float:
    data = validate_demand(df, source="test", freq="W-MON")
    st = Settings(
        horizon=horizon,
        lead_times=(4,),
        season=52,
        n_paths=100,
        candidates={"smooth": (model,)},
        n_windows=1,
        step=4,
        sf_window=52,
        season_groups=_items(df),
        unconstrain=False,
    )
    fc = forecast(data, st)
    assert set(fc.forecasts["model"]) == {model}
    return float(fc.forecasts["mean"].mean())


def test_the_trend_candidate_forecasts_the_mean_of_a_growing_series() -> None:
    """Known answer: 104 weeks growing 30 % a year (of the first week's level), a season of
    amplitude 0.3; the next 8 weeks' true mean per store and week is known."""
    weeks, horizon = 104, 8
    df = _panel({"G": 0.3}, weeks=weeks, seed=5)
    fut = pd.date_range(START, periods=weeks + horizon, freq="W-MON")[weeks:]
    yr = ((fut - EPOCH).days / 365.25).to_numpy()
    t = np.arange(weeks, weeks + horizon)
    true = float((40.0 * (1 + 0.3 * np.sin(2 * np.pi * yr)) * (1 + 0.3 * t / 52)).mean())
    assert _mean_forecast("HistoricAverage+trend", df, horizon) == pytest.approx(true, rel=0.05)
    # the season alone lags the growth by half the 52-week window: about 10 % low
    lagged = _mean_forecast("HistoricAverage+season", df, horizon)
    assert lagged < 0.93 * true
