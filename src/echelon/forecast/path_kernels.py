"""numba kernels of the sample-path code: quantiles over paths, compound paths, and sample
paths with bootstrapped residuals.

- :func:`quantiles_over_axis1` gives ``np.quantile(x, taus, axis=1)`` (NumPy's default
  ``linear`` method: virtual index ``(P − 1)·τ``, the two neighbours of the sorted sample and
  NumPy's two-sided lerp) to the last bit, sorting once instead of NumPy's partition per
  level; NaN where a column holds a NaN, as NumPy gives it.
- :func:`compound_fill` turns the two uniform draws of :func:`echelon.forecast.leadtime.
  compound_paths` into its paths (occurrence, bootstrapped size, rescaling) without the
  temporaries, in the same floating-point operations.
- :func:`bootstrap_fill` runs HistoricAverage (mean + e), Naive (mean + Σe) or the batched ETS
  recursion on residuals drawn with replacement from each series' pool (numba's own generator,
  seeded per call: the same seed gives the same paths).

Units: those of the arrays given (demand per period).
"""

from __future__ import annotations

import numpy as np
from numba import njit

MEAN, WALK, STATE = 0, 1, 2  # bootstrap_fill kinds: HistoricAverage, Naive, ETS


def quantiles_over_axis1(x: np.ndarray, taus: np.ndarray) -> np.ndarray:
    """``np.quantile(x, taus, axis=1)`` of a float64 array (n, P, H) → (K, n, H) or (n, P)
    → (K, n), bit for bit: one sort along the paths (NumPy's SIMD sort) instead of a
    partition per level, then NumPy's index and lerp arithmetic (module doc)."""
    q = np.asarray(taus, dtype=np.float64)
    if x.dtype != np.float64 or x.shape[1] == 0 or q.ndim != 1:
        return np.asarray(np.quantile(x, q, axis=1))
    s = np.sort(x, axis=1)
    last = s.shape[1] - 1
    v = last * q
    prev = np.floor(v)
    nxt = prev + 1
    prev[v >= last], nxt[v >= last] = -1, -1
    prev[v < 0], nxt[v < 0] = 0, 0
    gamma = (v - prev).reshape((-1,) + (1,) * (x.ndim - 1))
    a = np.moveaxis(s[:, prev.astype(np.intp)], 1, 0)
    b = np.moveaxis(s[:, nxt.astype(np.intp)], 1, 0)
    diff = b - a
    out = a + diff * gamma
    np.subtract(b, diff * (1 - gamma), out=out, where=np.broadcast_to(gamma >= 0.5, out.shape))
    out[:, np.isnan(s[:, last])] = np.nan
    return out


@njit(cache=True)
def compound_fill(
    u_occ: np.ndarray,
    u_pick: np.ndarray,
    p: np.ndarray,
    scale: np.ndarray,
    vals: np.ndarray,
    starts: np.ndarray,
    counts: np.ndarray,
    rows: np.ndarray,
    out: np.ndarray,
) -> None:
    """``out[rows[r]]`` = occurrence (``u_occ < p``) × the bootstrapped size
    ``vals[starts + ⌊u_pick · count⌋] · scale`` (arrays (r, P, H) and (r, H))."""
    m, n_paths, h = u_occ.shape
    for r in range(m):
        i = rows[r]
        c = float(counts[i])
        for j in range(n_paths):
            for t in range(h):
                if u_occ[r, j, t] < p[r, t]:
                    k = np.int64(u_pick[r, j, t] * c)
                    out[i, j, t] = vals[starts[i] + k] * scale[r, t]
                else:
                    out[i, j, t] = 0.0


@njit(cache=True)
def bootstrap_fill(
    kind: int,
    mean: np.ndarray,
    level: np.ndarray,
    growth: np.ndarray,
    par: np.ndarray,
    vals: np.ndarray,
    starts: np.ndarray,
    counts: np.ndarray,
    seed: int,
    out: np.ndarray,
) -> None:
    """Paths ``out`` (n, P, H): ``kind`` :data:`MEAN` (``mean + e``), :data:`WALK`
    (``mean + Σ e``) or :data:`STATE` (ETS from ``level``, ``growth`` with α, β, φ in ``par``
    (n, 3)); e drawn uniformly with replacement from each series' residual pool (0 where the
    pool is empty)."""
    np.random.seed(seed)
    n, n_paths, h = out.shape
    for i in range(n):
        c = counts[i]
        for j in range(n_paths):
            acc = 0.0
            lvl, b = level[i], growth[i]
            for t in range(h):
                e = 0.0
                if c > 0:
                    k = min(int(np.random.random() * c), c - 1)
                    e = vals[starts[i] + k]
                if kind == MEAN:
                    out[i, j, t] = mean[i, t] + e
                elif kind == WALK:
                    acc += e
                    out[i, j, t] = mean[i, t] + acc
                else:
                    f = lvl + par[i, 2] * b
                    out[i, j, t] = f + e
                    lvl = f + par[i, 0] * e
                    b = par[i, 2] * b + par[i, 1] * e
