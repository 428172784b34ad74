"""The pooled annual seasonal index and the seasonal candidates (``<base>+season``)."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from echelon.forecast.backtest import CHALLENGER_MARGIN, choose_champions
from echelon.forecast.data import validate_demand
from echelon.forecast.seasonal import EPOCH, base_model, fit_index, years_since_epoch
from echelon.forecast.service import Settings, forecast

WEEKS = 70


def _panel(amplitude: dict[str, float], stores: int, weeks: int, seed: int) -> pd.DataFrame:
    """Weekly Poisson demand of ``stores`` stores per item, mean 12 · (1 + a · sin(2π yr))."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2023-01-02", periods=weeks, freq="W-MON")
    yr = ((ds - EPOCH).days / 365.25).to_numpy()
    rows = []
    for item, a in amplitude.items():
        for s in range(stores):
            mu = 12.0 * (1.0 + a * np.sin(2 * np.pi * yr))
            rows.append(pd.DataFrame({"unique_id": f"{item}|{s}", "ds": ds, "y": rng.poisson(mu)}))
    return pd.concat(rows, ignore_index=True).assign(y=lambda d: d["y"].astype(float))


def _items(df: pd.DataFrame) -> dict[str, str]:
    return {u: u.split("|")[0] for u in df["unique_id"].unique()}


def test_pooled_index_recovers_a_known_sine_from_one_year() -> None:
    df = _panel({"A": 0.4, "B": 0.25}, stores=6, weeks=56, seed=1)
    index = fit_index(df, _items(df))
    assert index.amplitude("A|0") == pytest.approx(0.4, abs=0.06)
    assert index.amplitude("B|3") == pytest.approx(0.25, abs=0.06)
    # the factor of a date follows the sine: peak a quarter into the year, trough at 3/4
    peak = EPOCH + pd.Timedelta(days=round(365.25 * 25.25))
    trough = EPOCH + pd.Timedelta(days=round(365.25 * 25.75))
    f = index.factors("A|0", np.array([peak, trough], dtype="datetime64[ns]"))
    assert f[0] == pytest.approx(1.4, abs=0.08)
    assert f[1] == pytest.approx(0.6, abs=0.08)


def test_no_season_gives_an_index_of_exactly_one() -> None:
    df = _panel({"A": 0.0, "B": 0.0, "C": 0.0}, stores=5, weeks=WEEKS, seed=2)
    index = fit_index(df, _items(df))
    ds = df["ds"].unique()
    for uid in ("A|0", "B|1", "C|4"):
        assert np.array_equal(index.factors(uid, ds), np.ones(len(ds)))


def test_a_seasonal_item_does_not_give_its_season_to_a_flat_one() -> None:
    df = _panel({"A": 0.4, "F": 0.0}, stores=6, weeks=WEEKS, seed=3)
    index = fit_index(df, _items(df))
    assert index.amplitude("A|0") > 0.3
    assert index.amplitude("F|0") < 0.1


def _scores(values: dict[str, list[float]]) -> pd.DataFrame:
    rows = []
    for model, vals in values.items():
        for k, v in enumerate(vals):
            rows.append(
                {
                    "cutoff": k // 2,
                    "unique_id": f"s{k % 2}",
                    "model": model,
                    "demand_class": "smooth",
                    "c": v,
                    "mase": 1.0,
                }
            )
    return pd.DataFrame(rows)


def test_a_seasonal_challenger_must_win_by_the_margin() -> None:
    base = [1.0, 1.0, 1.0, 1.0]
    tie = _scores({"AutoETS": base, "AutoETS+season": base})
    assert choose_champions(tie, "c")["champion"].iloc[0] == "AutoETS"
    near = [v * (1 - CHALLENGER_MARGIN / 2) for v in base]
    assert (
        choose_champions(_scores({"AutoETS": base, "AutoETS+season": near}), "c")["champion"].iloc[
            0
        ]
        == "AutoETS"
    )
    better = [v * 0.9 for v in base]
    won = choose_champions(_scores({"AutoETS": base, "AutoETS+season": better}), "c")
    assert won["champion"].iloc[0] == "AutoETS+season"
    assert won["score"].iloc[0] == pytest.approx(0.9)


