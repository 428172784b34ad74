"""Forecast scores: only complete periods are scored; metrics against hand computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from echelon.monitor.scoring import first_period_scores, pinball_loss, segment_metrics


def test_only_series_with_every_day_reported_are_scored() -> None:
    days = pd.date_range("2024-04-22", periods=7, freq="D")
    demand = pd.concat(
        [
            pd.DataFrame({"item_id": "A", "location_id": "S1", "ds": days, "y": 2.0}),
            pd.DataFrame({"item_id": "A", "location_id": "S2", "ds": days[:6], "y": 1.0}),
            pd.DataFrame(
                {"item_id": "A", "location_id": "S1", "ds": days + pd.Timedelta(days=7), "y": 50.0}
            ),
        ]
    )
    forecasts = pd.DataFrame(
        {
            "item_id": ["A", "A"],
            "location_id": ["S1", "S2"],
            "segment": ["AX", "BX"],
            "mean": [13.0, 7.0],
            "std": [2.0, 1.0],
        }
    )
    scores = first_period_scores(4, pd.Timestamp("2024-04-22"), 7, forecasts, demand)
    assert list(scores["location_id"]) == ["S1"]
    assert float(scores["actual"].iloc[0]) == 14.0 and int(scores["run_id"].iloc[0]) == 4


def test_segment_metrics_by_hand() -> None:
    scores = pd.DataFrame(
        {
            "segment": ["A", "A", "B"],
            "actual": [10.0, 20.0, 5.0],
            "mean": [12.0, 15.0, 5.0],
            "std": [1.0, 10.0, 1.0],
        }
    )
    m = segment_metrics(scores).set_index("segment")
    assert m.loc["A", "wape"] == pytest.approx((2 + 5) / 30)
    assert m.loc["A", "bias"] == pytest.approx((2 - 5) / 30)
    assert m.loc["all", "wape"] == pytest.approx(7 / 35)
    # 80% interval m ± 1.2816 s: 10 ∉ [10.72, 13.28], 20 ∈ [2.18, 27.8], 5 ∈ [3.72, 6.28]
    assert m.loc["A", "coverage"] == 0.5 and m.loc["B", "coverage"] == 1.0
    a, mu, s = np.array([10.0, 20.0]), np.array([12.0, 15.0]), np.array([1.0, 10.0])
    expected = np.mean([pinball_loss(a, mu + norm.ppf(q) * s, q).mean() for q in (0.1, 0.5, 0.9)])
    assert m.loc["A", "pinball"] == pytest.approx(expected / 15.0)


def test_pinball_loss_known_values() -> None:
    loss = pinball_loss(np.array([10.0, 10.0]), np.array([8.0, 12.0]), 0.9)
    assert loss.tolist() == pytest.approx([1.8, 0.2])
