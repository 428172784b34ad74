"""Data-quality findings of a load, judged against what the store holds (``echelon ingest``).

Each finding is a ``DATA_QUALITY`` :class:`~echelon.plan.model.PlanException` (stored with the
load, shown by ``echelon ingest`` and ``echelon monitor``):

- **missing store-days**: inside the load's date range, a store × day without any demand row
  (every item missing), and item × store × days missing at stores that did report that day;
- **late stores** (reporting lag): a store whose last reported day (store and load together) is
  behind the latest day any store reported — the days in between are not yet reported
  (:func:`reporting_lag`; the nowcaster fills them);
- **outliers**: a day's demand more than :data:`OUTLIER_Z` robust standard deviations
  (1.4826 × median absolute deviation, at least 1 unit) from the median of the same series over
  its last :data:`OUTLIER_WINDOW_DAYS` stored days;
- **on-hand reconciliation** (stores): between two inventory snapshots d0 < d1 of an item at a
  store, on hand(d1) should equal on hand(d0) + receipts in [d0, d1) − sales in [d0, d1);
  a gap above :data:`RECONCILE_UNITS` units and :data:`RECONCILE_SHARE` of the movement is a
  finding (shrinkage, an unrecorded receipt or sale, a miscount).

Duplicate keys are found while reading (:mod:`echelon.monitor.loadfiles`).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from echelon.plan import tables as t
from echelon.plan.model import PlanException, Severity

OUTLIER_Z = 6.0
OUTLIER_WINDOW_DAYS = 56
RECONCILE_UNITS = 1.0
RECONCILE_SHARE = 0.02
LISTED = 20  # findings of one kind listed one by one, then a summary
SERIES = ["item_id", "location_id"]


def reporting_lag(demand: pd.DataFrame, stores: list[str]) -> dict[str, int]:
    """Store → days its last reported demand day is behind the latest day of any store
    (0: up to date; a store that never reported is not listed). ``demand``: real rows."""
    if demand.empty:
        return {}
    last = demand.groupby("location_id")["ds"].max()
    latest = last.max()
    return {s: int((latest - last[s]).days) for s in stores if s in last.index}


def load_findings(
    load: dict[str, pd.DataFrame],
    stored: dict[str, pd.DataFrame],
    stores: list[str],
    items: list[str],
    source: str,
) -> list[PlanException]:
    """Every finding of the load (module doc); ``stored``: the store's real rows."""
    demand = load.get("demand")
    out: list[PlanException] = []
    history = stored.get("demand", pd.DataFrame(columns=[*SERIES, "ds", "y"]))
    if demand is not None and not demand.empty:
        out += _missing(demand, stores, items, source)
        out += _outliers(demand, history, source)
        both = _concat([history[[*SERIES, "ds", "y"]], demand])
    else:
        both = history
    lag = reporting_lag(both, stores)
    late = {s: d for s, d in lag.items() if d > 0}
    latest = both["ds"].max() if len(both) else None
    for store, days in sorted(late.items()):
        out.append(
            t.finding(
                f"{source}: store '{store}' has not reported its last {days} day(s) (latest "
                f"day reported by any store: {_day(latest)})",
                Severity.MEDIUM,
                location=store,
                value=float(days),
            )
        )
    if "inventory" in load:
        out += reconcile(load, stored, stores, both, source)
    return out


def _missing(
    demand: pd.DataFrame, stores: list[str], items: list[str], source: str
) -> list[PlanException]:
    days = pd.date_range(demand["ds"].min(), demand["ds"].max(), freq="D")
    reported = demand.groupby(["location_id", "ds"]).size()
    out: list[PlanException] = []
    quiet = [(s, d) for s in stores for d in days if (s, d) not in reported.index]
    for s, d in quiet[:LISTED]:
        out.append(
            t.finding(f"{source}: store '{s}' reported no demand for {d.date()}",
                      Severity.MEDIUM, location=s)
        )  # fmt: skip
    gaps = int((reported < len(items)).sum())
    if len(quiet) > LISTED:
        out.append(t.finding(f"{source}: {len(quiet) - LISTED} more store-days without demand",
                             Severity.MEDIUM, value=float(len(quiet) - LISTED)))  # fmt: skip
    if gaps:
        out.append(
            t.finding(
                f"{source}: {gaps} store-day(s) reported only some items (the others: no row)",
                Severity.LOW,
                value=float(gaps),
            )
        )
    return out


