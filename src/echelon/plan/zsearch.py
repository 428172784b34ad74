"""The least grid z meeting a fill-rate target, found with fewer probes than bisection.

:meth:`echelon.plan.tuning.Tuner.bisect` halves every store's z interval ``[lo, hi]`` (lo
short, hi meets) ``m`` times and returns ``hi``: with a fill rate that rises with z, that is
the **least point of the dyadic grid** ``lo + k·(hi − lo)/2^m`` (k = 1 … 2^m) that meets the
target. :func:`grid_search` returns the same grid point — the very float the bisection would
hold (:func:`tree_point`) — probing fewer points: each step tests, per store, the grid point
just above the predicted crossing, predicted from the fill rates at the current bracket ends
with the normal-loss shape of a base-stock fill rate, ``1 − β ≈ c·G(z)^b`` (``G``:
:func:`echelon.policies.normal.normal_loss`, z the safety factor in σ_τ units; ``c, b`` fitted
on the two ends, linear in ``log G`` — the analytic start of the first step, then a secant on
the ends reached). A step whose prediction did not halve the bracket is followed by a plain
midpoint, so no store needs more than ``2·m`` probes; a store stops as soon as its bracket is
two adjacent grid points (the bisection's resolution), and every probe is one call of the
caller's ``fills`` for the rows (items) that still have an open store.

With ``settle > 0`` a store also stops as soon as the upper end of its bracket meets the
target with a fill rate at most ``settle`` (0-1) above it, and returns that end: with a fill
rate that rises with z it is at or above the bisection's point (which lies in the bracket) and
its fill rate exceeds the bisection's by at most ``settle`` — the halvings beyond would move
the level, not its fill rate by more than that (tests/plan/test_zsearch.py). ``settle = 0``:
exactly the bisection's point.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from echelon.policies.normal import _pdf, _sf

Fills = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (z [items, stores], rows) → fills
Meets = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (fills of rows, rows) → bool

_Z_TABLE = np.linspace(-3.0, 12.0, 6001)  # z (σ_τ units) of the log-loss table
_LOG_G = np.log(_pdf(_Z_TABLE) - _Z_TABLE * _sf(_Z_TABLE))  # log G(z), decreasing


def depths(lo: np.ndarray, hi: np.ndarray, iterations: int, tol: float) -> np.ndarray:
    """Halvings the bisection makes of each ``[lo, hi]`` (it stops below width ``tol``)."""
    m = np.zeros(lo.shape, dtype=np.int64)
    width = hi - lo
    for _ in range(iterations):
        m += width > tol
        width = width / 2
    return m


def tree_point(lo: np.ndarray, hi: np.ndarray, k: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Grid point ``k`` of ``2^m`` between lo and hi as the bisection computes it: by repeated
    midpoints ``(L + H)/2`` (bit-identical floats, not ``lo + k·h``)."""
    depth = int(m.max(initial=0))
    big = k << (depth - m)  # the index on the finest grid
    out = np.where(big == 0, lo, hi)
    low, high = lo.copy(), hi.copy()
    for j in range(1, depth + 1):
        mid = (low + high) / 2
        shift = depth - j
        bit = (big >> shift) & 1
        here = (bit == 1) & ((big & ((1 << shift) - 1)) == 0) & (big != 0) & (big < 1 << depth)
        out = np.where(here, mid, out)
        low = np.where(bit == 1, mid, low)
        high = np.where(bit == 1, high, mid)
    return out


def predict(
    za: np.ndarray, zb: np.ndarray, fa: np.ndarray, fb: np.ndarray, target: np.ndarray
) -> np.ndarray:
    """The z (σ_τ units) where the fill rate reaches ``target`` between ``(za, fa)`` and
    ``(zb, fb)`` (fill rates 0-1): ``log(1 − f)`` linear in ``log G(z)`` through both ends
    (slope 1 — the normal model — where an end has fill 1); NaN where it cannot say."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ya, yb = np.log(1.0 - fa), np.log(1.0 - fb)
        xa = np.interp(za, _Z_TABLE, _LOG_G)
        xb = np.interp(zb, _Z_TABLE, _LOG_G)
        slope = (yb - ya) / (xb - xa)
        slope = np.where(np.isfinite(slope) & (slope > 0), slope, 1.0)
        x = xa + (np.log(1.0 - target) - ya) / slope
        z = np.interp(x, _LOG_G[::-1], _Z_TABLE[::-1])
    inside = (zb <= _Z_TABLE[-1]) & np.isfinite(x) & (x < _LOG_G[0]) & (x > _LOG_G[-1])
    return np.where(inside & (fa < target), z, np.nan)


def grid_search(
    lo: np.ndarray,
    hi: np.ndarray,
    f_lo: np.ndarray,
    f_hi: np.ndarray,
    target: np.ndarray,
    fills: Fills,
    meets: Meets,
    iterations: int,
    tol: float,
    settle: float = 0.0,
) -> np.ndarray:
    """The bisection's answer (module doc) for every store ``[items, stores]``: ``lo`` short,
    ``hi`` meets (or is the top), ``f_lo``/``f_hi`` their fill rates (0-1, NaN: unknown),
    ``target`` the fill-rate targets; ``settle``: how far (0-1) above its target the fill rate
    of a bracket's upper end may be for the store to stop there (module doc); returns the z
    grid points (σ_τ units)."""
    m = depths(lo, hi, iterations, tol)
    a = np.zeros(lo.shape, dtype=np.int64)
    b = np.int64(1) << m
    fa, fb = f_lo.copy(), f_hi.copy()
    b_meets = meets(f_hi, np.arange(lo.shape[0]))
    halve = np.zeros(lo.shape, dtype=bool)  # the last prediction did not halve the bracket
    while True:
        open_ = (b - a > 1) & ~(b_meets & (fb - target <= settle) & (settle > 0))
        rows = np.flatnonzero(open_.any(axis=1))
        if not len(rows):
            break
        za, zb = tree_point(lo, hi, a, m), tree_point(lo, hi, b, m)
        zs = predict(za, zb, fa, fb, target)
        with np.errstate(invalid="ignore"):
            guess = np.ceil((zs - za) / np.where(zb > za, zb - za, 1.0) * (b - a) - 1e-9)
        mid = (a + b) // 2
        k = np.where(np.isnan(guess) | halve, mid, a + np.nan_to_num(guess, nan=0.0))
        k = np.where(open_, np.clip(k, a + 1, b - 1), b).astype(np.int64)
        zk = tree_point(lo, hi, k, m)
        f = np.full(lo.shape, np.nan)
        good = np.zeros(lo.shape, dtype=bool)
        f[rows] = fills(zk, rows)
        good[rows] = meets(f[rows], rows)
        width = b - a
        up, down = open_ & good, open_ & ~good
        b, fb = np.where(up, k, b), np.where(up, f, fb)
        b_meets |= up
        a, fa = np.where(down, k, a), np.where(down, f, fa)
        halve = open_ & ~halve & (2 * (b - a) > width)
    return tree_point(lo, hi, b, m)
