"""AutoETS sample paths simulated in numba equal statsforecast's ``simulate`` bit for bit."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsforecast import StatsForecast
from statsforecast.models import AutoETS

from echelon.forecast.ets_paths import _draw_index, autoets_paths


def _series(rng: np.random.Generator, n: int, season: int, intermittent: bool) -> pd.DataFrame:
    rows = []
    for i in range(n):
        length = int(rng.integers(20, 70))
        t = np.arange(length)
        level = rng.gamma(2.0, 5.0 + i, length) * (1 + 0.3 * np.sin(2 * np.pi * t / max(season, 2)))
        y = level + (0.2 * t if i % 3 == 0 else 0.0) + 1.0
        if intermittent:
            y = np.where(rng.random(length) < 0.4, np.round(y), 0.0)
        ds = pd.date_range("2021-01-04", periods=length, freq="W-MON")
        rows.append(pd.DataFrame({"unique_id": f"s{i:03d}", "ds": ds, "y": y}))
    return pd.concat(rows, ignore_index=True)


def _statsforecast(model: AutoETS, df: pd.DataFrame, h: int, paths: int, seed: int) -> np.ndarray:
    sf = StatsForecast(models=[model], freq="W-MON", n_jobs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sim = sf.simulate(h=h, df=df, n_paths=paths, seed=seed, error_distribution="bootstrap")
    sim = sim.sort_values(["unique_id", "sample_id", "ds"])
    return sim["AutoETS"].to_numpy(float).reshape(df["unique_id"].nunique(), paths, h)


def _ours(model: AutoETS, df: pd.DataFrame, h: int, paths: int, seed: int) -> np.ndarray:
    ys = [g["y"].to_numpy(float) for _, g in df.groupby("unique_id", sort=True)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return autoets_paths(model, ys, h, paths, seed)


@pytest.mark.parametrize(
    ("season", "spec"),
    [(52, "ZZZ"), (12, "ZZZ"), (4, "AAA"), (4, "MAM"), (1, "MAN"), (1, "MNN"), (1, "AAN")],
)
def test_paths_equal_statsforecast(season: int, spec: str) -> None:
    rng = np.random.default_rng(season * 7 + len(spec))
    df = _series(rng, 12, season, intermittent=False)
    want = _statsforecast(AutoETS(season_length=season, model=spec), df, 13, 60, 5)
    got = _ours(AutoETS(season_length=season, model=spec), df, 13, 60, 5)
    assert np.array_equal(got, want, equal_nan=True)


@settings(max_examples=8, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    h=st.integers(1, 14),
    paths=st.integers(1, 40),
    intermittent=st.booleans(),
)
def test_paths_equal_statsforecast_on_random_series(
    seed: int, h: int, paths: int, intermittent: bool
) -> None:
    df = _series(np.random.default_rng(seed), 4, 52, intermittent)
    model = AutoETS(season_length=52)
    want = _statsforecast(model, df, h, paths, seed % 1000)
    assert np.array_equal(_ours(model, df, h, paths, seed % 1000), want, equal_nan=True)
    # statsforecast leaves NumPy's global generator seeded with the last series' seed
    after = np.random.get_state()[1].copy()  # type: ignore[index]
    _statsforecast(model, df, h, paths, seed % 1000)
    assert np.array_equal(np.random.get_state()[1], after)  # type: ignore[index]


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**63 - 1), n=st.integers(1, 5000), k=st.integers(1, 300))
def test_index_draws_equal_numpy_choice(seed: int, n: int, k: int) -> None:
    """Draws split over calls of ``h`` values, as the residual bootstrap makes them."""
    g = np.random.default_rng(seed)
    want = np.concatenate([g.integers(0, n, 7) for _ in range(k)])
    words = np.random.PCG64(seed).random_raw(4 * k + 8)
    pos = np.zeros(2, np.int64)
    got = np.array([_draw_index(words, pos, n) for _ in range(7 * k)])
    assert pos[1] == 0 and np.array_equal(got, want)


def test_running_out_of_raw_outputs_is_signalled() -> None:
    words = np.random.PCG64(3).random_raw(2)
    pos = np.zeros(2, np.int64)
    draws = [_draw_index(words, pos, 10) for _ in range(5)]
    assert pos[1] == -1 and len(draws) == 5
