"""Candidate models: known answers (Croston/SBA), paths, group borrowing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from echelon.forecast.classify import classify
from echelon.forecast.models import (
    assign,
    empirical_quantile,
    group_borrow,
    run_statsforecast,
)


def _one(y: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {"unique_id": "a", "ds": pd.date_range("2020-01-01", periods=len(y), freq="MS"), "y": y}
    )


def test_croston_and_sba_hand_computed() -> None:
    # sizes 3, 6, 2 and intervals 2, 3, 2, smoothed with alpha = 0.1 from the first value:
    # size 3 → 3.3 → 3.17; interval 2 → 2.1 → 2.09; Croston = 3.17 / 2.09, SBA = 0.95 × that
    train = _one([0, 3, 0, 0, 6, 0, 2])
    out = run_statsforecast(
        train,
        3,
        {"CrostonClassic": {"compound": ["a"]}, "CrostonSBA": {"compound": ["a"]}},
        freq="MS",
        season=12,
        taus=[0.5],
        n_paths=20_000,
        seed=0,
    )
    assert out["CrostonClassic"].mean[0] == pytest.approx([3.17 / 2.09] * 3)
    assert out["CrostonSBA"].mean[0] == pytest.approx([0.95 * 3.17 / 2.09] * 3)
    # the compound paths reproduce the model mean
    q = out["CrostonSBA"]
    assert q.quantiles.shape == (1, 3, 1)


def test_simulated_paths_for_smooth_series() -> None:
    rng = np.random.default_rng(0)
    y = 50 + 10 * np.sin(np.arange(120) * 2 * np.pi / 12) + rng.normal(0, 2, 120)
    train = _one(list(y))
    taus = [0.1, 0.5, 0.9]
    out = run_statsforecast(
        train,
        6,
        {"AutoETS": {"simulate": ["a"]}},
        freq="MS",
        season=12,
        taus=taus,
        lead_times=[3],
        n_paths=300,
        seed=0,
        keep_paths=True,
    )["AutoETS"]
    assert out.paths is not None and out.paths.shape == (1, 300, 6)
    assert np.all(np.diff(out.quantiles, axis=2) >= 0)
    m, _, q = out.leadtime[3]
    assert m[0] == pytest.approx(out.mean[0, :3].sum())
    assert q[0, 0] < m[0] < q[0, 2]


def test_assign_routes_by_class() -> None:
    df = pd.concat(
        [
            _one([5, 6, 5, 7, 6, 5, 6, 5] * 4).assign(unique_id="smooth"),
            _one([0, 0, 5, 0, 0, 5, 0, 0] * 4).assign(unique_id="int"),
        ]
    )
    a = assign(classify(df), season=12)
    assert a["AutoETS"] == {"simulate": ["smooth"]}
    assert a["CrostonSBA"] == {"compound": ["int"]}
    assert a["HistoricAverage"] == {"simulate": ["smooth"], "compound": ["int"]}
    assert "SeasonalNaive" in a  # 32 >= 2 × 12


def test_group_borrowing_for_new_items() -> None:
    rng = np.random.default_rng(1)
    ds = pd.date_range("2020-01-01", periods=40, freq="D")
    frames = [
        pd.DataFrame({"unique_id": f"old{i}", "ds": ds, "y": rng.poisson(8, 40).astype(float)})
        for i in range(4)
    ]
    frames.append(pd.DataFrame({"unique_id": "new", "ds": ds[-2:], "y": [0.0, 0.0]}))
    train = pd.concat(frames)
    rates, pools = group_borrow(train, ["new"], None, recent=14, k=6)
    r = rates.set_index("unique_id").loc["new", "rate"]
    group = train[train["unique_id"] != "new"].groupby("unique_id").tail(14)["y"].mean()
    assert r == pytest.approx(6 * group / 8)  # (2 × 0 + 6 × group) / (2 + 6)
    assert len(pools["new"]) > 0


def test_empirical_quantile_baseline() -> None:
    train = _one([1.0, 2.0, 3.0, 4.0])
    out = empirical_quantile(train, ["a"], 2, freq="MS", taus=[0.5], lead_times=[2])
    assert out.quantiles[0, :, 0].tolist() == [2.5, 2.5]
    assert out.leadtime[2][2][0, 0] == 5.0
