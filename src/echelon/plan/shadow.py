"""Shadow mode: the recommended policy and the current policy replayed against actual demand.

The plan is made again as of the start of the hold-out window — forecasts fitted on the history
before the last ``config.holdout_periods`` periods (:attr:`PlanForecasts.holdout`), the same
lead times, targets from that history, placement and tuning as in the plan — and every item's
policies are then simulated with the stores' **actual** demand (a
:class:`~echelon.network.distributions.ScenarioDemand` path) instead of a distribution:

- every policy starts from the **same state**: every node holds the current policy's level on
  hand (nothing in transit) :data:`WARMUP_PERIODS` periods before the hold-out window, and is
  driven through those periods by the actual demand before the cut (the warm-up, not counted)
  and then through the hold-out periods (counted);
- lead times are drawn from the fitted lane distributions (``config.sim_reps`` replications on
  the items' KPI random numbers; with deterministic lead times every replication is the same);
- KPIs as in :mod:`echelon.plan.kpis`, side by side for meio, single-echelon and current.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from echelon.network.distributions import ScenarioDemand
from echelon.network.model import Network
from echelon.plan.context import PlanContext
from echelon.plan.current_policy import DEFAULT_COVER, describe
from echelon.plan.forecasting import PlanForecasts
from echelon.plan.kpis import ItemRun, policy_description, policy_kpis
from echelon.plan.leadtimes import LaneLeadTime
from echelon.plan.model import Kpis, PolicyKpis, PolicyName, ShadowResult
from echelon.plan.parallel import Later, later
from echelon.plan.placement import ItemPlan, Placements
from echelon.plan.stock_mix import place_with_mix
from echelon.policies.model import BaseStock
from echelon.sim.items import compile_items, item_draws, simulate_items
from echelon.sim.results import SimulationResult, summarize

Progress = Callable[[str, float], None]
WARMUP_PERIODS = 26  # periods of actual demand replayed before the hold-out window
REPLAY_CHUNK = 200  # items replayed in one kernel call (their draws: 1-2 MB an item)


def holdout_view(forecasts: PlanForecasts) -> PlanForecasts:
    """The forecasts and history as of the start of the hold-out window."""
    assert forecasts.holdout_start is not None, "no hold-out periods"
    cut = pd.Timestamp(forecasts.holdout_start)
    hist = forecasts.history[forecasts.history["ds"] < cut]
    return PlanForecasts(
        as_of=forecasts.holdout_start,
        period_days=forecasts.period_days,
        history=hist,
        series=forecasts.holdout,
    )


def replay_network(plan: ItemPlan, paths: dict[str, list[float]]) -> Network:
    """The item's network with each store's demand replaced by its actual path (a store given
    no values keeps its distribution: its path comes as an array, ``sim.items.item_draws``)
    and every node starting with the current policy's level on hand."""
    start = plan.policies[PolicyName.CURRENT].policies
    nodes = []
    for node in plan.network.nodes:
        level = start[node.id]
        upd: dict[str, object] = {
            "initial_on_hand": max(0.0, level.level) if isinstance(level, BaseStock) else None
        }
        if paths.get(node.id):
            upd["demand"] = ScenarioDemand(paths=[paths[node.id]])
        nodes.append(node.model_copy(update=upd))
    return plan.network.model_copy(update={"nodes": nodes})


Runs = dict[PolicyName, list[ItemRun]]  # per policy, one simulated replay per item


def replay(
    placements: Placements, history: pd.DataFrame, hold: int, reps: int, period_days: float
) -> list[PolicyKpis]:
    """KPIs (one :class:`PolicyKpis` per policy) of the placements' policies replayed against the
    actual demand of the last ``hold`` periods of ``history`` (module doc)."""
    return window_kpis(replay_runs(placements, history, hold, reps), period_days)


def window_kpis(runs: Runs, period_days: float, windows: int = 1) -> list[PolicyKpis]:
    """The KPIs of replays pooled over ``windows`` windows: fill rates and service levels are
    demand-weighted over every item × window, inventory and safety-stock values are averaged
    over the windows (money), turns and days of supply follow from them."""
    out = []
    for p, item_runs in runs.items():
        stores = item_runs[0].plan.stores if item_runs else []
        k = policy_kpis(item_runs, p, policy_description(p, period_days), period_days, stores)
        if windows > 1:
            k = k.model_copy(
                update={
                    "network": _per_window(k.network, windows),
                    "stores": {s: _per_window(v, windows) for s, v in k.stores.items()},
                }
            )
        out.append(k)
    return out


def _per_window(k: Kpis, windows: int) -> Kpis:
    """Additive values (inventory and safety-stock value, money) averaged over the windows."""
    return k.model_copy(
        update={
            "inventory_value": None if k.inventory_value is None else k.inventory_value / windows,
            "safety_stock_value": None
            if k.safety_stock_value is None
            else k.safety_stock_value / windows,
        }
    )


