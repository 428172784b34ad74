"""Explanation builders shared by orders, rebalancing and exceptions.

Numbers a planner can check by hand: the expected shortage of a Normal demand, the stockout
probability, the order-up-to arithmetic and the counterfactuals ("with a 95% instead of a 98%
target the order would be ..."; "no order if the position were >= ...").

Conventions:
- demand over a window of ``τ`` periods is Normal(``μ·τ``, ``σ·√τ``) with ``μ``, ``σ`` the
  per-period mean and std of the placement (independent periods);
- the expected shortage of stock ``x`` against demand ``D`` is ``E[(D − x)^+]`` (units), the
  standard normal loss scaled by the std; ``P(stockout) = P(D > x)``
  (:mod:`echelon.policies.normal`, their one home);
- a counterfactual service target keeps the simulation tuning of the placement: the safety
  stock moves by ``(z' − z)·σ_τ`` where ``z``, ``z'`` are the textbook fill-rate safety factors
  (:func:`echelon.policies.fill_rate_z.z_for_fill_rate`, one period's demand per cycle) of the
  two targets and ``σ_τ = σ·√τ`` over the net replenishment time ``τ``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np

from echelon.plan.model import Explanation, Placement, Recommendation
from echelon.policies.fill_rate_z import z_for_fill_rates
from echelon.policies.normal import window_demands


# ----------------------------------------------------------------------------- numbers
def alternative_target(target: float) -> float:
    """The counterfactual target shown: 95% for a target above 95%, else 5 points lower."""
    return 0.95 if target > 0.95 + 1e-9 else max(0.5, round(target - 0.05, 4))


def counterfactual_base_stock(placement: Placement, target: float) -> float | None:
    """The placement's order-up-to level under another fill-rate ``target`` (module doc);
    None where the placement has no target or no demand variability."""
    return counterfactual_base_stocks([placement], [target])[0]


def counterfactual_base_stocks(
    placements: Sequence[Placement], targets: Sequence[float | None]
) -> list[float | None]:
    """:func:`counterfactual_base_stock` of each placement under its ``targets`` entry, the
    safety factors solved as one array (None where the placement or the entry has no target,
    or the placement has no demand variability). Units: the placements' units."""
    n = len(placements)
    cur = np.array([np.nan if p.target is None else p.target for p in placements], dtype=float)
    alt = np.array([np.nan if t is None else t for t in targets], dtype=float)
    tau = np.maximum([p.net_replenishment_time for p in placements], 1.0)
    mean = np.array([p.mean_demand for p in placements], dtype=float)
    sigma = window_demands(mean, [p.std_demand for p in placements], tau)[1]
    ok = ~np.isnan(cur) & ~np.isnan(alt) & (sigma > 0) & (mean > 0)
    out: list[float | None] = [None] * n
    if not ok.any():
        return out
    both = np.concatenate([alt[ok], cur[ok]])
    z = z_for_fill_rates(both, np.tile(mean[ok], 2), np.tile(sigma[ok], 2))
    dz = z[: ok.sum()] - z[ok.sum() :]
    base = np.array([p.base_stock for p in placements], dtype=float)[ok]
    for k, value in zip(np.flatnonzero(ok), np.maximum(0.0, base + dz * sigma[ok]), strict=True):
        out[int(k)] = float(value)
    return out


# ----------------------------------------------------------------------------- formatting
def units(x: float) -> str:
    """A quantity for a sentence: whole numbers without decimals, else one decimal."""
    return f"{x:,.0f}" if abs(x - round(x)) < 0.05 else f"{x:,.1f}"


def money(x: float, currency: str = "") -> str:
    """Money with two decimals and the currency code after it."""
    return f"{x:,.2f} {currency}".rstrip()


def periods(x: float) -> str:
    """A number of periods (3 significant digits): "1 period", "2.33 periods"."""
    return f"{x:.3g} period" + ("" if x == 1 else "s")


def pct(x: float) -> str:
    """A share (0–1) as a percentage."""
    return f"{100 * x:.3g}%"


