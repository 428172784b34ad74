"""The measured error process of the CUSUM: AR(1) fit, whitening, the causal (expanding
window) whitening and the in-control run length under autocorrelation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from echelon.monitor.drift import (
    NULL_PROCESS,
    ErrorProcess,
    alarms,
    causal_whitened,
    fit_process,
    in_control_arl,
    latest_scores,
    whiten,
)


def ar1_scores(phi: float, std: float, series: int, weeks: int, seed: int) -> pd.DataFrame:
    """Scores whose standardized errors are a stationary AR(1) (lag-1 autocorrelation
    ``phi``, std ``std``) per series; forecast mean 100, std 10."""
    rng = np.random.default_rng(seed)
    z = np.empty((series, weeks))
    z[:, 0] = rng.standard_normal(series)
    for t in range(1, weeks):
        z[:, t] = phi * z[:, t - 1] + np.sqrt(1 - phi**2) * rng.standard_normal(series)
    days = pd.Timestamp("2024-01-01") + pd.to_timedelta(7 * np.arange(weeks), unit="D")
    return pd.DataFrame(
        {
            "run_id": np.tile(np.arange(weeks) + 1, series),
            "item_id": np.repeat([f"I{i}" for i in range(series)], weeks),
            "location_id": "S1",
            "segment": "AX",
            "period_start": np.tile(days, series),
            "actual": 100.0 + 10.0 * std * z.ravel(),
            "mean": 100.0,
            "std": 10.0,
        }
    )


def test_the_textbook_arl_and_its_collapse_under_autocorrelation() -> None:
    assert 400 < in_control_arl(0.0, chains=3000, periods=3000, seed=1) < 540
    assert in_control_arl(0.5, chains=3000, seed=2) < 80  # the N(0, 1) design no longer holds


def test_fit_process_recovers_an_ar1() -> None:
    proc = fit_process(ar1_scores(0.5, 2.0, series=200, weeks=60, seed=3))
    assert proc.phi == pytest.approx(0.5, abs=0.04) and proc.std == pytest.approx(2.0, rel=0.05)
    assert abs(proc.mean) < 0.1 and proc.pairs == 200 * 59
    few = fit_process(ar1_scores(0.5, 1.0, series=2, weeks=10, seed=4))
    assert few.phi == 0.0 and few.pairs < 30  # too few pairs: no autocorrelation assumed


def test_whitened_errors_are_independent_unit_innovations() -> None:
    scores = ar1_scores(0.6, 1.5, series=200, weeks=100, seed=5)
    z = latest_scores(scores)["z"].to_numpy().reshape(200, 100)
    w = np.stack([whiten(row, ErrorProcess(0.0, 1.5, 0.6, 1)) for row in z])[:, 1:].ravel()
    assert np.std(w) == pytest.approx(1.0, abs=0.03)
    assert abs(np.corrcoef(w[:-1], w[1:])[0, 1]) < 0.03  # across a row end: independent too
    assert np.array_equal(whiten(np.array([1.0, 2.0]), NULL_PROCESS), [1.0, 2.0])


def test_causal_whitening_never_uses_the_period_it_judges() -> None:
    scores = ar1_scores(0.5, 1.0, series=20, weeks=30, seed=6)
    latest = latest_scores(scores)
    w = causal_whitened(latest)
    early = latest["period_start"] < pd.Timestamp("2024-01-15")  # < 30 pairs before them
    assert np.array_equal(w[early.to_numpy()], latest.loc[early, "z"].to_numpy())
    later = scores.assign(actual=np.where(scores["period_start"] >= pd.Timestamp("2024-05-01"),
                                          scores["actual"] + 500.0, scores["actual"]))  # fmt: skip
    w2 = causal_whitened(latest_scores(later))
    before = (latest["period_start"] < pd.Timestamp("2024-05-01")).to_numpy()
    assert np.allclose(w[before], w2[before]) and not np.allclose(w, w2)


def test_whitening_brings_false_alarms_back_to_the_design_rate() -> None:
    scores = ar1_scores(0.5, 1.0, series=100, weeks=104, seed=7)
    textbook = len(alarms(scores, process=NULL_PROCESS))
    whitened = len(alarms(scores))  # measured on the earlier periods
    weeks = 100 * 104
    assert textbook / weeks > 3 * whitened / weeks  # autocorrelation: several times the rate
    assert whitened / weeks < 2.0 / 465  # about the N(0, 1) design's 1 in 465
