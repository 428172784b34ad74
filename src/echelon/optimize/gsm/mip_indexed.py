"""Time-indexed MIP of the GSM on the 2-core of the network (HiGHS, proven lower bound).

After the exact pendant-tree reduction (``reduce.py``) every core node j has ladder binaries

    u_{j,a} = [S_j ≥ a]   (a = s_lo+1 … s_hi),     v_{j,b} = [SI_j ≥ b]  (b = si_lo+1 … si_hi)

and an arc i → j with delay d is ``v_{j,a+d} ≥ u_{i,a}`` for every a. A node with a stage cost
also has one continuous **pair** variable x_{j,b,a} ∈ [0, 1] per (SI, S) = (b, a) with
a ≤ b + T_j, tied to the ladders by the transportation (marginal) equations

    Σ_a x_{j,b,a} = v_{j,b} − v_{j,b+1},      Σ_b x_{j,b,a} = u_{j,a} − u_{j,a+1}

(v_{j,si_lo} = u_{j,s_lo} = 1, v_{j,si_hi+1} = u_{j,s_hi+1} = 0), and costs
``Σ c_j(b + T_j − a) x_{j,b,a}``. For integer ladders the pair is the indicator of (SI_j, S_j),
so the model is exact (SI_j ≥ S_j − T_j is true of some optimal solution: a node that waits
raises its SI at no cost). For a fixed node the transportation polytope is integral, so its
LP is the convex hull of that node's cost — far tighter than the chord of √τ that a
piecewise-linear model of the aggregated τ gives (on the Willems chains the LP bound is within
0–2 % of the optimum). The pendant trees' exact costs of S_j (non-decreasing) and SI_j
(non-increasing) are linear in the ladders: ``A(S) = A(s_lo) + Σ_a (A(a) − A(a−1)) u_{j,a}``.

Solve: LP relaxation (a valid lower bound), rounding of its ladders at 1/2 + the heuristic's
local search (an upper bound), then the MIP warm-started with the best service times until
the proven gap ``(UB − LB)/UB`` reaches the tolerance or the time limit. The lower bound is
HiGHS's dual bound of this exact model (never below the LP bound); the upper bound is the
true cost of the expanded service times (``evaluate``).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import highspy
import numpy as np

from echelon.highs import quiet_highs
from echelon.optimize.gsm.instance import Bounds, FloatArray, GSMInstance, IntArray, service_bounds
from echelon.optimize.gsm.reduce import Reduction, reduce_to_core
from echelon.optimize.gsm.solution import GSMSolution, evaluate, make_solution, settle, start_point

INF = highspy.kHighsInf


@dataclass
class _Node:
    j: int
    T: int
    s_lo: int
    s_hi: int
    si_lo: int
    si_hi: int
    u0: int  # column of u_{s_lo+1}
    v0: int  # column of v_{si_lo+1}
    pairs: IntArray | None = None  # column of x_{b,a} at [b − si_lo, a − s_lo] (−1: none)

    def u(self, a: int) -> int | None:
        """Column of u_{j,a}; None where it is a constant (1 for a ≤ s_lo, 0 above s_hi)."""
        return self.u0 + a - self.s_lo - 1 if self.s_lo < a <= self.s_hi else None

    def v(self, b: int) -> int | None:
        return self.v0 + b - self.si_lo - 1 if self.si_lo < b <= self.si_hi else None


@dataclass
class _Rows:
    lo: list[float] = field(default_factory=list)
    hi: list[float] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    index: list[IntArray] = field(default_factory=list)
    value: list[FloatArray] = field(default_factory=list)
    nnz: int = 0

    def add(self, cols: list[int] | IntArray, vals: list[float] | FloatArray, lo: float,
            hi: float) -> None:  # fmt: skip
        self.starts.append(self.nnz)
        self.index.append(np.asarray(cols, np.int32))
        self.value.append(np.asarray(vals, float))
        self.nnz += len(cols)
        self.lo.append(lo)
        self.hi.append(hi)


@dataclass
class CoreModel:
    """The HiGHS model of the core and the column layout."""

    red: Reduction
    nodes: list[_Node]
    highs: highspy.Highs
    n_cols: int
    integer: IntArray
    offset: float
    col_lo: FloatArray
    col_hi: FloatArray
    cost: FloatArray
    row_lo: FloatArray
    row_hi: FloatArray
    row_of_nz: IntArray
    col_of_nz: IntArray
    val_of_nz: FloatArray

    def safe_bound(self, row_dual: FloatArray) -> float:
        """A lower bound of the LP from any row duals y, valid whatever their accuracy.

        For every x with l ≤ x ≤ u and L ≤ Ax ≤ U: ``cᵀx + offset = yᵀAx + rᵀx + offset ≥
        Σ_i (y_i L_i if y_i > 0 else y_i U_i) + Σ_j (r_j l_j if r_j > 0 else r_j u_j) + offset``
        with ``r = c − Aᵀy`` (y_i set to 0 where the needed row bound is infinite). So solver
        tolerances cannot make the reported bound exceed the true LP optimum.
        """
        y = np.asarray(row_dual, float).copy()
        y[(y > 0) & ~np.isfinite(self.row_lo)] = 0.0
        y[(y < 0) & ~np.isfinite(self.row_hi)] = 0.0
        r = self.cost.copy()
        np.add.at(r, self.col_of_nz, -self.val_of_nz * y[self.row_of_nz])
        rows = np.where(y > 0, y * np.where(y > 0, self.row_lo, 0.0), 0.0)
        rows = rows + np.where(y < 0, y * np.where(y < 0, self.row_hi, 0.0), 0.0)
        cols = np.where(r > 0, r * self.col_lo, r * self.col_hi)
        return float(self.offset + rows.sum() + cols.sum())


def build_core_model(inst: GSMInstance, red: Reduction) -> CoreModel:
    """Columns, rows and costs of the time-indexed model of the core (see the module doc)."""
    b = red.bounds
    T = inst.processing_time
    nodes: list[_Node] = []
    lb: list[FloatArray] = []
    ub: list[FloatArray] = []
    cost: list[FloatArray] = []
    n_cols = 0
    offset = red.constant
    rows = _Rows()

    def new_cols(costs: FloatArray) -> int:
        nonlocal n_cols
        first = n_cols
        lb.append(np.zeros(costs.size))
        ub.append(np.ones(costs.size))
        cost.append(np.asarray(costs, float))
        n_cols += costs.size
        return first

    for j in red.core.tolist():
        s_lo, s_hi = int(b.s_lo[j]), int(b.s_hi[j])
        si_lo, si_hi = int(red.si_lo[j]), int(b.si_hi[j])
        nd = _Node(j, int(T[j]), s_lo, s_hi, si_lo, si_hi, 0, 0)
        a_cost = red.s_cost.get(j)
        nd.u0 = new_cols(np.zeros(s_hi - s_lo) if a_cost is None else np.diff(a_cost[s_lo:]))
        if a_cost is not None:
            offset += float(a_cost[s_lo])
        b_cost = red.si_cost.get(j)
        nd.v0 = new_cols(np.zeros(si_hi - si_lo) if b_cost is None else np.diff(b_cost[si_lo:]))
        if b_cost is not None:
            offset += float(b_cost[si_lo])
        nodes.append(nd)
        table = inst.stage_cost(np.arange(max(si_hi + nd.T - s_lo, 0) + 1), j)
        if table[-1] <= 0:  # no stage cost: ladders only
            for a in range(s_lo + 1, s_hi):
                rows.add([nd.u0 + a - s_lo, nd.u0 + a - s_lo - 1], [1.0, -1.0], -INF, 0.0)
            for bb in range(si_lo + 1, si_hi):
                rows.add([nd.v0 + bb - si_lo, nd.v0 + bb - si_lo - 1], [1.0, -1.0], -INF, 0.0)
            continue
        bs, as_ = np.meshgrid(np.arange(si_lo, si_hi + 1), np.arange(s_lo, s_hi + 1), indexing="ij")
        keep = as_ <= bs + nd.T
        pb, pa = bs[keep], as_[keep]
        x0 = new_cols(table[pb + nd.T - pa])
        cols = x0 + np.arange(pb.size)
        nd.pairs = np.full(bs.shape, -1, np.int64)
        nd.pairs[keep] = cols
        by_b = np.split(cols, np.cumsum(np.bincount(pb - si_lo, minlength=si_hi - si_lo + 1))[:-1])
        order = np.argsort(pa, kind="stable")
        by_a = np.split(
            cols[order], np.cumsum(np.bincount(pa - s_lo, minlength=s_hi - s_lo + 1))[:-1]
        )
        for bb in range(si_lo, si_hi + 1):  # Σ_a x_{b,a} − v_b + v_{b+1} = 0 (v_{si_lo} = 1)
            c = by_b[bb - si_lo].tolist()
            vals = [1.0] * len(c)
            rhs = 1.0 if bb == si_lo else 0.0
            if (cv := nd.v(bb)) is not None:
                c.append(cv)
                vals.append(-1.0)
            if (cv := nd.v(bb + 1)) is not None:
                c.append(cv)
                vals.append(1.0)
            rows.add(c, vals, rhs, rhs)
        for a in range(s_lo, s_hi + 1):
            c = by_a[a - s_lo].tolist()
            vals = [1.0] * len(c)
            rhs = 1.0 if a == s_lo else 0.0
            if (cu := nd.u(a)) is not None:
                c.append(cu)
                vals.append(-1.0)
            if (cu := nd.u(a + 1)) is not None:
                c.append(cu)
                vals.append(1.0)
            rows.add(c, vals, rhs, rhs)
    pos = {nd.j: p for p, nd in enumerate(nodes)}
    upper = np.concatenate(ub) if ub else np.zeros(0)
    for arc in red.core_arcs.tolist():
        i, j, d = int(inst.arc_src[arc]), int(inst.arc_dst[arc]), int(inst.arc_delay[arc])
        ni, nj = nodes[pos[i]], nodes[pos[j]]
        for a in range(ni.s_lo + 1, ni.s_hi + 1):  # v_{j,a+d} ≥ u_{i,a}
            cu, cv = ni.u(a), nj.v(a + d)
            assert cu is not None
            if cv is not None:
                rows.add([cu, cv], [1.0, -1.0], -INF, 0.0)
            elif a + d > nj.si_hi:  # not reachable with longest-path bounds
                upper[cu] = 0.0
    all_cost = np.concatenate(cost) if cost else np.zeros(0)
    if not np.all(np.isfinite(all_cost)) or not math.isfinite(offset):
        raise ValueError("pendant cost functions are not finite on the core's bounds")
    h = quiet_highs(threads=1)
    lower = np.concatenate(lb) if lb else np.zeros(0)
    h.addVars(n_cols, lower, upper)
    h.changeColsCost(n_cols, np.arange(n_cols, dtype=np.int32), all_cost)
    h.changeObjectiveOffset(offset)
    index = np.concatenate(rows.index) if rows.index else np.zeros(0, np.int32)
    value = np.concatenate(rows.value) if rows.value else np.zeros(0)
    starts = np.array(rows.starts, dtype=np.int64)
    if rows.lo:
        h.addRows(
            len(rows.lo),
            np.array(rows.lo),
            np.array(rows.hi),
            rows.nnz,
            starts.astype(np.int32),
            index,
            value,
        )
    row_of_nz = np.repeat(np.arange(len(rows.lo)), np.diff(np.append(starts, rows.nnz)))
    ladder = [np.arange(nd.u0, nd.u0 + nd.s_hi - nd.s_lo) for nd in nodes]
    ladder += [np.arange(nd.v0, nd.v0 + nd.si_hi - nd.si_lo) for nd in nodes]
    integer = np.concatenate(ladder).astype(np.int64) if ladder else np.zeros(0, np.int64)
    return CoreModel(
        red, nodes, h, n_cols, integer, offset, lower, upper, all_cost,
        np.array(rows.lo), np.array(rows.hi), row_of_nz.astype(np.int64),
        index.astype(np.int64), value,
    )  # fmt: skip


def _columns(model: CoreModel, committed: IntArray) -> FloatArray:
    """Column values of the model at service times S (SI least, raised when waiting)."""
    si = evaluate(model.red.inst, committed)[0]
    x = np.zeros(model.n_cols)
    for nd in model.nodes:
        s, sin = int(committed[nd.j]), int(si[nd.j])
        x[nd.u0 : nd.u0 + nd.s_hi - nd.s_lo] = np.arange(nd.s_lo + 1, nd.s_hi + 1) <= s
        x[nd.v0 : nd.v0 + nd.si_hi - nd.si_lo] = np.arange(nd.si_lo + 1, nd.si_hi + 1) <= sin
        if nd.pairs is not None:
            x[nd.pairs[sin - nd.si_lo, s - nd.s_lo]] = 1.0
    return x


def _decode(model: CoreModel, x: FloatArray) -> IntArray:
    """Service times of every node from (rounded) ladder values: core S, SI, then pendants."""
    core_s: dict[int, int] = {}
    core_si: dict[int, int] = {}
    for nd in model.nodes:
        core_s[nd.j] = nd.s_lo + int(np.sum(x[nd.u0 : nd.u0 + nd.s_hi - nd.s_lo] > 0.5))
        core_si[nd.j] = nd.si_lo + int(np.sum(x[nd.v0 : nd.v0 + nd.si_hi - nd.si_lo] > 0.5))
    s = model.red.expand(core_s, core_si)
    return np.clip(s, model.red.bounds.s_lo, model.red.bounds.s_hi)


def solve_indexed(
    inst: GSMInstance,
    *,
    time_limit: float = 60.0,
    gap_tolerance: float = 1e-4,
    start: IntArray | None = None,
    bounds: Bounds | None = None,
    seed: int = 0,
    reduction: Reduction | None = None,
) -> GSMSolution:
    """Solve the GSM on any acyclic network (module doc); proven lower bound and gap."""
    from echelon.optimize.gsm.heuristic import _cost_tables, local_search

    t0 = time.perf_counter()
    b = bounds or service_bounds(inst)
    red = reduction or reduce_to_core(inst, b)
    details: dict[str, float | int | str] = {
        "formulation": "time-indexed pairs on the 2-core",
        "core_nodes": int(red.core.size),
        "core_arcs": int(red.core_arcs.size),
    }
    if red.core.size == 0:  # a forest: the reduction solved it exactly
        sol = make_solution(inst, red.expand({}, {}), "mip", lower_bound=red.constant)
        sol.lower_bound = min(red.constant, sol.objective)
        sol.details.update(details)
        return sol
    model = build_core_model(inst, red)
    h = model.highs
    h.setOptionValue("random_seed", seed)
    details["columns"] = model.n_cols
    details["build_seconds"] = time.perf_counter() - t0
    best_s, best_ub = start_point(inst, b, start)
    tables = _cost_tables(inst, b)

    def offer(s: IntArray) -> None:
        nonlocal best_s, best_ub
        s = local_search(inst, s, b, tables)
        ub = evaluate(inst, s)[2]
        if ub < best_ub - 1e-12 * max(1.0, abs(ub)):
            best_s, best_ub = s, ub

    lower = 0.0  # every stage cost is ≥ 0
    h.setOptionValue("solve_relaxation", True)
    h.setOptionValue("time_limit", max(0.1, time_limit - (time.perf_counter() - t0)))
    h.run()
    if h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
        sol_lp = h.getSolution()
        lower = max(lower, model.safe_bound(np.asarray(sol_lp.row_dual)))
        details["lp_objective"] = float(h.getInfo().objective_function_value)
        details["lp_bound"] = lower
        offer(_decode(model, np.asarray(sol_lp.col_value)))
    details["lp_seconds"] = time.perf_counter() - t0
    status = "time_limit"

    def gap() -> float:
        return (best_ub - lower) / best_ub if best_ub > 0 else 0.0

    left = time_limit - (time.perf_counter() - t0)
    if gap() > gap_tolerance + 1e-12 and left > 0.2:
        h.setOptionValue("solve_relaxation", False)
        ints = model.integer.astype(np.int32)
        h.changeColsIntegrality(
            len(ints), ints, np.full(len(ints), highspy.HighsVarType.kInteger, np.uint8)
        )
        h.setOptionValue("mip_rel_gap", float(gap_tolerance))
        h.setOptionValue("mip_abs_gap", 1e-9)
        h.setOptionValue("time_limit", float(left))
        warm = highspy.HighsSolution()
        warm.col_value = _columns(model, best_s).tolist()
        h.setSolution(warm)
        h.run()
        info = h.getInfo()
        if info.mip_dual_bound is not None and math.isfinite(info.mip_dual_bound):
            lower = max(lower, float(info.mip_dual_bound))
        if info.primal_solution_status == 2:
            offer(_decode(model, np.asarray(h.getSolution().col_value)))
        details["mip_nodes"] = int(info.mip_node_count)
    if gap() <= gap_tolerance + 1e-12:
        status = "optimal" if gap() <= 1e-9 else "gap_reached"
    details["mip_seconds"] = time.perf_counter() - t0
    sol = make_solution(
        inst,
        best_s,
        "mip",
        lower_bound=lower,
        status=status,
        details=details,
    )
    return settle(sol)
