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
order's replenishment time (:func:`order_window`, at least one period) and ``p``
the unit shortage cost (:func:`shortage_costs`). The avoided cost is concave in the quantity,
so without MOQs the greedy is optimal for the continuous relaxation of the knapsack; whole
packs and MOQs make it a heuristic whose loss is at most one step's benefit per line.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd

from echelon.errors import DataError
from echelon.network.model import Network
from echelon.plan.explain import (
    alternative_target,
    counterfactual_base_stock,
    expected_shortage,
    order_explanation,
    units,
    window_demand,
)
from echelon.plan.model import (
    Placement,
    PlanConfig,
    PlanData,
    Recommendation,
    RecommendationKind,
)

EXTERNAL = "external"  # the source name used in recommendation keys for the external supplier
MAX_STEPS = 50  # the greedy grants an order in at most this many steps (of whole packs)


@dataclass(frozen=True)
class Position:
    """Stock of one item at one location today, units."""

    on_hand: float = 0.0
    on_order: float = 0.0
    backorders: float = 0.0

    @property
    def inventory_position(self) -> float:
        return self.on_hand + self.on_order - self.backorders


def apply_order_rules(
    q: float, moq: float = 0.0, pack: float = 0.0, cap: float | None = None
) -> float:
    """docs/model.md's order rules: raise a positive ``q`` to ``moq``, round up to a multiple of
    ``pack`` (0 = any), cap at ``cap`` rounded down to a pack; below the MOQ after the cap: 0."""
    if q <= 1e-9:
        return 0.0
    q = max(q, moq)
    if pack > 0:
        q = math.ceil(q / pack - 1e-9) * pack
    if cap is not None and q > cap:
        q = math.floor(cap / pack + 1e-9) * pack if pack > 0 else cap
        if q < moq - 1e-9 or q <= 1e-9:
            return 0.0
    return float(q)


def positions(inventory: pd.DataFrame, on_order: pd.DataFrame) -> dict[tuple[str, str], Position]:
    """(item, location) → :class:`Position` from the inventory snapshot and open orders."""
    out: dict[tuple[str, str], Position] = {}
    bo = "backorders" in inventory.columns
    for rec in inventory.to_dict("records"):
        key = (str(rec["item_id"]), str(rec["location_id"]))
        out[key] = Position(
            on_hand=float(rec["on_hand"]), backorders=float(rec["backorders"]) if bo else 0.0
        )
    if len(on_order):
        sums = pd.DataFrame(
            on_order.groupby(["item_id", "location_id"])["quantity"].sum()
        ).reset_index()
        for rec in sums.to_dict("records"):
            key = (str(rec["item_id"]), str(rec["location_id"]))
            old = out.get(key, Position())
            out[key] = Position(old.on_hand, old.on_order + float(rec["quantity"]), old.backorders)
    return out


def supplier_of(network: Network, location: str) -> str | None:
    """The location that replenishes ``location`` (first inbound lane), None = external."""
    for lane in network.lanes:
        if lane.target == location:
            return lane.source
    return None


def order_window(
    p: Placement, pos: dict[tuple[str, str], Position], network: Network | None
) -> float:
    """Periods until an order placed today arrives at ``p.location``: the lead time when the
    location's supplier is internal and can ship the whole need ``(S − IP)^+`` from stock now;
    otherwise (external supplier, supplier short, network unknown) the supplier's committed
    service time + the lead time (the guaranteed-service view of the placement)."""
    committed = p.inbound_service_time + p.lead_time
    src = supplier_of(network, p.location) if network is not None else None
    if src is None:
        return committed
    here = pos.get((p.item, p.location), Position())
    need = max(0.0, p.base_stock - here.inventory_position)
    up = pos.get((p.item, src), Position())
    available = up.on_hand - up.backorders
    return p.lead_time if available > 0 and available >= need - 1e-9 else committed


def item_table(items: pd.DataFrame) -> dict[str, dict[str, float]]:
    """item → unit_cost, price, moq, pack_size (missing MOQ/pack → 0 = no rule)."""
    out: dict[str, dict[str, float]] = {}
    for row in items.to_dict("records"):
        rec = {}
        for col in ("unit_cost", "price", "moq", "pack_size"):
            v = row.get(col)
            rec[col] = 0.0 if v is None or pd.isna(v) else float(v)
        out[str(row["item_id"])] = rec
    return out


def shortage_costs(items: pd.DataFrame) -> dict[str, float]:
    """Money per unit short, by item: the lost margin ``price − unit_cost`` (a lost sale), at
    least 1% of the unit cost so that it stays positive."""
    table = item_table(items)
    return {
        k: max(v["price"] - v["unit_cost"], 0.01 * v["unit_cost"], 1e-6) for k, v in table.items()
    }


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


