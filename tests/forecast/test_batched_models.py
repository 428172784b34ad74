"""The batched simple models equal statsforecast's forecasts (means and Gaussian intervals)
on seeded random series of mixed lengths: short (1–3 periods), all-zero, intermittent,
smooth, and longer than NumPy's pairwise-summation block (128)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from statsforecast import StatsForecast
from statsforecast.models import (
    TSB,
    CrostonClassic,
    CrostonSBA,
    HistoricAverage,
    Naive,
    SeasonalNaive,
    SimpleExponentialSmoothing,
)

from echelon.forecast import batched as bt

H = 6
LEVELS = [50, 80, 90]
TAUS = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)


def random_series(seed: int, n: int = 60) -> list[np.ndarray]:
    """Seeded histories (units per period): lengths 1 … 200, smooth / intermittent / zero."""
    rng = np.random.default_rng(seed)
    out = [np.zeros(1), np.array([3.0]), np.array([0.0, 2.0]), np.zeros(7), np.array([1.0, 0, 4])]
    for k in range(n):
        length = int(rng.choice([4, 9, 26, 52, 53, 104, 130, 200]))
        kind = k % 3
        if kind == 0:
            y = rng.gamma(3.0, 4.0, length).round(2)
        elif kind == 1:
            y = rng.poisson(0.4, length) * rng.integers(1, 9, length)
        else:
            y = rng.negative_binomial(2, 0.3, length)
        out.append(np.asarray(y, float))
    return out


def frame(ys: list[np.ndarray]) -> pd.DataFrame:
    parts = []
    for i, y in enumerate(ys):
        ds = pd.date_range("2020-01-06", periods=len(y), freq="W-MON")
        parts.append(pd.DataFrame({"unique_id": f"s{i:04d}", "ds": ds, "y": y}))
    return pd.concat(parts, ignore_index=True)


def sf_forecast(model: object, ys: list[np.ndarray], level: bool) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sf = StatsForecast(models=[model], freq="W-MON", n_jobs=1)
        kw = {"level": LEVELS} if level else {}
        return sf.forecast(df=frame(ys), h=H, **kw)


def wide(f: pd.DataFrame, col: str, n: int) -> np.ndarray:
    return f.sort_values(["unique_id", "ds"])[col].to_numpy(float).reshape(n, H)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_history_matrix_keeps_each_series(seed: int) -> None:
    ys = random_series(seed)
    hist = bt.History.from_arrays(ys)
    for i, y in enumerate(ys):
        np.testing.assert_array_equal(hist.row(i), y)
    assert (hist.lengths == [len(y) for y in ys]).all()


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    ("name", "make", "season"),
    [
        ("HistoricAverage", HistoricAverage, 1),
        ("Naive", Naive, 1),
        ("SeasonalNaive", lambda: SeasonalNaive(season_length=4), 4),
        ("SeasonalNaive", lambda: SeasonalNaive(season_length=52), 52),
    ],
)
def test_gaussian_models_equal_statsforecast(
    seed: int, name: str, make: object, season: int
) -> None:
    ys = random_series(seed)
    if name == "SeasonalNaive":  # statsforecast's σ divides by n − m: only n > m
        ys = [y for y in ys if len(y) > season]
    got = {
        "HistoricAverage": lambda: bt.historic_average(hist, H),
        "Naive": lambda: bt.naive(hist, H),
        "SeasonalNaive": lambda: bt.seasonal_naive(hist, H, season),
    }
    hist = bt.History.from_arrays(ys)
    fit = got[name]()
    want = sf_forecast(make(), ys, level=True)  # type: ignore[operator]
    n = len(ys)
    np.testing.assert_array_equal(fit.mean, wide(want, name, n))
    q = bt.gaussian_quantiles(fit.mean, fit.sigmah, TAUS)
    for k, tau in enumerate(TAUS):
        if tau == 0.5:
            np.testing.assert_array_equal(q[..., k], fit.mean)
            continue
        lv = round(100 * abs(2 * tau - 1))
        col = f"{name}-{'lo' if tau < 0.5 else 'hi'}-{lv}"
        np.testing.assert_allclose(q[..., k], wide(want, col, n), rtol=1e-12, atol=1e-10)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_intermittent_models_and_ses_equal_statsforecast(seed: int) -> None:
    ys = random_series(seed)
    hist = bt.History.from_arrays(ys)
    n = len(ys)
    models = [
        CrostonClassic(),
        CrostonSBA(),
        TSB(alpha_d=0.1, alpha_p=0.1),
        TSB(alpha_d=0.3, alpha_p=0.05, alias="TSB2"),
        SimpleExponentialSmoothing(alpha=0.2),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sf = StatsForecast(models=models, freq="W-MON", n_jobs=1)
        want = sf.forecast(df=frame(ys), h=H)
    cols = [c for c in want.columns if c not in ("unique_id", "ds")]
    got = [
        bt.croston(hist, H),
        bt.croston(hist, H, sba=True),
        bt.tsb(hist, H, 0.1, 0.1),
        bt.tsb(hist, H, 0.3, 0.05),
        bt.ses(hist, H, 0.2),
    ]
    for col, g in zip(cols, got, strict=True):
        np.testing.assert_array_equal(g, wide(want, col, n), err_msg=col)


def test_bootstrap_paths_resample_the_residuals() -> None:
    ys = random_series(5, 12)
    hist = bt.History.from_arrays(ys)
    fits = (("HistoricAverage", bt.historic_average(hist, H)), ("Naive", bt.naive(hist, H)))
    for name, fit in fits:
        paths = bt.bootstrap_paths(name, fit, 300, seed=0)
        again = bt.bootstrap_paths(name, fit, 300, seed=0)
        np.testing.assert_array_equal(paths, again)
        assert paths.shape == (len(ys), 300, H)
        for i in range(len(ys)):
            r = fit.residuals[i][~np.isnan(fit.residuals[i])]
            step = paths[i, :, 0] - fit.mean[i, 0]
            if not len(r):
                assert (step == 0).all()
                continue
            # every first-step draw is one of the series' own residuals
            assert np.isin(np.round(step, 9), np.round(r, 9)).all()
            if name == "Naive" and H > 1:
                inc = np.round(paths[i, :, 1] - paths[i, :, 0], 9)
                assert np.isin(inc, np.round(r, 9)).all()
