"""Censored demand: the bias of stockout-truncated sales is removed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from echelon.errors import DataError
from echelon.forecast.censored import (
    censored_poisson_mle,
    expected_given_at_least,
    unconstrain,
)


def _censored_panel(seed: int, rate: float = 10.0) -> pd.DataFrame:
    """Poisson demand; the stock on hand each day is random, sales = min(demand, stock)."""
    rng = np.random.default_rng(seed)
    n_series, n = 20, 300
    demand = rng.poisson(rate, (n_series, n)).astype(float)
    stock = rng.integers(6, 30, (n_series, n)).astype(float)
    sales = np.minimum(demand, stock)
    stockout = (demand >= stock).astype(int)
    ds = pd.date_range("2021-01-01", periods=n, freq="D")
    return pd.DataFrame(
        {
            "unique_id": np.repeat([f"s{i}" for i in range(n_series)], n),
            "ds": np.tile(ds, n_series),
            "y": sales.ravel(),
            "stockout": stockout.ravel(),
            "demand": demand.ravel(),
        }
    )


def test_expected_given_at_least_known_values() -> None:
    assert expected_given_at_least(np.array([4.0]), np.array([0.0]))[0] == pytest.approx(4.0)
    lam, s = 3.0, 5.0
    k = np.arange(5, 200)
    exact = (k * stats.poisson.pmf(k, lam)).sum() / stats.poisson.sf(4, lam)
    assert expected_given_at_least(np.array([lam]), np.array([s]))[0] == pytest.approx(exact)


def test_unconstraining_removes_bias() -> None:
    df = _censored_panel(0)
    share = df["stockout"].mean()
    assert 0.15 < share < 0.5  # a real amount of censoring
    true_mean = df["demand"].mean()
    naive_bias = df["y"].mean() / true_mean - 1
    fixed = unconstrain(df, window=28, season=1)
    fixed_bias = fixed["y"].mean() / true_mean - 1
    assert naive_bias < -0.05  # sales understate demand
    assert abs(fixed_bias) < 0.02  # unconstrained history is unbiased
    assert (fixed["y"] >= fixed["y_sales"]).all()
    assert (
        fixed.loc[fixed["stockout"] == 0, "y"] == fixed.loc[fixed["stockout"] == 0, "y_sales"]
    ).all()


def test_censored_mle_is_unbiased() -> None:
    df = _censored_panel(1)
    g = df[df["unique_id"] == "s0"]
    est = censored_poisson_mle(g["y"].to_numpy(), g["stockout"].to_numpy().astype(bool))
    naive = g["y"].mean()
    assert abs(est - 10.0) < 0.6
    assert naive < est


def test_seasonal_profile_is_used() -> None:
    rng = np.random.default_rng(2)
    n = 350
    rate = np.where(np.arange(n) % 7 >= 5, 30.0, 10.0)  # weekends triple
    demand = rng.poisson(rate).astype(float)
    stock = np.where(rng.random(n) < 0.3, np.floor(rate * 0.6), 1e9)
    df = pd.DataFrame(
        {
            "unique_id": "a",
            "ds": pd.date_range("2022-01-03", periods=n, freq="D"),
            "y": np.minimum(demand, stock),
            "stockout": (demand >= stock).astype(int),
        }
    )
    fixed = unconstrain(df, window=28, season=7)
    wk = (np.arange(n) % 7 >= 5) & (df["stockout"] == 1).to_numpy()
    assert fixed["y"].to_numpy()[wk].mean() == pytest.approx(30.0, rel=0.1)


def test_missing_flag_is_a_data_error() -> None:
    with pytest.raises(DataError, match="stockout"):
        unconstrain(pd.DataFrame({"unique_id": ["a"], "ds": [0], "y": [1.0]}))