# ----------------------------------------------------------------------------- builders
def order_explanation(
    placement: Placement,
    *,
    quantity: float,
    raw_quantity: float,
    on_hand: float,
    on_order: float,
    backorders: float,
    rules: list[str],
    counterfactual_quantity: float | None,
    counterfactual_target: float | None,
    source: str | None,
) -> Explanation:
    """Why an order of ``quantity`` units (``raw_quantity`` before MOQ/pack/capacity/budget)."""
    p = placement
    ip = on_hand + on_order - backorders
    ltd = p.base_stock - p.safety_stock
    supplier = source if source is not None else "the external supplier"
    verdict = f"order {units(quantity)} units from {supplier}" if quantity > 0 else "no order today"
    relation = "below" if ip < p.base_stock else "at or above"
    summary = (
        f"{verdict} for {p.item} at {p.location}: the inventory position {units(ip)} is "
        f"{relation} the order-up-to level {units(p.base_stock)} = lead-time demand "
        f"{units(ltd)} + safety stock {units(p.safety_stock)}"
    )
    if rules:
        summary += f" ({'; '.join(rules)})"
    drivers = [
        f"inventory position {units(ip)} = on hand {units(on_hand)} + on order "
        f"{units(on_order)} - backorders {units(backorders)}",
        f"order-up-to level {units(p.base_stock)} covers {periods(p.net_replenishment_time)} "
        f"of demand at {units(p.mean_demand)} ± {units(p.std_demand)} per period",
        f"replenishment: lead time {periods(p.lead_time)} + {periods(p.inbound_service_time)} "
        f"waiting for the supplier, promised to customers in {periods(p.outbound_service_time)}",
        f"unconstrained need {units(max(0.0, raw_quantity))} units",
        *rules,
    ]
    cf = [f"no order if the position were >= {units(p.base_stock)}"]
    if counterfactual_target is not None and counterfactual_quantity is not None and p.target:
        cf.insert(
            0,
            f"with a {pct(counterfactual_target)} instead of {pct(p.target)} fill-rate target "
            f"the order would be {units(counterfactual_quantity)} units",
        )
    return Explanation(
        summary=summary,
        drivers=drivers,
        safety_stock=p.explanation.safety_stock,
        counterfactual="; ".join(cf),
    )


def transfer_explanation(
    *,
    item: str,
    qty: float,
    sender: str,
    receiver: str,
    avoided: float,
    added: float,
    cost: float,
    unit_transfer_cost: float,
    receiver_line: str,
    sender_line: str,
    wait_cost: float,
    window: float,
    threshold: float,
    transfer_lead_time: float,
    currency: str,
) -> Explanation:
    """Why the LP moves ``qty`` units ``sender → receiver`` (money: ``avoided`` shortage cost
    at the receiver, ``added`` at the sender, ``cost`` to move; ``wait_cost`` the receiver's
    expected shortage cost until a new order arrives in ``window`` periods without moves)."""
    net = avoided - added - cost
    summary = (
        f"move {units(qty)} units of {item} from {sender} to {receiver}: it avoids "
        f"{money(avoided, currency)} of expected shortage at {receiver} before a new order could "
        f"arrive ({periods(window)}), adds {money(added, currency)} at {sender} and costs "
        f"{money(cost, currency)} to move ({money(unit_transfer_cost, currency)} per unit): "
        f"net saving {money(net, currency)}"
    )
    drivers = [
        receiver_line,
        sender_line,
        "the LP moves units while the shortage cost a unit avoids at the receiver exceeds the "
        "transfer cost plus the shortage cost it adds at the sender",
        f"waiting for a new order instead: expected shortage cost {money(wait_cost, currency)} "
        f"at {receiver} over the {periods(window)}",
    ]
    counterfactual = (
        f"no transfer if the transfer cost were above {money(threshold, currency)} per unit "
        f"(what the first unit moved saves), or if a new order reached {receiver} within "
        f"{periods(transfer_lead_time)} (the transfer's lead time)"
    )
    return Explanation(summary=summary, drivers=drivers, counterfactual=counterfactual)


