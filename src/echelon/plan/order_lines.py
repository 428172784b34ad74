"""Today's order lines as array operations over every item × location at once.

The numbers of :mod:`echelon.plan.orders` (its module doc states the model): per placement
the inventory position ``IP`` (units), the need ``S − IP``, the order rules (MOQ, packs,
capacity; :func:`echelon.policies.order_rules.round_order`, the one home of the rules), the
replenishment window (:func:`order_windows`, periods), the demand over it (units) and the greedy
budget / capacity allocation (:func:`allocate`).

The greedy grants whole-pack steps best ratio first (expected shortage cost avoided per money,
or per unit when only capacity binds). A line's steps do not depend on the other lines until
one is cut to fit what is left, so every step's quantity and ratio is computed up front as one
array expression (:func:`step_sequences`) and only the sequential part, the priority queue
over the lines, runs in a numba kernel (:func:`_greedy`). The result is the same, bit for bit,
as granting the steps one by one in Python (tests/plan/test_orders_arrays.py). After a cut the
next step's ratio is computed in the kernel (with ``math.erfc``; within a few ulps of
:func:`echelon.policies.normal.expected_shortage`): such a step can only be granted when a
capacity or money residue is within 1e-9 units of a pack.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numba import njit
from numpy.typing import NDArray

from echelon.errors import DataError
from echelon.plan.context import PlanContext
from echelon.plan.model import Placement
from echelon.policies.normal import expected_shortage, window_demands
from echelon.policies.order_rules import round_order

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
MAX_STEPS = 50  # the greedy grants an order in at most this many steps (of whole packs)
EPS = 1e-9  # units: tolerance of the greedy's comparisons
Adjustments = dict[tuple[str, str], float]  # (item, location) → units added to the position


@njit(cache=True)
def _round_orders(q, moq, lot, cap):
    """:func:`round_order` element by element (units)."""
    out = np.empty(q.size)
    for k in range(q.size):
        out[k] = round_order(q[k], moq[k], lot[k], cap[k])
    return out


def round_orders(
    q: FloatArray, moq: FloatArray, pack: FloatArray, cap: FloatArray | None = None
) -> FloatArray:
    """The order rules on arrays of quantities (units; ``cap`` inf or None = no capacity)."""
    n = q.size
    limit = np.full(n, math.inf) if cap is None else np.asarray(cap, float)
    args = [np.ascontiguousarray(a, dtype=float) for a in (q, moq, pack, limit)]
    return np.asarray(_round_orders(*args), dtype=float)


@dataclass
class Stock:
    """Today's position per placement (units): on hand, on order, backorders."""

    on_hand: FloatArray
    on_order: FloatArray
    backorders: FloatArray

    @property
    def inventory_position(self) -> FloatArray:
        return self.on_hand + self.on_order - self.backorders

    @property
    def available(self) -> FloatArray:
        return self.on_hand - self.backorders


def positions(pairs: Sequence[tuple[str, str]], ctx: PlanContext) -> Stock:
    """The stock of each (item, location) (all zero where the snapshot has none)."""
    get = ctx.stock.position
    rows = [get(i, loc) for i, loc in pairs]
    return Stock(
        np.array([r.on_hand for r in rows], dtype=float),
        np.array([r.on_order for r in rows], dtype=float),
        np.array([r.backorders for r in rows], dtype=float),
    )


def order_windows(placements: Sequence[Placement], ctx: PlanContext) -> FloatArray:
    """Periods until an order placed today arrives, per placement: the lead time when the
    location's supplier is internal and can ship the whole need ``(S − IP)^+`` from stock now;
    otherwise (external supplier, supplier short) the supplier's committed service time + the
    lead time (the guaranteed-service view of the placement)."""
    if not placements:
        return np.zeros(0)
    lead = np.array([p.lead_time for p in placements], dtype=float)
    committed = np.array([p.inbound_service_time for p in placements], dtype=float) + lead
    src = [ctx.suppliers.get(p.location) for p in placements]
    internal = np.array([s is not None for s in src])
    here = positions([(p.item, p.location) for p in placements], ctx).inventory_position
    base = np.array([p.base_stock for p in placements], dtype=float)
    need = np.maximum(0.0, base - here)
    available = positions([(p.item, s or "") for p, s in zip(placements, src, strict=True)], ctx)
    avail = available.available
    ships = internal & (avail > 0) & (avail >= need - EPS)
    return np.where(ships, lead, committed)


