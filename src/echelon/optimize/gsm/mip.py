"""Exact mixed-integer models of the GSM on general acyclic networks, solved with HiGHS.

:func:`solve_mip` uses, by default, the time-indexed pair model of the network's 2-core
(``mip_indexed.py``, after the exact pendant-tree reduction of ``reduce.py``), whose LP bound is
tight. When service-time ranges make that model too large (long processing times), a 2-core
with at most ``CUT_RANK_LIMIT`` cycles is solved exactly by cut arcs and branch and bound on the
tree DP (``cut.py``); the piecewise-linear model below (:func:`solve_mip_pwl`) is the last
fallback.

Piecewise-linear model. Variables: integer S_j ∈ [s_lo, s_hi] and SI_j ∈ [si_lo, si_hi]
(longest-path bounds), arcs ``S_i − SI_j ≤ −d_ij``, and ``τ_j = SI_j + T_j − S_j ≥ 0``. The
concave stage cost c_j(τ) is modelled piecewise linearly through breakpoints ``0 = b_0 < … <
b_m = τ_max`` with the incremental formulation (``δ_k ∈ [0, 1]`` per segment, binaries
``δ_{k+1} ≤ w_k ≤ δ_k``).

Because c_j is concave on the integers, the piecewise-linear function through integer
breakpoints is a lower envelope of c_j that is exact at the breakpoints. So:

- with every integer as a breakpoint (small instances) the model is exact;
- otherwise HiGHS's dual bound is a **valid lower bound** of the true optimum and the true cost
  of its solution an upper bound. Breakpoints start at {0,…,4} and then grow by ×1.5 (the
  envelope is then within about 0.6 % of c_j everywhere); after each solve the τ values of the
  incumbent are added as breakpoints and the model is solved again (warm-started) until the
  proven gap ``(UB − LB)/UB`` is within the tolerance or the time limit is reached.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Literal

import highspy
import numpy as np

from echelon.highs import quiet_highs
from echelon.optimize.gsm.cut import CUT_RANK_LIMIT, cycle_rank, solve_cut
from echelon.optimize.gsm.instance import Bounds, FloatArray, GSMInstance, IntArray, service_bounds
from echelon.optimize.gsm.mip_indexed import solve_indexed
from echelon.optimize.gsm.reduce import Reduction, reduce_to_core
from echelon.optimize.gsm.solution import GSMSolution, evaluate, make_solution, settle

EXACT_GRID_LIMIT = 4000  # Σ τ_max up to which every integer is a breakpoint
INDEXED_PAIR_LIMIT = 3_000_000  # pair columns (whole network) up to which ``indexed`` is used
Formulation = Literal["auto", "indexed", "pwl", "cut"]


def initial_breakpoints(tau_max: int, growth: float = 1.5) -> list[int]:
    """0, 1, 2, 3, 4, then ×growth (rounded) up to tau_max (always included)."""
    points = list(range(min(tau_max, 4) + 1))
    x = 4.0
    while points[-1] < tau_max:
        x *= growth
        points.append(min(tau_max, round(x)))
    return sorted(set(points))


@dataclass
class _Model:
    highs: highspy.Highs
    n_cols: int
    col_s: IntArray
    col_si: IntArray
    segments: dict[int, tuple[list[int], int, int]] = field(default_factory=dict)
    # node -> (breakpoints, first delta column, first binary column)


def _build(
    inst: GSMInstance, b: Bounds, breakpoints: dict[int, list[int]], tables: list[FloatArray]
) -> _Model:
    n = inst.n
    lb: list[float] = []
    ub: list[float] = []
    cost: list[float] = []
    integer: list[int] = []
    col_s = np.arange(n, dtype=np.int64)
    col_si = np.arange(n, 2 * n, dtype=np.int64)
    lb += b.s_lo.astype(float).tolist() + b.si_lo.astype(float).tolist()
    ub += b.s_hi.astype(float).tolist() + b.si_hi.astype(float).tolist()
    cost += [0.0] * (2 * n)
    integer += list(range(2 * n))
    rows_lo: list[float] = []
    rows_hi: list[float] = []
    starts: list[int] = []
    index: list[int] = []
    value: list[float] = []

    def row(cols: list[int], vals: list[float], lo: float, hi: float) -> None:
        starts.append(len(index))
        index.extend(cols)
        value.extend(vals)
        rows_lo.append(lo)
        rows_hi.append(hi)

    for i, j, d in zip(
        inst.arc_src.tolist(), inst.arc_dst.tolist(), inst.arc_delay.tolist(), strict=True
    ):
        row([int(col_s[i]), int(col_si[j])], [1.0, -1.0], -highspy.kHighsInf, -float(d))
    model = _Model(quiet_highs(), 0, col_s, col_si)
    for j in range(n):
        T = float(inst.processing_time[j])
        pts = breakpoints.get(j)
        base = [int(col_si[j]), int(col_s[j])]
        if not pts or len(pts) < 2:
            row(base, [1.0, -1.0], -T, highspy.kHighsInf)
            continue
        first_delta = len(lb)
        m = len(pts) - 1
        for k in range(1, m + 1):
            lb.append(0.0)
            ub.append(1.0)
            cost.append(float(tables[j][pts[k]] - tables[j][pts[k - 1]]))
        first_bin = len(lb)
        for _ in range(m - 1):
            lb.append(0.0)
            ub.append(1.0)
            cost.append(0.0)
            integer.append(len(lb) - 1)
        widths = [float(pts[k] - pts[k - 1]) for k in range(1, m + 1)]
        row(base + list(range(first_delta, first_delta + m)), [1.0, -1.0, *(-w for w in widths)],
            -T, -T)  # fmt: skip
        for k in range(m - 1):
            w, d_now, d_next = first_bin + k, first_delta + k, first_delta + k + 1
            row([d_next, w], [1.0, -1.0], -highspy.kHighsInf, 0.0)
            row([w, d_now], [1.0, -1.0], -highspy.kHighsInf, 0.0)
        model.segments[j] = (pts, first_delta, first_bin)
    h = model.highs
    n_cols = len(lb)
    h.addVars(n_cols, np.array(lb), np.array(ub))
    h.changeColsCost(n_cols, np.arange(n_cols, dtype=np.int32), np.array(cost))
    ints = np.array(integer, dtype=np.int32)
    h.changeColsIntegrality(
        len(ints), ints, np.full(len(ints), highspy.HighsVarType.kInteger, dtype=np.uint8)
    )
    h.addRows(
        len(rows_lo),
        np.array(rows_lo),
        np.array(rows_hi),
        len(index),
        np.array(starts, dtype=np.int32),
        np.array(index, dtype=np.int32),
        np.array(value),
    )
    model.n_cols = n_cols
    return model


def _start_vector(inst: GSMInstance, model: _Model, committed: IntArray) -> FloatArray:
    """Column values of the model at service times S (for HiGHS's warm start)."""
    si, tau, _ = evaluate(inst, committed)
    x = np.zeros(model.n_cols)
    x[model.col_s] = committed
    x[model.col_si] = si
    for j, (pts, first_delta, first_bin) in model.segments.items():
        t = float(tau[j])
        for k in range(1, len(pts)):
            x[first_delta + k - 1] = min(1.0, max(0.0, (t - pts[k - 1]) / (pts[k] - pts[k - 1])))
            if k < len(pts) - 1:
                x[first_bin + k - 1] = 1.0 if t > pts[k] else 0.0
    return x


def solve_mip(
    inst: GSMInstance,
    *,
    time_limit: float = 60.0,
    gap_tolerance: float = 1e-4,
    start: IntArray | None = None,
    bounds: Bounds | None = None,
    seed: int = 0,
    formulation: Formulation = "auto",
    reduction: Reduction | None = None,
) -> GSMSolution:
    """Exact MIP with a proven lower bound; ``start`` warm-starts HiGHS with service times S.

    ``formulation``: ``indexed`` (pendant-tree reduction + time-indexed pair model of the
    2-core, ``mip_indexed.py``; tight LP), ``cut`` (reduction + cut arcs + branch and bound on
    the core's tree DP, ``cut.py``), ``pwl`` (piecewise-linear τ model below) or ``auto``:
    indexed when its pair variables stay within ``INDEXED_PAIR_LIMIT``; else, after the
    reduction, cut when the core needs at most ``CUT_RANK_LIMIT`` cut arcs, indexed when the
    core's own pairs fit, pwl otherwise.
    """
    t0 = time.perf_counter()
    b = bounds or service_bounds(inst)
    if formulation == "auto":
        formulation, red = plan_formulation(inst, b)
        time_limit = max(0.1, time_limit - (time.perf_counter() - t0))
    else:
        red = reduction
    if formulation == "cut":
        return solve_cut(
            inst, time_limit=time_limit, gap_tolerance=gap_tolerance, start=start, bounds=b,
            reduction=red,
        )  # fmt: skip
    if formulation == "indexed":
        return solve_indexed(
            inst, time_limit=time_limit, gap_tolerance=gap_tolerance, start=start, bounds=b,
            seed=seed, reduction=red,
        )  # fmt: skip
    return solve_mip_pwl(
        inst, time_limit=time_limit, gap_tolerance=gap_tolerance, start=start, bounds=b, seed=seed
    )


def indexed_pair_count(inst: GSMInstance, b: Bounds) -> int:
    """Upper estimate of the indexed model's pair columns: Σ (S range + 1)(SI range + 1)."""
    return int(np.sum((b.s_hi - b.s_lo + 1) * (b.si_hi - b.si_lo + 1)))


def plan_formulation(inst: GSMInstance, b: Bounds) -> tuple[Formulation, Reduction | None]:
    """What ``formulation="auto"`` runs (see :func:`solve_mip`), and the reduction if made."""
    if indexed_pair_count(inst, b) <= INDEXED_PAIR_LIMIT:
        return "indexed", None
    red = reduce_to_core(inst, b)
    if cycle_rank(red) <= CUT_RANK_LIMIT:
        return "cut", red
    if core_pair_count(red) <= INDEXED_PAIR_LIMIT:
        return "indexed", red
    return "pwl", red


def core_pair_count(red: Reduction) -> int:
    """Upper estimate of the indexed model's pair columns on the 2-core only."""
    b, core = red.bounds, red.core
    return int(np.sum((b.s_hi[core] - b.s_lo[core] + 1) * (b.si_hi[core] - red.si_lo[core] + 1)))


def solve_mip_pwl(
    inst: GSMInstance,
    *,
    time_limit: float = 60.0,
    gap_tolerance: float = 1e-4,
    start: IntArray | None = None,
    bounds: Bounds | None = None,
    exact_grid_limit: int = EXACT_GRID_LIMIT,
    seed: int = 0,
) -> GSMSolution:
    """The piecewise-linear τ model (module doc); ``start`` warm-starts HiGHS with S."""
    t0 = time.perf_counter()
    b = bounds or service_bounds(inst)
    tables = [inst.stage_cost(np.arange(int(b.tau_hi[j]) + 1), j) for j in range(inst.n)]
    costly = [j for j in range(inst.n) if b.tau_hi[j] > 0 and tables[j][-1] > 0]
    exact = sum(int(b.tau_hi[j]) for j in costly) <= exact_grid_limit
    breakpoints = {
        j: list(range(int(b.tau_hi[j]) + 1)) if exact else initial_breakpoints(int(b.tau_hi[j]))
        for j in costly
    }
    best_s = None if start is None else np.clip(start, b.s_lo, b.s_hi)
    best_ub = math.inf if best_s is None else evaluate(inst, best_s)[2]
    lower = 0.0
    rounds = 0
    status = "time_limit"
    while True:
        rounds += 1
        left = time_limit - (time.perf_counter() - t0)
        if left <= 0.05:
            break
        model = _build(inst, b, breakpoints, tables)
        h = model.highs
        h.setOptionValue("time_limit", float(left))
        h.setOptionValue("mip_rel_gap", float(gap_tolerance) / 2 if not exact else gap_tolerance)
        h.setOptionValue("mip_abs_gap", 1e-9)
        h.setOptionValue("threads", 1)
        h.setOptionValue("random_seed", seed)
        if best_s is not None:
            warm = highspy.HighsSolution()
            warm.col_value = _start_vector(inst, model, best_s).tolist()
            h.setSolution(warm)
        h.run()
        info = h.getInfo()
        model_status = h.getModelStatus()
        if info.mip_dual_bound is not None and math.isfinite(info.mip_dual_bound):
            lower = max(lower, float(info.mip_dual_bound))
        if info.primal_solution_status == 2:  # feasible
            x = np.asarray(h.getSolution().col_value)
            s = np.rint(x[model.col_s]).astype(np.int64)
            ub = evaluate(inst, s)[2]
            if ub < best_ub:
                best_s, best_ub = s, ub
        if model_status == highspy.HighsModelStatus.kOptimal and exact:
            status = "optimal"
            break
        if best_s is None:
            break
        gap = (best_ub - lower) / best_ub if best_ub > 0 else 0.0
        if gap <= gap_tolerance + 1e-12:
            status = "optimal" if gap <= 1e-9 else "gap_reached"
            break
        if model_status != highspy.HighsModelStatus.kOptimal:
            break  # time limit inside HiGHS
        tau = evaluate(inst, best_s)[1]
        added = 0
        for j in costly:
            t = int(tau[j])
            if t not in breakpoints[j]:
                breakpoints[j] = sorted({*breakpoints[j], t})
                added += 1
        if added == 0:
            break
    if best_s is None:
        raise RuntimeError("HiGHS found no solution within the time limit")
    sol = make_solution(
        inst,
        best_s,
        "mip",
        lower_bound=lower,
        status=status,
        details={
            "formulation": "piecewise-linear",
            "refinement_rounds": rounds,
            "exact_formulation": exact,
            "breakpoints": sum(len(p) for p in breakpoints.values()),
            "mip_seconds": time.perf_counter() - t0,
        },
    )
    return settle(sol)
