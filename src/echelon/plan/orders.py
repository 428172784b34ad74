"""Today's order proposals per item × location (order-up-to minus inventory position).

For each placement the unconstrained need is ``S − IP`` with ``S`` the placement's base-stock
level (a local order-up-to level) and ``IP = on hand + on order − backorders`` (units; on order
= every open order row of ``on_order`` for the item at the location, units in transit to it
included; ``backorders`` an optional column of the inventory table, else 0). The order rules
of docs/model.md then apply: a positive need is raised to the item's ``moq``, rounded up to a
multiple of its ``pack_size`` and capped at the location's ``capacity`` (network node, units
per period, shared by all items ordered there), rounded down to a pack (below the MOQ: no
order). Stores order from their DC, a DC from its parent, the top from the external supplier
(``source`` None).

Budget and capacity allocation (``config.budget``, money for all of today's orders; node
``capacity``): when the orders do not fit, quantities are granted **greedily** in steps of
whole packs (the first step is the MOQ), best ratio first: expected shortage cost avoided per
money spent (per unit when only capacity binds). The avoided cost of a step from position
``x`` to ``x + q`` is ``p·(E[(D − x)^+] − E[(D − x − q)^+])`` with ``D`` the demand over the
order's replenishment time (:func:`order_window`, at least one period) and ``p`` the unit
shortage cost (:attr:`echelon.plan.context.ItemRecord.shortage_cost`). The avoided cost is
concave in the quantity, so without MOQs the greedy is optimal for the continuous relaxation
of the knapsack; whole packs and MOQs make it a heuristic whose loss is at most one step's
benefit per line. The arithmetic runs on arrays over all lines at once
(:mod:`echelon.plan.order_lines`); this module turns the granted lines into recommendations.
"""

from __future__ import annotations

import math
from datetime import timedelta

from echelon.plan.context import EXTERNAL, ItemRecord, PlanContext
from echelon.plan.explain import (
    alternative_target,
    counterfactual_base_stocks,
    order_explanation,
    units,
)
from echelon.plan.model import Placement, Recommendation, RecommendationKind
from echelon.plan.order_lines import Adjustments, OrderLines, allocate, build_lines, order_windows
from echelon.policies.order_rules import apply_order_rules


def order_window(p: Placement, ctx: PlanContext) -> float:
    """Periods until an order placed today arrives at ``p.location``
    (:func:`echelon.plan.order_lines.order_windows` for one placement)."""
    return float(order_windows([p], ctx)[0])


def propose_orders(
    placements: list[Placement],
    ctx: PlanContext,
    *,
    shortage_cost: dict[str, float] | None = None,
    position_adjust: Adjustments | None = None,
) -> list[Recommendation]:
    """Today's ORDER recommendations (quantity > 0 only), one per item × location at most.

    ``placements``: the MEIO placements (base stock per item × location); ``ctx``: the plan's
    items, stock, suppliers, capacities, budget and plan date; ``shortage_cost``: money per
    unit short by item (default :attr:`ItemRecord.shortage_cost`); ``position_adjust``: units
    added to the inventory position of (item, location) — the rebalancing's transfers.
    """
    lines = build_lines(placements, ctx, position_adjust or {}, shortage_cost)
    granted = allocate(lines, ctx.config.budget)
    ordered = [int(k) for k in (granted > 1e-9).nonzero()[0]]
    targets = [lines.placements[k].target for k in ordered]
    alt_targets = [alternative_target(t) if t is not None else None for t in targets]
    alt_levels = counterfactual_base_stocks([lines.placements[k] for k in ordered], alt_targets)
    return [
        _recommend(lines, k, ctx, alt_t, alt_s)
        for k, alt_t, alt_s in zip(ordered, alt_targets, alt_levels, strict=True)
    ]


