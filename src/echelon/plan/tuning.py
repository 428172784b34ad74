"""Every store level of every item of a chunk tuned at once (the batched
:func:`echelon.plan.placement.tune_store_levels`).

The search is the per-item one — bracket z by doubling (to Z_MAX, and on to a store's own
``top`` where it is still short there), bisect every store's z on the search random numbers,
check on the KPI numbers, raise what is short there and bisect it back — with z as arrays
``[items, stores]``: each step is **one** call of the item-batched kernel
(:func:`echelon.sim.items.simulate_items`) for all items of the chunk that still move (an item
whose stores are all settled is left out of the call; items are independent, so the answer of
an item does not depend on the others of its chunk, on the chunk size, or on the workers). The
draws of both seeds are made once per chunk (common random numbers across the steps, as
``simulate`` redraws the same numbers in every call). Each item's levels and fill rates are
those of :func:`~echelon.plan.placement.tune_store_levels` on the item alone
(tests/plan/test_tuning.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from echelon.network.graph import echelon_demand, tiers
from echelon.network.model import Network
from echelon.optimize.result import OptimizationResult
from echelon.optimize.single_echelon import solve_single_echelon
from echelon.plan.context import PlanContext
from echelon.plan.current_policy import current_policy
from echelon.plan.forecasting import PlanForecasts
from echelon.plan.leadtimes import LaneLeadTime
from echelon.plan.model import PolicyName
from echelon.plan.placement import (
    BISECTIONS,
    CHECK_ROUNDS,
    WARMUP,
    Z_MAX,
    ItemPlan,
    SimRun,
    Targets,
    TuneInputs,
    item_network,
    solve_item_gsms,
    target_of,
    tune_inputs,
    with_levels,
)
from echelon.plan.zsearch import grid_search
from echelon.sim.items import ItemBatch, compile_items, fill_rates, item_draws, simulate_items

BISECT_TOL = 1e-6  # z intervals narrower than this are settled
TARGET_TOL = 1e-12  # a fill rate this close below its target meets it
#: the grid search stops a store whose bracket's upper end meets its target with a fill rate
#: (0-1, on the search's random numbers) at most this above it (zsearch.grid_search's
#: ``settle``); 0: the bisection's very grid point (bench/README.md, "Fewer simulations")
SETTLE_FILL = 0.0


@dataclass
class ItemDraws:
    """The draws of a chunk's items on one seed each: demand ``[items, reps, T, demand
    nodes]`` (units per period), lead times ``[items, reps, T, stochastic lanes]`` (periods)."""

    demand: np.ndarray
    lead: np.ndarray

    def take(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if len(rows) == self.demand.shape[0]:
            return self.demand, self.lead
        return self.demand[rows], self.lead[rows]


def chunk_draws(
    batch: ItemBatch,
    nets: Sequence[Network],
    seeds: Sequence[int],
    paths: Sequence[dict[str, np.ndarray]],
    reps: int,
    periods: int,
) -> ItemDraws:
    """Item i's draws for seed ``seeds[i]``, its stores of ``paths[i]`` on those paths
    (:func:`echelon.sim.items.item_draws`)."""
    made = [
        item_draws(batch.structure, net, seed, reps, periods, p)
        for net, seed, p in zip(nets, seeds, paths, strict=True)
    ]
    return ItemDraws(np.stack([d for d, _ in made]), np.stack([ld for _, ld in made]))


@dataclass
class Tuner:
    """The batched search of one policy over a chunk (module doc).

    ``base[i, node]``: the policy's levels (units) off the stores; ``stores``: the stores'
    node indices; per item × store: ``floor`` and ``scale`` (units: level = floor + z·scale),
    ``top`` (the largest z searched), ``targets`` (fill rate, 0-1)."""

    batch: ItemBatch
    base: np.ndarray
    stores: list[int]
    floor: np.ndarray
    scale: np.ndarray
    top: np.ndarray
    targets: np.ndarray
    warmup: int
    z_cap: float  # the bracket doubles up to this z, and past it only up to ``top``
    predicted: bool = True  # search by predicted grid points (zsearch), else plain bisection
    settle: float = 0.0  # stop a store its fill rate (0-1) this close above target (zsearch)
    calls: int = 0  # kernel calls made
    item_sims: int = 0  # item simulations made (items × calls)
    phase: str = "start"  # the step of the search now calling the kernel (:attr:`phases`)
    phases: dict[str, int] = field(default_factory=dict)  # kernel calls per step

    def levels(self, z: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """All nodes' levels of items ``rows`` with store z ``z[rows]``: the stores'
        ``round(max(0, floor + z·scale), 6)`` (as ``placement.with_levels``)."""
        lv = self.base[rows].copy()
        raw = np.maximum(0.0, self.floor[rows] + z[rows] * self.scale[rows])
        lv[:, self.stores] = np.array([round(x, 6) for x in raw.ravel().tolist()]).reshape(
            raw.shape
        )
        return lv

    def fills(self, z: np.ndarray, draws: ItemDraws, rows: np.ndarray) -> np.ndarray:
        """Fill rates ``[len(rows), stores]`` of items ``rows`` at store z ``z[rows]``."""
        batch = self.batch if len(rows) == self.batch.items else self.batch.take(rows)
        demand, lead = draws.take(rows)
        acc = simulate_items(batch, self.levels(z, rows), demand, lead, self.warmup)
        self.calls += 1
        self.item_sims += len(rows)
        self.phases[self.phase] = self.phases.get(self.phase, 0) + 1
        return fill_rates(acc, self.stores)

    def ok(self, f: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return ~np.isnan(f) & (f >= self.targets[rows] - TARGET_TOL)

    def next_z(self, z: np.ndarray, top: np.ndarray) -> np.ndarray:
        """The bracket's next z (``placement._next_z``): doubled (at least 2), capped at
        ``z_cap``, and past it doubled on up to ``top``."""
        nxt = np.maximum(2 * z, 2.0)
        return np.where(z < self.z_cap, np.minimum(self.z_cap, nxt), np.minimum(top, nxt))

    def bisect(
        self, lo: np.ndarray, hi: np.ndarray, draws: ItemDraws, iterations: int
    ) -> np.ndarray:
        """Bisect every store's z between ``lo`` (short) and ``hi`` (meets); returns hi."""
        lo, hi = lo.copy(), hi.copy()
        for _ in range(iterations):
            active = hi - lo > BISECT_TOL
            rows = np.flatnonzero(active.any(axis=1))
            if not len(rows):
                break
            mid = np.where(active, (lo + hi) / 2, hi)
            good = self.ok(self.fills(mid, draws, rows), rows)
            act = active[rows]
            hi[rows] = np.where(act & good, mid[rows], hi[rows])
            lo[rows] = np.where(act & ~good, mid[rows], lo[rows])
        return hi

    def search(
        self,
        lo: np.ndarray,
        hi: np.ndarray,
        f_lo: np.ndarray,
        f_hi: np.ndarray,
        draws: ItemDraws,
        iterations: int,
    ) -> np.ndarray:
        """The bisection's answer between ``lo`` (short, fill ``f_lo``) and ``hi`` (meets,
        ``f_hi``): :meth:`bisect` or, by default, :func:`echelon.plan.zsearch.grid_search`
        (the same grid point in fewer calls)."""
        if not self.predicted:
            return self.bisect(lo, hi, draws, iterations)
        return grid_search(
            lo, hi, f_lo, f_hi, self.targets,
            lambda z, rows: self.fills(z, draws, rows), self.ok, iterations, BISECT_TOL,
            self.settle,
        )  # fmt: skip

    def tune(
        self, search: ItemDraws, check: ItemDraws, bisections: int, check_rounds: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The tuned z and the checked fill rates ``[items, stores]`` (module doc)."""
        n_items = self.floor.shape[0]
        every = np.arange(n_items)
        lo = np.zeros_like(self.floor)
        hi = np.zeros_like(self.floor)
        self.phase = "start"
        f_lo = self.fills(lo, search, every)
        f_hi = f_lo.copy()
        self.phase = "bracket"
        open_ = ~self.ok(f_lo, every) & (self.scale > 0)
        while open_.any():  # bracket: hi meets the target (or is the top), lo does not
            rows = np.flatnonzero(open_.any(axis=1))
            hi = np.where(open_, self.next_z(hi, self.top), hi)
            f = self.fills(hi, search, rows)
            short = open_[rows] & ~self.ok(f, rows)
            lo[rows] = np.where(short, hi[rows], lo[rows])
            f_lo[rows] = np.where(short, f, f_lo[rows])
            f_hi[rows] = np.where(open_[rows], f, f_hi[rows])
            open_ = np.zeros_like(open_)
            open_[rows] = short & (hi[rows] < self.top[rows])
        self.phase = "search"
        z = self.search(lo, hi, f_lo, f_hi, search, bisections)
        self.phase = "check"
        f = self.fills(z, check, every)
        self.phase = "raise"
        short = ~self.ok(f, every) & (self.scale > 0) & (z < self.top)
        lo2, hi2 = z.copy(), z.copy()
        f_lo2, f_hi2 = f.copy(), f.copy()
        for k in range(check_rounds):  # still short on the KPI numbers: raise, bisect again
            if not short.any():
                break
            lo2 = np.where(short, hi2, lo2)
            f_lo2 = np.where(short, f_hi2, f_lo2)
            hi2 = np.where(short, np.minimum(self.top, hi2 + 0.1 * 2**k), hi2)
            rows = np.flatnonzero(short.any(axis=1))
            fr = self.fills(hi2, check, rows)
            f_hi2[rows] = np.where(short[rows], fr, f_hi2[rows])
            still = short[rows] & ~self.ok(fr, rows)
            short = np.zeros_like(short)
            short[rows] = still & (hi2[rows] < self.top[rows])
        moved = np.flatnonzero((hi2 != z).any(axis=1))
        if len(moved):
            self.phase = "search back"
            z = self.search(lo2, hi2, f_lo2, f_hi2, check, bisections // 2)
            self.phase = "recheck"
            f[moved] = self.fills(z, check, moved)
        return z, f


@dataclass
class _Pending:
    """An item placed up to the store tuning: its plan and the searches of its policies."""

    plan: ItemPlan
    searches: dict[PolicyName, TuneInputs]


def prepare_item(
    ctx: PlanContext,
    item: str,
    index: int,
    forecasts: PlanForecasts,
    lead_times: dict[tuple[str, str], LaneLeadTime],
    targets: Targets,
    solved: tuple[Network, OptimizationResult] | None = None,
) -> _Pending:
    """An item's network, GSM, single-echelon and current policies, and its tuning searches;
    ``solved``: its network and GSM solution where already made (:func:`place_items`)."""
    cfg = ctx.config
    if solved is None:
        net = item_network(ctx, item, forecasts, lead_times, targets)
        solved = net, solve_item_gsms([net], cfg.default_fill_rate)[0]
    net, gsm = solved
    tier = tiers(net)
    stores = [n.id for n in net.nodes if tier[n.id] == 0]
    store = {s: target_of(targets, item, s, cfg.default_fill_rate) for s in stores}
    plan = ItemPlan(
        item, net, ctx.items[item].unit_cost, stores, tier,
        {s: t.fill_rate for s, t in store.items()}, {s: t.segment for s, t in store.items()},
        cfg.seed + index, gsm,
    )  # fmt: skip
    found = {s: forecasts.series.get((item, s)) for s in stores}
    plan.errors = {s: f.errors for s, f in found.items() if f is not None and f.errors is not None}
    plan.means = {s: f.mean for s, f in found.items() if f is not None}
    plan.paths_shape = (cfg.sim_reps, cfg.sim_periods + WARMUP)
    # meio: GSM levels, stores tuned on floor μτ + z·σ_τ
    tau = {n: float(gsm.nodes[n].net_replenishment_time or 0.0) for n in tier}
    floor_tau = {s: max(tau[s], 1.0) for s in stores}
    searches = {PolicyName.MEIO: tune_inputs(plan, PolicyName.MEIO, gsm.policy, tau, floor_tau)}
    # single-echelon: μL + z·σ_LTD per node, stores tuned the same way
    se = solve_single_echelon(net, default_target=cfg.default_fill_rate)
    exposure = {n: float(se.nodes[n].net_replenishment_time or 1.0) for n in tier}
    searches[PolicyName.SINGLE_ECHELON] = tune_inputs(
        plan, PolicyName.SINGLE_ECHELON, se.policy, exposure, exposure
    )
    plan.policies[PolicyName.CURRENT] = current_policy(net)
    flows = echelon_demand(net)
    plan.pipeline[PolicyName.CURRENT] = {n: flows[n][0] * exposure[n] for n in tier}
    return _Pending(plan, searches)


def item_bytes(ctx: PlanContext) -> int:
    """Bytes of draws and KPI sums one item holds while its chunk is tuned (two seeds)."""
    cfg = ctx.config
    cols = len(ctx.stores) * 2 + len(ctx.network.lanes) + len(ctx.network.nodes)
    reps, periods = cfg.sim_reps, cfg.sim_periods + WARMUP
    return 2 * reps * periods * cols * 8 + reps * len(ctx.network.nodes) * 19 * 8


def tune_chunk(
    pending: list[_Pending], sim: SimRun, predicted: bool = True, settle: float | None = None
) -> dict[str, int]:
    """Tune the stores of every policy of every item of ``pending`` at once
    (:class:`echelon.plan.tuning.Tuner`; ``sim``: periods, replications and warm-up, the
    seeds are the items'; ``predicted``: the grid search, else plain bisection; ``settle``:
    how far above its target a settled store's fill rate may be, default
    :data:`SETTLE_FILL`); returns the
    kernel calls and item simulations made, in all and per step of the search."""
    settle = SETTLE_FILL if settle is None else settle
    plans = [p.plan for p in pending]
    nets = [p.network for p in plans]
    first = pending[0].searches
    batch = compile_items(nets, [p.searches[PolicyName.MEIO].base for p in pending])
    periods = sim.periods + sim.warmup
    draws = [
        chunk_draws(
            batch,
            nets,
            [p.path_seed(search) for p in plans],
            [p.demand_paths(search) for p in plans],
            sim.reps,
            periods,
        )
        for search in (True, False)
    ]
    stores = plans[0].stores
    cols = [batch.structure.index(s) for s in stores]
    counts: dict[str, int] = {"calls": 0, "item_sims": 0}
    for name in first:
        ins = [p.searches[name] for p in pending]
        tuner = Tuner(
            batch, batch.levels([t.base for t in ins]), cols,
            np.array([[t.floor[s] for s in stores] for t in ins]),
            np.array([[t.scale[s] for s in stores] for t in ins]),
            np.array([[t.top[s] for s in stores] for t in ins]),
            np.array([[p.targets[s] for s in stores] for p in plans]), sim.warmup, Z_MAX,
            predicted, settle,
        )  # fmt: skip
        z, f = tuner.tune(draws[0], draws[1], BISECTIONS, CHECK_ROUNDS)
        for i, (plan, t) in enumerate(zip(plans, ins, strict=True)):
            lv = {s: t.floor[s] + float(z[i, c]) * t.scale[s] for c, s in enumerate(stores)}
            plan.policies[name] = with_levels(t.base, lv, t.base.method or "")
            plan.policies[name].method = name.value
            plan.fill[name] = {s: float(f[i, c]) for c, s in enumerate(stores)}
        counts["calls"] += tuner.calls
        counts["item_sims"] += tuner.item_sims
        for k, v in tuner.phases.items():
            counts["calls " + k] = counts.get("calls " + k, 0) + v
    return counts


def place_items(
    chunk: list[tuple[int, str]],
    ctx: PlanContext,
    forecasts: PlanForecasts,
    lead_times: dict[tuple[str, str], LaneLeadTime],
    targets: Targets,
) -> list[ItemPlan]:
    """Place the (index, item)s of ``chunk``, their stores tuned together (:func:`tune_chunk`)."""
    cfg = ctx.config
    nets = [item_network(ctx, i, forecasts, lead_times, targets) for _, i in chunk]
    gsms = solve_item_gsms(nets, cfg.default_fill_rate)
    pending = [
        prepare_item(ctx, i, k, forecasts, lead_times, targets, solved)
        for (k, i), solved in zip(chunk, zip(nets, gsms, strict=True), strict=True)
    ]
    tune_chunk(pending, SimRun(cfg.sim_periods, cfg.sim_reps, cfg.seed))
    return [p.plan for p in pending]


def place_groups(
    groups: list[list[tuple[int, str]]],
    ctx: PlanContext,
    forecasts: PlanForecasts,
    lead_times: dict[tuple[str, str], LaneLeadTime],
    targets: Targets,
) -> list[list[ItemPlan]]:
    """:func:`place_items` for each chunk of ``groups`` (one task of a cluster)."""
    return [place_items(g, ctx, forecasts, lead_times, targets) for g in groups]