def replay_runs(placements: Placements, history: pd.DataFrame, hold: int, reps: int) -> Runs:
    """Every policy of every item replayed against the last ``hold`` periods of ``history``:
    items with the same warm-up in one batch (:mod:`echelon.sim.items`, one kernel call per
    policy), the results of simulating each item's :func:`replay_network` alone."""
    runs: Runs = {p: [] for p in PolicyName}
    series = {
        (str(i), str(loc)): g.sort_values("ds")["y"].to_numpy(float)
        for (i, loc), g in history.groupby(["item_id", "location_id"], sort=False)
    }
    by_warm: dict[int, list[tuple[ItemPlan, dict[str, np.ndarray]]]] = {}
    for item, plan in placements.items.items():
        ys = {s: series.get((item, s), np.zeros(0)) for s in plan.stores}
        warm = min(WARMUP_PERIODS, min(len(y) for y in ys.values()) - hold)
        paths = {s: np.maximum(0.0, y[-(hold + warm) :])[None, :] for s, y in ys.items()}
        by_warm.setdefault(warm, []).append((plan, paths))
    results: dict[tuple[str, PolicyName], SimulationResult] = {}
    for warm, group in by_warm.items():
        results |= _replay_group(group, hold, warm, reps)
    for plan in placements.items.values():
        for p in PolicyName:
            ss = sum(plan.safety_stock(p, n) for n in plan.tiers) * plan.unit_cost
            runs[p].append(ItemRun(plan, results[(plan.item, p)], ss))
    return runs


def _replay_group(
    group: list[tuple[ItemPlan, dict[str, np.ndarray]]], hold: int, warm: int, reps: int
) -> dict[tuple[str, PolicyName], SimulationResult]:
    """The replays of items sharing their warm-up ``warm`` (periods): (item, policy) → result."""
    out: dict[tuple[str, PolicyName], SimulationResult] = {}
    for lo in range(0, len(group), REPLAY_CHUNK):
        part = group[lo : lo + REPLAY_CHUNK]
        nets = [replay_network(plan, {s: [] for s in paths}) for plan, paths in part]
        batch = compile_items(nets, [plan.policies[PolicyName.CURRENT] for plan, _ in part])
        made = [
            item_draws(batch.structure, net, plan.seed, reps, hold + warm, paths)
            for net, (plan, paths) in zip(nets, part, strict=True)
        ]
        demand, lead = np.stack([d for d, _ in made]), np.stack([ld for _, ld in made])
        cn = batch.structure
        for p in PolicyName:
            levels = batch.levels([plan.policies[p] for plan, _ in part])
            acc = simulate_items(batch, levels, demand, lead, warm)
            for i, (plan, _) in enumerate(part):
                net = plan.network
                out[(plan.item, p)] = summarize(
                    acc[i], cn.ids, cn.demand_nodes, batch.unit_value[i], hold, net.period_days,
                    net.name, warm, plan.seed,
                )  # fmt: skip
    return out


def shadow_mode(
    data: PlanContext,
    forecasts: PlanForecasts,
    lead_times: dict[tuple[str, str], LaneLeadTime],
    progress: Progress | None = None,
) -> ShadowResult | None:
    """Plan as of the hold-out start and replay it against the actual hold-out demand.

    ``None`` when there is no hold-out window (``config.holdout_periods`` = 0 or too little
    history, :data:`echelon.plan.forecasting.MIN_TRAIN`).
    """
    hold = forecasts.holdout_periods
    if hold <= 0 or not forecasts.holdout:
        return None
    view = holdout_view(forecasts)

    def step(stage: str, x: float) -> None:
        if progress:
            progress("shadow", 0.9 * x)

    window = replay_window(data, view, lead_times, hold, step)
    if progress:
        progress("shadow", 1.0)
    return window_result(data, window)


@dataclass
class ShadowWindow:
    """One shadow-mode window: planned as of ``start`` and replayed over ``periods`` periods
    (the replay on the current cluster while the next window is planned, or here at once:
    :func:`echelon.plan.parallel.later`)."""

    start: date
    periods: int
    replayed: Later[Runs]

    @property
    def runs(self) -> Runs:
        """Every policy of every item replayed (:func:`replay_runs`)."""
        return self.replayed.result()


def replay_window(
    ctx: PlanContext,
    view: PlanForecasts,
    lead_times: dict[tuple[str, str], LaneLeadTime],
    hold: int,
    progress: Progress | None = None,
) -> ShadowWindow:
    """Place with the forecasts ``view`` (as of its origin) and replay the ``hold`` periods
    after the origin against the actual demand (on the cluster while the caller goes on)."""
    placements, _ = place_with_mix(ctx, view, lead_times, progress)
    end = pd.Timestamp(view.as_of) + pd.Timedelta(days=hold * ctx.config.period_days)
    history = ctx.history[ctx.history["ds"] < end]
    replayed = later(replay_runs, placements, history, hold, ctx.config.sim_reps, eager=True)
    return ShadowWindow(view.as_of, hold, replayed)


def window_result(ctx: PlanContext, window: ShadowWindow) -> ShadowResult:
    """The :class:`ShadowResult` of one window."""
    cfg = ctx.config
    return ShadowResult(
        periods=window.periods,
        start=window.start,
        end=window.start + timedelta(days=window.periods * cfg.period_days - 1),
        current_policy=describe(DEFAULT_COVER, cfg.period_days),
        kpis=window_kpis(window.runs, cfg.period_days),
    )
