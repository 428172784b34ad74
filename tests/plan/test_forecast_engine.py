"""plan.yaml's ``forecast_engine``: validated at the boundary; ``auto`` keeps statsforecast on
small catalogues; the batched engine plans the same series with the plan's candidates, and
pins work on it."""

from __future__ import annotations

from dataclasses import replace

import pytest
from pydantic import ValidationError
from test_placement import small_plan_data

from echelon.plan.forecast_fit import _settings, plan_candidates
from echelon.plan.forecasting import plan_forecasts
from echelon.plan.model import PlanConfig


def test_the_engine_is_validated_at_the_boundary() -> None:
    assert PlanConfig().forecast_engine == "auto"
    assert PlanConfig.model_validate({"forecast_engine": "batched"}).forecast_engine == "batched"
    with pytest.raises(ValidationError, match="forecast_engine"):
        PlanConfig.model_validate({"forecast_engine": "fast"})


def test_auto_keeps_statsforecast_on_a_small_catalogue() -> None:
    data = small_plan_data(weeks=60)
    assert _settings(data.history, 7, 13, 0).engine == "statsforecast"
    assert _settings(data.history, 7, 13, 0, "batched").engine == "batched"


def test_the_batched_engine_plans_every_series_and_pins_work() -> None:
    data = small_plan_data(weeks=60)
    data = replace(data, config=data.config.model_copy(update={"forecast_engine": "batched"}))
    free = plan_forecasts(data)
    ref = plan_forecasts(small_plan_data(weeks=60))
    assert free.series.keys() == ref.series.keys()
    assert free.holdout.keys() == ref.holdout.keys() and len(free.fan) == len(ref.fan)
    for key, s in free.series.items():
        assert s.model in {m for ms in plan_candidates().values() for m in ms}
        assert s.errors is not None and s.std_from_backtest
        assert s.mean == pytest.approx(ref.series[key].mean, rel=0.25)
    a = free.series[("A", "S1")]
    pin = "HistoricAverage" if a.model != "HistoricAverage" else "Naive"
    fc = plan_forecasts(replace(data, pinned={("A", "S1"): pin}))
    assert fc.series[("A", "S1")].model == pin and fc.holdout[("A", "S1")].model == pin
    assert not [w for w in fc.warnings if "pinned" in w.message]
