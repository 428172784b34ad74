"""The batched engine inside the forecasting pipeline: the models with compound paths give
the statsforecast engine's numbers (means, quantiles, lead-time demand) exactly, the
simulated models the same shapes and columns, seasonal twins and the whole ``forecast`` run
on it, and an unknown engine is an error at the boundary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from echelon.errors import DataError
from echelon.forecast.data import validate_demand
from echelon.forecast.engine import (
    AUTO_BATCHED_SERIES,
    BATCHED_MEANS,
    BATCHED_PATHS,
    resolve_engine,
)
from echelon.forecast.models import run_statsforecast
from echelon.forecast.seasonal import fit_index
from echelon.forecast.service import Settings, forecast

TAUS = (0.1, 0.5, 0.9)


def weekly_frame(seed: int = 0, n: int = 12, weeks: int = 78) -> pd.DataFrame:
    """Half smooth (gamma, seasonal), half intermittent weekly series (units per week)."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2023-01-02", periods=weeks, freq="W-MON")
    season = 1 + 0.4 * np.sin(2 * np.pi * np.arange(weeks) / 52)
    parts = []
    for k in range(n):
        if k % 2:
            y = rng.poisson(0.3, weeks) * rng.integers(1, 6, weeks)
        else:
            y = rng.gamma(4.0, 5.0, weeks) * season
        parts.append(pd.DataFrame({"unique_id": f"s{k:02d}", "ds": ds, "y": y.astype(float)}))
    return pd.concat(parts, ignore_index=True)


def both(assignments: dict[str, dict[str, list[str]]], **kw: object) -> tuple[dict, dict]:
    train = weekly_frame()
    args = dict(freq="W-MON", season=52, taus=TAUS, lead_times=(1, 4), n_paths=200, seed=3)
    args.update(kw)
    sf = run_statsforecast(train, 8, assignments, **args)  # type: ignore[arg-type]
    bt = run_statsforecast(train, 8, assignments, engine="batched", **args)  # type: ignore[arg-type]
    return sf, bt


def test_compound_models_give_the_statsforecast_engines_numbers() -> None:
    ids = [f"s{k:02d}" for k in range(12)]
    # ADIDA and IMAPA: not batched, statsforecast's under either engine (the fallback)
    models = ("CrostonSBA", "CrostonClassic", "TSB", "HistoricAverage", "Naive", "Zero", "ADIDA")
    models = (*models, "IMAPA")
    sf, bt = both({m: {"compound": ids} for m in models})
    for m in models:
        assert sf[m].uids == bt[m].uids
        np.testing.assert_array_equal(bt[m].mean, sf[m].mean, err_msg=m)
        np.testing.assert_array_equal(bt[m].quantiles, sf[m].quantiles, err_msg=m)
        for lt in (1, 4):
            for a, b in zip(bt[m].leadtime[lt], sf[m].leadtime[lt], strict=True):
                np.testing.assert_array_equal(a, b)
        pd.testing.assert_frame_equal(bt[m].frame(TAUS), sf[m].frame(TAUS))


def test_simulated_models_and_seasonal_twins_have_the_pipelines_shape() -> None:
    train = weekly_frame()
    smooth = [f"s{k:02d}" for k in range(0, 12, 2)]
    index = fit_index(train)
    assign = {m: {"simulate": smooth} for m in ("AutoETS", "HistoricAverage", "Naive")}
    assign["AutoETS+season"] = {"simulate": smooth}
    assign["SeasonalNaive"] = {"simulate": smooth}  # not batched: statsforecast's paths
    sf, bt = both(assign, season_index=index)
    np.testing.assert_array_equal(bt["SeasonalNaive"].quantiles, sf["SeasonalNaive"].quantiles)
    for m in assign:
        a, b = sf[m].frame(TAUS), bt[m].frame(TAUS)
        assert list(a.columns) == list(b.columns)
        keys = ["unique_id", "ds", "model"]
        pd.testing.assert_frame_equal(a[keys], b[keys])
        assert np.isfinite(b[["mean", "q0.1", "q0.5", "q0.9"]].to_numpy()).all()
        assert (b["q0.1"] <= b["q0.9"]).all() and (b["mean"] >= 0).all()
        assert bt[m].leadtime.keys() == sf[m].leadtime.keys()
        # the same method on the same series: means within a few forecast-error spreads
        spread = (a["q0.9"] - a["q0.1"]).to_numpy()
        assert (np.abs(a["mean"] - b["mean"]).to_numpy() <= 1.5 * spread + 1e-9).all(), m


def test_forecast_runs_end_to_end_on_the_batched_engine() -> None:
    data = validate_demand(weekly_frame(1), source="demand.csv", freq="W-MON")
    st = Settings(horizon=6, taus=TAUS, lead_times=(4,), season=52, n_paths=100, n_windows=2)
    ref = forecast(data, st)
    got = forecast(data, Settings(**{**st.__dict__, "engine": "batched"}))
    assert list(got.forecasts.columns) == list(ref.forecasts.columns)
    assert list(got.leadtime.columns) == list(ref.leadtime.columns)
    assert len(got.forecasts) == len(ref.forecasts) and len(got.leadtime) == len(ref.leadtime)
    assert set(got.champions["demand_class"]) == set(ref.champions["demand_class"])
    assert got.backtest is not None and not got.backtest.scores.empty


def test_an_unknown_engine_is_an_error() -> None:
    data = validate_demand(weekly_frame(2, n=2), source="demand.csv", freq="W-MON")
    with pytest.raises(DataError, match="unknown forecast engine"):
        forecast(data, Settings(horizon=4, engine="fast"))
    with pytest.raises(DataError):
        resolve_engine("fast", 10)


def test_auto_is_batched_above_the_threshold_only() -> None:
    assert resolve_engine("auto", AUTO_BATCHED_SERIES) == "statsforecast"
    assert resolve_engine("auto", AUTO_BATCHED_SERIES + 1) == "batched"
    assert resolve_engine("statsforecast", 10**6) == "statsforecast"
    assert resolve_engine("batched", 1) == "batched"


def test_every_plan_candidate_runs_on_the_batched_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    from echelon.forecast.seasonal import base_model
    from echelon.plan import forecast_fit

    monkeypatch.setattr(forecast_fit, "PLAN_TREND", True)  # the trend candidate too
    for cls, models in forecast_fit.plan_candidates().items():
        for m in models:
            base = base_model(m)
            simulated = cls in ("smooth", "erratic") and base != "Zero"
            ok = base in (BATCHED_PATHS if simulated else (*BATCHED_MEANS, "Zero"))
            assert ok, (cls, m)
