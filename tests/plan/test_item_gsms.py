"""The placement's batched GSM (placement.solve_item_gsms) gives every item network the
solution of ``solve_gsm`` on it alone: same levels, service times and objective."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from echelon.optimize.gsm.solve import solve_gsm
from echelon.plan.catalogue import CatalogueParams, write_catalogue
from echelon.plan.context import PlanContext
from echelon.plan.data import load_context
from echelon.plan.forecasting import plan_forecasts
from echelon.plan.leadtimes import fit_lead_times
from echelon.plan.placement import (
    gsm_network,
    item_network,
    solve_item_gsms,
    stochastic_lead_times,
    store_targets,
)


def _compare(ctx: PlanContext) -> None:
    fc = plan_forecasts(ctx)
    lts = fit_lead_times(ctx)
    targets = store_targets(ctx, fc.history)
    known = {i for i, _ in fc.series}
    nets = [item_network(ctx, i, fc, lts, targets) for i in ctx.item_ids if i in known]
    got = solve_item_gsms(nets, ctx.config.default_fill_rate)
    assert len(got) == len(nets)
    for net, res in zip(nets, got, strict=True):
        want = solve_gsm(
            gsm_network(net),
            lead_time_variance=stochastic_lead_times(net),
            default_service_level=ctx.config.default_fill_rate,
        )
        assert res.policy == want.policy
        assert abs(res.objective - want.objective) <= 1e-9 * max(1.0, abs(want.objective))
        for n in want.nodes:
            assert res.nodes[n].net_replenishment_time == want.nodes[n].net_replenishment_time
            assert res.nodes[n].safety_stock == want.nodes[n].safety_stock


def test_batched_gsm_equals_solve_gsm_on_the_demo(demo_data: PlanContext) -> None:
    _compare(demo_data)


def test_batched_gsm_equals_solve_gsm_on_a_catalogue(tmp_path: Path) -> None:
    folder = write_catalogue(CatalogueParams(items=6, stores=5, regional_dcs=2), tmp_path / "c")
    ctx = load_context(folder)
    cfg = ctx.config.model_copy(update={"sim_periods": 60, "sim_reps": 3})
    _compare(dataclasses.replace(ctx, config=cfg))
