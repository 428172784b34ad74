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
from typing import NamedTuple

import highspy
import numpy as np
from numpy.typing import NDArray

from echelon.highs import quiet_highs
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


class Terms(NamedTuple):
    """The terms of the stock changes ``Δ_j``: column ``col`` with coefficient ``val`` in
    the change of location ``loc``, listed in ``rank`` order within a location."""

    loc: IntArray
    col: IntArray
    val: FloatArray
    rank: IntArray


def delta_terms(terms: Terms, n: int) -> tuple[IntArray, FloatArray, IntArray, IntArray]:
    """The stock change ``Δ_j`` of every location j: the columns and coefficients sorted by
    location, then rank, with each location's segment (start, end)."""
    order = np.lexsort((terms.rank, terms.loc))
    start, end = _segments(terms.loc[order], n)
    return terms.col[order], terms.val[order], start, end


def pair_terms(pairs: IntArray, e_loc: IntArray, cols: Columns) -> Terms:
    """``Δ_j = Σ_i t_ij − Σ_l t_jl + Σ_{k at j} e_k`` as (loc, col, val, rank): transfers in
    pair order, then expedites."""
    n_t, k = len(pairs), len(e_loc)
    q = np.arange(n_t, dtype=np.int64)
    loc = np.concatenate([pairs[:, 1], pairs[:, 0], e_loc]).astype(np.int64)
    rank = np.concatenate([q, q, n_t + np.arange(k, dtype=np.int64)])
    col = np.concatenate([cols.t + q, cols.t + q, cols.e + np.arange(k, dtype=np.int64)])
    val = np.concatenate([np.ones(n_t), -np.ones(n_t), np.ones(k)])
    return Terms(loc, col, val, rank)


class _Builder:
    """Rows appended as numpy blocks, joined into :class:`Rows` at the end."""

    def __init__(self) -> None:
        self.lens: list[IntArray] = []
        self.idx: list[IntArray] = []
        self.vals: list[FloatArray] = []
        self.lo: list[FloatArray] = []
        self.hi: list[FloatArray] = []

    def add(self, length: IntArray, idx: IntArray, vals: FloatArray, lo: FloatArray,
            hi: FloatArray) -> None:  # fmt: skip
        self.lens.append(np.asarray(length, np.int64))
        self.idx.append(np.asarray(idx, np.int64))
        self.vals.append(np.asarray(vals, float))
        self.lo.append(np.asarray(lo, float))
        self.hi.append(np.asarray(hi, float))

    def rows(self) -> Rows:
        length = np.concatenate(self.lens)
        starts = np.concatenate([[0], np.cumsum(length)[:-1]]).astype(np.int32)
        return Rows(
            np.concatenate(self.lo), np.concatenate(self.hi), starts,
            np.concatenate(self.idx).astype(np.int32), np.concatenate(self.vals),
        )  # fmt: skip


def _epigraph(
    out: _Builder, x0: FloatArray, m: FloatArray, s: FloatArray,
    terms: Terms, c_z: int, tangents: FloatArray,
) -> FloatArray:  # fmt: skip
    """Per location j its asymptote row and, where its stock can change, its tangent rows
    of ``E[(D_j − x_j)^+]``; returns the shortage columns' lower bounds (units)."""
    n = x0.size
    inf = highspy.kHighsInf
    d_col, d_val, start, end = delta_terms(terms, n)
    z_lb = np.zeros(n)
    for j in range(n):
        c_j, v_j = d_col[start[j] : end[j]], d_val[start[j] : end[j]]
        # asymptote z ≥ m − x0 − Δ
        head = np.concatenate([[c_z + j], c_j])
        out.add(np.array([1 + len(c_j)]), head, np.concatenate([[1.0], v_j]),
                np.array([m[j] - x0[j]]), np.array([inf]))  # fmt: skip
        if s[j] > 0 and len(c_j):
            c = m[j] + s[j] * tangents
            es = expected_shortage(c, m[j], s[j])
            slope = -stockout_probability(c, m[j], s[j])
            # z ≥ es + slope·(x0 + Δ − c)  ⇔  z − slope·Δ ≥ es + slope·(x0 − c)
            u = len(tangents)
            out.add(
                np.full(u, 1 + len(c_j)),
                np.column_stack([np.full(u, c_z + j), np.tile(c_j, (u, 1))]).ravel(),
                np.column_stack([np.ones(u), -slope[:, None] * v_j[None, :]]).ravel(),
                es + slope * (x0[j] - c), np.full(u, inf),
            )  # fmt: skip
        elif s[j] > 0:
            z_lb[j] = float(expected_shortage(x0[j], m[j], s[j]))
    return z_lb


