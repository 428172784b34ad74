"""The tabular CUSUM: hand-computed signals and the textbook run lengths (Montgomery, Table
9.3: k = 0.5, h = 5 → ARL 465 in control, 10.4 at a 1 σ shift, 2.57 at 3 σ)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from echelon.monitor.drift import alarms, cusum, to_exception
from echelon.plan.model import ExceptionKind


def test_hand_computed_signal() -> None:
    # C+ = 1.5, 3.0, 4.5, 6.0 > 5 at index 3, then restarts: 1.5 ...
    assert cusum(np.array([2.0, 2.0, 2.0, 2.0, 2.0])) == [(3, "up", 6.0)]
    # C- = 0.5, 1.5, 3.5, 5.5 > 5 at index 3
    assert cusum(np.array([-1.0, -1.5, -2.5, -2.5])) == [(3, "down", 5.5)]
    assert cusum(np.array([0.4, -0.4] * 100)) == []


def _run_lengths(shift: float, runs: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    z = rng.normal(shift, 1.0, size=runs * 4)
    lengths, start = [], 0
    for t, _, _ in cusum(z):
        lengths.append(t - start + 1)
        start = t + 1
    return float(np.mean(lengths))


def test_in_control_average_run_length_is_about_465() -> None:
    arl = _run_lengths(0.0, 100_000, seed=1)
    assert 400 < arl < 540


def test_shifted_average_run_lengths() -> None:
    assert 9.6 < _run_lengths(1.0, 20_000, seed=2) < 11.2
    assert 2.45 < _run_lengths(3.0, 5_000, seed=3) < 2.70


@given(st.lists(st.floats(-0.5, 0.5), max_size=200))
def test_errors_within_the_allowance_never_signal(z: list[float]) -> None:
    assert cusum(np.array(z)) == []


def _scores(errors: dict[tuple[str, str], list[float]]) -> pd.DataFrame:
    rows = []
    for (item, loc), z in errors.items():
        for w, e in enumerate(z):
            rows.append(
                {
                    "run_id": w + 1,
                    "item_id": item,
                    "location_id": loc,
                    "segment": "AX",
                    "period_start": pd.Timestamp("2024-01-01") + pd.Timedelta(weeks=w),
                    "actual": 100.0 + 10.0 * e,
                    "mean": 100.0,
                    "std": 10.0,
                }
            )
    return pd.DataFrame(rows)


def test_alarms_per_series_from_scores() -> None:
    scores = _scores({("A", "S1"): [0.0] * 5 + [3.0] * 3, ("A", "S2"): [0.3, -0.3] * 4})
    (alarm,) = alarms(scores)
    assert (alarm.item_id, alarm.location_id, alarm.direction) == ("A", "S1", "up")
    # C+ = 2.5, 5.0 (not above h), 7.5 on the third shifted week, 2024-02-19
    assert alarm.period_start == date(2024, 2, 19) and alarm.statistic == pytest.approx(7.5)
    exc = to_exception(alarm)
    assert exc.kind is ExceptionKind.FORECAST_BIAS and "above" in exc.message


def test_a_period_scored_by_two_runs_counts_once() -> None:
    once = _scores({("A", "S1"): [2.0, 2.0, 2.0]})
    twice = pd.concat([once, once.assign(run_id=once["run_id"] + 10)], ignore_index=True)
    assert alarms(twice) == alarms(once) == []
