"""Plan forecasts: daily history summed into periods that end the day before the plan date, the
forecast summary per item × store, the hold-out bias and the fan charts."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from test_placement import small_plan_data

from echelon.plan.context import build_context
from echelon.plan.forecasting import plan_forecasts
from echelon.plan.model import WarningKind


def test_daily_demand_is_summed_into_periods_ending_before_the_plan_date() -> None:
    small = small_plan_data()
    days = pd.date_range("2024-01-03", "2024-01-28", freq="D")  # Wed .. Sun, 26 days
    demand = pd.DataFrame({"item_id": "A", "location_id": "S1", "ds": days, "y": 1.0})
    demand = demand[demand["ds"] != pd.Timestamp("2024-01-10")]  # a missing day
    data = build_context(
        config=small.config.model_copy(update={"as_of": None}),
        network=small.network,
        items=small.items,
        demand=demand,
        inventory=pd.DataFrame(columns=["item_id", "location_id", "on_hand"]),
    )
    assert data.as_of == date(2024, 1, 29)
    h = data.history  # what plan_forecasts fits on
    # periods Mon–Sun; the first (Mon 1 Jan – Sun 7 Jan) is incomplete and dropped
    assert h["ds"].dt.date.tolist() == [date(2024, 1, 8), date(2024, 1, 15), date(2024, 1, 22)]
    assert h["y"].tolist() == [6.0, 7.0, 7.0]


def test_forecasts_of_a_steady_series_and_the_holdout_bias() -> None:
    data = small_plan_data(weeks=60)
    fc = plan_forecasts(data)
    assert set(fc.series) == {(i, s) for i in ("A", "B") for s in ("S1", "S2")}
    for (item, store), s in fc.series.items():
        true_mean = (100.0 if item == "A" else 30.0) * (1.0 if store == "S1" else 0.6)
        assert s.mean == pytest.approx(true_mean, rel=0.15)
        assert 0.1 * true_mean < s.std < 0.5 * true_mean  # the data's std is 25% of the mean
        h = fc.holdout[(item, store)]
        actual = fc.history[(fc.history["item_id"] == item) & (fc.history["location_id"] == store)]
        tot = actual["y"].to_numpy()[-8:].sum()
        fan = next(f for f in fc.fan if (f.item, f.location) == (item, store))
        assert h.bias == pytest.approx((np.sum(fan.mean[:8]) - tot) / tot)
        assert s.bias == h.bias
        assert s.actual_mean == pytest.approx(tot / 8)
        assert fan.actual[:8] == actual["y"].tolist()[-8:]
    assert fc.holdout_periods == 8


def test_a_history_too_short_for_the_holdout_gives_a_typed_warning() -> None:
    data = small_plan_data(weeks=20)  # 20 periods − 8 held out < MIN_TRAIN
    fc = plan_forecasts(data)
    assert fc.holdout_periods == 0
    kinds = [w.kind for w in fc.warnings]
    assert WarningKind.NO_HOLDOUT in kinds
    (w,) = [w for w in fc.warnings if w.kind is WarningKind.NO_HOLDOUT]
    assert "no shadow mode" in w.message and w.value == 8.0
