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

:func:`z_for_fill_rate` solves one target without numpy: the loss in :mod:`math`
(``erfc``, ``exp``) and one :func:`scipy.optimize.brentq` on the same bracket and edges (about
10 µs against 4 ms for a one-element ``find_root``); it agrees with :func:`z_for_fill_rates`
within 1e-12 (tests/policies/test_fill_rate_z.py).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import brentq, elementwise

from echelon.policies.normal import _pdf, _sf

FloatArray = NDArray[np.float64]
Z_LOW, Z_HIGH = -8.0, 12.0  # the bracket of the safety factor (std units)
_XRTOL = 4 * float(np.finfo(float).eps)  # the roots' relative tolerance (both solvers)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_SQRT_2PI = math.sqrt(2.0 * math.pi)


def _loss(z: FloatArray, target: FloatArray) -> FloatArray:
    """``G(z) − target`` (dimensionless), elementwise."""
    return np.asarray(_pdf(z) - z * _sf(z) - target, dtype=float)


LOSS_AT_LOW = float(_loss(np.array([Z_LOW]), np.zeros(1))[0])  # G(−8) ≈ 8
LOSS_AT_HIGH = float(_loss(np.array([Z_HIGH]), np.zeros(1))[0])  # G(12) ≈ 0


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
    inside = (target < LOSS_AT_LOW) & (target > LOSS_AT_HIGH)
    z[target <= LOSS_AT_HIGH] = Z_HIGH
    if inside.any():
        t = target[inside]
        res = elementwise.find_root(
            _loss, (np.full(t.size, Z_LOW), np.full(t.size, Z_HIGH)), args=(t,),
            tolerances={"xrtol": _XRTOL, "xatol": 1e-14},
        )  # fmt: skip
        z[inside] = res.x
    out[pos] = z
    return out.reshape(shape)


def _scalar_loss(z: float, target: float) -> float:
    """``G(z) − target`` (dimensionless) for one z, in :mod:`math` (no numpy call)."""
    return math.exp(-(z * z) / 2.0) / _SQRT_2PI - z * (0.5 * math.erfc(z * _INV_SQRT_2)) - target


def z_for_fill_rate(beta: float, mean: float, sd: float) -> float:
    """:func:`z_for_fill_rates` for one target (std units; same edges, module doc)."""
    if not sd > 0:
        return 0.0
    target = (1.0 - beta) * mean / sd
    if target <= LOSS_AT_HIGH:
        return Z_HIGH
    if not target < LOSS_AT_LOW:
        return Z_LOW
    if _scalar_loss(Z_LOW, target) <= 0.0:  # within rounding of the edges in math's loss
        return Z_LOW
    if _scalar_loss(Z_HIGH, target) >= 0.0:
        return Z_HIGH
    root = brentq(_scalar_loss, Z_LOW, Z_HIGH, args=(target,), xtol=1e-14, rtol=_XRTOL)
    return float(root)
