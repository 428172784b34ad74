"""Lead-time fitting: days to whole periods (rounded up), empirical distributions, fallbacks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_placement import small_plan_data

from echelon.errors import DataError
from echelon.network.distributions import DeterministicLeadTime, EmpiricalLeadTime
from echelon.plan.leadtimes import empirical_periods, fit_lead_times, with_lead_times


def test_days_become_whole_periods_rounded_up() -> None:
    dist = empirical_periods(np.array([3, 5, 7, 8, 10, 14]), 7.0)
    assert isinstance(dist, EmpiricalLeadTime)
    assert dist.values == [1.0, 2.0]
    assert dist.probabilities == pytest.approx([0.5, 0.5])
    assert dist.mean() == pytest.approx(1.5)
    assert dist.std() == pytest.approx(0.5)


def test_a_single_distinct_period_is_deterministic() -> None:
    assert empirical_periods(np.array([2.0, 4.0, 6.5]), 7.0) == DeterministicLeadTime(value=1.0)


def test_negative_lead_times_are_rejected() -> None:
    with pytest.raises(DataError):
        empirical_periods(np.array([3.0, -1.0]), 7.0)


@given(st.lists(st.floats(0, 200), min_size=1, max_size=40), st.integers(1, 14))
def test_fitted_mean_is_the_mean_of_the_rounded_up_periods(days: list[float], pd_: int) -> None:
    dist = empirical_periods(np.array(days), float(pd_))
    expected = np.mean([max(0, np.ceil(d / pd_ - 1e-9)) for d in days])
    assert dist.mean() == pytest.approx(expected)


def test_lanes_without_observations_keep_the_network_lead_time() -> None:
    data = small_plan_data()
    data.lead_times = pd.DataFrame(
        {"from_id": ["DC", "DC", "external", "external"], "to_id": ["S1", "S1", "DC", "DC"],
         "lead_time_days": [6.0, 9.0, 20.0, 21.0]}
    )  # fmt: skip
    fit = fit_lead_times(data)
    assert fit[("DC", "S1")].origin == "observed" and fit[("DC", "S1")].mean == pytest.approx(1.5)
    assert fit[("DC", "S2")].origin == "network" and fit[("DC", "S2")].mean == 1.0
    assert fit[("DC", "DC")].distribution == DeterministicLeadTime(value=3.0)  # supplier
    net = with_lead_times(data.network, fit)
    assert net.node("DC").lead_time == DeterministicLeadTime(value=3.0)
    assert isinstance(net.lane_lead_time(net.lanes[0]), EmpiricalLeadTime)