def constraint_rows(
    x0: FloatArray, m: FloatArray, s: FloatArray, ship: FloatArray,
    pairs: IntArray, e_loc: IntArray, cols: Columns, tangents: FloatArray,
) -> tuple[Rows, FloatArray]:  # fmt: skip
    """The pairwise model's rows (module doc) and the shortage columns' lower bounds (units:
    the exact expected shortage where no move can change a location's stock, else 0)."""
    inf = highspy.kHighsInf
    out = _Builder()
    if len(pairs):  # shipments out of i at most its physical stock (pairs sorted by i)
        senders, counts = np.unique(pairs[:, 0], return_counts=True)
        out.add(counts, cols.t + np.arange(len(pairs)), np.ones(len(pairs)),
                np.full(len(senders), -inf), ship[senders])  # fmt: skip
    z_lb = _epigraph(out, x0, m, s, pair_terms(pairs, e_loc, cols), cols.z, tangents)
    if cols.y is not None and len(pairs):  # t_q − ship_i·y_q ≤ 0
        q = np.arange(len(pairs), dtype=np.int64)
        out.add(np.full(len(pairs), 2), np.column_stack([cols.t + q, cols.y + q]).ravel(),
                np.column_stack([np.ones(len(pairs)), -ship[pairs[:, 0]]]).ravel(),
                np.full(len(pairs), -inf), np.zeros(len(pairs)))  # fmt: skip
    return out.rows(), z_lb


def net_rows(
    x0: FloatArray, m: FloatArray, s: FloatArray, recv: IntArray, send: IntArray,
    e_loc: IntArray, c_e: int, c_z: int, tangents: FloatArray,
) -> tuple[Rows, FloatArray]:  # fmt: skip
    """The rows of the net-flow model (columns: units received ``in`` per location of
    ``recv``, units sent ``out`` per location of ``send``, then expedites from ``c_e``,
    shortages from ``c_z``): ``Σ in = Σ out``, then the epigraph over
    ``Δ_j = in_j − out_j + Σ_{k at j} e_k``; and the shortage columns' lower bounds."""
    r, k = len(recv), len(e_loc)
    n_io = r + len(send)
    out = _Builder()
    sign = np.concatenate([np.ones(r), -np.ones(len(send))])
    out.add(np.array([n_io]), np.arange(n_io), sign, np.zeros(1), np.zeros(1))
    loc = np.concatenate([recv, send, e_loc]).astype(np.int64)
    col = np.concatenate([np.arange(n_io), c_e + np.arange(k)]).astype(np.int64)
    val = np.concatenate([np.ones(r), -np.ones(len(send)), np.ones(k)])
    terms = Terms(loc, col, val, np.arange(len(loc), dtype=np.int64))
    z_lb = _epigraph(out, x0, m, s, terms, c_z, tangents)
    return out.rows(), z_lb


def decompose(inflow: FloatArray, outflow: FloatArray) -> FloatArray:
    """Pairwise transfers (n, n) carrying ``outflow`` (units sent per location) to ``inflow``
    (units received, same total): what a location both sends and receives is netted, then
    senders fill receivers in location order (whole units stay whole)."""
    n = inflow.size
    both = np.minimum(inflow, outflow)
    give = list(np.round(outflow - both, 6))
    take = list(np.round(inflow - both, 6))
    moves = np.zeros((n, n))
    i = j = 0
    while i < n and j < n:
        if give[i] <= 1e-9:
            i += 1
        elif take[j] <= 1e-9:
            j += 1
        else:
            q = min(give[i], take[j])
            moves[i, j] += q
            give[i] -= q
            take[j] -= q
    return moves


def net_flow_sets(
    ok: NDArray[np.bool_], cost: FloatArray
) -> tuple[IntArray, IntArray, float] | None:
    """The receivers, the senders and the cost per unit moved (money) when the allowed pairs
    ``ok`` (n, n) are every sender to every receiver but itself at one cost per unit: then
    only each location's units in and out matter (the net-flow model, :func:`net_rows`);
    else None (the pairwise model)."""
    ok = np.asarray(ok, dtype=bool)
    send, recv = np.asarray(ok.any(axis=1)), np.asarray(ok.any(axis=0))
    full = send[:, None] & recv[None, :] & ~np.eye(ok.shape[0], dtype=bool)
    if not np.array_equal(ok, full) or (ok.any() and np.ptp(cost[ok]) > 0):
        return None
    unit = float(cost[ok][0]) if ok.any() else 0.0
    return np.flatnonzero(recv), np.flatnonzero(send), unit


def run_model(
    lb: FloatArray, ub: FloatArray, obj: FloatArray, ints: IntArray, rows: Rows,
    time_limit: float,
) -> tuple[str, FloatArray | None]:  # fmt: skip
    """Solve ``min obj·v`` over the rows with HiGHS (``ints``: integer columns; seconds
    ``time_limit``): the model status and the solution (None without an incumbent)."""
    n_cols = lb.size
    h = quiet_highs(time_limit=time_limit)
    h.addVars(n_cols, lb, ub)
    h.changeColsCost(n_cols, np.arange(n_cols, dtype=np.int32), obj)
    if len(ints):
        arr = np.asarray(ints, dtype=np.int32)
        h.changeColsIntegrality(
            len(arr), arr, np.full(len(arr), highspy.HighsVarType.kInteger, dtype=np.uint8)
        )
    h.addRows(len(rows.lower), rows.lower, rows.upper, len(rows.index), rows.starts,
              rows.index, rows.value)  # fmt: skip
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    feasible = h.getInfo().primal_solution_status == 2  # an incumbent (e.g. at the time limit)
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal and not feasible:
        return status, None
    return status, np.asarray(h.getSolution().col_value, dtype=float)