def test_candidates_are_compared_on_the_same_pairs() -> None:
    # the challenger misses one of 4 pairs (75 % coverage < 90 %): it is left out, although
    # its mean over the pairs it has is lower
    sc = _scores({"AutoETS": [1.0, 1.0, 1.0, 5.0], "AutoETS+season": [0.5, 0.5, 0.5, np.nan]})
    assert choose_champions(sc, "c")["champion"].iloc[0] == "AutoETS"


def _champion(amplitude: float, seed: int) -> str:
    df = _panel({"A": amplitude, "B": amplitude}, stores=4, weeks=WEEKS, seed=seed)
    data = validate_demand(df, source="test", freq="W-MON")
    st = Settings(
        horizon=8,
        lead_times=(4,),
        season=52,
        n_paths=100,
        candidates={"smooth": ("AutoETS", "AutoETS+season")},
        n_windows=4,
        step=6,
        sf_window=52,
        season_groups=_items(df),
        unconstrain=False,
    )
    fc = forecast(data, st)
    champs = dict(zip(fc.champions["demand_class"], fc.champions["champion"], strict=True))
    assert set(fc.forecasts["model"]) == {champs["smooth"]}
    return champs["smooth"]


def test_the_seasonal_candidate_wins_only_on_seasonal_data() -> None:
    assert _champion(0.45, seed=4) == "AutoETS+season"
    assert _champion(0.0, seed=5) == "AutoETS"


def test_base_model_names() -> None:
    assert base_model("AutoETS+season") == "AutoETS"
    assert base_model("SeasonalNaive") == "SeasonalNaive"


@settings(max_examples=20, deadline=None)
@given(
    days=st.lists(st.integers(-20_000, 20_000), min_size=1, max_size=40),
    seconds=st.integers(0, 86_399),
)
def test_years_since_epoch_floors_whole_days(days: list[int], seconds: int) -> None:
    ds = EPOCH + pd.to_timedelta(days, unit="D") + pd.Timedelta(seconds=seconds)
    want = (pd.Series(ds) - EPOCH).dt.days.to_numpy(float) / 365.25
    assert np.array_equal(years_since_epoch(ds.to_numpy()), want)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), pools=st.integers(1, 4))
def test_factors_at_equal_the_factors_of_each_series(seed: int, pools: int) -> None:
    amps = {f"P{k}": a for k, a in enumerate([0.4, 0.0, 0.3, 0.6][:pools])}
    df = _panel(amps, stores=3, weeks=WEEKS, seed=seed).sample(frac=1.0, random_state=seed)
    index = fit_index(df, _items(df))
    ids = np.concatenate([df["unique_id"].to_numpy(), np.array(["unknown|0"] * 3)])
    ds = np.concatenate([df["ds"].to_numpy(), df["ds"].to_numpy()[:3]])
    got = index.factors_at(ids, ds)
    for uid in np.unique(ids):
        rows = ids == uid
        assert np.array_equal(got[rows], index.factors(str(uid), ds[rows]))


def _index_digest(groups_by_item: bool) -> str:
    df = _panel({"a": 0.4, "b": 0.0, "c": 0.2}, 3, 70, 5)
    df.loc[df["unique_id"] == "b|2", "y"] = 0.0  # an all-zero series: no level, no profile
    df = df.sample(frac=1.0, random_state=1).reset_index(drop=True)
    index = fit_index(df, _items(df) if groups_by_item else None)
    blob = repr(sorted(index.pool_of.items())).encode()
    blob += b"".join(k.encode() + index.coef[k].tobytes() for k in sorted(index.coef))
    return hashlib.sha256(blob).hexdigest()[:16]


def test_fit_index_known_answer_of_the_per_series_pandas_code() -> None:
    """Bit-identical to the code before the index grouped its table once by integer codes
    (digests of every pool's coefficients, recorded with that code)."""
    assert _index_digest(groups_by_item=True) == "eed1012169b9738a"
    assert _index_digest(groups_by_item=False) == "55ef94d84d7fa77a"