def _rule_notes(
    raw: float, qty: float, moq: float, pack: float, cap: float | None, loc: str
) -> list[str]:
    """Which order rules changed the need ``raw`` into ``qty`` (units), one note each."""
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


def propose_orders(
    placements: list[Placement],
    *,
    items: pd.DataFrame,
    inventory: pd.DataFrame,
    on_order: pd.DataFrame,
    network: Network,
    config: PlanConfig,
    as_of: date,
    shortage_cost: dict[str, float] | None = None,
    position_adjust: dict[tuple[str, str], float] | None = None,
) -> list[Recommendation]:
    """Today's ORDER recommendations (quantity > 0 only), one per item × location at most.

    ``placements``: the MEIO placements (base stock per item × location); ``items``,
    ``inventory``, ``on_order``: the data folder's tables (PlanData); ``shortage_cost``: money
    per unit short by item (default :func:`shortage_costs`); ``position_adjust``: units added to
    the inventory position of (item, location) — the rebalancing's transfers (+ in, − out).
    """
    table = item_table(items)
    costs = shortage_costs(items) if shortage_cost is None else shortage_cost
    pos = positions(inventory, on_order)
    adjust = position_adjust or {}
    caps = {n.id: float(n.capacity) for n in network.nodes if n.capacity is not None}
    lines: list[_Line] = []
    for p in placements:
        if p.item not in table:
            raise DataError(
                "placement for an item missing from the item master",
                source="items.csv",
                found=p.item,
                fix="add the item to items.csv",
            )
        it = table[p.item]
        base = pos.get((p.item, p.location), Position())
        here = Position(base.on_hand, base.on_order + adjust.get((p.item, p.location), 0.0),
                        base.backorders)  # fmt: skip
        raw = p.base_stock - here.inventory_position
        cap = caps.get(p.location)
        rule_qty = apply_order_rules(raw, it["moq"], it["pack_size"], cap)
        pack = it["pack_size"] if it["pack_size"] > 0 else 1.0
        first = apply_order_rules(1e-6, it["moq"], pack) if rule_qty > 0 else 0.0
        step = max(1, math.ceil(rule_qty / pack / MAX_STEPS)) * pack
        window = order_window(p, pos, network)
        mean, std = window_demand(p.mean_demand, p.std_demand, max(1.0, window))
        ln = _Line(p, here, raw, rule_qty, it["unit_cost"], step, pack, min(first, rule_qty),
                   mean, std, costs.get(p.item, 1.0), window)  # fmt: skip
        ln.rules = _rule_notes(raw, rule_qty, it["moq"], it["pack_size"], cap, p.location)
        lines.append(ln)
    _allocate(lines, config.budget, caps)
    return [_recommend(ln, table, config, as_of, network) for ln in lines if ln.granted > 1e-9]


def _recommend(
    ln: _Line, table: dict[str, dict[str, float]], config: PlanConfig, as_of: date, net: Network
) -> Recommendation:
    p = ln.placement
    it = table[p.item]
    if ln.granted < ln.rule_qty - 1e-9:
        why = "the budget" if config.budget is not None else "the location's capacity"
        ln.rules.append(
            f"cut from {units(ln.rule_qty)} to {units(ln.granted)} units by {why}; orders are "
            "granted by expected shortage cost avoided per money spent"
        )
    alt_target = alternative_target(p.target) if p.target is not None else None
    alt_s = counterfactual_base_stock(p, alt_target) if alt_target is not None else None
    alt_q = (
        apply_order_rules(alt_s - ln.pos.inventory_position, it["moq"], it["pack_size"])
        if alt_s is not None
        else None
    )
    source = supplier_of(net, p.location)
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
        key=f"order:{p.item}:{source or EXTERNAL}->{p.location}",
        kind=RecommendationKind.ORDER,
        item=p.item,
        location=p.location,
        source=source,
        quantity=ln.granted,
        unit_cost=ln.unit_cost,
        value=ln.granted * ln.unit_cost,
        arrival=as_of + timedelta(days=days),
        inventory_position=ln.pos.inventory_position,
        order_up_to=p.base_stock,
        explanation=explanation,
    )


def orders_for_plan(
    data: PlanData, placements: list[Placement], as_of: date
) -> list[Recommendation]:
    """:func:`propose_orders` with the tables and config of a validated data folder."""
    return propose_orders(
        placements,
        items=data.items,
        inventory=data.inventory,
        on_order=data.on_order,
        network=data.network,
        config=data.config,
        as_of=as_of,
    )