def _outliers(demand: pd.DataFrame, history: pd.DataFrame, source: str) -> list[PlanException]:
    if history.empty:
        return []
    first = demand["ds"].min()
    window = history[
        (history["ds"] < first) & (history["ds"] >= first - pd.Timedelta(days=OUTLIER_WINDOW_DAYS))
    ]
    if window.empty:
        return []
    grouped = window.groupby(SERIES)["y"]
    med = grouped.median().rename("med")
    mad = grouped.apply(lambda y: float(np.median(np.abs(y - np.median(y))))).rename("mad")
    judged = demand.join(med, on=SERIES).join(mad, on=SERIES).dropna(subset=["med"])
    scale = np.maximum(1.4826 * judged["mad"].to_numpy(dtype=float), 1.0)
    z = (judged["y"].to_numpy(dtype=float) - judged["med"].to_numpy(dtype=float)) / scale
    outlier = np.abs(z) > OUTLIER_Z
    flagged = judged.loc[outlier].assign(z=z[outlier])
    out = []
    for row in flagged.head(LISTED).itertuples():
        out.append(
            t.finding(
                f"{source}: demand {row.y:g} of '{row.item_id}' at '{row.location_id}' on "
                f"{row.ds.date()} is {row.z:+.1f} robust standard deviations from its "
                f"{OUTLIER_WINDOW_DAYS}-day median {row.med:g}",
                Severity.MEDIUM,
                item=row.item_id,
                location=row.location_id,
                value=float(row.y),
            )
        )
    if len(flagged) > LISTED:
        out.append(t.finding(f"{source}: {len(flagged) - LISTED} more outlier days",
                             Severity.MEDIUM, value=float(len(flagged) - LISTED)))  # fmt: skip
    return out


def reconcile(
    load: dict[str, pd.DataFrame],
    stored: dict[str, pd.DataFrame],
    stores: list[str],
    demand: pd.DataFrame,
    source: str,
) -> list[PlanException]:
    """On-hand reconciliation at the stores (module doc): each new snapshot against the one
    before it, with the receipts and sales in between."""
    cols = [*SERIES, "date", "on_hand"]
    snaps = _concat(
        [stored.get("inventory", pd.DataFrame(columns=cols))[cols], load["inventory"][cols]]
    ).drop_duplicates([*SERIES, "date"], keep="last")
    snaps = snaps[snaps["location_id"].isin(stores)].sort_values([*SERIES, "date"])
    snaps["prev_date"] = snaps.groupby(SERIES)["date"].shift()
    snaps["prev_on_hand"] = snaps.groupby(SERIES)["on_hand"].shift()
    new_keys = set(zip(*(load["inventory"][c] for c in [*SERIES, "date"]), strict=True))
    pairs = snaps.dropna(subset=["prev_date"])
    pairs = pairs[[k in new_keys for k in zip(*(pairs[c] for c in [*SERIES, "date"]), strict=True)]]
    if pairs.empty:
        return []
    receipts = _concat(
        [stored.get("receipts", pd.DataFrame()), load.get("receipts", pd.DataFrame())]
    )
    moved_in = _between(receipts, pairs, "date", "quantity")
    sold = _between(demand, pairs, "ds", "y")
    expected = pairs["prev_on_hand"].to_numpy() + moved_in - sold
    gap = pairs["on_hand"].to_numpy() - expected
    bad = (np.abs(gap) > RECONCILE_UNITS) & (
        np.abs(gap) > RECONCILE_SHARE * np.maximum(moved_in + sold, 1.0)
    )
    out = []
    for row, g, e in list(zip(pairs[bad].itertuples(), gap[bad], expected[bad], strict=True))[
        :LISTED
    ]:
        out.append(
            t.finding(
                f"{source}: on hand of '{row.item_id}' at '{row.location_id}' on "
                f"{_day(row.date)} is {row.on_hand:g}, but {_day(row.prev_date)}'s "
                f"{row.prev_on_hand:g} + receipts − sales gives {e:g} (gap {g:+g} units)",
                Severity.MEDIUM,
                item=row.item_id,
                location=row.location_id,
                value=float(g),
            )
        )
    if int(bad.sum()) > LISTED:
        out.append(t.finding(f"{source}: {int(bad.sum()) - LISTED} more on-hand gaps",
                             Severity.MEDIUM, value=float(bad.sum() - LISTED)))  # fmt: skip
    return out


def _between(rows: pd.DataFrame, pairs: pd.DataFrame, day: str, value: str) -> np.ndarray:
    """Per pair, the sum of ``value`` of its series' rows with prev_date ≤ day < date."""
    if rows.empty:
        return np.zeros(len(pairs))
    sums = np.zeros(len(pairs))
    by_series = {k: g for k, g in rows.groupby(SERIES)}  # grouped once
    for n, (item, loc, d0, d1) in enumerate(
        zip(pairs["item_id"], pairs["location_id"], pairs["prev_date"], pairs["date"], strict=True)
    ):
        g = by_series.get((item, loc))
        if g is not None:
            inside = (g[day] >= d0) & (g[day] < d1)
            sums[n] = float(g.loc[inside, value].sum())
    return sums


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The frames stacked, empty ones left out (an empty result when all are empty)."""
    kept = [f for f in frames if not f.empty]
    if not kept:
        return frames[0].iloc[0:0]
    return pd.concat(kept, ignore_index=True)


def _day(value: object) -> date:
    return pd.Timestamp(value).date()  # type: ignore[arg-type]
