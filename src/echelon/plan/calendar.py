"""The plan's calendar: the plan date, the planning periods and the hold-out cut — one rule each.

- **Plan date** (:func:`plan_date`): plan.yaml's ``as_of``, else the day after the last demand
  date for daily data, or the day after the last period for per-period data (the last date
  plus the data's step, which the loader has checked is 1 day or ``period_days``).
- **Periods** (:meth:`PlanCalendar.bucket`): ``period_days`` days each, aligned so that the
  last full period ends the day before the plan date: period ``k`` (k = 1, 2, ...) covers
  ``[as_of − k·P, as_of − (k−1)·P)`` and is named by its first day. A series' demand is summed
  per period; **a series whose first period is incomplete loses that period** (its first date
  falls after the period's first day), so every period kept is a full one. Each series runs
  from its own first full period (a late-starting series is not padded with zeros before it
  started); missing days inside a series were filled with 0 by the loader.
- **Hold-out** (:meth:`PlanCalendar.holdout_start`): the last ``h`` periods start on
  ``as_of − h·P``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

KEYS = ["item_id", "location_id"]


def plan_date(configured: date | None, last_date: date, step_days: int) -> date:
    """The plan date: ``configured`` (plan.yaml ``as_of``) or ``last_date + step_days``."""
    if configured is not None:
        return configured
    return last_date + timedelta(days=step_days)


@dataclass(frozen=True)
class PlanCalendar:
    """Plan date and period grid of a plan (see the module doc); days are calendar days."""

    as_of: date  # the plan date: the first day after the history
    period_days: int  # days per planning period
    step_days: int  # spacing of the demand rows: 1 (daily) or period_days (per period)

    def period_start(self, k: int) -> date:
        """First day of period ``k`` before the plan date (k = 1: the last full period)."""
        return self.as_of - timedelta(days=k * self.period_days)

    def holdout_start(self, periods: int) -> date:
        """First day of the last ``periods`` periods (the shadow-mode hold-out)."""
        return self.period_start(periods)

    def bucket(self, demand: pd.DataFrame, *, periods: int | None = None) -> pd.DataFrame:
        """Demand per item × location × period: columns item_id, location_id, ds (period's
        first day, datetime64[ns]), y (units, float), sorted by item, location and ds.

        ``demand``: item_id, location_id, ds (datetime64 days before the plan date), y.
        Incomplete first periods are dropped (module doc); ``periods`` keeps only the most
        recent ones.
        """
        p = self.period_days
        as_of = pd.Timestamp(self.as_of)
        back = (as_of - demand["ds"]).dt.days.to_numpy()  # >= 1: the day before as_of is 1
        start = (as_of - pd.to_timedelta(((back - 1) // p + 1) * p, unit="D")).to_numpy()
        first = demand.groupby(KEYS, sort=False)["ds"].transform("min").to_numpy()
        keep = (first <= start) & (back >= 1)
        if periods is not None:
            keep &= start >= (as_of - pd.Timedelta(days=periods * p)).to_datetime64()
        framed = pd.DataFrame(
            {
                "item_id": demand["item_id"].to_numpy()[keep],
                "location_id": demand["location_id"].to_numpy()[keep],
                "ds": start[keep],
                "y": demand["y"].to_numpy(float)[keep],
            }
        )
        out = framed.groupby([*KEYS, "ds"], sort=True)["y"].sum().reset_index()
        out["ds"] = out["ds"].astype("datetime64[ns]")
        out["item_id"] = out["item_id"].astype(str)
        out["location_id"] = out["location_id"].astype(str)
        out["y"] = out["y"].astype(float)
        return out
