"""What ``echelon monitor`` shows of a dataset: loads, plans, accuracy, drift, reporting lag."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from echelon.monitor.drift import Alarm, alarms
from echelon.monitor.quality import reporting_lag
from echelon.monitor.scoring import segment_metrics


@dataclass(frozen=True)
class MonitoringSummary:
    loads: int
    runs: int
    scored: int  # series-periods scored
    last_day: date | None  # the latest real demand day
    lag: dict[str, int]  # store → days not yet reported
    metrics: pd.DataFrame  # segment_metrics of every score
    alarms: list[Alarm]


def monitoring_summary(db: str | None, dataset: str) -> MonitoringSummary:
    """The dataset's monitoring state (module doc)."""
    from echelon.storage.datastore import loads, read_dataset, read_scores, store_runs

    stored = read_dataset(db, dataset)
    demand = stored.tables["demand"]
    real = demand[~demand["imputed"].astype(bool)] if len(demand) else demand
    stores = sorted(set(real["location_id"])) if len(real) else []
    scores = read_scores(db, dataset)
    return MonitoringSummary(
        loads=len(loads(db, dataset)),
        runs=len(store_runs(db, dataset)),
        scored=len(scores),
        last_day=pd.Timestamp(real["ds"].max()).date() if len(real) else None,
        lag=reporting_lag(real, stores),
        metrics=segment_metrics(scores),
        alarms=alarms(scores),
    )


def decisions(db: str | None, dataset: str) -> pd.DataFrame:
    """Decision monitoring of the dataset's plans (:mod:`echelon.monitor.decisions`)."""
    from echelon.monitor.decisions import decision_lines, decision_summary

    return decision_summary(decision_lines(db, dataset))


def nowcaster_card(db: str | None, dataset: str) -> list[str]:
    """The nowcaster's model card (:func:`echelon.monitor.retrain.model_card`)."""
    from echelon.monitor.retrain import model_card
    from echelon.storage.datastore import registry_entries

    return model_card(registry_entries(db, dataset, "nowcaster"))