def _rule_notes(raw: float, qty: float, item: ItemRecord, cap: float | None, loc: str) -> list[str]:
    """Which order rules changed the need ``raw`` into ``qty`` (units), one note each."""
    moq, pack = item.moq, item.pack_size
    notes: list[str] = []
    if raw <= 1e-9:
        return notes
    if moq > raw + 1e-9:
        notes.append(f"raised to the minimum order quantity {units(moq)}")
    if pack > 1 and qty > max(raw, moq) + 1e-9:
        notes.append(f"rounded up to a multiple of the pack size {units(pack)}")
    if cap is not None and qty < max(raw, moq) - 1e-9:
        notes.append(f"capped by {loc}'s capacity of {units(cap)} units per period")
    return notes


def _recommend(
    lines: OrderLines, k: int, ctx: PlanContext, alt_target: float | None, alt_s: float | None
) -> Recommendation:
    """The ORDER of line ``k``; ``alt_target``/``alt_s``: the counterfactual target and its
    order-up-to level (units; None: none shown)."""
    p = lines.placements[k]
    it = ctx.items[p.item]
    config = ctx.config
    raw, rule_qty, granted = float(lines.raw[k]), float(lines.rule_qty[k]), float(lines.granted[k])
    on_hand, on_order = float(lines.stock.on_hand[k]), float(lines.stock.on_order[k])
    backorders = float(lines.stock.backorders[k])
    position = on_hand + on_order - backorders
    cap = float(lines.capacity[k]) if lines.capacity[k] < math.inf else None
    rules = _rule_notes(raw, rule_qty, it, cap, p.location)
    if granted < rule_qty - 1e-9:
        why = "the budget" if config.budget is not None else "the location's capacity"
        rules.append(
            f"cut from {units(rule_qty)} to {units(granted)} units by {why}; orders are "
            "granted by expected shortage cost avoided per money spent"
        )
    alt_q = apply_order_rules(alt_s - position, it.moq, it.pack_size) if alt_s is not None else None
    source = ctx.suppliers.get(p.location)
    explanation = order_explanation(
        p,
        quantity=granted,
        raw_quantity=raw,
        on_hand=on_hand,
        on_order=on_order,
        backorders=backorders,
        rules=rules,
        counterfactual_quantity=alt_q,
        counterfactual_target=alt_target if alt_q is not None else None,
        source=source,
    )
    unit_cost = float(lines.unit_cost[k])
    days = round(float(lines.window[k]) * config.period_days)
    return Recommendation(
        key=recommendation_key(RecommendationKind.ORDER, p.item, source, p.location),
        kind=RecommendationKind.ORDER,
        item=p.item,
        location=p.location,
        source=source,
        quantity=granted,
        unit_cost=unit_cost,
        value=granted * unit_cost,
        arrival=ctx.as_of + timedelta(days=days),
        inventory_position=position,
        order_up_to=p.base_stock,
        explanation=explanation,
    )


#: characters that structure a key, percent-encoded inside its parts (``%`` first)
KEY_RESERVED = {"%": "%25", ":": "%3A", ">": "%3E", "@": "%40"}


def key_part(text: str) -> str:
    """One part of a recommendation key: ``text`` with ``%``, ``:``, ``>`` and ``@``
    percent-encoded (``S->X`` → ``S-%3EX``), so that no two different (item, source,
    location) give the same key; ordinary ids stay as they are."""
    return "".join(KEY_RESERVED.get(c, c) for c in text)


def recommendation_key(
    kind: RecommendationKind, item: str, source: str | None, location: str, suffix: str = ""
) -> str:
    """The key of a recommendation, stable within a run: ``kind:item:source->location``
    (``source`` None = the external supplier), with ``@suffix`` when given; every part is
    :func:`key_part`-encoded, so a key names one recommendation (docs/plan-data.md)."""
    parts = (key_part(item), key_part(source or EXTERNAL), key_part(location))
    key = f"{kind.value}:{parts[0]}:{parts[1]}->{parts[2]}"
    return f"{key}@{key_part(suffix)}" if suffix else key
