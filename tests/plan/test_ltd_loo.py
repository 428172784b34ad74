"""The leave-one-origin-out spread calibration of the lead-time-demand error model
(:func:`echelon.plan.ltd_error.loo_spread`): k ≈ 1 where the backtest's spread holds out of
sample, the known inflation where few origins under-state it, and one place that applies it."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, optimize, stats

from echelon.plan import ltd_error
from echelon.plan.ltd_error import LOO_SAFETY, MAX_SPREAD, demand_paths, pooled_models


def _iid(series: int, origins: int, periods: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {f"u{i}": rng.normal(0.0, 1.0 + i % 3, size=(origins, periods)) for i in range(series)}


def _student_t_factor(others: int) -> float:
    """The k of the calibration when the held-out error over its LOO σ is Student t with
    ``others`` degrees of freedom (σ² = the mean square of ``others`` normal errors, no bias,
    one period) and the bootstrap claim is the ±errors of the others over their rms, i.e.
    √d·X with X = e₁ / |e| on the unit sphere of R^d (density ∝ (1 − x²)^((d − 3) / 2))."""
    d = others

    def dens(x: float) -> float:
        return float((1.0 - x * x) ** ((d - 3) / 2))

    norm = integrate.quad(dens, -1.0, 1.0)[0]
    claimed = sum(
        integrate.quad(
            lambda x, c=c: max(0.0, np.sqrt(d) * x - c) * dens(x),
            -1.0,
            1.0,
            points=[c / np.sqrt(d)],
        )[0]
        / norm
        for c in LOO_SAFETY
    )

    def realized(k: float) -> float:
        return sum(
            integrate.quad(lambda t, c=c: (t / k - c) * stats.t.pdf(t, d), c * k, np.inf)[0]
            for c in LOO_SAFETY
        )

    return float(optimize.brentq(lambda k: realized(k) - claimed, 1.0, 3.0))


def test_iid_normal_errors_over_many_origins_need_no_inflation() -> None:
    paths = _iid(100, 40, 6, seed=1)
    models = pooled_models(paths, {u: "g" for u in paths})
    assert {m.spread for m in models.values()} == {models["u0"].spread}
    assert 1.0 <= models["u0"].spread < 1.05


def test_few_origins_give_the_student_t_inflation(monkeypatch: pytest.MonkeyPatch) -> None:
    # 5 origins of one period and no bias test: the held-out error over the LOO σ is t_4
    monkeypatch.setattr(ltd_error, "MIN_BIAS_ORIGINS", 99)
    paths = _iid(4000, 5, 1, seed=5)
    k = pooled_models(paths, {u: "g" for u in paths})["u0"].spread
    want = _student_t_factor(4)
    assert want == pytest.approx(1.40, abs=0.01)
    assert k == pytest.approx(want, rel=0.03)


def test_level_misses_that_differ_by_origin_widen_the_spread() -> None:
    # a per-origin level error of std 3 on i.i.d. noise of std 1, six origins: the pooled
    # curve of the other five under-states a new origin's level miss
    rng = np.random.default_rng(2)
    paths = {
        f"u{i}": rng.normal(0.0, 3.0, size=(6, 1)) + rng.normal(0.0, 1.0, size=(6, 8))
        for i in range(300)
    }
    quiet = _iid(300, 6, 8, seed=3)
    groups = {**{u: "level" for u in paths}, **{f"q{u}": "quiet" for u in quiet}}
    both = {**paths, **{f"q{u}": p for u, p in quiet.items()}}
    models = pooled_models(both, groups)
    k_level, k_quiet = models["u0"].spread, models["qu0"].spread
    assert k_level > 1.1 and k_level > k_quiet + 0.05
    assert 1.0 <= k_quiet < 1.08


def test_the_factor_is_applied_once_to_the_curve_and_the_bootstrap_follows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(4)
    paths = {
        f"u{i}": rng.normal(0.0, 2.0, size=(6, 1)) + rng.normal(size=(6, 4)) for i in range(60)
    }
    groups = {u: "g" for u in paths}
    on = pooled_models(paths, groups)
    monkeypatch.setattr(ltd_error, "LOO_SPREAD", False)
    off = pooled_models(paths, groups)
    k = on["u0"].spread
    assert 1.0 < k <= MAX_SPREAD and off["u0"].spread == 1.0
    for u in paths:
        assert on[u].curve == pytest.approx(k * off[u].curve, rel=1e-12)
        assert np.array_equal(on[u].paths, off[u].paths) and on[u].bias == off[u].bias
    monkeypatch.setattr(ltd_error, "COUNT_NOISE", 0.0)  # the blocks alone (tested elsewhere)
    sims = np.array(demand_paths({"S": on["u0"]}, {"S": 1000.0}, 6000, 4, seed=1)["S"])
    rms = float(np.sqrt(((sims.sum(axis=1) - 4000.0) ** 2).mean()))
    assert rms == pytest.approx(float(on["u0"].curve[-1]), rel=0.05)


def test_too_few_scores_leave_the_model_as_measured() -> None:
    paths = _iid(3, 6, 4, seed=7)  # 18 (series, origin) scores < MIN_LOO_SCORES
    models = pooled_models(paths, {u: "g" for u in paths})
    assert {m.spread for m in models.values()} == {1.0}


def test_a_small_group_takes_the_factor_of_all_series(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(8)
    big = {f"b{i}": rng.normal(0.0, 3.0, size=(6, 1)) + rng.normal(size=(6, 4)) for i in range(50)}
    small = {f"s{i}": p for i, p in enumerate(_iid(2, 6, 4, seed=9).values())}  # 12 scores
    groups = {**{u: "big" for u in big}, **{u: "small" for u in small}}
    models = pooled_models({**big, **small}, groups)
    k_big, k_small = models["b0"].spread, models["s0"].spread
    assert models["s1"].spread == k_small and k_big > 1.1
    monkeypatch.setattr(ltd_error, "MIN_LOO_SCORES", 1)
    own = pooled_models({**big, **small}, groups)
    assert own["b0"].spread == k_big  # the big group's own factor either way
    assert own["s0"].spread < k_small  # alone, the i.i.d. pair would be inflated less


def test_the_factor_is_bounded() -> None:
    # every origin a level miss of a different size and sign, nothing else: a held-out
    # origin is far outside the pooled spread of the others
    rng = np.random.default_rng(6)
    paths = {f"u{i}": rng.standard_cauchy(size=(6, 1)) * np.ones((6, 4)) for i in range(200)}
    models = pooled_models(paths, {u: "g" for u in paths})
    assert models["u0"].spread == MAX_SPREAD
