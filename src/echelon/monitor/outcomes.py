"""Decision outcomes: did the planners' overrides help?

Every order of a dataset's runs that was decided — *accepted* (approved or exported with the
plan's quantity) or *overridden* (a planner changed the quantity; approved or exported) — is
set against what happened next. The position after the decision, ``P`` = the line's inventory
position before it + the units ordered (the override's when there is one), meets the actual
demand ``D`` over the line's *cover*: the ``ceil(L) + 1`` periods from the plan date (``L``:
the placement's lead time in periods) — the demand an order-up-to level is meant to cover.
The actuals are the scored periods of later weeks (``forecast_scores``, one value per item ×
store × period whichever run scored it); a line whose cover is not scored yet is left out.

Per group (accepted / overridden):

- **realized service** = Σ min(P, D) / Σ D: the share of the cover's demand the position
  covered (demand-weighted, a fill-rate proxy that ignores the timing inside the cover);
- **inventory left** = Σ max(P − D, 0) × unit cost (money, the run's currency) at the end of
  the cover, and its mean per line.
"""

from __future__ import annotations

import math

import pandas as pd

COLUMNS = ["group", "lines", "demand", "service", "inventory_left", "inventory_per_line"]
DECIDED = ("approved", "exported")


def outcome_lines(db: str | None, dataset: str) -> pd.DataFrame:
    """One row per decided order of the dataset's runs with its cover (module doc): run,
    item, location, group, position P (units), unit cost, cover periods, period start dates."""
    from echelon.storage.datastore import store_runs
    from echelon.storage.overrides import reviewed

    rows = []
    for ref in store_runs(db, dataset):
        result, recs = reviewed(db, ref.id)
        lead = {(p.item, p.location): p.lead_time for p in result.placements}
        for r in recs:
            rec = r.rec
            key = (rec.item, rec.location)
            if (rec.kind.value != "order" or rec.status.value not in DECIDED
                    or rec.inventory_position is None or key not in lead):  # fmt: skip
                continue
            cover = math.ceil(lead[key] - 1e-9) + 1
            starts = pd.date_range(pd.Timestamp(result.as_of), periods=cover,
                                   freq=f"{result.period_days}D")  # fmt: skip
            rows.append({
                "run_id": ref.id, "item_id": rec.item, "location_id": rec.location,
                "group": "overridden" if r.override is not None else "accepted",
                "position": rec.inventory_position + r.quantity, "unit_cost": rec.unit_cost,
                "cover": cover, "period_start": list(starts),
            })  # fmt: skip
    return pd.DataFrame(rows, columns=["run_id", "item_id", "location_id", "group", "position",
                                       "unit_cost", "cover", "period_start"])  # fmt: skip


def realized_outcomes(lines: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """Realized service and inventory left per group, plus an 'all' row (module doc)."""
    if lines.empty or scores.empty:
        return pd.DataFrame(columns=COLUMNS)
    keys = ["item_id", "location_id", "period_start"]
    actual = scores.drop_duplicates(keys)[[*keys, "actual"]]
    cells = lines.reset_index(names="line").explode("period_start")
    cells["period_start"] = pd.to_datetime(cells["period_start"])
    cells = cells.merge(actual, on=keys, how="left")
    per = cells.groupby("line").agg(demand=("actual", "sum"), scored=("actual", "count"))
    done = lines.join(per)
    done = done[done["scored"] == done["cover"]]
    if done.empty:
        return pd.DataFrame(columns=COLUMNS)
    done = done.assign(
        covered=done[["position", "demand"]].clip(lower=0).min(axis=1),
        left=(done["position"] - done["demand"]).clip(lower=0) * done["unit_cost"],
    )
    both = pd.concat([done, done.assign(group="all")], ignore_index=True)
    out = both.groupby("group", sort=True).agg(
        lines=("position", "size"), demand=("demand", "sum"), covered=("covered", "sum"),
        inventory_left=("left", "sum"),
    ).reset_index()  # fmt: skip
    out["service"] = out["covered"] / out["demand"].where(out["demand"] > 0)
    out["inventory_per_line"] = out["inventory_left"] / out["lines"]
    return out[COLUMNS]


def decision_outcomes(db: str | None, dataset: str) -> pd.DataFrame:
    """:func:`realized_outcomes` of the dataset's decided orders against its scores."""
    from echelon.storage.datastore import read_scores

    return realized_outcomes(outcome_lines(db, dataset), read_scores(db, dataset))
