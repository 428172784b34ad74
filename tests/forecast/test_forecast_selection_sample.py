"""Champion selection on a sample of series (``Settings.select_sample``): the sample holds
whole season pools and enough series of every class; the other series backtest only their
class's champion; without sampling (or with a sample of every series) nothing changes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from echelon.forecast.classify import classify
from echelon.forecast.data import validate_demand
from echelon.forecast.service import Settings, backtest, selection_sample

CANDIDATES = {
    "smooth": ("HistoricAverage", "Naive"),
    "erratic": ("HistoricAverage", "Naive"),
    "intermittent": ("CrostonSBA", "HistoricAverage"),
    "lumpy": ("CrostonSBA", "HistoricAverage"),
}


def _panel(items: int, stores: int, seed: int) -> pd.DataFrame:
    """Weekly demand: stationary Poisson (a flat mean: HistoricAverage beats Naive) for even
    items, sparse for odd ones; series ``item|store``."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2023-01-02", periods=60, freq="W-MON")
    rows = []
    for i in range(items):
        for s in range(stores):
            y = (
                rng.poisson(20.0, 60)
                if i % 2 == 0
                else rng.poisson(3.0, 60) * (rng.random(60) < 0.2)
            )
            rows.append(pd.DataFrame({"unique_id": f"I{i}|{s}", "ds": ds, "y": y.astype(float)}))
    return pd.concat(rows, ignore_index=True)


def _settings(df: pd.DataFrame, sample: int | None) -> Settings:
    return Settings(
        horizon=4,
        lead_times=(4,),
        n_windows=3,
        step=4,
        n_paths=50,
        candidates=dict(CANDIDATES),
        season_groups={u: u.split("|")[0] for u in df["unique_id"].unique()},
        select_sample=sample,
    )


def test_sample_takes_whole_pools_and_enough_of_every_class() -> None:
    df = _panel(items=12, stores=5, seed=1)
    st = _settings(df, 8)
    sample = selection_sample(df, st)
    assert sample is not None and sample == selection_sample(df, st)  # seeded
    pools = {u.split("|")[0] for u in sample}
    assert sample == {u for u in df["unique_id"].unique() if u.split("|")[0] in pools}
    cls = classify(df).set_index("unique_id")["demand_class"]
    counts = cls[sorted(sample)].value_counts()
    for c, n in cls.value_counts().items():
        assert counts.get(c, 0) >= min(8, n)
    assert len(sample) < df["unique_id"].nunique()
    assert selection_sample(df, _settings(df, 10_000)) is None
    assert selection_sample(df, _settings(df, None)) is None


def test_sampled_backtest_keeps_the_champions_and_scores_every_series() -> None:
    df = _panel(items=12, stores=5, seed=2)
    data = validate_demand(df, freq="W-MON")
    full = backtest(data, _settings(df, None), baseline=False)
    part = backtest(data, _settings(df, 8), baseline=False)
    champs = full.champions.set_index("demand_class")["champion"]
    assert part.champions.set_index("demand_class")["champion"].to_dict() == champs.to_dict()
    sample = selection_sample(df, _settings(df, 8))
    assert sample is not None
    scored = part.scores
    assert set(scored["unique_id"]) == set(df["unique_id"])
    rest = scored[~scored["unique_id"].isin(sample)]
    # the other series ran their class's champion only
    assert (rest["model"] == rest["demand_class"].map(champs)).all()
    in_sample = scored[scored["unique_id"].isin(sample)]
    assert in_sample.groupby("unique_id")["model"].nunique().min() == 2
    # the forecasts the error model reads cover every series at every origin
    per = part.forecasts.groupby(["unique_id", "cutoff"]).size()
    assert len(per) == df["unique_id"].nunique() * 3
