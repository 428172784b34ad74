"""The scalar order lines of plan/orders.py before they became array operations: a line
object per placement and a Python priority queue over the lines. Kept as the reference that
:mod:`echelon.plan.order_lines` must equal exactly (tests/plan/test_orders_arrays.py)."""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from datetime import timedelta

from echelon.errors import DataError
from echelon.plan.context import ItemRecord, PlanContext, Position
from echelon.plan.explain import (
    alternative_target,
    counterfactual_base_stock,
    order_explanation,
    units,
)
from echelon.plan.model import Placement, Recommendation, RecommendationKind
from echelon.plan.orders import recommendation_key
from echelon.policies.normal import expected_shortage, window_demand
from echelon.policies.order_rules import apply_order_rules

MAX_STEPS = 50  # the greedy grants an order in at most this many steps (of whole packs)
Adjustments = dict[tuple[str, str], float]  # (item, location) → units added to the position


def order_window(p: Placement, ctx: PlanContext) -> float:
    """Periods until an order placed today arrives at ``p.location``: the lead time when the
    location's supplier is internal and can ship the whole need ``(S − IP)^+`` from stock now;
    otherwise (external supplier, supplier short) the supplier's committed service time + the
    lead time (the guaranteed-service view of the placement)."""
    committed = p.inbound_service_time + p.lead_time
    src = ctx.suppliers.get(p.location)
    if src is None:
        return committed
    need = max(0.0, p.base_stock - ctx.stock.position(p.item, p.location).inventory_position)
    available = ctx.stock.position(p.item, src).available
    return p.lead_time if available > 0 and available >= need - 1e-9 else committed


@dataclass
class _Line:
    placement: Placement
    pos: Position
    raw: float  # S − IP, units
    rule_qty: float  # after MOQ / pack / capacity
    unit_cost: float
    step: float  # units per greedy step (whole packs)
    pack: float  # the smallest step, units (1 without a pack size)
    first: float  # units of the first step (≥ MOQ, whole packs)
    mean: float  # demand over the replenishment time
    std: float
    p: float
    window: float  # periods until the order arrives (order_window)
    granted: float = 0.0
    rules: list[str] = field(default_factory=list)

    def benefit(self, q: float) -> float:
        """Money of expected shortage avoided by ``q`` more units (module doc)."""
        x = self.pos.inventory_position + self.granted
        es = expected_shortage([x, x + q], self.mean, self.std)
        return self.p * float(es[0] - es[1])


def _allocate(lines: list[_Line], budget: float | None, capacity: dict[str, float]) -> None:
    """Greedy allocation of ``rule_qty`` per line under the budget and capacities (module doc)."""
    money_left = math.inf if budget is None else budget
    cap_left = dict(capacity)
    per_money = budget is not None

    def ratio(ln: _Line, q: float) -> float:
        denom = q * ln.unit_cost if per_money and ln.unit_cost > 0 else q
        return ln.benefit(q) / denom if denom > 0 else math.inf

    heap: list[tuple[float, int, float]] = []
    for i, ln in enumerate(lines):
        if ln.rule_qty > 0:
            heapq.heappush(heap, (-ratio(ln, ln.first), i, ln.first))
    while heap:
        _, i, q = heapq.heappop(heap)
        ln = lines[i]
        loc = ln.placement.location
        fit_units = cap_left.get(loc, math.inf)
        if ln.unit_cost > 0:
            fit_units = min(fit_units, money_left / ln.unit_cost)
        if q > fit_units + 1e-9:
            q = math.floor(fit_units / ln.pack + 1e-9) * ln.pack
            if q <= 1e-9 or (ln.granted == 0 and q < ln.first - 1e-9):
                continue
        ln.granted += q
        money_left -= q * ln.unit_cost
        if loc in cap_left:
            cap_left[loc] -= q
        nxt = min(ln.step, ln.rule_qty - ln.granted)
        if nxt > 1e-9:
            heapq.heappush(heap, (-ratio(ln, nxt), i, nxt))


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


def _line(p: Placement, ctx: PlanContext, adjust: Adjustments, p_unit: float) -> _Line:
    """The order line of one placement: its need, the rules applied and its greedy steps."""
    if p.item not in ctx.items:
        raise DataError(
            "placement for an item missing from the item master",
            source="items.csv",
            found=p.item,
            fix="add the item to items.csv",
        )
    it = ctx.items[p.item]
    here = ctx.stock.position(p.item, p.location).plus_on_order(
        adjust.get((p.item, p.location), 0.0)
    )
    raw = p.base_stock - here.inventory_position
    cap = ctx.capacities().get(p.location)
    rule_qty = apply_order_rules(raw, it.moq, it.pack_size, cap)
    first = apply_order_rules(1e-6, it.moq, it.pack_size) if rule_qty > 0 else 0.0
    step = max(1, math.ceil(rule_qty / it.pack_size / MAX_STEPS)) * it.pack_size
    window = order_window(p, ctx)
    mean, std = window_demand(p.mean_demand, p.std_demand, max(1.0, window))
    ln = _Line(p, here, raw, rule_qty, it.unit_cost, step, it.pack_size, min(first, rule_qty),
               mean, std, p_unit, window)  # fmt: skip
    ln.rules = _rule_notes(raw, rule_qty, it, cap, p.location)
    return ln


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
    adjust = position_adjust or {}
    lines = [
        _line(p, ctx, adjust, (shortage_cost or {}).get(p.item, _shortage(ctx, p.item)))
        for p in placements
    ]
    _allocate(lines, ctx.config.budget, ctx.capacities())
    return [_recommend(ln, ctx) for ln in lines if ln.granted > 1e-9]


def _shortage(ctx: PlanContext, item: str) -> float:
    rec = ctx.items.get(item)
    return rec.shortage_cost if rec is not None else 1.0


def _recommend(ln: _Line, ctx: PlanContext) -> Recommendation:
    p = ln.placement
    it = ctx.items[p.item]
    config = ctx.config
    if ln.granted < ln.rule_qty - 1e-9:
        why = "the budget" if config.budget is not None else "the location's capacity"
        ln.rules.append(
            f"cut from {units(ln.rule_qty)} to {units(ln.granted)} units by {why}; orders are "
            "granted by expected shortage cost avoided per money spent"
        )
    alt_target = alternative_target(p.target) if p.target is not None else None
    alt_s = counterfactual_base_stock(p, alt_target) if alt_target is not None else None
    alt_q = (
        apply_order_rules(alt_s - ln.pos.inventory_position, it.moq, it.pack_size)
        if alt_s is not None
        else None
    )
    source = ctx.suppliers.get(p.location)
    explanation = order_explanation(
        p,
        quantity=ln.granted,
        raw_quantity=ln.raw,
        on_hand=ln.pos.on_hand,
        on_order=ln.pos.on_order,
        backorders=ln.pos.backorders,
        rules=ln.rules,
        counterfactual_quantity=alt_q,
        counterfactual_target=alt_target if alt_q is not None else None,
        source=source,
    )
    days = round(ln.window * config.period_days)
    return Recommendation(
        key=recommendation_key(RecommendationKind.ORDER, p.item, source, p.location),
        kind=RecommendationKind.ORDER,
        item=p.item,
        location=p.location,
        source=source,
        quantity=ln.granted,
        unit_cost=ln.unit_cost,
        value=ln.granted * ln.unit_cost,
        arrival=ctx.as_of + timedelta(days=days),
        inventory_position=ln.pos.inventory_position,
        order_up_to=p.base_stock,
        explanation=explanation,
    )
