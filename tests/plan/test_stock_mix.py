"""The aggregate fill-rate target of plan.yaml (issue 18, point 2): per item × store targets
chosen on simulated stock-to-service curves meet the aggregate at less inventory than one
uniform target, both measured in simulation on the KPI random numbers."""

from __future__ import annotations

import pytest
from test_placement import small_plan_data

from echelon.plan.forecasting import plan_forecasts
from echelon.plan.leadtimes import fit_lead_times
from echelon.plan.model import PlanConfig
from echelon.plan.stock_mix import place_with_mix


def test_without_the_setting_the_plan_places_by_segment() -> None:
    data = small_plan_data()
    placed, summary = place_with_mix(data, plan_forecasts(data), fit_lead_times(data))
    assert summary is None
    assert {t for p in placed.items.values() for t in p.targets.values()} == {0.95}


@pytest.mark.parametrize("measure", ["unit", "value"])
def test_the_mix_meets_the_aggregate_at_no_more_inventory_than_a_uniform_target(
    measure: str,
) -> None:
    data = small_plan_data(aggregate_fill_rate=0.95, aggregate_measure=measure)
    placed, s = place_with_mix(data, plan_forecasts(data), fit_lead_times(data))
    assert s is not None and s.target == 0.95 and s.measure == measure and s.series == 4
    # the chosen targets differ by series and the tuned store levels meet them
    targets = {(i, st): t for i, p in placed.items.items() for st, t in p.targets.items()}
    assert s.lowest_target == min(targets.values()) < s.highest_target == max(targets.values())
    for item, plan in placed.items.items():
        for store, fill in plan.fill["meio"].items():
            assert fill >= plan.targets[store] - 1e-12, (item, store)
    # both simulated on the KPI numbers: the aggregate is met (to the simulation's tolerance)
    assert s.uniform_fill_rate >= 0.95 - 1e-9
    assert s.mix_fill_rate >= 0.95 - 0.005
    if measure == "unit":  # A costs 10, B 4 per unit: service is cheaper to buy at B
        assert s.saving is not None and s.saving > 0
    else:  # price/cost is 1.5 for both items: the value mix is the uniform one, up to noise
        assert s.saving is not None and s.saving > -0.02
    assert s.saving == pytest.approx(1 - s.mix_inventory_value / s.uniform_inventory_value)


def test_the_setting_is_validated() -> None:
    with pytest.raises(ValueError, match="aggregate_fill_rate"):
        PlanConfig.model_validate({"aggregate_fill_rate": 1.2})
    with pytest.raises(ValueError, match="aggregate_measure"):
        PlanConfig.model_validate({"aggregate_measure": "euros"})
