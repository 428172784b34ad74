"""The fill-rate safety factor on arrays: the z with ``G(z)·σ = (1 − β)·μ``.

``G`` is the standard normal loss (:func:`echelon.policies.normal.normal_loss`), ``β`` the
fill-rate target (0–1), ``μ`` the demand per cycle and ``σ`` the std of lead-time demand
(units): the expected shortage per cycle equals the demand the target allows to be lost (one
period of demand per cycle at most, docs/model.md). ``G`` decreases from ``G(−8) ≈ 8`` to
``G(12) ≈ 0``, so the root is bracketed in ``[−8, 12]``: one vectorized bracketed root find
(:func:`scipy.optimize.elementwise.find_root`, Chandrupatla's method, to the float resolution)
solves every element at once, instead of one ``brentq`` per element. Conventions at the edges:
``σ ≤ 0`` gives 0 (no variability, no safety stock); a right-hand side above ``G(−8)`` gives
−8; one below ``G(12)`` (a mean that is negligible against the std) gives 12.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import elementwise

from echelon.policies.normal import _pdf, _sf

FloatArray = NDArray[np.float64]
Z_LOW, Z_HIGH = -8.0, 12.0  # the bracket of the safety factor (std units)


def _loss(z: FloatArray, target: FloatArray) -> FloatArray:
    """``G(z) − target`` (dimensionless), elementwise."""
    return np.asarray(_pdf(z) - z * _sf(z) - target, dtype=float)


def z_for_fill_rates(beta: ArrayLike, mean: ArrayLike, sd: ArrayLike) -> FloatArray:
    """Safety factors z (std units) with ``G(z)·sd = (1 − beta)·mean``, elementwise over the
    broadcast arguments (fill rate ``beta`` 0–1; ``mean``, ``sd`` units; module doc)."""
    b, m, s = np.broadcast_arrays(
        np.asarray(beta, float), np.asarray(mean, float), np.asarray(sd, float)
    )
    shape = b.shape
    b, m, s = b.ravel(), m.ravel(), s.ravel()
    out = np.zeros(b.size)
    pos = s > 0
    target = (1.0 - b[pos]) * m[pos] / s[pos]
    z = np.full(target.size, Z_LOW)
    high = _loss(np.array([Z_HIGH]), np.zeros(1))[0]
    low = _loss(np.array([Z_LOW]), np.zeros(1))[0]
    inside = (target < low) & (target > high)
    z[target <= high] = Z_HIGH
    if inside.any():
        t = target[inside]
        res = elementwise.find_root(
            _loss, (np.full(t.size, Z_LOW), np.full(t.size, Z_HIGH)), args=(t,),
            tolerances={"xrtol": 4 * np.finfo(float).eps, "xatol": 1e-14},
        )  # fmt: skip
        z[inside] = res.x
    out[pos] = z
    return out.reshape(shape)


def z_for_fill_rate(beta: float, mean: float, sd: float) -> float:
    """:func:`z_for_fill_rates` for one target (std units)."""
    return float(z_for_fill_rates(beta, mean, sd))
