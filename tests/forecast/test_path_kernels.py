"""The path kernels give the NumPy code's numbers: quantiles over paths equal ``np.quantile``
bit for bit, and compound paths equal the array expression they replace."""

from __future__ import annotations

import numpy as np
import pytest

from echelon.forecast import leadtime as ltd
from echelon.forecast.path_kernels import quantiles_over_axis1

TAUS = np.array([0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95])


@pytest.mark.parametrize("paths", [1, 2, 7, 200, 501])
def test_quantiles_equal_numpy(paths: int) -> None:
    rng = np.random.default_rng(paths)
    x = rng.gamma(2.0, 3.0, (9, paths, 5)).round(1)  # rounded: ties
    x[0] = 0.0
    x[1, :, 2] = np.nan if paths > 1 else x[1, :, 2]
    x[2, 0, 1] = np.nan
    want = np.quantile(x, TAUS, axis=1)
    np.testing.assert_array_equal(quantiles_over_axis1(x, TAUS), want)
    s = x[:, :, :3].sum(axis=2)
    np.testing.assert_array_equal(quantiles_over_axis1(s, TAUS), np.quantile(s, TAUS, axis=1))
    for q in ([0.0, 1.0], [0.5]):
        np.testing.assert_array_equal(
            quantiles_over_axis1(x, np.array(q)), np.quantile(x, q, axis=1)
        )


def _compound_reference(
    mean: np.ndarray, pools: tuple[np.ndarray, np.ndarray, np.ndarray], n_paths: int, seed: int
) -> np.ndarray:
    """The array code of ``compound_paths`` before its kernel (commit dfde667)."""
    rng = np.random.default_rng(seed)
    mean = np.clip(np.nan_to_num(np.asarray(mean, float)), 0.0, None)
    n, h = mean.shape
    vals, starts, counts = pools
    out = np.zeros((n, n_paths, h), dtype=np.float64)
    has = counts > 0
    if has.any():
        idx = np.flatnonzero(has)
        mean_size = np.array([vals[starts[i] : starts[i] + counts[i]].mean() for i in idx])
        mu = mean[idx]
        p = np.clip(mu / mean_size[:, None], 0.0, 1.0)
        scale = np.where(mu > mean_size[:, None], mu / mean_size[:, None], 1.0)
        u = rng.random((len(idx), n_paths, h))
        occ = u < p[:, None, :]
        pick = (rng.random((len(idx), n_paths, h)) * counts[idx][:, None, None]).astype(np.int64)
        sizes = vals[starts[idx][:, None, None] + pick] * scale[:, None, :]
        out[idx] = np.where(occ, sizes, 0.0)
    if (~has).any():
        idx = np.flatnonzero(~has)
        out[idx] = rng.poisson(np.broadcast_to(mean[idx][:, None, :], (len(idx), n_paths, h)))
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_compound_paths_equal_the_array_code(seed: int) -> None:
    rng = np.random.default_rng(seed)
    hist = [rng.poisson(0.4, 40) * rng.integers(1, 9, 40) for _ in range(12)]
    hist[3] = np.zeros(40)  # no sizes: Poisson counts
    mean = rng.gamma(1.0, 2.0, (12, 6))
    mean[5] = 50.0  # above the mean size: rescaled sizes
    pools = ltd.size_pools(hist)
    got = ltd.compound_paths(mean, pools, 300, np.random.default_rng(seed))
    np.testing.assert_array_equal(got, _compound_reference(mean, pools, 300, seed))
