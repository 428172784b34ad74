"""Firm orders: decisions of the last plan that the next plan of the same name keeps.

**The rule.** A recommendation of the latest stored run of a plan name is *firm* when it is an
order or a transfer with a quantity > 0 that was approved, exported, or overridden by a
planner (and not rejected since), or that was itself a firm order kept from an earlier run
(and not rejected since). Its quantity is the newest override's where there is one (units);
its due date is the recommendation's arrival. Expedites are not kept (they move an open order
that the data folder already lists); a zero-quantity override orders nothing and is not kept.

**Planning around it.** The next plan (:func:`with_firm`) treats every firm order still due
after its plan date as an open order: ``quantity`` units on order at the location, due on the
due date, and — when the source is a location of the network — the same units owed by the
source (added to its backorders: committed to ship, not available to anyone else). Today's
orders, transfers and exceptions are then computed net of them (docs/model.md: an open order
counts in the inventory position from the moment it is placed). A firm order already due on or
before the new plan date has arrived (it is in on hand) and is dropped; one that the data
folder's ``on_order.csv`` already lists (same item, location, quantity and due date: the ERP
imported the export) is not counted twice.

**Kept in the run.** Each firm order still due is one recommendation of the new run
(:func:`kept_recommendations`): same kind, item, source, location, quantity and due date, the
status it had (approved stays approved, exported stays exported, an overridden one is
proposed again with the override's quantity), ``firm_run`` = the run where it was decided and
the key ``kind:item:source->location@firm-<run>`` (unique next to today's new order of the same
item × location, and stable from run to run, so a firm order is kept once).

The firm orders enter the run's idempotency key (:func:`fingerprint`): the same inputs with
new decisions make a new run; the same inputs and the same decisions return the stored run.
This module computes only; :mod:`echelon.plan.service` reads the previous run and its
overrides from the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from echelon.plan.context import OpenOrder, PlanContext, StockSnapshot
from echelon.plan.explain import units
from echelon.plan.model import (
    Explanation,
    PlanResult,
    Recommendation,
    RecommendationKind,
    RecommendationStatus,
)
from echelon.plan.orders import recommendation_key

St = RecommendationStatus
KEPT_KINDS = (RecommendationKind.ORDER, RecommendationKind.TRANSFER)


@dataclass(frozen=True)
class FirmOrder:
    """One firm decision of a stored run (units, money per unit, dates)."""

    key: str  # its key in the next plan (module doc)
    kind: RecommendationKind
    item: str
    location: str
    source: str | None  # None = the external supplier
    quantity: float  # units, the override's where there is one
    unit_cost: float  # money per unit
    due: date | None  # the recommendation's arrival
    status: RecommendationStatus  # the status it keeps in the next plan
    run_id: int  # the run where it was decided
    why: str  # "approved", "exported", "overridden" or "kept from run N"


def _why(rec: Recommendation, overridden: bool) -> str | None:
    """Why ``rec`` is firm, or None when it is not (module doc)."""
    if rec.kind not in KEPT_KINDS or rec.status == St.REJECTED:
        return None
    if rec.status in (St.APPROVED, St.EXPORTED):
        return rec.status.value
    if overridden:
        return "overridden"
    if rec.firm_run is not None:
        return f"kept from run {rec.firm_run}"
    return None


def firm_orders(
    previous: PlanResult, run_id: int, overrides: Mapping[str, float]
) -> list[FirmOrder]:
    """The firm orders of the stored run ``run_id`` (``previous``, with its current statuses;
    ``overrides``: key → the newest override's quantity, units), in plan order."""
    out = []
    for rec in previous.recommendations:
        why = _why(rec, rec.key in overrides)
        quantity = overrides.get(rec.key, rec.quantity)
        if why is None or quantity <= 0:
            continue
        origin = rec.firm_run if rec.firm_run is not None else run_id
        key = (
            rec.key
            if rec.firm_run is not None
            else recommendation_key(rec.kind, rec.item, rec.source, rec.location, f"firm-{origin}")
        )
        status = St.PROPOSED if rec.status == St.PROPOSED else rec.status
        out.append(
            FirmOrder(key, rec.kind, rec.item, rec.location, rec.source, float(quantity),
                      rec.unit_cost, rec.arrival, status, origin, why)
        )  # fmt: skip
    return out


def _listed(stock: StockSnapshot, f: FirmOrder) -> bool:
    """Whether the data folder's open orders already hold ``f`` (the ERP imported it)."""
    return any(
        o.location == f.location and abs(o.quantity - f.quantity) < 1e-6 and o.due == f.due
        for o in stock.open_orders.get(f.item, [])
    )


def still_due(firm: list[FirmOrder], ctx: PlanContext) -> list[FirmOrder]:
    """The firm orders the plan of ``ctx`` keeps: due after its plan date (or without a due
    date) and not already listed in its ``on_order.csv``."""
    return [f for f in firm if (f.due is None or f.due > ctx.as_of) and not _listed(ctx.stock, f)]


def with_firm(ctx: PlanContext, kept: list[FirmOrder]) -> PlanContext:
    """``ctx`` with the firm orders ``kept`` (:func:`still_due` of ``ctx``) as open orders: on
    order at their location, owed by an internal source (module doc). ``ctx`` is unchanged."""
    if not kept:
        return ctx
    positions = dict(ctx.stock.positions)
    open_orders = {item: list(rows) for item, rows in ctx.stock.open_orders.items()}
    for f in kept:
        here = positions.get((f.item, f.location))
        positions[(f.item, f.location)] = (
            here if here is not None else ctx.stock.position(f.item, f.location)
        ).plus_on_order(f.quantity)
        open_orders.setdefault(f.item, []).append(
            OpenOrder(f.location, f.quantity, f.due or ctx.as_of)
        )
        if f.source is not None and f.source in ctx.suppliers:
            src = positions.get((f.item, f.source)) or ctx.stock.position(f.item, f.source)
            positions[(f.item, f.source)] = replace(src, backorders=src.backorders + f.quantity)
    return replace(ctx, stock=StockSnapshot(positions, open_orders))


def kept_recommendations(kept: list[FirmOrder]) -> list[Recommendation]:
    """The recommendations of the firm orders ``kept`` (:func:`still_due`; module doc)."""
    out = []
    for f in kept:
        due = f.due.isoformat() if f.due is not None else "now"
        frm = f.source or "the external supplier"
        out.append(
            Recommendation(
                key=f.key,
                kind=f.kind,
                item=f.item,
                location=f.location,
                source=f.source,
                quantity=f.quantity,
                unit_cost=f.unit_cost,
                value=f.quantity * f.unit_cost,
                arrival=f.due,
                explanation=Explanation(
                    summary=f"Firm {f.kind.value} of {units(f.quantity)} units from {frm}, "
                    f"due {due}: decided in run {f.run_id} ({f.why}); this plan keeps it and "
                    "plans around it.",
                    drivers=[
                        f"counted as on order at {f.location} until {due}",
                        *([f"owed by {f.source} until shipped"] if f.source else []),
                    ],
                ),
                status=f.status,
                firm_run=f.run_id,
            )
        )
    return out


def fingerprint(kept: list[FirmOrder]) -> list[dict[str, Any]]:
    """What of the kept firm orders enters the next run's idempotency key (JSON-ready)."""
    return [
        {
            "key": f.key,
            "quantity": f.quantity,
            "due": f.due.isoformat() if f.due is not None else None,
            "status": f.status.value,
        }
        for f in sorted(kept, key=lambda f: f.key)
    ]