@dataclass
class OrderLines:
    """Every placement's order line (arrays of length n, units unless stated)."""

    placements: list[Placement]
    stock: Stock  # the position with the adjustments (transfers) added to on order
    raw: FloatArray  # S − IP
    rule_qty: FloatArray  # after MOQ / pack / capacity
    capacity: FloatArray  # units per period at the location (inf: none)
    unit_cost: FloatArray  # money per unit
    moq: FloatArray
    pack: FloatArray  # the smallest step (1 without a pack size)
    step: FloatArray  # units per greedy step (whole packs)
    first: FloatArray  # units of the first step (≥ MOQ, whole packs)
    window: FloatArray  # periods until the order arrives (order_windows)
    mean: FloatArray  # demand over max(1, window) periods
    std: FloatArray
    shortage_cost: FloatArray  # money per unit short
    granted: FloatArray  # after the allocation


def build_lines(
    placements: Sequence[Placement],
    ctx: PlanContext,
    adjust: Adjustments,
    shortage_cost: dict[str, float] | None,
) -> OrderLines:
    """The order lines of the placements before the allocation (``granted`` = 0)."""
    places = list(placements)
    missing = sorted({p.item for p in places} - set(ctx.items))
    if missing:
        raise DataError(
            "placement for an item missing from the item master",
            source="items.csv",
            found=missing[0],
            fix="add the item to items.csv",
        )
    recs = [ctx.items[p.item] for p in places]
    st = positions([(p.item, p.location) for p in places], ctx)
    st.on_order = st.on_order + np.array(
        [adjust.get((p.item, p.location), 0.0) for p in places], dtype=float
    )
    caps = ctx.capacities()
    capacity = np.array([caps.get(p.location, math.inf) for p in places], dtype=float)
    moq = np.array([r.moq for r in recs], dtype=float)
    pack = np.array([r.pack_size for r in recs], dtype=float)
    raw = np.array([p.base_stock for p in places], dtype=float) - st.inventory_position
    rule_qty = round_orders(raw, moq, pack, capacity)
    first = np.where(rule_qty > 0, round_orders(np.full(raw.size, 1e-6), moq, pack), 0.0)
    step = np.maximum(1.0, np.ceil(rule_qty / pack / MAX_STEPS)) * pack
    window = order_windows(places, ctx)
    tau = np.maximum(1.0, window)
    costs = shortage_cost or {}
    p_unit = [costs.get(p.item, r.shortage_cost) for p, r in zip(places, recs, strict=True)]
    mean, std = window_demands([p.mean_demand for p in places], [p.std_demand for p in places], tau)
    return OrderLines(
        placements=places, stock=st, raw=raw, rule_qty=rule_qty, capacity=capacity,
        unit_cost=np.array([r.unit_cost for r in recs], dtype=float), moq=moq, pack=pack,
        step=step, first=np.minimum(first, rule_qty), window=window,
        mean=mean, std=std, shortage_cost=np.array(p_unit, dtype=float),
        granted=np.zeros(raw.size),
    )  # fmt: skip


@dataclass
class Steps:
    """Every line's greedy steps, flat and grouped by line in order (CSR)."""

    start: IntArray  # (n,) index of the line's first step
    count: IntArray  # (n,) steps of the line
    quantity: FloatArray  # units of each step
    position: FloatArray  # the line's inventory position before the step, units
    total: FloatArray  # (n,) units granted when every step is


def step_sequences(lines: OrderLines) -> Steps:
    """The steps of every line when none is cut: the first step, then ``step`` units until
    ``rule_qty`` is reached (a line with no need has none)."""
    n = lines.raw.size
    ip = lines.stock.inventory_position
    granted = np.zeros(n)
    idx = np.flatnonzero(lines.rule_qty > 0)
    q = lines.first[idx]
    who, qty, pos = [], [], []
    while idx.size:
        who.append(idx)
        qty.append(q)
        pos.append(ip[idx] + granted[idx])
        granted[idx] = granted[idx] + q
        nxt = np.minimum(lines.step[idx], lines.rule_qty[idx] - granted[idx])
        keep = nxt > EPS
        idx, q = idx[keep], nxt[keep]
    line = np.concatenate(who) if who else np.zeros(0, np.int64)
    order = np.argsort(line, kind="stable")  # rounds are in step order within a line
    count = np.bincount(line, minlength=n).astype(np.int64)
    start = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
    flat = (np.concatenate(qty)[order], np.concatenate(pos)[order]) if who else (q, q)
    return Steps(start, count, flat[0], flat[1], granted)


