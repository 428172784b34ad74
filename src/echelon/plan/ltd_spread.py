"""The solve of the leave-one-origin-out spread factor k
(:func:`echelon.plan.ltd_error.loo_spread`): per code (a group of series), the k whose scaled
held-out shortage equals the model's claimed one, by bisection. Dimensionless throughout
(errors in units of the model's σ)."""

from __future__ import annotations

import numpy as np


def by_code(codes: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Sums of the rows of ``values`` ``[rows, columns]`` per code, ``[n, columns]``."""
    cols = [np.bincount(codes, weights=values[:, i], minlength=n) for i in range(values.shape[1])]
    return np.stack(cols, axis=1) if cols else np.zeros((n, 0))


def solve_spread(
    z: np.ndarray,
    codes: np.ndarray,
    claimed: np.ndarray,
    safety: np.ndarray,
    bounds: tuple[float, float],
    relative: bool,
) -> np.ndarray:
    """Per code: the k ∈ ``bounds`` with ``Σ_c w_c Σ (z / k − c)⁺ = Σ_c w_c claimed_c`` over
    the safety factors ``c`` of ``safety`` (in σ; ``claimed``: ``[codes, safety factors]``;
    ``w_c`` = 1, or 1 / claimed_c where ``relative``; the left side falls with k; k = the lower
    bound where it is at most the claim there, the upper where it is still above it)."""
    n = len(claimed)
    w = np.where(claimed > 0, 1.0 / np.where(claimed > 0, claimed, 1.0), 0.0)
    w = w if relative else np.ones_like(claimed)
    want = (w * claimed).sum(axis=1)

    def realized(k: np.ndarray) -> np.ndarray:
        loss = np.maximum(0.0, (z / k[codes])[:, None] - safety)
        return np.asarray((w * by_code(codes, loss, n)).sum(axis=1))

    low, high = bounds
    lo, hi = np.full(n, low), np.full(n, high)
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        above = realized(mid) > want
        lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
    k = np.where(realized(np.full(n, low)) <= want, low, 0.5 * (lo + hi))
    return np.where(realized(np.full(n, high)) > want, high, k)
