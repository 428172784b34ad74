"""The lead-time-demand error model: error paths, persistent bias, σ_τ with the measured
autocorrelation, pooling, exposures and the block-resampled demand paths."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from echelon.examples import example_path
from echelon.network.io import load_network
from echelon.plan import ltd_error
from echelon.plan.ltd_error import (
    LtdError,
    count_noise,
    demand_paths,
    effective_std,
    error_paths,
    exposure_error_std,
    longest_supply_periods,
    ltd_curve,
    ltd_std,
    persistent_bias,
    pooled_models,
    simulation_network,
    symmetric_errors,
)
from echelon.policies.normal import exposure_std


def _model(paths: np.ndarray, bias: float = 0.0) -> LtdError:
    (m,) = pooled_models({"u": paths}, {"u": "g"}).values()
    return LtdError(m.paths, bias, m.curve, m.per_period)


def test_a_level_shift_grows_linearly_and_alternating_errors_cancel() -> None:
    # the same error every period of an origin (a missed level): σ_τ = τ·|c|, not |c|·√τ
    shift = np.array([[1.0, 1.0, 1.0], [-1.0, -1.0, -1.0]])
    assert ltd_curve(shift) == pytest.approx([1.0, 2.0, 3.0])
    # negatively autocorrelated errors: summed over two periods they cancel
    alternating = np.array([[1.0, -1.0, 1.0], [-1.0, 1.0, -1.0]])
    assert ltd_curve(alternating) == pytest.approx([1.0, 0.0, 1.0])


def test_independent_errors_give_sigma_root_tau() -> None:
    rng = np.random.default_rng(3)
    paths = rng.normal(0.0, 2.0, size=(20000, 6))
    curve = ltd_curve(paths)
    assert curve == pytest.approx(2.0 * np.sqrt(np.arange(1, 7)), rel=0.03)


def test_bias_is_kept_only_where_it_is_persistent() -> None:
    rng = np.random.default_rng(1)
    steady = 5.0 + rng.normal(0.0, 1.0, size=(8, 4))  # under-forecast by 5 at every origin
    assert persistent_bias(steady) == pytest.approx(steady.mean())
    noise = np.array([[3.0, 3.0], [-3.0, -3.0], [2.0, 2.0], [-2.5, -2.5]])  # no sign agreement
    assert persistent_bias(noise) == 0.0
    assert persistent_bias(steady[:2]) == 0.0  # too few origins to tell
    # a missed season: large mean errors of both signs over the year, no persistent bias
    season = 4.0 * np.sin(np.linspace(0.3, 5.0, 6))[:, None] + 3.0 + np.zeros((6, 4))
    assert (season.mean(axis=1) < 0).any()
    assert persistent_bias(season) == 0.0


def test_bias_is_removed_from_the_paths_before_the_spread() -> None:
    paths = 10.0 + np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, 1.0], [-1.0, -1.0]])
    (m,) = pooled_models({"u": paths}, {"u": "g"}).values()
    assert m.bias == pytest.approx(10.0)
    assert m.curve == pytest.approx([1.0, 2.0])
    assert m.per_period == pytest.approx(1.0)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, (5, 4), elements=st.floats(-50, 50, allow_nan=False)))
def test_a_series_alone_in_its_group_keeps_its_own_curve(paths: np.ndarray) -> None:
    (m,) = pooled_models({"u": paths}, {"u": "g"}).values()
    own = ltd_curve(paths - persistent_bias(paths))
    assert m.curve == pytest.approx(own, abs=1e-9)


def test_pooling_shrinks_a_short_series_towards_its_group_ratio() -> None:
    # a: level shifts (variance ratio τ), b: alternating errors (ratio ≈ 0 at τ = 2)
    a = np.array([[1.0, 1.0], [-1.0, -1.0]] * 3)
    b = np.array([[1.0, -1.0], [-1.0, 1.0]] * 3)
    models = pooled_models({"a": a, "b": b}, {"a": "g", "b": "g"})
    # group ratio at τ = 2: (4 + 0) / (2·1 + 2·1) = 1, so the pooled variance is 2 for both
    o, k = 6.0, 6.0
    assert models["a"].curve[1] ** 2 == pytest.approx((o * 4.0 + k * 2.0) / (o + k))
    assert models["b"].curve[1] ** 2 == pytest.approx((o * 0.0 + k * 2.0) / (o + k))
    apart = pooled_models({"a": a, "b": b}, {"a": "g", "b": "h"})
    assert apart["a"].curve[1] == pytest.approx(2.0)
    assert apart["b"].curve[1] == pytest.approx(0.0)


def test_a_series_with_one_origin_has_no_model() -> None:
    assert pooled_models({"u": np.ones((1, 3))}, {"u": "g"}) == {}


def test_exposure_std_interpolates_extrapolates_and_adds_lead_time_variance() -> None:
    m = _model(np.array([[1.0, 1.0, 1.0], [-1.0, -1.0, -1.0]]))  # σ_τ = τ
    assert ltd_std(m, 0.0) == 0.0
    assert ltd_std(m, 2.0) == pytest.approx(2.0)
    assert ltd_std(m, 1.5) == pytest.approx(math.sqrt((1.0 + 4.0) / 2))  # linear in variance
    assert ltd_std(m, 6.0) == pytest.approx(math.sqrt(9.0 * 6.0 / 3.0))
    assert ltd_std(m, 2.0, mean=10.0, lead_time_std=0.5) == pytest.approx(math.sqrt(4.0 + 25.0))
    assert effective_std(m, 3.0) * math.sqrt(3.0) == pytest.approx(3.0)
    assert exposure_error_std(m, 99.0, 2.0, 0.0, 0.0) == pytest.approx(2.0)
    assert exposure_error_std(None, 2.0, 4.0, 10.0, 0.5) == exposure_std(2.0, 4.0, 10.0, 0.5)


def test_error_paths_take_the_champion_and_whole_windows_only() -> None:
    rows = []
    for c, y in (("2024-01-01", [5.0, 6.0, 7.0]), ("2024-02-01", [4.0, 4.0, 4.0])):
        for h, v in enumerate(y):
            rows.append({"unique_id": "u", "cutoff": c, "ds": h, "model": "M", "mean": 5.0, "y": v})
            rows.append({"unique_id": "u", "cutoff": c, "ds": h, "model": "X", "mean": 0.0, "y": v})
    rows.append(
        {"unique_id": "u", "cutoff": "2024-03-01", "ds": 0, "model": "M", "mean": 5.0, "y": 1}
    )
    paths = error_paths(pd.DataFrame(rows), {"u": "M"})
    assert paths["u"].tolist() == [[0.0, 1.0, 2.0], [-1.0, -1.0, -1.0]]


def test_error_paths_measure_against_the_flat_mean_the_plan_holds() -> None:
    # a seasonal forecast 4, 5, 6 of demand 4, 5, 6: no error per period, but the plan holds
    # the flat mean 5, so the path is -1, 0, 1
    rows = [
        {"unique_id": "u", "cutoff": "c", "ds": h, "model": "M", "mean": v, "y": v}
        for h, v in enumerate([4.0, 5.0, 6.0])
    ]
    assert error_paths(pd.DataFrame(rows), {"u": "M"})["u"].tolist() == [[-1.0, 0.0, 1.0]]


def test_demand_paths_keep_the_block_structure_and_the_stores_in_step(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ltd_error, "COUNT_NOISE", 0.0)  # the blocks alone, without count noise
    base = np.array([[1.0, 2.0, 3.0], [-1.0, -2.0, -3.0], [0.5, 0.5, 0.5]])
    models = {"S1": _model(base), "S2": _model(base)}
    sims = demand_paths(models, {"S1": 10.0, "S2": 10.0}, paths=50, periods=10, seed=4)
    a, b = np.array(sims["S1"]), np.array(sims["S2"])
    assert a.shape == (50, 10)
    assert np.array_equal(a, b)  # the same origin at both stores in every block
    blocks = a[:, :9].reshape(50, 3, 3) - 10.0
    centred = models["S1"].paths
    level = float(centred.mean())  # 0.5: no persistent bias, so it enters with either sign
    signs = set()
    for block in blocks.reshape(-1, 3):  # every block is one whole error path, level ± 1
        match = [
            s for s in (1.0, -1.0) for row in centred if np.allclose(block, row - level + s * level)
        ]
        assert match
        signs.update(match)
    assert signs == {1.0, -1.0}
    again = demand_paths(models, {"S1": 10.0, "S2": 10.0}, paths=50, periods=10, seed=4)
    assert again == sims
    low = demand_paths(models, {"S1": 0.5, "S2": 0.5}, paths=20, periods=6, seed=1)
    assert min(min(p) for p in low["S1"]) >= 0.0


def test_simulated_lead_time_demand_has_the_modelled_spread() -> None:
    rng = np.random.default_rng(7)
    level = rng.normal(0.0, 3.0, size=(12, 1))  # a missed level per origin
    base = level + rng.normal(0.0, 1.0, size=(12, 4))
    m = _model(base)
    sims = np.array(demand_paths({"S": m}, {"S": 1000.0}, paths=4000, periods=4, seed=2)["S"])
    sums = sims.sum(axis=1) - 4000.0
    # the modelled σ_4 plus the count noise's variance, COUNT_NOISE · 1000 units per period
    want = math.sqrt(float(m.curve[-1]) ** 2 + ltd_error.COUNT_NOISE * 4000.0)
    assert float(np.sqrt((sums**2).mean())) == pytest.approx(want, rel=0.05)


def test_longest_supply_periods_and_the_simulation_network() -> None:
    net = load_network(example_path("snyder_shen_6_1.yaml"))
    assert longest_supply_periods(net) == 2 + 1 + 1  # supplier → stage3 → stage2 → stage1
    store = next(n.id for n in net.nodes if n.demand is not None)
    m = _model(np.array([[1.0, -1.0], [-1.0, 1.0]]))
    sim = simulation_network(net, {store: m}, {store: 5.0}, paths=3, periods=8, seed=0)
    demand = sim.node(store).demand
    assert demand.kind == "scenarios" and demand.length == 8 and len(demand.paths) == 3
    others = [n for n in sim.nodes if n.id != store]
    assert [n.demand for n in others] == [n.demand for n in net.nodes if n.id != store]


def test_error_paths_flat_mean_over_the_periods_the_plan_holds() -> None:
    # forecast 4, 5, 6 of demand 6, 6, 6: held over 2 periods the plan holds 4.5, so the path
    # is 1.5 each period (over all 3 it would hold 5 and the path would be 1)
    rows = [
        {"unique_id": "u", "cutoff": "c", "ds": h, "model": "M", "mean": v, "y": 6.0}
        for h, v in enumerate([4.0, 5.0, 6.0])
    ]
    assert error_paths(pd.DataFrame(rows), {"u": "M"}, 2)["u"].tolist() == [[1.5, 1.5, 1.5]]
    assert error_paths(pd.DataFrame(rows), {"u": "M"}, 9)["u"].tolist() == [[1.0, 1.0, 1.0]]


def test_symmetric_errors_split_the_level_from_the_residuals() -> None:
    centred = np.array([[3.0, 1.0], [3.0, 3.0], [-1.0, -3.0]])  # mean 1, no sign agreement
    residual, level = symmetric_errors(centred)
    assert level == pytest.approx(1.0)
    assert residual.tolist() == [[2.0, 0.0], [2.0, 2.0], [-2.0, -4.0]]
    empty, none = symmetric_errors(np.zeros((0, 3)))
    assert empty.shape == (0, 3) and none == 0.0


@settings(max_examples=60, deadline=None)
@given(
    arrays(np.float64, st.tuples(st.integers(1, 8), st.integers(1, 6)), elements=st.floats(-50, 50))
)
def test_a_random_sign_keeps_the_second_moment_over_the_path(centred: np.ndarray) -> None:
    # over every origin and both signs, the error summed over the whole path has the same
    # mean square as the measured one (the curve the simulation is scaled to)
    residual, level = symmetric_errors(centred)
    h = centred.shape[1]
    sums = residual.sum(axis=1)
    flipped = np.concatenate([sums + level * h, sums - level * h])
    assert float((flipped**2).mean()) == pytest.approx(float(ltd_curve(centred)[-1] ** 2), abs=1e-6)


def test_a_mean_error_that_is_no_bias_widens_the_spread_instead_of_shifting_the_mean() -> None:
    # three origins under-forecast, one over (mean error 3): no persistent bias
    # (mixed signs), so the plan's mean is kept and the 3 enters with either sign
    centred = np.array([[4.0, 4.0, 4.0], [6.0, 6.0, 6.0], [-2.0, -2.0, -2.0], [4.0, 4.0, 4.0]])
    assert persistent_bias(centred) == 0.0
    m = _model(centred)
    sims = np.array(demand_paths({"S1": m, "S2": m}, {"S1": 500.0, "S2": 500.0}, 6000, 6, 3)["S1"])
    assert float(sims.mean()) == pytest.approx(500.0, abs=0.15)  # the old bootstrap: 503
    sums = sims[:, :3].sum(axis=1) - 1500.0
    want = math.sqrt(float(m.curve[-1]) ** 2 + ltd_error.COUNT_NOISE * 1500.0)
    assert float(np.sqrt((sums**2).mean())) == pytest.approx(want, rel=0.03)


def test_count_noise_keeps_the_mean_and_the_zeros_and_adds_its_variance() -> None:
    # a two-point demand, 0 or 4 units: the noise keeps 0 at 0, keeps the mean 4 of the
    # 4-unit periods, gives them the variance COUNT_NOISE · 4 and values above 4
    x = np.tile(np.array([0.0, 4.0]), (20000, 1))
    (got,) = count_noise({"S": x}, seed=3).values()
    assert (got[:, 0] == 0.0).all()
    assert float(got[:, 1].mean()) == pytest.approx(4.0, abs=0.05)
    assert float(got[:, 1].var()) == pytest.approx(ltd_error.COUNT_NOISE * 4.0, rel=0.05)
    assert float(got[:, 1].max()) > 8.0  # beyond the largest value resampled
    again = count_noise({"S": x}, seed=3)["S"]
    assert np.array_equal(got, again)


def test_count_noise_off_returns_the_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ltd_error, "COUNT_NOISE", 0.0)
    x = np.array([[0.0, 1.5, 2.5]])
    assert count_noise({"S": x}, seed=0)["S"].tolist() == x.tolist()
