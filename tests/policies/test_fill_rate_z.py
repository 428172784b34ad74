"""The fill-rate safety factor on arrays (policies/fill_rate_z.py): known answers, the edges,
and equality (to the root finder's tolerance) with one ``brentq`` per element, the scalar
inversion it replaced."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize

from echelon.policies.fill_rate_z import (
    LOSS_AT_HIGH,
    LOSS_AT_LOW,
    Z_HIGH,
    Z_LOW,
    z_for_fill_rate,
    z_for_fill_rates,
)
from echelon.policies.normal import normal_loss


def brentq_z(beta: float, mean: float, sd: float) -> float:
    """The scalar inversion that fill_rate_z replaced (reference)."""
    if sd <= 0:
        return 0.0
    target = (1.0 - beta) * mean / sd
    if target >= normal_loss(-8.0):
        return -8.0
    return float(optimize.brentq(lambda z: normal_loss(z) - target, -8.0, 12.0))


def test_known_answers() -> None:
    """G(0) = φ(0) = 1/√(2π); G(1) = φ(1) − (1 − Φ(1)) = 0.0833155; G(−1) = G(1) + 1."""
    phi0 = 1.0 / math.sqrt(2.0 * math.pi)
    g1 = 0.08331547058768131
    # (1 − β)·μ/σ = G(z): pick μ, σ so that the right-hand side is each known loss
    z = z_for_fill_rates([0.5, 0.9, 0.9], [2 * phi0 * 10, g1 * 100, (1 + g1) * 100], 10.0)
    assert z == pytest.approx([0.0, 1.0, -1.0], abs=1e-12)


def test_edges() -> None:
    assert z_for_fill_rates([0.95, 0.5], [10.0, 10.0], [0.0, -1.0]).tolist() == [0.0, 0.0]
    assert z_for_fill_rate(0.0, 1000.0, 1.0) == -8.0  # right-hand side above G(−8)
    assert z_for_fill_rate(0.95, 1e-300, 10.0) == 12.0  # below G(12): brentq has no bracket
    assert z_for_fill_rates(0.9, [[1.0, 2.0]], [[3.0], [4.0]]).shape == (2, 2)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(0.3, 0.9999), st.floats(0.01, 1e4), st.floats(0.01, 1e4)),
                min_size=1, max_size=40))  # fmt: skip
def test_equals_one_brentq_per_element(rows: list[tuple[float, float, float]]) -> None:
    beta, mean, sd = (np.array(c) for c in zip(*rows, strict=True))
    got = z_for_fill_rates(beta, mean, sd)
    want = np.array([brentq_z(*r) for r in rows])
    assert np.allclose(got, want, rtol=0, atol=1e-10)
    scalar = [z_for_fill_rate(*r) for r in rows]  # the math/brentq fast path
    assert np.allclose(scalar, got, rtol=0, atol=1e-12)
    inside = got > -8.0
    resid = [
        normal_loss(z) - (1 - b) * m / s for z, b, m, s in zip(got, beta, mean, sd, strict=True)
    ]
    assert np.all(np.abs(np.array(resid)[inside]) <= 1e-12)


@settings(max_examples=100, deadline=None)
@given(st.floats(0.5, 0.999), st.floats(0.001, 0.05), st.floats(1.0, 100.0), st.floats(1.0, 50.0))
def test_higher_fill_rate_needs_a_higher_z(
    beta: float, step: float, mean: float, sd: float
) -> None:
    lo, hi = z_for_fill_rates([beta, min(beta + step, 0.9999)], mean, sd)
    assert hi >= lo


_EDGE_SD = st.sampled_from([0.0, -1.0, 1e-300, 5e-324, float("inf"), float("nan")])
_EDGE_MEAN = st.sampled_from([0.0, 1e-300, 1e300, float("inf"), float("nan"), -3.0])
_EDGE_BETA = st.sampled_from([0.0, 1.0, 1.0 - 1e-16, 0.5, float("nan")])


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(st.floats(0.0, 1.0), _EDGE_BETA),
    st.one_of(st.floats(0.0, 1e6), _EDGE_MEAN),
    st.one_of(st.floats(1e-6, 1e6), _EDGE_SD),
)
def test_scalar_fast_path_equals_the_array_function(beta: float, mean: float, sd: float) -> None:
    """The math/brentq scalar path agrees with the one-element array solve within 1e-12,
    edges included (σ ≤ 0 or NaN → 0, right-hand side ≥ G(−8) or NaN → −8, ≤ G(12) → 12)."""
    with np.errstate(over="ignore", invalid="ignore"):  # ∞/0 products of the edges
        want = float(z_for_fill_rates(beta, mean, sd))
    got = z_for_fill_rate(beta, mean, sd)
    assert isinstance(got, float)
    assert abs(got - want) <= 1e-12


def test_scalar_edges_and_thresholds() -> None:
    assert z_for_fill_rate(0.95, 10.0, 0.0) == 0.0
    assert z_for_fill_rate(0.95, 10.0, float("nan")) == 0.0
    assert z_for_fill_rate(float("nan"), 10.0, 1.0) == Z_LOW
    assert z_for_fill_rate(0.0, LOSS_AT_LOW, 1.0) == Z_LOW  # exactly G(−8)
    assert z_for_fill_rate(0.0, LOSS_AT_HIGH, 1.0) == Z_HIGH  # exactly G(12)
    assert z_for_fill_rate(1.0, 10.0, 1.0) == Z_HIGH  # nothing may be lost
    assert 11.0 < z_for_fill_rate(0.0, LOSS_AT_HIGH * 2, 1.0) <= Z_HIGH
