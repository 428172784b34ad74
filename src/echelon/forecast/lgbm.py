"""Global LightGBM quantile model (mlforecast) with feature-contribution explanations.

One LightGBM regressor for the mean (L2) and one per quantile level (objective
``quantile``), trained on all series at once on a per-series standardized target
(``LocalStandardScaler``). All lags are >= the horizon H, so every feature is known at
the forecast origin and no prediction is fed back (a direct model; quantile models never
see their own forecasts). Features: lags H, H+s, …, H+4s (s = season length), rolling
mean/std of lag H, seasonal rolling mean, calendar features and the exogenous columns.
LightGBM always runs with ``n_jobs=1`` (threads oversubscribe small machines).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from mlforecast import MLForecast
from mlforecast.lag_transforms import RollingMean, RollingStd, SeasonalRollingMean
from mlforecast.target_transforms import LocalStandardScaler

from echelon.forecast.metrics import qcol

DEFAULT_PARAMS: dict[str, Any] = {
    "n_estimators": 300,
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_child_samples": 20,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.8,
    "n_jobs": 1,
    "verbosity": -1,
}


@dataclass
class LGBMQuantileModel:
    """Fit/predict wrapper; ``taus`` are the quantile levels, ``train_window`` periods kept."""

    freq: str
    season: int
    taus: Sequence[float]
    exog: Sequence[str] = ()
    train_window: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    mlf: MLForecast | None = None
    rho: pd.Series | None = None
    horizon: int = 0

    def _features(self, h: int) -> dict[str, Any]:
        s = max(self.season, 1)
        lags = sorted({h + k * s for k in range(5)} | ({364} if s == 7 and h <= 364 else set()))
        tr: list[Any] = [RollingMean(window_size=s), RollingMean(window_size=4 * s)]
        tr.append(RollingStd(window_size=4 * s))
        if s > 1:
            tr.append(SeasonalRollingMean(season_length=s, window_size=4))
        f = self.freq.upper()
        if f.startswith(("D", "B")):
            dates = ["dayofweek", "day", "month", "dayofyear"]
        elif f.startswith("W"):
            dates = ["week", "month"]
        elif f.startswith(("M", "Q")):
            dates = ["month"]
        else:
            dates = []
        return {"lags": lags, "lag_transforms": {h: tr}, "date_features": dates}

    def fit(self, df: pd.DataFrame, h: int) -> LGBMQuantileModel:
        """Fit on ``df`` (unique_id, ds, y and the exogenous columns) for horizon ``h``."""
        params = {**DEFAULT_PARAMS, **self.params, "n_jobs": 1, "random_state": self.seed}
        models: dict[str, Any] = {"mean": lgb.LGBMRegressor(**params)}
        for t in self.taus:
            models[qcol(t)] = lgb.LGBMRegressor(objective="quantile", alpha=float(t), **params)
        cols = ["unique_id", "ds", "y", *self.exog]
        data = df[cols]
        if self.train_window is not None:
            last = data.groupby("unique_id")["ds"].transform("max")
            off = pd.tseries.frequencies.to_offset(self.freq)
            keep = data["ds"] > last - off * (self.train_window + 5 * max(self.season, 1) + h)
            data = data[keep]
        self.mlf = MLForecast(
            models=models,
            freq=self.freq,
            target_transforms=[LocalStandardScaler()],
            num_threads=1,
            **self._features(h),
        )
        self.mlf.fit(data, static_features=[], fitted=True)
        fv = self.mlf.forecast_fitted_values()
        res = (fv["y"] - fv["mean"]).to_numpy()
        fr = pd.DataFrame({"unique_id": fv["unique_id"].to_numpy(), "r": res})
        fr["r1"] = fr.groupby("unique_id")["r"].shift(1)
        self.rho = (
            fr.dropna()
            .groupby("unique_id")[["r", "r1"]]
            .apply(lambda g: float(np.corrcoef(g["r"], g["r1"])[0, 1]) if len(g) > 2 else 0.0)
        )
        self.horizon = h
        return self

    def _future(self, X_df: pd.DataFrame | None) -> pd.DataFrame | None:
        if not self.exog:
            return None
        if X_df is None:
            raise ValueError(f"future values of {list(self.exog)} are needed (X_df)")
        return X_df[["unique_id", "ds", *self.exog]]

    def predict(self, h: int, X_df: pd.DataFrame | None = None) -> pd.DataFrame:
        """unique_id, ds, mean and sorted (non-crossing) quantile columns, floored at 0."""
        if self.mlf is None:
            raise RuntimeError("fit the model first")
        if h > self.horizon:
            raise ValueError(f"horizon {h} > fitted horizon {self.horizon}")
        p = self.mlf.predict(h, X_df=self._future(X_df))
        qc = [qcol(t) for t in self.taus]
        order = np.argsort(self.taus)
        q = p[qc].to_numpy()
        q[:, order] = np.sort(q[:, order], axis=1)
        p[qc] = np.clip(q, 0.0, None)
        p["mean"] = p["mean"].clip(lower=0.0)
        return p.sort_values(["unique_id", "ds"]).reset_index(drop=True)

    def explain(
        self, h: int, X_df: pd.DataFrame | None = None, model: str = "mean"
    ) -> pd.DataFrame:
        """Per-forecast SHAP contributions (LightGBM ``pred_contrib``) of model ``model``.

        Returns unique_id, ds, one column per feature, ``bias`` (expected value) and
        ``prediction``; features + bias sum to the prediction, which is in the per-series
        standardized target scale (forecast = prediction × series std + series mean).
        """
        if self.mlf is None:
            raise RuntimeError("fit the model first")
        captured: list[pd.DataFrame] = []

        def grab(x: pd.DataFrame) -> pd.DataFrame:
            if len(captured) < h:
                captured.append(x.copy())
            return x

        preds = self.mlf.predict(h, before_predict_callback=grab, X_df=self._future(X_df))
        booster: Any = self.mlf.models_[model]
        frames = []
        uids = preds["unique_id"].drop_duplicates().tolist()
        by_uid = preds.groupby("unique_id", sort=False)["ds"].apply(list).to_dict()
        for step, x in enumerate(captured):
            contrib = booster.predict(x, pred_contrib=True)
            f = pd.DataFrame(contrib, columns=[*list(x.columns), "bias"])
            f["prediction"] = booster.predict(x)
            f.insert(0, "ds", [by_uid[u][step] for u in uids])
            f.insert(0, "unique_id", uids)
            frames.append(f)
        return pd.concat(frames).sort_values(["unique_id", "ds"]).reset_index(drop=True)


def quantile_cube(pred: pd.DataFrame, uids: Sequence[str], taus: Sequence[float]) -> np.ndarray:
    """Reshape a sorted prediction frame to (n_series, H, K) in the order of ``uids``."""
    p = pred.set_index("unique_id").loc[list(uids)]
    n = len(uids)
    h = len(p) // n
    return p[[qcol(t) for t in taus]].to_numpy().reshape(n, h, len(taus))