def stock_line(location: str, numbers: Sequence[float], p: float, currency: str) -> str:
    """One location's situation over its window, for the drivers of a transfer: ``numbers`` =
    (stock, mean, std of the window demand, window periods, expected shortage before, after)."""
    stock, mean, std, window, es0, es1 = numbers
    return (
        f"{location}: {units(stock)} units available for demand {units(mean)} ± {units(std)} "
        f"over the {periods(window)} until a new order arrives; expected shortage "
        f"{es0:.2f} → {es1:.2f} units at {money(p, currency)} per unit short"
    )


def no_transfer_note(
    *,
    receiver: str,
    sender: str | None,
    value: float,
    unit_transfer_cost: float,
    wait_cost: float,
    window: float,
    transfer_lead_time: float,
    currency: str,
) -> str:
    """Why the LP moves nothing to ``receiver`` (``value``: what the first unit from the best
    ``sender`` would save, money; ``sender`` None: no location may send)."""
    waiting = (
        f"waiting {periods(window)} for a new order costs an expected "
        f"{money(wait_cost, currency)} of shortage"
    )
    if window <= transfer_lead_time:
        return (
            f"no transfer to {receiver}: a new order arrives in {periods(window)}, no later "
            f"than a transfer would ({periods(transfer_lead_time)}); order instead"
        )
    if sender is None:
        return (
            f"no transfer to {receiver}: no other location of the same echelon has stock to "
            f"spare; {waiting}"
        )
    return (
        f"no transfer to {receiver}: the first unit from {sender} would save "
        f"{money(value, currency)} (shortage avoided at {receiver} less shortage added at "
        f"{sender}), not more than the transfer cost {money(unit_transfer_cost, currency)} "
        f"per unit; {waiting}"
    )


def expedite_explanation(
    *, item: str, location: str, qty: float, open_qty: float, due: date, advance: float,
    avoided: float, unit_cost: float, window: float, first_unit_value: float, line: str,
    currency: str,
) -> Explanation:  # fmt: skip
    """Why ``qty`` of an open order of ``open_qty`` units due on ``due`` is brought forward by
    ``advance`` periods (money: ``avoided`` shortage cost, ``unit_cost`` per unit per period;
    ``first_unit_value``: what the first unit expedited saves)."""
    cost = qty * unit_cost * advance
    return Explanation(
        summary=(
            f"expedite {units(qty)} of the {units(open_qty)} units of {item} due at {location} "
            f"on {due.isoformat()} by {periods(advance)}: together with any transfer it avoids "
            f"{money(avoided, currency)} of expected shortage before a new order could arrive "
            f"({periods(window)}) for {money(cost, currency)} "
            f"({money(unit_cost, currency)} per unit per period)"
        ),
        drivers=[line, "the LP expedites while a unit saves more shortage cost than it costs"],
        counterfactual=(
            f"no expedite if it cost more than {money(first_unit_value / advance, currency)} per "
            "unit per period (what the first unit saves)"
        ),
    )


def annotate_orders(
    before: list[Recommendation], after: list[Recommendation],
    adjust: dict[tuple[str, str], float], notes: dict[tuple[str, str], str],
) -> list[Recommendation]:  # fmt: skip
    """The orders recomputed after rebalancing, each with a driver saying how the transfers
    (``adjust``: units in + / out − per item × location) changed it, and the why-no-transfer
    ``notes``."""
    old = {(r.item, r.location): r.quantity for r in before}
    out: list[Recommendation] = []
    for r in after:
        key = (r.item, r.location)
        extra: list[str] = []
        if key in adjust:
            verb = "received" if adjust[key] > 0 else "sent"
            extra.append(
                f"after the transfers ({verb} {units(abs(adjust[key]))} units) the order changed "
                f"from {units(old.get(key, 0.0))} to {units(r.quantity)} units"
            )
        if key in notes:
            extra.append(notes[key])
        if extra:
            drivers = [*r.explanation.drivers, *extra]
            r = r.model_copy(
                update={"explanation": r.explanation.model_copy(update={"drivers": drivers})}
            )
        out.append(r)
    return out