def allocate(lines: OrderLines, budget: float | None) -> FloatArray:
    """Units granted per line under the budget (money) and the locations' capacities
    (module doc of :mod:`echelon.plan.orders`); sets ``lines.granted``."""
    steps = step_sequences(lines)
    wants = lines.rule_qty > 0
    if budget is None and not np.any(np.isfinite(lines.capacity[wants])):
        lines.granted = steps.total
        return lines.granted
    per_money = budget is not None
    of_line = np.repeat(np.arange(lines.raw.size), steps.count)
    x, q = steps.position, steps.quantity
    m, s, p = lines.mean[of_line], lines.std[of_line], lines.shortage_cost[of_line]
    es = expected_shortage(np.stack([x, x + q]), m, s)
    benefit = p * (es[0] - es[1])
    uc = lines.unit_cost[of_line]
    denom = np.where(per_money & (uc > 0), q * uc, q)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(denom > 0, benefit / np.where(denom > 0, denom, 1.0), math.inf)
    names = [pl.location for pl in lines.placements]
    cap_of = {nm: float(c) for nm, c in zip(names, lines.capacity, strict=True) if c < math.inf}
    capped = sorted(cap_of)
    where = {nm: k for k, nm in enumerate(capped)}
    loc = np.array([where.get(nm, -1) for nm in names], dtype=np.int64)
    cap_left = np.array([cap_of[nm] for nm in capped], dtype=float)
    lines.granted = _greedy(
        loc, cap_left, lines.unit_cost, lines.pack, lines.first, lines.step, lines.rule_qty,
        lines.stock.inventory_position, lines.mean, lines.std, lines.shortage_cost, per_money,
        math.inf if budget is None else float(budget), steps.start, steps.count, q, ratio,
    )  # fmt: skip
    return lines.granted


@njit(cache=True)
def _shortage(x, mean, std):
    """E[(D − x)^+] for D ~ Normal(mean, std), units (the kernel's copy, with math.erfc)."""
    if std <= 1e-9:
        return max(mean - x, 0.0)
    u = (x - mean) / std
    return std * (math.exp(-u * u / 2.0) / math.sqrt(2.0 * math.pi)
                  - u * 0.5 * math.erfc(u / math.sqrt(2.0)))  # fmt: skip


@njit(cache=True)
def _before(key, idx, a, b):
    """Heap order: larger ratio first (key = −ratio), then the lower line index."""
    return key[a] < key[b] or (key[a] == key[b] and idx[a] < idx[b])


@njit(cache=True)
def _push(key, idx, size, k, i):
    key[size], idx[size] = k, i
    c = size
    while c > 0:
        par = (c - 1) // 2
        if not _before(key, idx, c, par):
            break
        key[c], key[par] = key[par], key[c]
        idx[c], idx[par] = idx[par], idx[c]
        c = par
    return size + 1


@njit(cache=True)
def _pop(key, idx, size):
    i = idx[0]
    size -= 1
    key[0], idx[0] = key[size], idx[size]
    c = 0
    while True:
        lo, r, best = 2 * c + 1, 2 * c + 2, c
        if lo < size and _before(key, idx, lo, best):
            best = lo
        if r < size and _before(key, idx, r, best):
            best = r
        if best == c:
            break
        key[c], key[best] = key[best], key[c]
        idx[c], idx[best] = idx[best], idx[c]
        c = best
    return i, size


@njit(cache=True)
def _greedy(loc, cap_left, unit_cost, pack, first, step, rule_qty, ip, mean, std, p,
            per_money, money_left, start, count, seq_q, seq_r):  # fmt: skip
    """The greedy allocation (module doc): units granted per line. ``loc``: the line's
    capacity index into ``cap_left`` (−1: none); ``seq_q``/``seq_r``: the lines' uncut steps
    and their ratios (:func:`step_sequences`)."""
    n = first.size
    granted = np.zeros(n)
    key = np.empty(n)
    idx = np.empty(n, np.int64)
    k_at = np.zeros(n, np.int64)
    cut = np.zeros(n, np.bool_)
    cur_q = np.zeros(n)
    size = 0
    for i in range(n):
        if count[i] > 0:
            cur_q[i] = seq_q[start[i]]
            size = _push(key, idx, size, -seq_r[start[i]], i)
    while size > 0:
        i, size = _pop(key, idx, size)
        q = cur_q[i]
        li = loc[i]
        fit = cap_left[li] if li >= 0 else np.inf
        if unit_cost[i] > 0:
            fit = min(fit, money_left / unit_cost[i])
        if q > fit + 1e-9:
            q = np.floor(fit / pack[i] + 1e-9) * pack[i]
            if q <= 1e-9 or (granted[i] == 0 and q < first[i] - 1e-9):
                continue
            cut[i] = True
        granted[i] += q
        money_left -= q * unit_cost[i]
        if li >= 0:
            cap_left[li] -= q
        nxt = min(step[i], rule_qty[i] - granted[i])
        if nxt <= 1e-9:
            continue
        cur_q[i] = nxt
        if cut[i]:
            x = ip[i] + granted[i]
            gain = p[i] * (_shortage(x, mean[i], std[i]) - _shortage(x + nxt, mean[i], std[i]))
            denom = nxt * unit_cost[i] if per_money and unit_cost[i] > 0 else nxt
            r = gain / denom if denom > 0 else np.inf
        else:
            k_at[i] += 1
            r = seq_r[start[i] + k_at[i]]
        size = _push(key, idx, size, -r, i)
    return granted
