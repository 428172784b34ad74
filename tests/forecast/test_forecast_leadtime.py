"""Lead-time demand from sample paths: known answers and properties."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from echelon.forecast import leadtime as ltd


def test_iid_poisson_leadtime_matches_poisson_sum() -> None:
    rng = np.random.default_rng(1)
    lam = 2.0
    hist = rng.poisson(lam, 5000).astype(float)
    mean = np.full((1, 6), hist.mean())
    paths = ltd.compound_paths(mean, ltd.size_pools([hist]), 40_000, rng)
    taus = [0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99]
    for L in (1, 2, 3, 6):
        m, s, q = ltd.leadtime_stats(paths, L, taus)
        exact = ltd.poisson_leadtime_quantiles(lam, L, taus)
        assert np.all(np.abs(q[0] - exact) <= 1.0), (L, q[0], exact)
        assert m[0] == pytest.approx(L * lam, rel=0.03)
        assert s[0] == pytest.approx(np.sqrt(L * lam), rel=0.05)


def test_summing_quantiles_would_be_wrong() -> None:
    """The sum's 95% quantile is far below L × the per-period 95% quantile."""
    rng = np.random.default_rng(2)
    hist = rng.poisson(1.0, 3000).astype(float)
    paths = ltd.compound_paths(np.full((1, 4), 1.0), ltd.size_pools([hist]), 20_000, rng)
    _, _, q = ltd.leadtime_stats(paths, 4, [0.95])
    per = ltd.path_quantiles(paths, [0.95])[0, :, 0].sum()
    assert q[0, 0] < per - 2
    assert q[0, 0] == pytest.approx(stats.poisson.ppf(0.95, 4.0), abs=1)


def test_compound_mean_matches_model_mean_and_scales_large_means() -> None:
    rng = np.random.default_rng(3)
    hist = np.array([0, 0, 4, 0, 6, 0, 0, 5], float)
    mu = np.array([[0.5, 1.0, 8.0]])  # 8 > mean size 5: sizes are scaled up
    paths = ltd.compound_paths(mu, ltd.size_pools([hist]), 50_000, rng)
    assert paths.mean(axis=1)[0] == pytest.approx(mu[0], rel=0.03)
    assert set(np.unique(paths[0, :, 0])) <= {0.0, 4.0, 5.0, 6.0}


def test_empty_pool_falls_back_to_poisson() -> None:
    rng = np.random.default_rng(4)
    paths = ltd.compound_paths(np.full((1, 2), 3.0), ltd.size_pools([np.zeros(5)]), 20_000, rng)
    assert paths.mean() == pytest.approx(3.0, rel=0.03)


def test_empirical_baseline_known_answer() -> None:
    q = ltd.empirical_leadtime_quantiles([np.array([1.0, 2.0, 3.0, 4.0])], 2, [0.0, 0.5, 1.0])
    assert q[0].tolist() == [3.0, 5.0, 7.0]


def test_copula_recovers_marginals_and_dependence_widens_sum() -> None:
    rng = np.random.default_rng(5)
    taus = [0.05, 0.25, 0.5, 0.75, 0.95]
    z = stats.norm.ppf(taus)
    q = np.broadcast_to(100 + 10 * z, (1, 5, 5)).copy()
    ind = ltd.copula_paths(q, taus, np.array([0.0]), 20_000, rng)
    dep = ltd.copula_paths(q, taus, np.array([0.9]), 20_000, rng)
    marg = ltd.path_quantiles(ind, taus)[0, 2]
    assert marg == pytest.approx(q[0, 2], abs=1.0)
    assert dep[:, :, :5].sum(axis=2).std() > 1.5 * ind[:, :, :5].sum(axis=2).std()


@given(
    rate=st.floats(0.2, 20.0),
    seed=st.integers(0, 10_000),
    levels=st.lists(st.floats(0.01, 0.99), min_size=2, max_size=6, unique=True),
)
@settings(max_examples=25, deadline=None)
def test_quantiles_monotone_and_std_grows_with_lead_time(rate, seed, levels) -> None:
    rng = np.random.default_rng(seed)
    hist = rng.poisson(rate, 200).astype(float)
    paths = ltd.compound_paths(np.full((1, 4), rate), ltd.size_pools([hist]), 2000, rng)
    taus = sorted(levels)
    stds = []
    for L in (1, 2, 3, 4):
        _, s, q = ltd.leadtime_stats(paths, L, taus)
        assert np.all(np.diff(q[0]) >= 0)
        stds.append(s[0])
    if hist.sum() > 0:
        assert all(b > a for a, b in itertools.pairwise(stds))
    pq = ltd.path_quantiles(paths, taus)
    assert np.all(np.diff(pq, axis=2) >= 0)


def test_summarize_table() -> None:
    rng = np.random.default_rng(6)
    paths = rng.poisson(1.0, (2, 500, 3)).astype(float)
    t = ltd.summarize(["a", "b"], paths, [1, 3], [0.5, 0.9])
    assert list(t.columns) == ["unique_id", "lead_time", "mean", "std", "q0.5", "q0.9"]
    assert len(t) == 4
    with pytest.raises(ValueError):
        ltd.leadtime_stats(paths, 4, [0.5])
