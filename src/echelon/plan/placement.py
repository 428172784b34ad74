"""Safety-stock placement per item across the network, tuned in simulation to the targets.

For every item (:func:`item_network`): the locations of the data folder's network, holding cost
``unit_cost × holding_rate × period_days / 365`` per unit per period, unit value = unit cost,
order rules from the item master (``pack_size`` → lot multiple, ``moq`` → minimum order, on
every node), fitted lead times (:mod:`echelon.plan.leadtimes`), and at every store the
forecast demand per period (:func:`demand_distribution`) with a fill-rate target from its
ABC/XYZ segment (``PlanContext.targets``; ``config.default_fill_rate`` where none applies);
forecast errors (σ over τ periods, simulated demand paths): :mod:`echelon.plan.ltd_error`.

Policies (installation base stock on the local inventory position, units):

- **meio**: the guaranteed-service model places safety stock (``solve_gsm`` on
  :func:`gsm_network`: lead times rounded to whole periods, their variance included); the DC
  levels are the GSM's ``μτ + z·σ_τ``; every store's level is then **tuned in simulation**
  (:func:`tune_store_levels`) to the least level ``μτ + z·σ_τ`` (z ≥ 0, so never below the
  pipeline ``μτ``) whose simulated fill rate meets its target;
- **single_echelon**: every node ``μL + z·σ_LTD`` alone (``solve_single_echelon``, the DCs at
  the default target as a cycle service level), stores tuned the same way — the comparison is
  at equal, simulated service;
- **current**: :func:`echelon.plan.current_policy.current_policy`.

Safety stock of a node = level − μ·τ, with τ the net replenishment time the policy plans for
(GSM's τ for meio; ``max(1, ⌈L⌉)`` for single-echelon), never below 0.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from echelon.errors import DataError
from echelon.network.distributions import (
    ConstantDemand,
    DemandDistribution,
    DeterministicLeadTime,
    LeadTimeDistribution,
    NegativeBinomialDemand,
    NormalDemand,
    NormalLeadTime,
    is_stochastic,
)
from echelon.network.graph import echelon_demand
from echelon.network.model import Network, ServiceMeasure, ServiceTarget
from echelon.optimize.gsm.batched import solve_gsm_items
from echelon.optimize.result import OptimizationResult
from echelon.plan import ltd_error
from echelon.plan.context import PlanContext
from echelon.plan.decompose import explain_placements
from echelon.plan.forecasting import SEP, PlanForecasts
from echelon.plan.leadtimes import LaneLeadTime, inbound_lead_time, with_lead_times
from echelon.plan.model import Placement, PlanWarning, PolicyName, WarningKind
from echelon.plan.parallel import cluster_workers, map_items, split
from echelon.plan.store_segments import store_segments
from echelon.policies.model import BaseStock, PolicySet
from echelon.sim.batch import simulate
from echelon.sim.items import items_per_chunk
from echelon.sim.results import SimulationResult

Progress = Callable[[str, float], None]
NB_MAX_MEAN = 20.0  # below this mean an over-dispersed store gets negative binomial demand
WARMUP = 52  # periods simulated before KPIs are counted
SEARCH_SEED_OFFSET = 7919  # the tuning search never sees the KPI's random numbers
Z_MAX = 12.0
#: the level search's step never drops below this share of a period's mean demand: with demand
#: (nearly) constant σ_τ ≈ 0, yet the review period, lead-time rounding and the DC's rationing
#: still need stock (M5's smallest σ_τ, 3 % of a period's demand, is above it: unaffected)
SCALE_FLOOR = 0.01
#: a store still short at z = Z_MAX searches on, in the same doubling steps, up to this many
#: periods of mean demand above its pipeline (the search's bracket in units, not in σ)
MAX_COVER_PERIODS = 8.0
BISECTIONS = 10  # halvings of the z interval on the search numbers (half on the KPI numbers)
CHECK_ROUNDS = 8


@dataclass(frozen=True)
class StoreTarget:
    """The service target of one item at one store: its ABC/XYZ segment and fill rate."""

    segment: str  # e.g. "AX"; "" where the history gave none
    fill_rate: float  # fraction (0–1)


Targets = dict[tuple[str, str], StoreTarget]  # (item, store) → target


@dataclass
class SimRun:
    """Simulation settings (periods counted, replications, warm-up, seed)."""

    periods: int
    reps: int
    seed: int
    warmup: int = WARMUP


def run(net: Network, policy: PolicySet, sim: SimRun, **kw: object) -> SimulationResult:
    """Simulate ``policy`` on ``net`` with ``sim`` (common random numbers per seed)."""
    return simulate(net, policy, sim.periods, sim.reps, sim.seed, sim.warmup, **kw)  # type: ignore[arg-type]


@dataclass
class ItemPlan:
    """One item: its network, targets, the GSM answer and the three policies."""

    item: str
    network: Network
    unit_cost: float
    stores: list[str]
    tiers: dict[str, int]
    targets: dict[str, float]  # store → fill-rate target
    segments: dict[str, str]  # store → ABC/XYZ code
    seed: int  # the KPI simulations' seed of this item
    gsm: OptimizationResult
    policies: dict[PolicyName, PolicySet] = field(default_factory=dict)
    pipeline: dict[PolicyName, dict[str, float]] = field(default_factory=dict)  # node → μτ
    fill: dict[PolicyName, dict[str, float]] = field(default_factory=dict)  # tuned fill rates
    errors: dict[str, ltd_error.LtdError] = field(default_factory=dict)  # store → model
    means: dict[str, float] = field(default_factory=dict)  # store → plan's mean per period
    paths_shape: tuple[int, int] = (0, 0)  # simulated demand: (paths, periods incl. warm-up)

    def path_seed(self, search: bool = False) -> int:
        """The seed of the KPI (``search``: the tuning search's) random numbers."""
        return self.seed + SEARCH_SEED_OFFSET if search else self.seed

    def demand_paths(self, search: bool = False) -> dict[str, np.ndarray]:
        """The stores' simulated demand ``[paths, periods]`` on the error paths (stores with
        an error model; units per period) for the KPI or the search random numbers."""
        reps, periods = self.paths_shape
        seed = self.path_seed(search)
        return ltd_error.demand_path_arrays(self.errors, self.means, reps, periods, seed)

    def simulated(self, search: bool = False) -> Network:
        """The network the KPI (``search``: the tuning search's) simulations run on: the
        stores' demand on :meth:`demand_paths` (built on demand: a list per path)."""
        if not self.errors:
            return self.network
        reps, periods = self.paths_shape
        return ltd_error.simulation_network(
            self.network, self.errors, self.means, reps, periods, self.path_seed(search)
        )

    def safety_stock(self, policy: PolicyName, node: str) -> float:
        """level − μ·τ of ``policy`` at ``node`` (units, ≥ 0)."""
        pol = self.policies[policy].policies[node]
        assert isinstance(pol, BaseStock)
        return max(0.0, pol.level - self.pipeline[policy][node])


@dataclass
class Placements:
    """The placement of every item (see the module doc)."""

    placements: list[Placement]
    items: dict[str, ItemPlan]
    seconds: float = 0.0
    warnings: list[PlanWarning] = field(default_factory=list)


def demand_distribution(mean: float, std: float) -> DemandDistribution:
    """Demand per period: constant without variability, negative binomial when over-dispersed
    with a mean below :data:`NB_MAX_MEAN`, else normal (truncated at 0 in simulation)."""
    if std <= 1e-12 or mean <= 0:
        return ConstantDemand(value=max(0.0, mean))
    if mean < NB_MAX_MEAN and std**2 > mean * (1 + 1e-9):
        return NegativeBinomialDemand(mean_=mean, std_=std)
    return NormalDemand(mean_=mean, std_=std)


def store_targets(ctx: PlanContext, history: pd.DataFrame) -> Targets:
    """The target of every item × store, by its ABC/XYZ segment in the period ``history``."""
    segs = store_segments(ctx, history, SEP)
    out = {}
    for uid, seg in segs.items():
        item, loc = uid.split(SEP)
        target = ctx.targets.target_for(seg.code) if ctx.targets is not None else None
        out[(item, loc)] = StoreTarget(seg.code, float(target or ctx.config.default_fill_rate))
    return out


def target_of(targets: Targets, item: str, store: str, default: float) -> StoreTarget:
    """The item × store's target (``default`` fill rate, no segment, where none was set)."""
    return targets.get((item, store), StoreTarget("", default))


def item_network(
    ctx: PlanContext,
    item: str,
    forecasts: PlanForecasts,
    lead_times: dict[tuple[str, str], LaneLeadTime],
    targets: Targets,
) -> Network:
    """The single-item network of ``item`` (see the module doc)."""
    cfg = ctx.config
    rec = ctx.items[item]
    holding = rec.unit_cost * cfg.holding_rate * cfg.period_days / 365.0
    stores = set(ctx.stores)
    nodes = []
    exposure = ltd_error.longest_supply_periods(with_lead_times(ctx.network, lead_times))
    for node in ctx.network.nodes:
        upd: dict[str, object] = {
            "holding_cost": holding,
            "unit_value": rec.unit_cost,
            "lot_multiple": rec.pack_size,
            "min_order_qty": rec.moq,
        }
        if node.id in stores:
            fc = forecasts.series.get((item, node.id))
            mean, std = (fc.mean, fc.std) if fc is not None else (0.0, 0.0)
            if fc is not None and fc.errors is not None:
                std = ltd_error.effective_std(fc.errors, exposure)
            target = target_of(targets, item, node.id, cfg.default_fill_rate).fill_rate
            upd["demand"] = demand_distribution(mean, std)
            upd["service"] = ServiceTarget(measure=ServiceMeasure.FILL_RATE, target=target)
        nodes.append(node.model_copy(update=upd))
    net = ctx.network.model_copy(
        update={
            "name": f"{ctx.network.name}:{item}",
            "nodes": nodes,
            "period_days": cfg.period_days,
        }
    )
    return with_lead_times(net, lead_times)


def stochastic_lead_times(net: Network) -> bool:
    lts = [net.lane_lead_time(lane) for lane in net.lanes]
    lts += [n.lead_time for n in net.nodes if n.external_supplier]
    return any(is_stochastic(lt) for lt in lts)


def gsm_network(net: Network) -> Network:
    """``net`` with every lead time as the GSM sees it: its mean rounded to whole periods and
    its std (the GSM rounds lead times up; a lane of 1.04 periods on average is 1, not 2)."""

    def fix(lt: LeadTimeDistribution) -> LeadTimeDistribution:
        mean = float(max(0, round(lt.mean())))
        if lt.std() <= 0:
            return DeterministicLeadTime(value=mean)
        return NormalLeadTime(mean_=mean, std_=lt.std())

    lanes = [
        lane.model_copy(update={"lead_time": fix(net.lane_lead_time(lane))}) for lane in net.lanes
    ]
    nodes = [n.model_copy(update={"lead_time": fix(n.lead_time)}) for n in net.nodes]
    return net.model_copy(update={"lanes": lanes, "nodes": nodes})


def solve_item_gsms(nets: list[Network], default_service_level: float) -> list[OptimizationResult]:
    """The GSM of every item network of ``nets`` in one batched pass
    (:func:`echelon.optimize.gsm.batched.solve_gsm_items` on :func:`gsm_network`, lead-time
    variance where an item's lead times are stochastic); ``default_service_level``: fill rate
    (0–1) of nodes without a target. Equal, item by item, to ``solve_gsm`` on each network."""
    return solve_gsm_items(
        [gsm_network(n) for n in nets],
        lead_time_variance=[stochastic_lead_times(n) for n in nets],
        default_service_level=default_service_level,
    )


def with_levels(policy: PolicySet, levels: dict[str, float], method: str) -> PolicySet:
    pols = dict(policy.policies)
    for nid, lv in levels.items():
        pols[nid] = BaseStock(level=round(max(0.0, lv), 6))
    return PolicySet(network=policy.network, method=method, metadata=policy.metadata, policies=pols)


def _bisect(
    fills: Callable[[dict[str, float], SimRun], dict[str, float]],
    ok: Callable[[dict[str, float], str], bool],
    lo: dict[str, float],
    hi: dict[str, float],
    sim: SimRun,
    iterations: int,
) -> dict[str, float]:
    """Bisect every store's z at once between ``lo`` (short) and ``hi`` (meets); returns hi."""
    lo, hi = dict(lo), dict(hi)
    for _ in range(iterations):
        active = [s for s in hi if hi[s] - lo[s] > 1e-6]
        if not active:
            break
        mid = {s: (lo[s] + hi[s]) / 2 if s in active else hi[s] for s in hi}
        f = fills(mid, sim)
        for s in active:
            (hi if ok(f, s) else lo)[s] = mid[s]
    return hi


def tune_store_levels(
    net: Network,
    policy: PolicySet,
    targets: dict[str, float],
    floor: dict[str, float],
    scale: dict[str, float],
    search: SimRun,
    check: SimRun,
    z_max: dict[str, float] | None = None,
    search_net: Network | None = None,
) -> tuple[PolicySet, dict[str, float]]:
    """Least store levels ``floor + z·scale`` (z ∈ [0, z_max], by default Z_MAX) whose
    simulated fill rate meets the store's target; other nodes keep ``policy``'s levels.
    The bracket doubles z up to Z_MAX, and on up to the store's ``z_max`` only where it is
    still short at Z_MAX (:func:`_next_z`).

    All stores are bisected at once on the ``search`` random numbers (a store's fill rate rises
    with its own level; the others' levels only move its supplier's rationing a little); then the
    levels are checked on the ``check`` random numbers (those of the KPIs) and a store still
    short is raised until it meets its target there and bisected back down on those numbers.
    Search runs on ``search_net`` (default ``net``). Returns the policy and the checked fills.
    """
    stores = list(targets)
    top = {s: max(Z_MAX, (z_max or {}).get(s, Z_MAX)) for s in stores}
    lo = dict.fromkeys(stores, 0.0)
    hi = dict.fromkeys(stores, 0.0)  # z = 0 meets the target unless found short below

    def fills(z: dict[str, float], sim: SimRun) -> dict[str, float]:
        lv = {s: floor[s] + z[s] * scale[s] for s in stores}
        on = search_net if search_net is not None and sim is search else net
        res = run(on, with_levels(policy, lv, policy.method or ""), sim)
        return {s: res.node(s).fill_rate.mean for s in stores}

    def ok(f: dict[str, float], s: str) -> bool:
        return not math.isnan(f[s]) and f[s] >= targets[s] - 1e-12

    at_zero = fills(lo, search)
    open_ = [s for s in stores if not ok(at_zero, s) and scale[s] > 0]
    while open_:  # bracket: hi meets the target (or is Z_MAX), lo does not
        for s in open_:
            hi[s] = _next_z(hi[s], top[s])
        f = fills(hi, search)
        short = [s for s in open_ if not ok(f, s)]
        for s in short:
            lo[s] = hi[s]
        open_ = [s for s in short if hi[s] < top[s]]
    z = _bisect(fills, ok, lo, hi, search, BISECTIONS)
    f = fills(z, check)
    short = [s for s in stores if not ok(f, s) and scale[s] > 0 and z[s] < top[s]]
    lo2, hi2 = dict(z), dict(z)
    for k in range(CHECK_ROUNDS):  # still short on the KPI numbers: raise, then bisect again
        if not short:
            break
        for s in short:
            lo2[s], hi2[s] = hi2[s], min(top[s], hi2[s] + 0.1 * 2**k)
        f = fills(hi2, check)
        short = [s for s in short if not ok(f, s) and hi2[s] < top[s]]
    if hi2 != z:
        z = _bisect(fills, ok, lo2, hi2, check, BISECTIONS // 2)
        f = fills(z, check)
    levels = {s: floor[s] + z[s] * scale[s] for s in stores}
    return with_levels(policy, levels, policy.method or ""), f


def _next_z(z: float, top: float) -> float:
    """The bracket's next z: doubled (at least 2), capped at Z_MAX — and past Z_MAX, for a
    store still short there, doubled on up to its own ``top``."""
    nxt = max(2 * z, 2.0)
    return min(Z_MAX, nxt) if z < Z_MAX else min(top, nxt)


@dataclass
class TuneInputs:
    """A policy's tuning search for one item: level = ``floor + z·scale`` per store (units),
    z up to ``top``; the other nodes at ``base``'s levels."""

    base: PolicySet
    floor: dict[str, float]
    scale: dict[str, float]
    top: dict[str, float]


def tune_inputs(
    plan: ItemPlan,
    name: PolicyName,
    base: PolicySet,
    exposure: dict[str, float],
    store_floor_exposure: dict[str, float],
) -> TuneInputs:
    """Policy ``name`` of ``plan``: ``base``'s levels with the pipeline ``μ·exposure`` per node
    (set in ``plan.pipeline``) and every store searched on ``μτ + z·scale``: ``scale =
    max(σ_τ, SCALE_FLOOR·μ)`` with ``σ_τ`` over ``store_floor_exposure`` periods, z up to
    Z_MAX, or up to :data:`MAX_COVER_PERIODS` periods of demand where the store is still short
    there (:func:`tune_store_levels`)."""
    net = plan.network
    flows = echelon_demand(net)
    plan.pipeline[name] = {n: flows[n][0] * exposure[n] for n in plan.tiers}
    scale, top = {}, {}
    for s in plan.stores:
        mu, sd = flows[s]
        _, lsd = inbound_lead_time(net, s)
        tau = store_floor_exposure[s]
        err = ltd_error.exposure_error_std(plan.errors.get(s), sd, tau, mu, lsd)
        scale[s] = max(err, SCALE_FLOOR * mu)
        z_max = MAX_COVER_PERIODS * mu / scale[s] if scale[s] > 0 else Z_MAX
        top[s] = max(Z_MAX, z_max)
    floor = {s: plan.pipeline[name][s] for s in plan.stores}
    return TuneInputs(base, floor, scale, top)


def _short_of_target(plan: ItemPlan) -> list[PlanWarning]:
    """A warning per store whose tuned MEIO fill rate stays below its target."""
    out = []
    for s, f in plan.fill[PolicyName.MEIO].items():
        if not math.isnan(f) and f < plan.targets[s] - 1e-12:  # NaN: no demand
            out.append(
                PlanWarning(
                    kind=WarningKind.TARGET_NOT_REACHED,
                    message=f"{plan.item} at {s}: simulated fill rate {f:.3f} below target "
                    f"{plan.targets[s]:.3f} even at the largest level searched",
                    item=plan.item,
                    location=s,
                    value=f,
                )
            )
    return out


def place(
    ctx: PlanContext,
    forecasts: PlanForecasts,
    lead_times: dict[tuple[str, str], LaneLeadTime],
    progress: Progress | None = None,
    targets: Targets | None = None,
) -> Placements:
    """Place safety stock for every item (meio, single-echelon, current; module doc).

    ``targets``: the fill-rate target per item × store (default: by segment,
    :func:`store_targets`; the aggregate service target passes its own)."""
    start = time.perf_counter()
    items = ctx.item_ids
    known = {i for i, _ in forecasts.series}
    missing = [i for i in items if i not in known]
    if len(missing) == len(items):
        raise DataError(
            "no item of items.csv has demand history at a store",
            source="demand.csv",
            expected="rows for the items of items.csv at store locations",
            found=f"items {', '.join(items[:5])}",
            fix="add demand history for the items",
        )
    targets = targets if targets is not None else store_targets(ctx, forecasts.history)
    out = Placements([], {})
    if missing:
        out.warnings.append(
            PlanWarning(
                kind=WarningKind.ITEM_NOT_PLACED,
                message=f"no demand history for items {', '.join(missing)}: not placed",
                value=float(len(missing)),
            )
        )
    index = {item: k for k, item in enumerate(items)}  # an item's seed: its index
    todo = [(index[i], i) for i in items if i in known]
    step = (lambda f: progress("place", f)) if progress else None
    shared = (ctx, forecasts, lead_times, targets)
    from echelon.plan.tuning import item_bytes, place_groups  # it builds on this module

    groups = split(todo, items_per_chunk(item_bytes(ctx)), cluster_workers())
    for group in map_items(place_groups, groups, shared, step):
        for plan in group:
            out.items[plan.item] = plan
            out.warnings.extend(_short_of_target(plan))
    out.placements.extend(explain_placements(list(out.items.values()), ctx.config))
    out.seconds = time.perf_counter() - start
    return out


def scaled_policy(plan: ItemPlan, policy: PolicyName, factor: float) -> PolicySet:
    """``policy`` with every node's safety stock multiplied by ``factor`` (pipeline kept)."""
    lv = {
        n: plan.pipeline[policy][n] + factor * plan.safety_stock(policy, n)
        for n in plan.policies[policy].policies
    }
    return with_levels(plan.policies[policy], lv, f"{policy.value}x{factor:g}")
