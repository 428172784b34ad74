"""The batched ETS (ANN / AAdN by AICc): closed-form initial states, fits as good as
statsforecast's for the same model, the model choice, closed-form intervals and the
bootstrapped sample paths."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from statsforecast.ets import ets_f

from echelon.forecast import batched_ets as be
from echelon.forecast.batched import History


def level_series(seed: int, n: int = 60, k: int = 30) -> list[np.ndarray]:
    """Random-walk levels with noise; every other series with a linear trend."""
    rng = np.random.default_rng(seed)
    out = []
    for j in range(k):
        lvl = 20 + np.cumsum(rng.normal(0, 0.6, n)) + (0.4 * np.arange(n) if j % 2 else 0.0)
        out.append(np.maximum(lvl + rng.normal(0, 2.0, n), 0.0))
    return out


def recursion_sse(y: np.ndarray, a: float, b: float, phi: float, l0: float, b0: float) -> float:
    lvl, g, sse = l0, b0, 0.0
    for v in y:
        f = lvl + phi * g
        e = v - f
        sse += e * e
        lvl, g = f + a * e, phi * g + b * e
    return sse


@pytest.mark.parametrize("trend", [False, True])
def test_initial_states_minimise_the_sse(trend: bool) -> None:
    y = level_series(3, k=1)[0]
    a, b, phi = (0.3, 0.05, 0.9) if trend else (0.3, 0.0, 0.0)
    sse, l0, b0 = be._sse(y, a, b, phi, trend)
    assert sse == pytest.approx(recursion_sse(y, a, b, phi, l0, b0), rel=1e-9)
    for dl, db in ((0.5, 0.0), (-0.5, 0.0), (0.0, 0.1 * trend), (0.0, -0.1 * trend)):
        assert recursion_sse(y, a, b, phi, l0 + dl, b0 + db) >= sse * (1 - 1e-12)


@pytest.mark.parametrize("seed", [0, 1])
def test_fits_are_as_good_as_statsforecasts_for_the_same_model(seed: int) -> None:
    ys = level_series(seed)
    fit = be.fit_ets(History.from_arrays(ys))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, y in enumerate(ys):
            code = "AAN" if fit.model[i] == be.AADN else "ANN"
            sf = ets_f(y.astype(float), m=1, model=code, damped=fit.model[i] == be.AADN)
            sf_sse = float(np.nansum(np.asarray(sf["residuals"]) ** 2))
            assert fit.sse[i] <= sf_sse * 1.02, (i, code)
            np.testing.assert_allclose(np.nansum(fit.residuals[i] ** 2), fit.sse[i], rtol=1e-9)


def test_a_trend_is_fitted_and_a_flat_series_is_not() -> None:
    rng = np.random.default_rng(7)
    t = np.arange(80, dtype=float)
    trend = 5 + 0.8 * t + rng.normal(0, 0.5, 80)
    flat = 30 + rng.normal(0, 3.0, 80)
    fit = be.fit_ets(History.from_arrays([trend, flat, np.full(6, 4.0)]))
    assert list(fit.model) == [be.AADN, be.ANN, be.ANN]
    mean = fit.mean(4)
    assert (np.diff(mean[0]) > 0.3).all()  # the trend continues (damped)
    assert mean[1] == pytest.approx(np.full(4, 30.0), abs=2.0)
    np.testing.assert_allclose(mean[2], 4.0, atol=1e-9)  # constant: its value, no error
    assert fit.sigmah(4)[2] == pytest.approx(np.zeros(4), abs=1e-6)


def test_interval_formula_matches_the_simulated_spread() -> None:
    ys = level_series(4, n=104, k=6)
    fit = be.fit_ets(History.from_arrays(ys))
    h = 6
    paths = be.ets_paths(fit, h, 20_000, seed=1)
    # the bootstrap draws the in-sample errors: mean ē, variance SSE / n − ē²; the closed
    # form uses σ² = SSE / (n − k) and mean 0; h steps ahead both weigh them by 1 + Σ c_j
    e_bar = np.nanmean(fit.residuals, axis=1)[:, None]
    var_boot = fit.sse[:, None] / fit.n_obs[:, None] - e_bar**2
    np.testing.assert_allclose(
        paths.std(axis=1), fit.sigmah(h) * np.sqrt(var_boot / fit.sigma2()[:, None]), rtol=0.04
    )
    powers = fit.phi[:, None] ** np.arange(1, h)
    c = fit.alpha[:, None] + fit.beta[:, None] * np.cumsum(powers, axis=1)
    weight = 1.0 + np.concatenate([np.zeros((len(ys), 1)), np.cumsum(c, axis=1)], axis=1)
    want = fit.mean(h) + e_bar * weight
    np.testing.assert_allclose(paths.mean(axis=1), want, atol=0.05 * fit.sigmah(h).max())
    q = be.ets_quantiles(fit, h, (0.1, 0.5, 0.9))
    np.testing.assert_allclose(q[..., 1], fit.mean(h))
    assert (q[..., 0] < q[..., 1]).all() and (q[..., 2] > q[..., 1]).all()


def test_short_and_zero_series() -> None:
    fit = be.fit_ets(History.from_arrays([np.zeros(20), np.array([5.0]), np.array([1.0, 3.0])]))
    assert np.isfinite(fit.mean(3)).all() and np.isfinite(fit.sigmah(3)).all()
    np.testing.assert_allclose(fit.mean(3)[0], 0.0, atol=1e-12)
    np.testing.assert_allclose(fit.mean(3)[1], 5.0)
