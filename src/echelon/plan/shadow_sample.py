"""The items the rolling shadow mode replays on a large catalogue (``config.shadow_sample_items``).

Items are put in ABC classes by their demand value over the history (Σ units × unit cost, money;
A: the items making the first 80 % of the value, B: the next 15 %, C: the rest), every class
keeps a share of the sample proportional to its item count (at least one item), and the items
of a class are drawn at random with ``config.seed``. A catalogue of at most
``config.shadow_sample_items`` items (or with it None) keeps every item.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict

import numpy as np

from echelon.plan.context import PlanContext

ABC_SHARES = (0.80, 0.95)  # cumulative value shares closing classes A and B (module doc)


def item_classes(ctx: PlanContext) -> dict[str, str]:
    """Item → ABC class by its demand value over the history (module doc; no demand: C)."""
    units = ctx.history.groupby("item_id")["y"].sum()
    value = {i: float(units.get(i, 0.0)) * rec.unit_cost for i, rec in ctx.items.items()}
    ranked = sorted(value, key=lambda i: (-value[i], i))
    total = sum(value.values())
    out, running = {}, 0.0
    for i in ranked:
        share = running / total if total > 0 else 1.0
        out[i] = "A" if share < ABC_SHARES[0] else "B" if share < ABC_SHARES[1] else "C"
        running += value[i]
    return out


def shadow_sample(ctx: PlanContext) -> list[str]:
    """The items the rolling shadow mode replays, sorted (module doc): every item when the
    catalogue has at most ``config.shadow_sample_items`` (or that is None)."""
    size = ctx.config.shadow_sample_items
    if size is None or len(ctx.items) <= size:
        return ctx.item_ids
    classes = item_classes(ctx)
    by: dict[str, list[str]] = defaultdict(list)
    for item in ctx.item_ids:
        by[classes[item]].append(item)
    rng = np.random.default_rng(ctx.config.seed)
    picked: list[str] = []
    for cls in sorted(by):
        members = by[cls]
        take = min(len(members), max(1, round(size * len(members) / len(ctx.items))))
        picked += [members[k] for k in rng.choice(len(members), take, replace=False)]
    return sorted(picked)


def sample_context(ctx: PlanContext, items: list[str]) -> PlanContext:
    """``ctx`` restricted to ``items`` (items, demand rows and history; filtered once)."""
    if len(items) == len(ctx.items):
        return ctx
    keep = set(items)
    return dataclasses.replace(
        ctx,
        items={i: r for i, r in ctx.items.items() if i in keep},
        demand=ctx.demand[ctx.demand["item_id"].isin(keep)],
        history=ctx.history[ctx.history["item_id"].isin(keep)],
    )
