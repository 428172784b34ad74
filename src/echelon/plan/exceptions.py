"""Exceptions for a planner's attention: what needs a human today, and why.

Rules (per item × location of the placements; thresholds from :class:`PlanConfig`):

- **stockout risk**: the inventory position ``IP`` (on hand + on order − backorders, units)
  against the demand ``D ~ Normal(μ·w, σ·√w)`` over the time ``w`` until an order placed
  today arrives (periods; :func:`echelon.plan.orders.order_window`): raised when
  ``P(D > IP)`` exceeds ``stockout_threshold`` (default 0.5: the projected balance
  ``IP − E[D]`` is negative; pass a lower one to flag risks earlier); severity by the value
  at risk ``E[(D − IP)^+]·price``: high from one period's sales (``μ·price``), medium from a
  quarter of it, else low;
- **excess**: on hand beyond ``config.excess_days`` days of supply (``on hand / (μ / period
  days)``); high beyond twice that (or with no demand at all), else medium;
- **order above need**: the order rules (``moq``, ``pack_size``, capacity) raise today's order
  ``q`` above its need ``S − IP`` (:mod:`echelon.plan.orders`) by more than
  ``config.excess_days`` days of supply at the location's mean demand (or with no demand at
  all): an MOQ of a million units for a need of ten is ordered only after a human looks; high
  beyond twice the limit, else medium;
- **forecast bias**: ``|bias| / mean actual > config.bias_threshold`` from the forecast
  backtest: a frame with item_id, location_id, mean_actual (units per period) and either
  ``bias_share`` (``(Σ forecast − Σ actual) / Σ actual``, as ``SeriesForecast.bias``) or
  ``bias`` (mean forecast − actual, units per period); high beyond twice the threshold;
- **large change**: ``|S − S_old| / S_old > config.change_threshold`` against the previous
  plan's placements (a new level where the old one was 0 counts); high beyond twice, else
  medium;
- **data quality**: the data folder's findings, passed through.

Sorted by :func:`echelon.plan.model.exception_order` (high → low, then kind, item, location).
"""

from __future__ import annotations

import math

import pandas as pd

from echelon.plan.context import ItemRecord, PlanContext, Position
from echelon.plan.explain import money, pct, periods, units
from echelon.plan.model import (
    ExceptionKind,
    Placement,
    PlanConfig,
    PlanException,
    Severity,
    exception_order,
)
from echelon.plan.orders import order_window
from echelon.policies.normal import expected_shortage, stockout_probability, window_demand
from echelon.policies.order_rules import apply_order_rules


def _twice(share: float, threshold: float) -> Severity:
    return Severity.HIGH if share > 2 * threshold else Severity.MEDIUM


def stockout_exception(
    p: Placement, pos: Position, price: float, threshold: float, currency: str, w: float
) -> PlanException | None:
    """A STOCKOUT_RISK exception where ``P(D_w > IP) > threshold`` over ``w`` periods (module
    doc), else None."""
    if w <= 0 or p.mean_demand <= 0:
        return None
    mean, std = window_demand(p.mean_demand, p.std_demand, w)
    ip = pos.inventory_position
    prob = float(stockout_probability(ip, mean, std))
    if prob <= threshold:
        return None
    short = float(expected_shortage(ip, mean, std))
    at_risk = short * price
    period_sales = p.mean_demand * price
    severity = (
        Severity.HIGH
        if at_risk >= period_sales
        else Severity.MEDIUM
        if at_risk >= 0.25 * period_sales
        else Severity.LOW
    )
    return PlanException(
        kind=ExceptionKind.STOCKOUT_RISK,
        severity=severity,
        item=p.item,
        location=p.location,
        value=prob,
        message=(
            f"{p.item} at {p.location}: {pct(prob)} chance of running out before a new order "
            f"arrives ({periods(w)}): inventory position {units(ip)} vs demand {units(mean)} "
            f"± {units(std)} over that time; expected {units(short)} units short "
            f"({money(at_risk, currency)} of sales at risk) — order, transfer or expedite now"
        ),
    )


def excess_exception(
    p: Placement, on_hand: float, unit_cost: float, config: PlanConfig
) -> PlanException | None:
    """An EXCESS exception where on hand covers more than ``config.excess_days`` days."""
    if on_hand <= 0:
        return None
    per_day = p.mean_demand / config.period_days
    limit = config.excess_days
    if per_day <= 0:
        return PlanException(
            kind=ExceptionKind.EXCESS,
            severity=Severity.HIGH,
            item=p.item,
            location=p.location,
            value=None,
            message=(
                f"{p.item} at {p.location}: {units(on_hand)} units on hand "
                f"({money(on_hand * unit_cost, config.currency)}) and no demand forecast — "
                "move or return the stock"
            ),
        )
    days = on_hand / per_day
    if days <= limit:
        return None
    extra = on_hand - limit * per_day
    return PlanException(
        kind=ExceptionKind.EXCESS,
        severity=Severity.HIGH if days > 2 * limit else Severity.MEDIUM,
        item=p.item,
        location=p.location,
        value=days,
        message=(
            f"{p.item} at {p.location}: {units(on_hand)} units on hand = {days:.0f} days of "
            f"supply at {per_day:.3g} per day, above the {limit:g}-day limit; "
            f"{units(extra)} units ({money(extra * unit_cost, config.currency)}) beyond it — "
            "stop ordering or move the stock"
        ),
    )


