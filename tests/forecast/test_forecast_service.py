"""The end-to-end pipeline on small real slices (carparts) and synthetic data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from echelon.errors import DataError
from echelon.forecast.data import validate_demand
from echelon.forecast.service import Settings, backtest, forecast


@pytest.fixture(scope="module")
def carparts_result(carparts_long: pd.DataFrame):
    data = validate_demand(carparts_long, freq="MS")
    st = Settings(
        horizon=6, taus=(0.5, 0.75, 0.9, 0.95), lead_times=(2, 3), n_windows=2, step=3, n_paths=300
    )
    return forecast(data, st), data


def test_forecast_columns_and_monotone_quantiles(carparts_result) -> None:
    res, data = carparts_result
    fc = res.forecasts
    assert fc["unique_id"].nunique() == data.n_series
    assert fc.groupby("unique_id").size().eq(6).all()
    q = fc[["q0.5", "q0.75", "q0.9", "q0.95"]].to_numpy()
    assert np.all(np.diff(q, axis=1) >= 0) and np.all(q >= 0)
    lt = res.leadtime
    assert set(lt["lead_time"]) == {2, 3}
    w = lt.pivot_table(index="unique_id", columns="lead_time", values="std")
    assert (w[3] >= w[2] - 1e-9).mean() > 0.95


def test_champions_chosen_on_pinball_not_mase(carparts_result) -> None:
    res, _ = carparts_result
    ch = res.champions.set_index("demand_class")
    assert "intermittent" in ch.index
    assert ch.loc["intermittent", "champion"] != "Zero"
    assert res.backtest is not None
    summ = res.backtest.summary(("demand_class", "model"))
    inter = summ[summ["demand_class"] == "intermittent"].set_index("model")
    # on intermittent data the zero forecast wins MASE …
    assert inter["mase"].idxmin() == "Zero"
    # … and loses on the lead-time pinball loss that decides
    assert (
        inter.loc["Zero", "ltd_spinball_3"]
        > inter.loc[ch.loc["intermittent", "champion"], "ltd_spinball_3"]
    )


def test_backtest_beats_empirical_baseline_on_leadtime(carparts_400: pd.DataFrame) -> None:
    data = validate_demand(carparts_400, freq="MS")
    st = Settings(
        horizon=3,
        taus=(0.5, 0.75, 0.9, 0.95),
        lead_times=(3,),
        n_windows=3,
        step=2,
        n_paths=300,
        candidates={
            "intermittent": ("IMAPA",),
            "lumpy": ("IMAPA",),
            "smooth": ("HistoricAverage",),
            "erratic": ("HistoricAverage",),
            "zero": ("HistoricAverage",),
        },
    )
    bt = backtest(data, st)
    s = bt.summary(("model",)).set_index("model")
    assert s.loc["IMAPA", "ltd_pinball_3"] < s.loc["EmpiricalQuantile", "ltd_pinball_3"]


def test_short_and_new_series_borrow_from_group(poisson_panel) -> None:
    df = poisson_panel(5, 60, 6.0, seed=0)
    df["dept"] = "d1"
    new = pd.DataFrame(
        {"unique_id": "new", "ds": df["ds"].unique()[-3:], "y": [1.0, 0.0, 0.0], "dept": "d1"}
    )
    data = validate_demand(pd.concat([df, new]), statics=["dept"], freq="D")
    st = Settings(
        horizon=7, taus=(0.5, 0.9), lead_times=(7,), n_windows=1, group_col="dept", n_paths=300
    )
    res = forecast(data, st)
    f = res.forecasts.set_index("unique_id")
    assert f.loc["new", "model"].iloc[0] == "GroupPrior"
    assert 2.0 < f.loc["new", "mean"].iloc[0] < 6.0  # shrunk towards the group's 6/period


def test_stockouts_are_unconstrained_in_the_pipeline(poisson_panel) -> None:
    rng = np.random.default_rng(0)
    df = poisson_panel(3, 200, 10.0, seed=1)
    stock = rng.integers(6, 25, len(df)).astype(float)
    df["stockout"] = (df["y"] >= stock).astype(int)
    df["y"] = np.minimum(df["y"], stock)
    st = Settings(
        horizon=7,
        taus=(0.5,),
        n_windows=1,
        n_paths=200,
        candidates={c: ("HistoricAverage",) for c in ("smooth", "erratic")},
    )
    on = forecast(validate_demand(df, stockout_col="stockout"), st)
    off = forecast(
        validate_demand(df, stockout_col="stockout"),
        Settings(**{**st.__dict__, "unconstrain": False}),
    )
    assert on.forecasts["mean"].mean() == pytest.approx(10.0, rel=0.05)
    assert off.forecasts["mean"].mean() < 0.95 * 10.0


def test_bad_settings_raise_data_error(carparts_long: pd.DataFrame) -> None:
    data = validate_demand(carparts_long.head(51 * 3), freq="MS")
    with pytest.raises(DataError, match="lead time"):
        forecast(data, Settings(horizon=2, lead_times=(3,)))
    with pytest.raises(DataError, match="quantile"):
        forecast(data, Settings(horizon=2, taus=(0.5, 1.5)))
