"""The class-pooled bias (``ltd_error.group_biases`` / ``pooled_bias``): a level miss shared
by a class's series but too noisy to pass any one series' persistence test."""

from __future__ import annotations

import numpy as np
import pytest

from echelon.plan.ltd_error import (
    group_biases,
    persistent_bias,
    pooled_bias,
    pooled_models,
    relative_errors,
)


def _noisy_under_forecast(seed: int, series: int = 8, rel: float = 0.2) -> dict:
    """``series`` series of 6 origins × 8 periods at level 10: errors rel × 10 per period on
    average, with noise that flips some origins' signs (no per-series persistence)."""
    rng = np.random.default_rng(seed)
    out = {}
    for i in range(series):
        paths = rel * 10.0 + rng.normal(0.0, 3.0, size=(6, 8))
        paths[0] -= rel * 10.0 + 2.0  # one origin over-forecast: no sign agreement
        out[f"s{i}"] = (paths, np.full(6, 10.0))
    return out


def test_relative_error_is_the_mean_error_over_the_mean_level() -> None:
    paths = np.array([[1.0, 3.0], [2.0, 2.0], [-1.0, -1.0]])
    flats = np.array([10.0, 20.0, 30.0])
    # origin means 2, 2, -1 → sum 3; levels sum 60
    assert relative_errors({"u": (paths, flats)}) == {"u": pytest.approx(3.0 / 60.0)}
    assert relative_errors({"u": (paths[:2], flats[:2])}) == {}  # too few origins
    assert relative_errors({"u": (paths, np.zeros(3))}) == {}  # no level


def test_a_shared_level_miss_is_a_class_bias_though_no_series_is_persistent() -> None:
    measured = _noisy_under_forecast(3)
    assert all(persistent_bias(p) == 0.0 for p, _ in measured.values())
    groups = dict.fromkeys(measured, "lumpy")
    rel = group_biases(measured, groups)
    own = relative_errors(measured)
    assert rel == {"lumpy": pytest.approx(float(np.mean(list(own.values()))))}
    assert rel["lumpy"] > 0.05
    biases = pooled_bias(measured, dict.fromkeys(measured, 20.0), groups)
    assert biases == {u: pytest.approx(rel["lumpy"] * 20.0) for u in measured}


def test_no_class_bias_without_a_shared_sign_or_with_too_few_series() -> None:
    measured = _noisy_under_forecast(5)
    for k, u in enumerate(sorted(measured)):  # half the series under-, half over-forecast
        p, f = measured[u]
        measured[u] = (p if k % 2 else -p, f)
    groups = dict.fromkeys(measured, "lumpy")
    assert group_biases(measured, groups) == {}
    few = dict(list(_noisy_under_forecast(3).items())[:2])
    assert group_biases(few, dict.fromkeys(few, "lumpy")) == {}


def test_the_pooled_bias_applies_only_where_the_own_test_finds_none() -> None:
    steady = np.full((4, 3), 2.0) + np.arange(3) * 0.1  # persistent: own bias 2.1
    noisy = np.array([[3.0, 3.0, 3.0], [-1.0, -1.0, -1.0], [2.0, 2.0, 2.0], [1.0, 1.0, 1.0]])
    paths = {"a": steady, "b": noisy}
    groups = {"a": "g", "b": "g"}
    models = pooled_models(paths, groups, {"a": 9.0, "b": 0.5})
    assert models["a"].bias == pytest.approx(persistent_bias(steady))
    assert models["b"].bias == pytest.approx(0.5)
    np.testing.assert_allclose(models["b"].paths, noisy - 0.5)
    assert pooled_models(paths, groups)["b"].bias == 0.0  # as before without pooled biases
