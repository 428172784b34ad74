"""The ABC/XYZ segment of every item × store: what its service target comes from.

Annual value = demand per period × periods per year × the item's unit cost (money; 1 where
the item has none), CV per period (:func:`echelon.optimize.segments.classify_history`, under
the context's segment rules). :func:`echelon.plan.placement.store_targets` maps the segments
to targets; the forecast's error models measure their spread factor per segment
(:data:`echelon.plan.ltd_error.SPREAD_BY_SEGMENT`).
"""

from __future__ import annotations

import pandas as pd

from echelon.optimize.segments import Segment, SegmentTargets, classify_history
from echelon.plan import ltd_error
from echelon.plan.context import PlanContext


def store_segments(ctx: PlanContext, history: pd.DataFrame, sep: str) -> dict[str, Segment]:
    """Per series id (item ``sep`` store): its segment in the period ``history`` (item_id,
    location_id, ds, y in units)."""
    h = history.assign(unique_id=history["item_id"] + sep + history["location_id"])
    values = {
        u: ctx.items[u.split(sep)[0]].unit_cost if u.split(sep)[0] in ctx.items else 1.0
        for u in h["unique_id"].unique()
    }
    rules = ctx.targets or SegmentTargets(targets={})
    return classify_history(h[["unique_id", "ds", "y"]], values, rules)


def spread_segments(ctx: PlanContext, history: pd.DataFrame, sep: str) -> dict[str, str] | None:
    """Per series id: the ABC letter of its segment (:func:`store_segments`), by which the
    error models measure their spread factor; None while
    :data:`echelon.plan.ltd_error.SPREAD_BY_SEGMENT` is off (one factor per demand class)."""
    if not ltd_error.SPREAD_BY_SEGMENT:
        return None
    return {u: s.abc for u, s in store_segments(ctx, history, sep).items()}
