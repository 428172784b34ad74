"""Normal-demand numerics (:mod:`echelon.policies.normal`): the loss function against textbook
values, shortages, stockout probabilities and exposures."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from echelon.policies.normal import (
    expected_shortage,
    exposure_std,
    normal_loss,
    stockout_probability,
    window_demand,
)


@pytest.mark.parametrize(
    ("z", "loss"),  # standard normal loss G(z), e.g. Silver, Pyke & Peterson table
    [(0.0, 0.3989), (1.0, 0.0833), (-1.0, 1.0833), (2.0, 0.0085), (1.3, 0.0455)],
)
def test_expected_shortage_is_the_scaled_normal_loss(z: float, loss: float) -> None:
    assert float(expected_shortage(z, 0.0, 1.0)) == pytest.approx(loss, abs=1e-4)
    assert float(expected_shortage(50 + 10 * z, 50.0, 10.0)) == pytest.approx(10 * loss, abs=1e-3)


def test_deterministic_demand_has_plain_shortage_and_a_step_probability() -> None:
    assert expected_shortage([30.0, 60.0], 50.0, 0.0).tolist() == [20.0, 0.0]
    assert stockout_probability([30.0, 60.0], 50.0, 0.0).tolist() == [1.0, 0.0]
    assert float(stockout_probability(50.0, 50.0, 10.0)) == pytest.approx(0.5)


@given(st.floats(-100, 200), st.floats(0.1, 50), st.floats(0, 100), st.floats(0.01, 30))
def test_shortage_is_convex_decreasing_with_slope_minus_the_stockout_probability(
    x: float, h: float, mean: float, std: float
) -> None:
    es0, es1 = float(expected_shortage(x, mean, std)), float(expected_shortage(x + h, mean, std))
    assert es0 >= max(0.0, mean - x) - 1e-9
    assert es1 <= es0 + 1e-12
    # convexity: the drop over [x, x+h] lies between h·P(D > x+h) and h·P(D > x)
    assert h * float(stockout_probability(x + h, mean, std)) - 1e-7 <= es0 - es1
    assert es0 - es1 <= h * float(stockout_probability(x, mean, std)) + 1e-7


def test_window_demand_scales_mean_linearly_and_std_by_the_root() -> None:
    assert window_demand(25.0, 10 / math.sqrt(2), 2.0) == pytest.approx((50.0, 10.0))


def test_normal_loss_is_the_standard_shortage() -> None:
    assert normal_loss(0.0) == pytest.approx(1 / math.sqrt(2 * math.pi))
    assert normal_loss(1.3) == pytest.approx(float(expected_shortage(1.3, 0.0, 1.0)))


def test_exposure_std_adds_lead_time_variance_to_demand_variance() -> None:
    # σ = 10 per period over τ = 4 periods, μ = 20, σ_L = 0.5: √(100·4 + (20·0.5)²) = √500
    assert exposure_std(10.0, 4.0, 20.0, 0.5) == pytest.approx(math.sqrt(500.0))
    assert exposure_std(10.0, 4.0) == pytest.approx(20.0)
    assert exposure_std(10.0, 0.0, 20.0, 0.5) == 0.0
