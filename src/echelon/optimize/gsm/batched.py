"""The guaranteed-service model for many items at once (issue 13): one Graves–Willems DP pass
over items that share a network structure.

Items of a catalogue share the network (nodes, lanes, whole-period lead times, service-time
bounds) and differ in holding cost, safety factor z, demand σ and μ and the lead-time term.
The tree DP of :mod:`echelon.optimize.gsm.tree` then runs on the same integer grids for every
item, so each node's table ``Φ_k`` becomes an array ``[items, S, SI]`` and the prefix/suffix
minima, couplings and backtracking run along the item axis with numpy. The operations are the
per-item DP's, element for element, so the service times (ties included) and the costs are
those of :func:`echelon.optimize.gsm.solve.solve_gsm` item by item.

Entry points: :func:`solve_gsm_items` (networks or instances in, one
:class:`~echelon.optimize.result.OptimizationResult` per item out, like ``solve_gsm``) and
:func:`solve_tree_items` (arrays in, service times out). Structures that are not forests fall
back to ``solve_gsm`` item by item (the MIP: each item's costs change the model, so nothing is
shared but the structure). Units: periods (service times), money per period (costs).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from echelon.errors import NetworkError
from echelon.network.model import Network
from echelon.optimize.gsm.instance import (
    Bounds,
    Convention,
    FloatArray,
    GSMInstance,
    IntArray,
    build_instance,
    service_bounds,
)
from echelon.optimize.gsm.solution import make_solution
from echelon.optimize.gsm.solve import solve_gsm, to_result
from echelon.optimize.gsm.tree import NotATreeError, Rooted, root_forest
from echelon.optimize.result import OptimizationResult

DEFAULT_CHUNK_CELLS = 4_000_000
"""Largest ``items × S × SI`` table built at once (float64 cells, 32 MB)."""


@dataclass(frozen=True)
class ItemArrays:
    """Per-item GSM data, each ``[items, nodes]`` in the template's node order: holding cost
    (money per unit per period), z, σ and μ of the demand a node serves (units per period) and
    the lead-time std (periods)."""

    holding_cost: FloatArray
    z: FloatArray
    sigma: FloatArray
    mean: FloatArray
    lead_time_sd: FloatArray

    @property
    def items(self) -> int:
        return int(self.holding_cost.shape[0])

    def rows(self, sel: slice) -> ItemArrays:
        """The items ``sel`` (a slice of the item axis)."""
        return ItemArrays(
            self.holding_cost[sel],
            self.z[sel],
            self.sigma[sel],
            self.mean[sel],
            self.lead_time_sd[sel],
        )

    @classmethod
    def stack(cls, instances: Sequence[GSMInstance]) -> ItemArrays:
        """The arrays of ``instances`` (same node order) stacked along the item axis."""
        return cls(
            *(
                np.stack([np.asarray(getattr(i, f), float) for i in instances])
                for f in ("holding_cost", "z", "sigma", "mean", "lead_time_sd")
            )
        )


@dataclass(frozen=True)
class TreeItems:
    """The batched DP's answer: committed service times ``[items, nodes]`` (periods) and the DP
    value per item (money per period; inf where an item has no feasible point)."""

    committed: IntArray
    value: FloatArray


def structure_key(inst: GSMInstance) -> tuple[object, ...]:
    """What the DP's grids depend on: node ids, processing times, bounds, lanes and delays.
    Instances with equal keys can be solved in one batch."""
    fixed = inst.fixed_service if inst.fixed_service is not None else np.full(inst.n, -1)
    parts = (
        inst.processing_time,
        inst.max_service,
        inst.min_inbound,
        inst.arc_src,
        inst.arc_dst,
        inst.arc_delay,
        fixed,
    )
    return (tuple(inst.ids), *(np.asarray(p).tobytes() for p in parts))


def _stage_grid(arr: ItemArrays, k: int, T: int, s_hi: int, si_hi: int) -> FloatArray:
    """``c_k(SI + T − S)`` per item on S ∈ [0, s_hi] × SI ∈ [0, si_hi] (+inf where τ < 0), as
    :func:`echelon.optimize.gsm.tree.stage_grid` builds it for one item."""
    t = np.arange(si_hi + T + 1, dtype=float)[None, :]
    var = (
        arr.sigma[:, k, None] ** 2 * t + (arr.mean[:, k, None] * arr.lead_time_sd[:, k, None]) ** 2
    )
    ss = arr.z[:, k, None] * np.sqrt(np.maximum(var, 0.0))
    stage = arr.holding_cost[:, k, None] * np.where(t > 0, ss, 0.0)
    w = np.concatenate([np.full((arr.items, s_hi), np.inf), stage], axis=1)
    view: FloatArray = sliding_window_view(w, si_hi + 1, axis=1)[:, T : T + s_hi + 1][:, ::-1]
    return view


def _prefix_min(values: FloatArray) -> tuple[FloatArray, IntArray]:
    """Running minimum along axis 1 and the last index attaining it."""
    best = np.minimum.accumulate(values, axis=1)
    idx = np.arange(values.shape[1])[None, :]
    arg = np.maximum.accumulate(np.where(values == best, idx, 0), axis=1)
    return best, arg.astype(np.int64)


def _suffix_min(values: FloatArray) -> tuple[FloatArray, IntArray]:
    """Minimum of ``values[:, i:]`` for every i and the first index attaining it."""
    best, arg = _prefix_min(values[:, ::-1])
    return best[:, ::-1].copy(), (values.shape[1] - 1 - arg[:, ::-1]).astype(np.int64)


def _pass_up(phi: FloatArray, supplies_parent: bool) -> tuple[IntArray, FloatArray, IntArray]:
    """:func:`echelon.optimize.gsm.tree.pass_up` for every item (``phi`` is [items, S, SI])."""
    if supplies_parent:
        passed = np.argmin(phi, axis=2).astype(np.int64)
        vals = np.take_along_axis(phi, passed[:, :, None], axis=2)[:, :, 0]
        best, arg = _prefix_min(vals)
    else:
        passed = np.argmin(phi, axis=1).astype(np.int64)
        vals = np.take_along_axis(phi, passed[:, None, :], axis=1)[:, 0, :]
        best, arg = _suffix_min(vals)
    return passed, best, arg


def _coupled(table: FloatArray, d: int, size: int, supplies_parent: bool) -> FloatArray:
    """:func:`echelon.optimize.gsm.tree.coupled_cost` for every item (``table`` [items, grid])."""
    idx = np.arange(size) - d if supplies_parent else np.arange(size) + d
    vals = table[:, np.clip(idx, 0, table.shape[1] - 1)]
    keep = idx >= 0 if supplies_parent else idx < table.shape[1]
    return np.where(keep[None, :], vals, np.inf)


def _forest_dp(rooted: Rooted, b: Bounds, T: IntArray, arr: ItemArrays) -> TreeItems:
    """The Graves–Willems DP of :func:`echelon.optimize.gsm.tree.forest_dp` over all items."""
    m, n = arr.items, len(T)
    passed: dict[int, IntArray] = {}
    best: dict[int, FloatArray] = {}
    arg: dict[int, IntArray] = {}
    root_choice: dict[int, tuple[IntArray, IntArray]] = {}
    total = np.zeros(m)
    for k in reversed(rooted.order):
        up = np.zeros((m, int(b.si_hi[k]) + 1))
        up[:, : int(b.si_lo[k])] = np.inf
        down = np.zeros((m, int(b.s_hi[k]) + 1))
        down[:, : int(b.s_lo[k])] = np.inf
        for c in rooted.children[k]:
            d = int(rooted.parent_delay[c])
            if rooted.child_is_upstream[c]:
                up += _coupled(best[c], d, up.shape[1], True)
            else:
                down += _coupled(best[c], d, down.shape[1], False)
        phi = _stage_grid(arr, k, int(T[k]), down.shape[1] - 1, up.shape[1] - 1) + up[:, None, :]
        phi += down[:, :, None]
        if rooted.parent[k] < 0:
            flat = phi.reshape(m, -1)
            a = np.argmin(flat, axis=1)
            total += flat[np.arange(m), a]
            y, x = np.divmod(a, phi.shape[2])
            root_choice[k] = (y.astype(np.int64), x.astype(np.int64))
        else:
            passed[k], best[k], arg[k] = _pass_up(phi, bool(rooted.child_is_upstream[k]))
    s = np.zeros((m, n), np.int64)
    si = np.zeros((m, n), np.int64)
    rows = np.arange(m)
    for k in rooted.order:
        p = int(rooted.parent[k])
        if p < 0:
            s[:, k], si[:, k] = root_choice[k]
            continue
        d = int(rooted.parent_delay[k])
        size = arg[k].shape[1]
        if rooted.child_is_upstream[k]:
            s[:, k] = arg[k][rows, np.clip(si[:, p] - d, 0, size - 1)]
            si[:, k] = passed[k][rows, s[:, k]]
        else:
            si[:, k] = arg[k][rows, np.minimum(s[:, p] + d, size - 1)]
            s[:, k] = passed[k][rows, si[:, k]]
    return TreeItems(s, total)


def solve_tree_items(
    template: GSMInstance, arrays: ItemArrays, *, chunk_cells: int = DEFAULT_CHUNK_CELLS
) -> TreeItems:
    """Optimal committed service times of every item on ``template``'s structure (a forest),
    with the item data ``arrays``; items are processed in chunks of at most ``chunk_cells``
    table cells per node. Raises NetworkError if the structure is not a forest."""
    arcs = zip(
        template.arc_src.tolist(),
        template.arc_dst.tolist(),
        template.arc_delay.tolist(),
        strict=True,
    )
    try:
        rooted = root_forest(template.n, list(arcs))
    except NotATreeError as exc:
        raise NetworkError(
            "the batched tree DP needs a network whose undirected graph is a tree (or forest)",
            source=template.name,
            found=str(exc),
            fix="use solve_gsm_items, which falls back to the MIP item by item",
        ) from exc
    for name in ("holding_cost", "z", "sigma", "mean", "lead_time_sd"):
        shape = np.shape(getattr(arrays, name))
        if len(shape) != 2 or shape[1] != template.n or shape[0] != arrays.items:
            raise NetworkError(
                "item arrays must be [items, nodes] in the template's node order",
                source=template.name,
                field=name,
                expected=f"shape ({arrays.items}, {template.n})",
                found=f"shape {shape}",
                fix="stack one row per item (ItemArrays.stack)",
            )
    b = service_bounds(template)
    widest = int(np.max((b.s_hi + 1) * (b.si_hi + 1), initial=1))
    step = max(1, chunk_cells // widest)
    parts = [
        _forest_dp(rooted, b, template.processing_time, arrays.rows(slice(lo, lo + step)))
        for lo in range(0, arrays.items, step)
    ]
    if not parts:
        return TreeItems(np.zeros((0, template.n), np.int64), np.zeros(0))
    return TreeItems(
        np.concatenate([p.committed for p in parts]), np.concatenate([p.value for p in parts])
    )


def _flags(value: bool | Sequence[bool], count: int) -> list[bool]:
    if isinstance(value, bool):
        return [value] * count
    flags = [bool(v) for v in value]
    if len(flags) != count:
        raise NetworkError(
            "one lead_time_variance flag per network is needed",
            field="lead_time_variance",
            expected=f"a bool or {count} bools",
            found=f"{len(flags)} flags",
            fix="pass a single bool or one per network",
        )
    return flags


def solve_gsm_items(
    networks: Sequence[Network | GSMInstance],
    *,
    lead_time_variance: bool | Sequence[bool] = False,
    default_service_level: float = 0.95,
    convention: Convention = "auto",
    time_limit: float = 60.0,
    chunk_cells: int = DEFAULT_CHUNK_CELLS,
) -> list[OptimizationResult]:
    """``[solve_gsm(net, ...) for net in networks]`` with one DP pass per network structure.

    Networks are grouped by :func:`structure_key`; a forest group is solved by
    :func:`solve_tree_items`, any other group item by item with ``solve_gsm`` (``time_limit``
    seconds each). ``lead_time_variance`` is one flag or one per network. Each result's
    ``seconds`` is its share of its group's time.
    """
    flags = _flags(lead_time_variance, len(networks))
    insts = [
        net
        if isinstance(net, GSMInstance)
        else build_instance(
            net,
            convention=convention,
            default_service_level=default_service_level,
            lead_time_variance=flag,
        )
        for net, flag in zip(networks, flags, strict=True)
    ]
    groups: dict[tuple[object, ...], list[int]] = {}
    for i, inst in enumerate(insts):
        groups.setdefault(structure_key(inst), []).append(i)
    out: list[OptimizationResult | None] = [None] * len(insts)
    for members in groups.values():
        for i, res in zip(
            members, _solve_group([insts[i] for i in members], time_limit, chunk_cells), strict=True
        ):
            out[i] = res
    return [r for r in out if r is not None]


def _solve_group(
    insts: list[GSMInstance], time_limit: float, chunk_cells: int
) -> list[OptimizationResult]:
    """One structure's items: the batched DP for a forest, else ``solve_gsm`` per item."""
    start = time.perf_counter()
    try:
        tree = solve_tree_items(insts[0], ItemArrays.stack(insts), chunk_cells=chunk_cells)
    except NetworkError:
        return [solve_gsm(inst, time_limit=time_limit) for inst in insts]
    b = service_bounds(insts[0])
    cells = int(np.sum((b.s_hi + 1) * (b.si_hi + 1)))
    share = (time.perf_counter() - start) / len(insts)
    results = []
    for inst, committed, value in zip(insts, tree.committed, tree.value, strict=True):
        sol = make_solution(inst, committed, "tree", status="optimal")
        sol.lower_bound = sol.objective
        sol.details.update(dp_value=float(value), grid_cells=cells, seconds=share)
        results.append(to_result(inst, sol, share))
    return results
