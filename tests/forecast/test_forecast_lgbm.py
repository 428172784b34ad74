"""Global LightGBM quantile model on a small M5 slice: shapes, order, explanations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from echelon.forecast.lgbm import LGBMQuantileModel, quantile_cube

FAST = {"n_estimators": 40, "num_leaves": 15}


@pytest.fixture(scope="module")
def fitted(m5_small: pd.DataFrame):
    h = 7
    cut = m5_small["ds"].max() - pd.Timedelta(days=h)
    train = m5_small[m5_small["ds"] <= cut]
    fut = m5_small[m5_small["ds"] > cut]
    model = LGBMQuantileModel(
        freq="D", season=7, taus=[0.1, 0.5, 0.9], exog=["snap", "event"], params=FAST
    ).fit(train, h)
    return model, fut, h


def test_quantiles_ordered_and_nonnegative(fitted) -> None:
    model, fut, h = fitted
    p = model.predict(h, fut)
    assert list(p.columns[:3]) == ["unique_id", "ds", "mean"]
    assert len(p) == 4 * h
    q = p[["q0.1", "q0.5", "q0.9"]].to_numpy()
    assert np.all(np.diff(q, axis=1) >= 0) and np.all(q >= 0)
    cube = quantile_cube(p, sorted(p["unique_id"].unique()), [0.1, 0.5, 0.9])
    assert cube.shape == (4, h, 3)
    assert model.rho is not None and model.rho.between(-1, 1).all()
    assert all(m.get_params()["n_jobs"] == 1 for m in model.mlf.models_.values())


def test_contributions_sum_to_prediction(fitted) -> None:
    model, fut, h = fitted
    ex = model.explain(h, fut, model="mean")
    assert len(ex) == 4 * h
    feats = [c for c in ex.columns if c not in ("unique_id", "ds", "prediction")]
    assert "bias" in feats and "snap" in feats and "lag7" in feats
    np.testing.assert_allclose(ex[feats].sum(axis=1), ex["prediction"], rtol=1e-6, atol=1e-9)
    # the standardized prediction maps affinely (per series) onto the forecast mean
    pred = model.predict(h, fut)
    for uid, g in ex.merge(pred, on=["unique_id", "ds"]).groupby("unique_id"):
        slope, icpt = np.polyfit(g["prediction"], g["mean"], 1)
        assert slope > 0, uid
        np.testing.assert_allclose(slope * g["prediction"] + icpt, g["mean"], rtol=1e-6)


def test_horizon_longer_than_fitted_is_refused(fitted) -> None:
    model, fut, h = fitted
    with pytest.raises(ValueError):
        model.predict(h + 1, fut)
