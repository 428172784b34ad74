"""The phase-conditional error spread: the level elasticity of the backtest errors and the
error paths scaled to the plan's level (``ltd_error.level_elasticities``,
``phase_scaled_paths``, ``paths_and_flats``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from echelon.plan.ltd_error import (
    MAX_LEVEL_RATIO,
    error_paths,
    level_elasticities,
    paths_and_flats,
    phase_scaled_paths,
    pooled_models,
)

ORIGINS, H, SERIES = 6, 8, 12


def _seasonal(power: float, seed: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """SERIES series whose origins sit at different season phases (flat forecast 25 … 75
    units/period); error std = 0.3 · 50 · (f̄_o / 50)^power (units/period)."""
    rng = np.random.default_rng(seed)
    out = {}
    for i in range(SERIES):
        phase = 2 * np.pi * (np.arange(ORIGINS) / ORIGINS + i / SERIES)
        flats = 50.0 * (1.0 + 0.5 * np.sin(phase))
        std = 15.0 * (flats / 50.0) ** power
        out[f"s{i}"] = (rng.normal(0.0, 1.0, (ORIGINS, H)) * std[:, None], flats)
    return out


def _sigma_h(paths: dict[str, np.ndarray]) -> float:
    """The pooled σ_H of the group, averaged over its series (units)."""
    models = pooled_models(paths, dict.fromkeys(paths, "g"))
    return float(np.mean([m.curve[-1] for m in models.values()]))


def test_the_elasticity_of_the_spread_to_the_level_is_recovered() -> None:
    groups = {f"s{i}": "g" for i in range(SERIES)}
    proportional = level_elasticities(_seasonal(1.0, 1), groups)["g"]
    poisson_like = level_elasticities(_seasonal(0.5, 2), groups)["g"]
    homoscedastic = level_elasticities(_seasonal(0.0, 3), groups)["g"]
    assert 0.75 < proportional <= 1.0
    assert 0.3 < poisson_like < 0.7
    assert 0.0 <= homoscedastic < 0.2


def test_the_peak_window_gets_the_larger_spread_where_the_error_follows_the_level() -> None:
    measured = _seasonal(1.0, 4)
    groups = dict.fromkeys(measured, "g")
    peak = _sigma_h(phase_scaled_paths(measured, dict.fromkeys(measured, 75.0), groups))
    trough = _sigma_h(phase_scaled_paths(measured, dict.fromkeys(measured, 25.0), groups))
    mixed = _sigma_h({u: p for u, (p, _) in measured.items()})
    # true σ_H = 0.3 · level · √8: 63.6 at the peak, 21.2 in the trough
    assert peak > 2.0 * trough
    assert trough < mixed < peak
    assert abs(peak / (0.3 * 75.0 * np.sqrt(H)) - 1.0) < 0.25


def test_a_homoscedastic_series_is_unchanged_within_noise() -> None:
    measured = _seasonal(0.0, 5)
    groups = dict.fromkeys(measured, "g")
    mixed = _sigma_h({u: p for u, (p, _) in measured.items()})
    for level in (25.0, 75.0):
        scaled = _sigma_h(phase_scaled_paths(measured, dict.fromkeys(measured, level), groups))
        assert abs(scaled / mixed - 1.0) < 0.1


@settings(max_examples=30, deadline=None)
@given(
    level=st.floats(0.0, 1e4),
    flat=st.floats(0.1, 1e4),
    seed=st.integers(0, 2**31),
)
def test_a_flat_champion_or_a_missing_level_keeps_the_paths(
    level: float, flat: float, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    paths = rng.normal(0.0, 5.0, (ORIGINS, H))
    measured = {"u": (paths, np.full(ORIGINS, flat)), "v": (paths * 2, np.full(ORIGINS, flat))}
    groups = {"u": "g", "v": "g"}
    assert level_elasticities(measured, groups) == {"g": 0.0}
    out = phase_scaled_paths(measured, {"u": level}, groups)
    assert np.array_equal(out["u"], paths) and np.array_equal(out["v"], paths * 2)


def test_the_scale_factor_is_clipped_and_skips_non_positive_levels() -> None:
    measured = _seasonal(1.0, 6)
    groups = dict.fromkeys(measured, "g")
    far = phase_scaled_paths(measured, dict.fromkeys(measured, 1e6), groups)
    for u, (p, _) in measured.items():
        assert np.allclose(far[u], p * MAX_LEVEL_RATIO)
    zero = phase_scaled_paths(measured, dict.fromkeys(measured, 0.0), groups)
    assert all(np.array_equal(zero[u], p) for u, (p, _) in measured.items())


def test_paths_and_flats_give_the_error_paths_and_the_held_flat_forecast() -> None:
    rows = [
        {
            "unique_id": "u",
            "cutoff": c,
            "ds": c + h,
            "model": "M",
            "mean": 10.0 * c + h,
            "y": 10.0 * c + 2 * h,
        }
        for c in (1, 2, 3)
        for h in (1, 2, 3)
    ]
    frame = pd.DataFrame(rows)
    paths, flats = paths_and_flats(frame, {"u": "M"}, 2)["u"]
    assert flats.tolist() == [11.5, 21.5, 31.5]
    assert np.array_equal(paths, error_paths(frame, {"u": "M"}, 2)["u"])
    assert paths[0].tolist() == [0.5, 2.5, 4.5]
