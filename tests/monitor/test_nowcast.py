"""Nowcasters on small panels with known answers; the backtest's choice; the LSTM."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from echelon.monitor.nowcast import (
    BASELINES,
    Panel,
    backtest,
    carry_forward,
    choose,
    mask_last_days,
    nowcast_frame,
    panel,
    reporting_ratio,
    seasonal_naive,
    unreported,
    wape,
)

DAYS = pd.date_range("2024-01-01", periods=63, freq="D")
WEEKLY = np.array([1.0, 1.0, 1.0, 1.0, 1.5, 2.0, 0.5])  # weekday pattern


def weekly_panel(levels: dict[tuple[str, str], float], shock: float = 1.0) -> Panel:
    """Series = level × weekday pattern; the last day multiplied by ``shock`` everywhere."""
    y = np.array([[lvl * WEEKLY[d.dayofweek] for d in DAYS] for lvl in levels.values()])
    y[:, -1] *= shock
    return Panel(list(levels), DAYS, y)


LEVELS = {("A", "S1"): 10.0, ("A", "S2"): 20.0, ("A", "S3"): 5.0, ("B", "S1"): 7.0}


def test_baselines_by_hand() -> None:
    p = weekly_panel(LEVELS)
    targets = np.zeros_like(p.y, dtype=bool)
    targets[0, -2:] = True  # A at S1: the last two days
    assert carry_forward(p, targets)[0, -2:].tolist() == [p.y[0, -3]] * 2
    assert seasonal_naive(p, targets)[0, -2:].tolist() == p.y[0, -9:-7].tolist()
    assert np.isnan(seasonal_naive(p, targets)[1:]).all()


def test_reporting_ratio_carries_the_day_s_common_shock() -> None:
    p = weekly_panel(LEVELS, shock=1.8)  # a holiday: every store sells 1.8× on the last day
    truth = p.y.copy()
    targets = np.zeros_like(p.y, dtype=bool)
    targets[0, -1] = True  # A at S1 has not reported; S2 and S3 have
    masked = Panel(p.series, p.days, np.where(targets, np.nan, p.y))
    est = reporting_ratio(masked, targets)
    assert est[0, -1] == pytest.approx(truth[0, -1])
    assert seasonal_naive(masked, targets)[0, -1] == pytest.approx(truth[0, -1] / 1.8)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from(sorted(BASELINES)))
def test_estimates_only_at_targets_and_never_negative(seed: int, name: str) -> None:
    rng = np.random.default_rng(seed)
    p = Panel(list(LEVELS), DAYS, rng.poisson(8.0, size=(4, len(DAYS))).astype(float))
    cut, mask = mask_last_days(p, len(DAYS) - 1, rng, share=0.5)
    est = BASELINES[name](cut, mask)
    assert not np.isnan(est[mask]).any() and (est[mask] >= 0).all()
    assert np.isnan(est[~mask]).all()


def test_unreported_cells_follow_each_series_last_report() -> None:
    p = weekly_panel(LEVELS)
    p.y[1, -2:] = np.nan
    p.y[3, -1] = np.nan
    lag = unreported(p)
    assert lag.sum() == 3 and lag[1, -2:].all() and lag[3, -1]


def test_the_backtest_chooses_the_lowest_wape() -> None:
    rng = np.random.default_rng(0)
    y = np.array([[lvl * WEEKLY[d.dayofweek] for d in DAYS] for lvl in LEVELS.values()])
    y *= rng.lognormal(0.0, 0.3, size=len(DAYS))[None, :]  # common daily shocks
    p = Panel(list(LEVELS), DAYS, y)
    scores = backtest(p, dict(BASELINES), [40, 47, 54, 61], seed=1, share=0.3)
    assert scores["zero"] == pytest.approx(1.0)
    assert choose(scores) == "reporting_ratio" == min(scores, key=scores.__getitem__)


def test_wape_by_hand() -> None:
    mask = np.array([[True, False, True]])
    assert wape(np.array([[8.0, 0.0, 3.0]]), np.array([[10.0, 99.0, 2.0]]), mask) == 3 / 12


def test_nowcast_frame_fills_the_late_store_with_the_backtest_winner() -> None:
    pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    days = pd.date_range("2023-01-02", periods=140, freq="D")
    shock = rng.lognormal(0.0, 0.25, size=len(days))
    rows = []
    for (item, store), lvl in LEVELS.items():
        for k, d in enumerate(days):
            if store == "S2" and k >= len(days) - 2:
                continue  # S2 has not reported its last two days
            rows.append((item, store, d, round(lvl * WEEKLY[d.dayofweek] * shock[k], 1)))
    demand = pd.DataFrame(rows, columns=["item_id", "location_id", "ds", "y"])
    out = nowcast_frame(demand, seed=0)
    assert set(out.scores) == {*BASELINES, "lstm"}
    assert out.method == min(out.scores, key=out.scores.__getitem__)
    assert out.scores[out.method] < out.scores["seasonal_naive"]
    assert list(zip(out.rows.location_id, out.rows.ds.dt.day, strict=True)) == [
        ("S2", days[-2].day),
        ("S2", days[-1].day),
    ]
    assert (out.rows.method == out.method).all() and (out.rows.y >= 0).all()
    assert panel(demand).y.shape == (4, 140)


def test_the_lstm_is_deterministic_for_a_seed() -> None:
    pytest.importorskip("torch")
    from echelon.monitor.lstm import LstmNowcaster

    rng = np.random.default_rng(5)
    p = Panel(
        list(LEVELS),
        pd.date_range("2023-01-02", periods=90, freq="D"),
        rng.poisson(9.0, size=(4, 90)).astype(float),
    )
    targets = np.zeros_like(p.y, dtype=bool)
    targets[2, -1] = True
    one = LstmNowcaster(seed=1, epochs=1).fit(p)(p, targets)
    two = LstmNowcaster(seed=1, epochs=1).fit(p)(p, targets)
    assert one[2, -1] == two[2, -1] and one[2, -1] >= 0
