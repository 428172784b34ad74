"""Safety stock split by cause: demand variability, lead-time variability, service target and
the service times of the guaranteed-service placement. The parts add up to the total.

For one item at one node (units; periods; per-period demand mean ``μ`` and std ``σ``; lead-time
std ``σ_L``; the node's own replenishment lead time ``L`` (at least 1 period, docs/model.md);
its net replenishment time ``τ = SI + L − S`` in the placement, ``σ_τ = √(σ²τ + μ²σ_L²)``; a
reference safety factor ``z_ref``):

- ``demand_variability``    = z_ref · σ·√L — the safety stock of a deterministic lead time ``L``
  at the default target;
- ``lead_time_variability`` = z_ref · (√(σ²L + μ²σ_L²) − σ·√L) — what lead-time variance adds;
- ``upstream_service_time`` = z_ref · (√(σ²τ + μ²σ_L²) − √(σ²L + μ²σ_L²)) — what waiting on the
  upstream's committed service time SI adds, less what the node's own commitment S to its
  customers removes (negative when τ < L; ``−`` the first two parts when τ = 0);
- ``service_target``        = the rest: ``total`` minus the three above, (z_eff − z_ref)·σ_τ with
  ``z_eff = total/σ_τ`` the safety factor actually placed.

The placement (:mod:`echelon.plan.placement`) takes ``z_ref = z_eff − (z_target − z_default)``:
the factor actually placed (tuned in simulation, so ``total`` is always the safety stock held)
moved to the default target. Then ``service_target = (z_target − z_default)·σ_τ`` exactly —
0 at a node whose target is the default — and the other three parts share the rest in
proportion to what causes it. ``z_target``/``z_default``: for a store the fill-rate factor over
its exposure (``G(z)·σ_τ = (1 − β)·μ``); for a DC Φ⁻¹ of the largest target of the stores it
serves, and of the default. With τ = 0 (the node holds none) ``z_ref = z_default`` and the
service-time part cancels the first two.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from scipy import stats

from echelon.network.graph import echelon_demand
from echelon.plan.leadtimes import inbound_lead_time
from echelon.plan.model import Explanation, Placement, PlanConfig, PolicyName, SafetyStockParts
from echelon.policies.fill_rate_z import z_for_fill_rates
from echelon.policies.model import BaseStock
from echelon.policies.normal import exposure_std

if TYPE_CHECKING:
    from echelon.plan.placement import ItemPlan

Flows = dict[str, tuple[float, float]]  # node → (mean units per period, a std in units)


def decompose(
    total: float,
    *,
    mean: float,
    std: float,
    lead_time: float,
    lead_time_std: float,
    tau: float,
    z_ref: float,
) -> SafetyStockParts:
    """The parts of a safety stock ``total`` (units; see the module doc for the convention)."""
    for name, v in (("std", std), ("lead_time_std", lead_time_std), ("tau", tau)):
        if not math.isfinite(v) or v < 0:
            raise ValueError(f"{name} must be a finite number >= 0, found {v!r}")
    L = max(1.0, float(lead_time))
    base = exposure_std(std, L)
    with_lt = exposure_std(std, L, mean, lead_time_std)
    at_tau = exposure_std(std, tau, mean, lead_time_std)
    demand = z_ref * base
    lead = z_ref * (with_lt - base)
    upstream = z_ref * (at_tau - with_lt)
    target = total - demand - lead - upstream
    return SafetyStockParts(
        demand_variability=demand,
        lead_time_variability=lead,
        service_target=target,
        upstream_service_time=upstream,
        total=total,
    )


def _store_z(
    plans: list[ItemPlan], exposures: list[Flows], default: float
) -> list[dict[str, tuple[float, float]]]:
    """``(z_target, z_default)`` of every store of every item (std units) in one
    :func:`z_for_fill_rates` call: the fill-rate factors over the exposure, ``G(z)·σ_τ =
    (1 − β)·μ`` with ``exposures[i][s] = (μ, σ_τ)`` (units per period, units; σ_τ ≤ 0 taken
    as 1); (0, 0) for a store without demand."""
    out = [{s: (0.0, 0.0) for s in p.stores} for p in plans]
    live = [(i, s) for i, p in enumerate(plans) for s in p.stores if exposures[i][s][0] > 0]
    if not live:
        return out
    beta = np.array([[plans[i].targets[s], default] for i, s in live])
    mu = np.array([[exposures[i][s][0]] for i, s in live])
    sd = np.array([[_positive_or_one(exposures[i][s][1])] for i, s in live])
    for (i, s), (zt, zd) in zip(live, z_for_fill_rates(beta, mu, sd).tolist(), strict=True):
        out[i][s] = (float(zt), float(zd))
    return out


def _positive_or_one(x: float) -> float:
    return x if x > 0 else 1.0


def _dc_z(plan: ItemPlan, dcs: list[str], default: float) -> dict[str, tuple[float, float]]:
    """``(Φ⁻¹(largest target of the stores served), Φ⁻¹(default))`` of every DC (std units)."""
    served = _served_stores(plan)
    top = [max([plan.targets[s] for s in served[n]] or [default]) for n in dcs]
    z = stats.norm.ppf(np.array([*top, default], float))
    return {n: (float(z[k]), float(z[-1])) for k, n in enumerate(dcs)}


def _z_ref(ss: float, sd_tau: float, z_target: float, z_default: float) -> float:
    """The effective safety factor at the default target (:mod:`echelon.plan.decompose`):
    ``ss/σ_τ − (z_target − z_default)`` (``z_default`` where σ_τ is 0)."""
    return ss / sd_tau - (z_target - z_default) if sd_tau > 0 else z_default


def _served_stores(plan: ItemPlan) -> dict[str, list[str]]:
    """The stores each node serves (itself included for a store), network order."""
    succ: dict[str, list[str]] = {}
    for lane in plan.network.lanes:
        succ.setdefault(lane.source, []).append(lane.target)
    out: dict[str, list[str]] = {}
    for node in plan.network.nodes:
        found, todo = [], [node.id]
        while todo:
            n = todo.pop()
            found += [n] if plan.tiers[n] == 0 else []
            todo += succ.get(n, [])
        out[node.id] = found
    return out


def explain_placements(plans: list[ItemPlan], cfg: PlanConfig) -> list[Placement]:
    """The :class:`Placement` of every node of every item plan (items in order, nodes in
    network order), with its explanation and parts: an item's echelon demand, lead times and
    exposures computed once for all its nodes, the stores' safety factors of all items in one
    call (:func:`_store_z`)."""
    inputs = [_item_inputs(p) for p in plans]
    store_z = _store_z(plans, [ins[3] for ins in inputs], cfg.default_fill_rate)
    out: list[Placement] = []
    for plan, (flows, lead, tau, exposure), z in zip(plans, inputs, store_z, strict=True):
        ids = [n.id for n in plan.network.nodes]
        z.update(_dc_z(plan, [n for n in ids if plan.tiers[n] != 0], cfg.default_fill_rate))
        out += [
            _explain(plan, n, cfg, flows[n], lead[n], tau[n], exposure[n][1], z[n]) for n in ids
        ]
    return out


def _item_inputs(plan: ItemPlan) -> tuple[Flows, Flows, dict[str, float], Flows]:
    """An item's echelon demand (μ, σ per period), inbound lead time (mean, std, periods), net
    replenishment time τ (periods) and exposure (μ, σ_τ units) of every node."""
    net = plan.network
    flows = echelon_demand(net)
    ids = [n.id for n in net.nodes]
    lead = {n: inbound_lead_time(net, n) for n in ids}
    tau = {n: float(plan.gsm.nodes[n].net_replenishment_time or 0.0) for n in ids}
    exposure = {n: (flows[n][0], exposure_std(flows[n][1], tau[n], flows[n][0], lead[n][1]))
                for n in ids}  # fmt: skip
    return flows, lead, tau, exposure


def _explain(
    plan: ItemPlan,
    node: str,
    cfg: PlanConfig,
    flow: tuple[float, float],
    lead: tuple[float, float],
    tau: float,
    sd_tau: float,
    z: tuple[float, float],
) -> Placement:
    """One node's :class:`Placement` (:func:`explain_placements`): its echelon demand ``flow``
    (mean, std, units per period), inbound lead time ``lead`` (mean, std, periods), net
    replenishment time ``tau`` (periods), ``σ_τ`` (units) and ``z`` (target, default)."""
    mu, sd = flow
    lt, lsd = lead
    d = plan.gsm.nodes[node]
    meio, single = PolicyName.MEIO, PolicyName.SINGLE_ECHELON
    level = plan.policies[meio].policies[node]
    se_level = plan.policies[single].policies[node]
    assert isinstance(level, BaseStock) and isinstance(se_level, BaseStock)
    ss = plan.safety_stock(meio, node)
    z_ref = _z_ref(ss, sd_tau, *z)
    parts = decompose(ss, mean=mu, std=sd, lead_time=lt, lead_time_std=lsd, tau=tau, z_ref=z_ref)
    target = plan.targets.get(node)
    value = ss * plan.unit_cost
    what = f"a {target:.0%} fill-rate target" if target is not None else "its customers' targets"
    summary = (
        f"Hold {ss:,.0f} units of {plan.item} as safety stock at {node} "
        f"({cfg.currency} {value:,.0f}) to cover {tau:g} periods of exposure for {what}."
    )
    drivers = [
        f"demand {mu:,.1f} ± {sd:,.1f} units per period; lead time {lt:g} ± {lsd:.2f} periods",
        f"inbound service time {d.inbound_service_time or 0:g}, outbound "
        f"{d.committed_service_time or 0:g}, net replenishment time {tau:g} periods",
        f"order-up-to level {level.level:,.1f} = pipeline {plan.pipeline[meio][node]:,.1f} "
        f"+ safety stock {ss:,.1f}",
        f"parts: demand variability {parts.demand_variability:,.1f}, lead-time variability "
        f"{parts.lead_time_variability:,.1f}, service times {parts.upstream_service_time:,.1f}, "
        f"service target {parts.service_target:,.1f}",
    ]
    if node in plan.fill.get(meio, {}):
        drivers.append(f"simulated fill rate {plan.fill[meio][node]:.2%} (tuned to target)")
    se_ss = plan.safety_stock(single, node)
    if tau <= 0:
        own = parts.demand_variability + parts.lead_time_variability
        counterfactual = (
            "none held: the node quotes its customers a service time that covers its whole "
            f"replenishment time; committing 0 periods would need about {own:,.0f} units here"
        )
    elif abs(parts.service_target) > 1e-9:
        counterfactual = (
            f"at the default {cfg.default_fill_rate:.0%} target the safety stock would be "
            f"{ss - parts.service_target:,.0f} units"
        )
    else:
        counterfactual = (
            f"if its supplier delivered at once (no wait upstream) it would be "
            f"{ss - parts.upstream_service_time:,.0f} units"
        )
    counterfactual += f"; single-echelon practice holds {se_ss:,.0f} units here"
    return Placement(
        item=plan.item,
        location=node,
        tier=plan.tiers[node],
        segment=plan.segments.get(node) or None,
        mean_demand=mu,
        std_demand=sd,
        lead_time=lt,
        inbound_service_time=float(d.inbound_service_time or 0.0),
        outbound_service_time=float(d.committed_service_time or 0.0),
        net_replenishment_time=tau,
        target=target,
        base_stock=level.level,
        safety_stock=ss,
        safety_stock_value=value,
        single_echelon_base_stock=se_level.level,
        single_echelon_safety_stock=se_ss,
        explanation=Explanation(
            summary=summary, drivers=drivers, safety_stock=parts, counterfactual=counterfactual
        ),
    )
