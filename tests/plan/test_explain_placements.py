"""The placements' explanations made at once (``decompose.explain_placements``) equal
the node-by-node code they replaced (kept below as the reference, its fill-rate z from a
one-element ``z_for_fill_rates`` as before): every Placement, text and parts, identical."""

from __future__ import annotations

from pathlib import Path

import pytest
from scipy import stats
from test_placement import small_plan_data

from echelon.network.graph import echelon_demand
from echelon.plan.catalogue import CatalogueParams, write_catalogue
from echelon.plan.context import PlanContext
from echelon.plan.data import load_context
from echelon.plan.decompose import _explain, explain_placements
from echelon.plan.forecasting import plan_forecasts
from echelon.plan.leadtimes import fit_lead_times, inbound_lead_time
from echelon.plan.model import Placement, PlanConfig
from echelon.plan.placement import ItemPlan, place
from echelon.policies.fill_rate_z import z_for_fill_rates
from echelon.policies.normal import exposure_std


def _old_z(beta: float, mean: float, sd: float) -> float:
    return float(z_for_fill_rates(beta, mean, sd))


def _old_served(plan: ItemPlan, node: str) -> list[str]:
    succ: dict[str, list[str]] = {}
    for lane in plan.network.lanes:
        succ.setdefault(lane.source, []).append(lane.target)
    out, todo = [], [node]
    while todo:
        n = todo.pop()
        out += [n] if plan.tiers[n] == 0 else []
        todo += succ.get(n, [])
    return out


def reference(plan: ItemPlan, node: str, cfg: PlanConfig) -> Placement:
    """The node-by-node explanation as it was: echelon demand, lead time and z per node."""
    net = plan.network
    mu, sd = echelon_demand(net)[node]
    lt, lsd = inbound_lead_time(net, node)
    tau = float(plan.gsm.nodes[node].net_replenishment_time or 0.0)
    sd_tau = exposure_std(sd, tau, mu, lsd)
    default = cfg.default_fill_rate
    if plan.tiers[node] == 0:
        s = sd_tau if sd_tau > 0 else 1.0
        z_t = 0.0 if mu <= 0 else _old_z(plan.targets[node], mu, s)
        z_d = 0.0 if mu <= 0 else _old_z(default, mu, s)
    else:
        served = [plan.targets[s] for s in _old_served(plan, node)] or [default]
        z_t, z_d = float(stats.norm.ppf(max(served))), float(stats.norm.ppf(default))
    return _explain(plan, node, cfg, (mu, sd), (lt, lsd), tau, sd_tau, (z_t, z_d))


def _check(ctx: PlanContext) -> set[float]:
    """Compare every item's placements; returns the store targets met on the way."""
    placed = place(ctx, plan_forecasts(ctx), fit_lead_times(ctx))
    assert placed.items
    plans = list(placed.items.values())
    want = [reference(p, n.id, ctx.config) for p in plans for n in p.network.nodes]
    assert placed.placements == want  # all items' stores in one z call
    assert explain_placements(plans[:1], ctx.config) == want[: len(plans[0].network.nodes)]
    return {t for p in placed.items.values() for t in p.targets.values()}


def test_equal_to_the_node_by_node_code_with_a_store_without_demand() -> None:
    _check(small_plan_data(zero=("B", "S2")))


@pytest.mark.slow
def test_equal_to_the_node_by_node_code_on_a_catalogue_with_segment_targets(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "cat"
    write_catalogue(CatalogueParams(items=3, stores=8, history_weeks=60, holdout_weeks=4), folder)
    assert len(_check(load_context(folder))) > 1  # segment targets differ from the default
