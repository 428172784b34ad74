"""The batched store tuning (echelon.plan.tuning) gives every item the levels and fill rates of
the per-item search (placement.tune_store_levels) on the item alone: same random numbers, same
steps; on the small hand-made folder, the M5 demo and a small synthetic catalogue."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from test_placement import small_plan_data

from echelon.plan.catalogue import CatalogueParams, write_catalogue
from echelon.plan.context import PlanContext
from echelon.plan.data import load_context
from echelon.plan.forecasting import plan_forecasts
from echelon.plan.leadtimes import fit_lead_times
from echelon.plan.model import PolicyName
from echelon.plan.placement import (
    BISECTIONS,
    CHECK_ROUNDS,
    SEARCH_SEED_OFFSET,
    SimRun,
    place,
    store_targets,
    tune_store_levels,
)
from echelon.plan.tuning import place_items, prepare_item, tune_chunk
from echelon.policies.model import BaseStock

TUNED = (PolicyName.MEIO, PolicyName.SINGLE_ECHELON)


def _reference(ctx: PlanContext, items: list[str]) -> dict[str, dict]:
    """Every item placed alone with the per-item search: {item: {policy: (levels, fills)}}."""
    fc = plan_forecasts(ctx)
    lts = fit_lead_times(ctx)
    targets = store_targets(ctx, fc.history)
    cfg = ctx.config
    out: dict[str, dict] = {}
    for k, item in enumerate(items):
        pend = prepare_item(ctx, item, k, fc, lts, targets)
        plan = pend.plan
        check = SimRun(cfg.sim_periods, cfg.sim_reps, plan.seed)
        search = SimRun(cfg.sim_periods, cfg.sim_reps, plan.seed + SEARCH_SEED_OFFSET)
        out[item] = {}
        for name in TUNED:
            t = pend.searches[name]
            pol, fill = tune_store_levels(
                plan.simulated(), t.base, plan.targets, t.floor, t.scale, search, check,
                t.top, search_net=plan.simulated(search=True),
            )  # fmt: skip
            out[item][name] = (pol, fill)
    return out


def _compare(ctx: PlanContext) -> None:
    items = list(ctx.item_ids)
    ref = _reference(ctx, items)
    fc = plan_forecasts(ctx)
    lts = fit_lead_times(ctx)
    targets = store_targets(ctx, fc.history)
    plans = place_items(list(enumerate(items)), ctx, fc, lts, targets)
    for plan in plans:
        for name in TUNED:
            pol, fill = ref[plan.item][name]
            for s in plan.stores:
                got = plan.policies[name].policies[s]
                want = pol.policies[s]
                assert isinstance(got, BaseStock) and isinstance(want, BaseStock)
                assert got.level == want.level, (plan.item, name, s)
                assert plan.fill[name][s] == fill[s] or (fill[s] != fill[s])  # NaN: no demand


def test_batched_tuning_equals_the_per_item_search_on_the_small_folder() -> None:
    _compare(small_plan_data(sim_periods=80, sim_reps=4))


def test_batched_tuning_equals_the_per_item_search_on_a_catalogue(tmp_path: Path) -> None:
    folder = write_catalogue(CatalogueParams(items=3, stores=4, regional_dcs=2), tmp_path / "c")
    ctx = load_context(folder)
    cfg = ctx.config.model_copy(update={"sim_periods": 60, "sim_reps": 3})
    _compare(dataclasses.replace(ctx, config=cfg))


def test_the_placement_does_not_depend_on_the_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    """One chunk of two items or two chunks of one: the same levels (items are independent)."""
    ctx = small_plan_data(sim_periods=60, sim_reps=3)
    fc = plan_forecasts(ctx)
    lts = fit_lead_times(ctx)
    together = place(ctx, fc, lts)
    import echelon.plan.placement as placement

    monkeypatch.setattr(placement, "items_per_chunk", lambda _b: 1)
    alone = place(ctx, fc, lts)
    for item, plan in together.items.items():
        for name in TUNED:
            assert plan.policies[name] == alone.items[item].policies[name]
            assert plan.fill[name] == alone.items[item].fill[name]


def test_tuning_counts_its_kernel_calls() -> None:
    ctx = small_plan_data(sim_periods=60, sim_reps=3)
    fc = plan_forecasts(ctx)
    lts = fit_lead_times(ctx)
    targets = store_targets(ctx, fc.history)
    pend = [prepare_item(ctx, i, k, fc, lts, targets) for k, i in enumerate(ctx.item_ids)]
    counts = tune_chunk(pend, SimRun(60, 3, 0))
    # per policy: at zero, bracket, bisections, check (+ rounds): shared by both items
    assert 2 * (3 + BISECTIONS) <= counts["calls"] <= 2 * (2 + 2 * BISECTIONS + CHECK_ROUNDS + 12)
    assert counts["calls"] < counts["item_sims"] <= 2 * counts["calls"]
    steps = {k: v for k, v in counts.items() if k.startswith("calls ")}
    assert sum(steps.values()) == counts["calls"]
    assert steps["calls start"] == steps["calls check"] == 2  # once per policy
    assert steps["calls search"] >= 2 * 3  # two stores' 10 halvings: a few probes each


def test_a_settled_tuning_makes_no_more_simulations_and_meets_its_targets() -> None:
    ctx = small_plan_data(sim_periods=60, sim_reps=3)
    fc = plan_forecasts(ctx)
    lts = fit_lead_times(ctx)
    targets = store_targets(ctx, fc.history)
    runs = {}
    for settle in (0.0, 0.01):
        pend = [prepare_item(ctx, i, k, fc, lts, targets) for k, i in enumerate(ctx.item_ids)]
        counts = tune_chunk(pend, SimRun(60, 3, 0), settle=settle)
        runs[settle] = counts, [p.plan for p in pend]
    assert runs[0.01][0]["calls search"] <= runs[0.0][0]["calls search"]
    for plan in runs[0.01][1]:
        for name in TUNED:
            for s in plan.stores:
                f = plan.fill[name][s]
                assert f != f or f >= plan.targets[s] - 1e-12  # NaN: no demand