def order_above_need_exception(
    p: Placement, ctx: PlanContext, rec: ItemRecord
) -> PlanException | None:
    """An ORDER_ABOVE_NEED exception where the order rules (MOQ, pack size) raise today's
    order ``q`` above its need ``S − IP`` by more than ``config.excess_days`` days of supply
    (module doc), else None."""
    config = ctx.config
    need = p.base_stock - ctx.stock.position(p.item, p.location).inventory_position
    if need <= 1e-9:
        return None
    q = apply_order_rules(need, rec.moq, rec.pack_size, ctx.capacities().get(p.location))
    surplus = q - need
    per_day = p.mean_demand / config.period_days
    days = surplus / per_day if per_day > 0 else math.inf
    if surplus <= 1e-9 or days <= config.excess_days:
        return None
    cover = f"{days:,.0f} days of supply" if per_day > 0 else "with no demand forecast"
    return PlanException(
        kind=ExceptionKind.ORDER_ABOVE_NEED,
        severity=_twice(days, config.excess_days),
        item=p.item,
        location=p.location,
        value=q,
        message=(
            f"{p.item} at {p.location}: the minimum order quantity {units(rec.moq)} and pack "
            f"size {units(rec.pack_size)} raise today's order from the need of {units(need)} to "
            f"{units(q)} units ({money(q * rec.unit_cost, config.currency)}); the "
            f"{units(surplus)} units above the need are {cover}, above the "
            f"{config.excess_days:g}-day limit — check moq and pack_size in items.csv before "
            "approving"
        ),
    )


def bias_exceptions(bias: pd.DataFrame, threshold: float) -> list[PlanException]:
    """FORECAST_BIAS exceptions from a backtest frame (module doc: item_id, location_id,
    mean_actual and bias_share or bias) where ``|bias| / mean_actual > threshold``."""
    out: list[PlanException] = []
    relative = "bias_share" in bias.columns
    for rec in bias.to_dict("records"):
        actual = float(rec["mean_actual"])
        b = float(rec["bias_share"]) * actual if relative else float(rec["bias"])
        if not (math.isfinite(b) and math.isfinite(actual)) or actual <= 0:
            continue
        share = abs(b) / actual
        if share <= threshold:
            continue
        way = "over" if b > 0 else "under"
        out.append(
            PlanException(
                kind=ExceptionKind.FORECAST_BIAS,
                severity=_twice(share, threshold),
                item=str(rec["item_id"]),
                location=str(rec["location_id"]),
                value=share,
                message=(
                    f"{rec['item_id']} at {rec['location_id']}: the forecast {way}-forecasts "
                    f"by {pct(share)} of actual demand in the backtest ({'+' if b > 0 else '-'}"
                    f"{units(abs(b))} units per period on {units(actual)}), above the "
                    f"{pct(threshold)} limit — check for a trend change, a promotion or a data "
                    "gap before trusting its stock levels"
                ),
            )
        )
    return out


def change_exceptions(
    placements: list[Placement], previous: list[Placement], threshold: float
) -> list[PlanException]:
    """LARGE_CHANGE exceptions where a base-stock level moved by more than ``threshold``."""
    old = {(p.item, p.location): p.base_stock for p in previous}
    out: list[PlanException] = []
    for p in placements:
        before = old.get((p.item, p.location))
        if before is None:
            continue
        if before <= 0:
            if p.base_stock <= 0:
                continue
            share: float | None = None
        else:
            share = abs(p.base_stock - before) / before
            if share <= threshold:
                continue
        direction = "up" if p.base_stock > before else "down"
        out.append(
            PlanException(
                kind=ExceptionKind.LARGE_CHANGE,
                severity=Severity.HIGH if share is None else _twice(share, threshold),
                item=p.item,
                location=p.location,
                value=share,
                message=(
                    f"{p.item} at {p.location}: the order-up-to level went {direction} from "
                    f"{units(before)} to {units(p.base_stock)} units"
                    + (f" ({pct(share)})" if share is not None else "")
                    + " since the last plan — check the demand, lead time and target behind it"
                ),
            )
        )
    return out


def find_exceptions(
    placements: list[Placement],
    ctx: PlanContext,
    *,
    forecast_bias: pd.DataFrame | None = None,
    previous: list[Placement] | None = None,
    stockout_threshold: float = 0.5,
    extra: list[PlanException] | None = None,
) -> list[PlanException]:
    """Every exception of today's plan, sorted (module doc); ``extra``: exceptions found by
    other stages (the rolling shadow mode's service shortfalls).

    ``placements``: this plan's; ``ctx``: the plan's items, stock, suppliers, config and
    data-quality findings; ``forecast_bias``: the forecast backtest per item × location
    (optional); ``previous``: the last plan's placements (optional); ``stockout_threshold``:
    the stockout probability above which a risk is raised.
    """
    config = ctx.config
    out: list[PlanException] = []
    for p in placements:
        rec = ctx.items.get(p.item)
        here = ctx.stock.position(p.item, p.location)
        price = rec.sale_value if rec is not None else 0.0
        w = order_window(p, ctx)
        risk = stockout_exception(p, here, price, stockout_threshold, config.currency, w)
        excess = excess_exception(p, here.on_hand, rec.unit_cost if rec else 0.0, config)
        above = order_above_need_exception(p, ctx, rec) if rec is not None else None
        out += [e for e in (risk, excess, above) if e is not None]
    if forecast_bias is not None and len(forecast_bias):
        out += bias_exceptions(forecast_bias, config.bias_threshold)
    if previous:
        out += change_exceptions(placements, previous, config.change_threshold)
    out += list(ctx.findings) + list(extra or [])
    return sorted(out, key=exception_order)
