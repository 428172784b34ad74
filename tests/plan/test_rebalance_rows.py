"""The numpy row builder of the rebalancing model (echelon.plan.rebalance_rows) makes exactly
the rows of the per-row Python construction it replaced (kept here as the reference): same
order, columns, coefficients and bounds, so HiGHS solves the same model."""

from __future__ import annotations

import highspy
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from echelon.plan.rebalance import TANGENTS, solve_rebalance
from echelon.plan.rebalance_rows import Columns, constraint_rows
from echelon.policies.normal import expected_shortage, stockout_probability


def _reference_rows(
    x0: np.ndarray, m: np.ndarray, s: np.ndarray, ship: np.ndarray,
    pairs: np.ndarray, e_loc: np.ndarray, cols: Columns,
) -> tuple[list[list[int]], list[list[float]], list[float], list[float], np.ndarray]:  # fmt: skip
    """The rows as solve_rebalance built them one by one before (module doc)."""
    n, n_t = x0.size, len(pairs)
    inf = highspy.kHighsInf
    idx: list[list[int]] = []
    val: list[list[float]] = []
    lo: list[float] = []
    hi: list[float] = []
    z_lb = np.zeros(n)
    delta: list[tuple[list[int], list[float]]] = [([], []) for _ in range(n)]
    for q, (i, j) in enumerate(pairs.tolist()):
        delta[j][0].append(cols.t + q)
        delta[j][1].append(1.0)
        delta[i][0].append(cols.t + q)
        delta[i][1].append(-1.0)
    for q, j in enumerate(e_loc.tolist()):
        delta[j][0].append(cols.e + q)
        delta[j][1].append(1.0)
    for i in range(n):
        out_cols = [cols.t + q for q in range(n_t) if pairs[q, 0] == i]
        if out_cols:
            idx.append(out_cols), val.append([1.0] * len(out_cols))
            lo.append(-inf), hi.append(float(ship[i]))
    for j in range(n):
        cs, vs = delta[j]
        idx.append([cols.z + j, *cs]), val.append([1.0, *vs])
        lo.append(float(m[j] - x0[j])), hi.append(inf)
        if s[j] > 0 and cs:
            for u in TANGENTS:
                c = m[j] + s[j] * u
                es = float(expected_shortage(c, m[j], s[j]))
                slope = -float(stockout_probability(c, m[j], s[j]))
                idx.append([cols.z + j, *cs]), val.append([1.0, *(-slope * v for v in vs)])
                lo.append(es + slope * (x0[j] - c)), hi.append(inf)
        elif s[j] > 0:
            z_lb[j] = float(expected_shortage(x0[j], m[j], s[j]))
    if cols.y is not None:
        for q, (i, _j) in enumerate(pairs.tolist()):
            idx.append([cols.t + q, cols.y + q]), val.append([1.0, -float(ship[i])])
            lo.append(-inf), hi.append(0.0)
    return idx, val, lo, hi, z_lb


location = st.tuples(
    st.integers(-20, 150), st.floats(0, 80), st.sampled_from([0.0, 0.5, 3.0, 12.0]),
    st.booleans(),
)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    st.lists(location, min_size=1, max_size=6),
    st.lists(st.integers(0, 5), max_size=4),
    st.booleans(),
    st.integers(0, 2**31 - 1),
)
def test_rows_equal_the_per_row_construction(
    locs: list[tuple[int, float, float, bool]], late: list[int], fixed: bool, seed: int
) -> None:
    n = len(locs)
    x0 = np.array([r[0] for r in locs], float)
    m = np.array([r[1] for r in locs])
    s = np.array([r[2] for r in locs])
    ship = np.maximum(x0, 0.0)
    ok = np.random.default_rng(seed).random((n, n)) < 0.7
    np.fill_diagonal(ok, False)
    ok &= ship[:, None] > 1e-9
    pairs = np.argwhere(ok)
    e_loc = np.array([j % n for j in late], np.int64)
    n_t = len(pairs)
    c_e = n_t * (2 if fixed else 1)  # columns: t | y (with a fixed cost) | e | z
    cols = Columns(0, n_t if fixed else None, c_e, c_e + len(e_loc))
    rows, z_lb = constraint_rows(x0, m, s, ship, pairs, e_loc, cols, TANGENTS)
    idx, val, lo, hi, want_lb = _reference_rows(x0, m, s, ship, pairs, e_loc, cols)
    ends = np.append(rows.starts[1:], len(rows.index))
    assert len(rows.starts) == len(idx)
    for r, (a, b) in enumerate(zip(rows.starts, ends, strict=True)):
        assert rows.index[a:b].tolist() == idx[r]
        assert rows.value[a:b].tolist() == val[r]
    assert rows.lower.tolist() == lo
    assert rows.upper.tolist() == hi
    assert z_lb.tolist() == want_lb.tolist()


def test_integral_moves_on_a_mip_with_expedites() -> None:
    sol = solve_rebalance(
        [0, 200, 5], [50, 20, 30], [10, 5, 8], [5, 5, 5], transfer_cost=0.5, fixed_cost=1.0,
        expedite_location=[2], expedite_quantity=[40], expedite_cost=[0.2],
    )  # fmt: skip
    assert sol.transfers.sum() > 0
    assert np.all(sol.transfers == np.round(sol.transfers))
    assert np.all(sol.expedite == np.round(sol.expedite))
