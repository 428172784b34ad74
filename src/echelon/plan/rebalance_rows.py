"""The constraint rows of the rebalancing LP/MIP (:func:`echelon.plan.rebalance.solve_rebalance`)
as CSR arrays built with numpy: per location at most its physical stock leaves, the shortage
epigraph (asymptote and tangents of ``E[(D − x)^+]``), and the fixed-cost links ``t ≤ ship·y``.

Row order and coefficients are those of the model's definition (module doc of
:mod:`echelon.plan.rebalance`): senders' rows in location order, then per location its
asymptote and tangent rows, then the links; within a row, the stock change ``Δ_j`` lists its
transfer columns in pair order, then its expedite columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np
from numpy.typing import NDArray

from echelon.policies.normal import expected_shortage, stockout_probability

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Rows:
    """CSR rows: ``lower ≤ A·v ≤ upper`` (units; ``starts`` index ``index``/``value``)."""

    lower: FloatArray
    upper: FloatArray
    starts: NDArray[np.int32]
    index: NDArray[np.int32]
    value: FloatArray


@dataclass(frozen=True)
class Columns:
    """Where the model's column blocks start: transfers, links, expedites, shortages."""

    t: int
    y: int | None
    e: int
    z: int


def _segments(keys: IntArray, n: int) -> tuple[IntArray, IntArray]:
    """Start and end of each key 0..n−1 in a key-sorted array."""
    counts = np.bincount(keys, minlength=n)
    ends = np.cumsum(counts)
    return ends - counts, ends


def delta_terms(
    pairs: IntArray, e_loc: IntArray, n: int, cols: Columns
) -> tuple[IntArray, FloatArray, IntArray, IntArray]:
    """``Δ_j = Σ_i t_ij − Σ_l t_jl + Σ_{k at j} e_k`` for every j: the columns and ±1s sorted
    by location (transfers in pair order, then expedites), with each location's segment."""
    n_t, k = len(pairs), len(e_loc)
    q = np.arange(n_t, dtype=np.int64)
    loc = np.concatenate([pairs[:, 1], pairs[:, 0], e_loc]).astype(np.int64)
    rank = np.concatenate([q, q, n_t + np.arange(k, dtype=np.int64)])
    col = np.concatenate([cols.t + q, cols.t + q, cols.e + np.arange(k, dtype=np.int64)])
    val = np.concatenate([np.ones(n_t), -np.ones(n_t), np.ones(k)])
    order = np.lexsort((rank, loc))
    start, end = _segments(loc[order], n)
    return col[order], val[order], start, end


def constraint_rows(
    x0: FloatArray, m: FloatArray, s: FloatArray, ship: FloatArray,
    pairs: IntArray, e_loc: IntArray, cols: Columns, tangents: FloatArray,
) -> tuple[Rows, FloatArray]:  # fmt: skip
    """The model's rows (module doc) and the shortage columns' lower bounds (units: the exact
    expected shortage where no move can change a location's stock, else 0)."""
    n = x0.size
    inf = highspy.kHighsInf
    lens: list[IntArray] = []
    idx: list[IntArray] = []
    vals: list[FloatArray] = []
    lo: list[FloatArray] = []
    hi: list[FloatArray] = []
    if len(pairs):  # shipments out of i at most its physical stock (pairs sorted by i)
        senders, counts = np.unique(pairs[:, 0], return_counts=True)
        lens.append(counts)
        idx.append(cols.t + np.arange(len(pairs), dtype=np.int64))
        vals.append(np.ones(len(pairs)))
        lo.append(np.full(len(senders), -inf))
        hi.append(ship[senders].astype(float))
    d_col, d_val, start, end = delta_terms(pairs, e_loc, n, cols)
    z_lb = np.zeros(n)
    for j in range(n):
        c_j, v_j = d_col[start[j] : end[j]], d_val[start[j] : end[j]]
        # asymptote z ≥ m − x0 − Δ
        lens.append(np.array([1 + len(c_j)]))
        idx.append(np.concatenate([[cols.z + j], c_j]))
        vals.append(np.concatenate([[1.0], v_j]))
        lo.append(np.array([m[j] - x0[j]]))
        hi.append(np.array([inf]))
        if s[j] > 0 and len(c_j):
            c = m[j] + s[j] * tangents
            es = expected_shortage(c, m[j], s[j])
            slope = -stockout_probability(c, m[j], s[j])
            # z ≥ es + slope·(x0 + Δ − c)  ⇔  z − slope·Δ ≥ es + slope·(x0 − c)
            u = len(tangents)
            lens.append(np.full(u, 1 + len(c_j)))
            idx.append(np.column_stack([np.full(u, cols.z + j), np.tile(c_j, (u, 1))]).ravel())
            vals.append(np.column_stack([np.ones(u), -slope[:, None] * v_j[None, :]]).ravel())
            lo.append(es + slope * (x0[j] - c))
            hi.append(np.full(u, inf))
        elif s[j] > 0:
            z_lb[j] = float(expected_shortage(x0[j], m[j], s[j]))
    if cols.y is not None and len(pairs):  # t_q − ship_i·y_q ≤ 0
        q = np.arange(len(pairs), dtype=np.int64)
        lens.append(np.full(len(pairs), 2))
        idx.append(np.column_stack([cols.t + q, cols.y + q]).ravel())
        vals.append(np.column_stack([np.ones(len(pairs)), -ship[pairs[:, 0]]]).ravel())
        lo.append(np.full(len(pairs), -inf))
        hi.append(np.zeros(len(pairs)))
    length = np.concatenate(lens)
    starts = np.concatenate([[0], np.cumsum(length)[:-1]]).astype(np.int32)
    rows = Rows(
        np.concatenate(lo).astype(float), np.concatenate(hi).astype(float), starts,
        np.concatenate(idx).astype(np.int32), np.concatenate(vals).astype(float),
    )  # fmt: skip
    return rows, z_lb
