"""The forecast retraining policy: challengers scored every week against each segment's
champion on the ingested actuals, and promoted by margin, by weeks or on drift.

After each ingest that completes a period (:func:`evaluate_challengers`, called by
``echelon ingest`` once the period is scored), per ABC/XYZ segment with a registered champion
(the ``forecast:<segment>`` registry rows, :mod:`echelon.storage.promotions`):

- **scores**: every candidate of the plan (``plan_candidates()`` of
  :mod:`echelon.plan.forecast_fit`, the champion included) is refitted on the periods before
  the newly completed period and forecasts it, one period ahead (the forecast package's
  walk-forward :func:`echelon.forecast.service.backtest`, one window, horizon 1, the plan's
  quantile levels); its loss on a series is the scaled pinball loss (mean over the quantile
  levels, divided by the series' mean demand per period); a model's segment loss is the mean
  over the segment's series that the champion forecasts — a model that does not forecast
  all of them (another demand class's candidate) is no challenger there;
- **policy** (:func:`decide_segment`): a challenger replaces the champion when its loss is
  below ``(1 − margin)`` × the champion's in each of the last ``weeks`` evaluations (this one
  included; only the evaluations after the segment's latest rejected promotion count, so a
  rejected challenger is proposed again only after ``weeks`` new wins) and it is the best now
  — :func:`echelon.monitor.retrain.decide`, the nowcaster's rule, on :data:`LOSS` — or, **on
  drift** (a CUSUM alarm of :mod:`echelon.monitor.drift` on a series of the segment in the
  newly scored period), the best candidate now replaces it when it beats it at all. Defaults
  :data:`MARGIN` 5 % and :data:`WEEKS` 3;
- **registry**: every evaluation is a ``challengers:<segment>`` row (model: the champion
  after it; metrics: each candidate's loss; data window: the period scored; why). A promotion
  goes through the safety-stock gate of :mod:`echelon.monitor.champions`: the segment's
  safety stock value is estimated to move by the ratio of the losses (the pinball loss of a
  normal forecast, like the safety stock, is proportional to the error std), ``|L_new /
  L_old − 1|``; within the threshold the new champion is registered at once, above it the
  promotion waits for approval (``echelon monitor approve-promotion`` / ``reject-promotion``),
  its run being the dataset's latest plan. The next plan measures the real change.

The plan forecasts with the registered champions through :func:`pinned_champions` (item ×
store → model) — the hook :mod:`echelon.plan.forecasting` reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from echelon.monitor.retrain import Decision, decide

MARGIN = 0.05  # a challenger must be 5 % better (relative scaled pinball loss) ...
WEEKS = 3  # ... in this many consecutive weekly evaluations
KIND = "challengers:"  # registry kind prefix, followed by the segment
HISTORY_PERIODS = 104  # periods of history each candidate is refitted on
LOSS = "scaled pinball loss"  # the metric the candidates are compared on (Decision.metric)


@dataclass(frozen=True)
class Evaluation:
    """One segment's weekly evaluation: the period scored, each candidate's loss, the
    decision, and the safety-stock gate's status when it promoted (``promoted``,
    ``pending``; None when the champion stays)."""

    segment: str
    period_start: date
    losses: dict[str, float]
    decision: Decision
    drift_alarms: int
    status: str | None
    change: float | None


def candidate_losses(history: pd.DataFrame) -> pd.DataFrame:
    """Per series and candidate: the scaled pinball loss of the one-period-ahead forecast of
    the last period of ``history`` (item_id, location_id, ds, y per period), fitted on the
    periods before it; columns item_id, location_id, model, loss."""
    from echelon.forecast.data import validate_demand
    from echelon.forecast.service import Settings, backtest
    from echelon.plan.forecast_fit import PLAN_MIN_HISTORY, PLAN_TAUS, SEP, plan_candidates

    df = history.assign(unique_id=history["item_id"] + SEP + history["location_id"])
    data = validate_demand(df[["unique_id", "ds", "y"]], source="stored demand")
    st = Settings(
        horizon=1, taus=PLAN_TAUS, n_paths=50, candidates=plan_candidates(), n_windows=1,
        step=1, min_history=PLAN_MIN_HISTORY, unconstrain=False,
    )  # fmt: skip
    scores = backtest(data, st, baseline=False).scores
    ids = scores["unique_id"].astype(str).str.split(SEP, n=1, expand=True)
    return (
        pd.DataFrame(
            {
                "item_id": ids[0],
                "location_id": ids[1],
                "model": scores["model"].astype(str),
                "loss": scores["spinball"].astype(float),
            }
        )
        .replace([np.inf, -np.inf], np.nan)
        .dropna()
    )


def segment_losses(
    losses: pd.DataFrame, segments: pd.DataFrame, champions: Mapping[str, str]
) -> dict[str, dict[str, float]]:
    """Segment → model → mean loss over the segment's series the champion forecasts, for the
    models that forecast all of them (module doc); ``segments``: item_id, location_id,
    segment; segments whose champion has no loss are left out."""
    frame = losses.merge(segments, on=["item_id", "location_id"])
    out: dict[str, dict[str, float]] = {}
    for seg, g in frame.groupby("segment", sort=True):
        champ = champions.get(str(seg))
        keys = set(map(tuple, g.loc[g["model"] == champ, ["item_id", "location_id"]].values))
        if not keys:
            continue
        per: dict[str, float] = {}
        for model, m in g.groupby("model", sort=True):
            mine = m[[(i, loc) in keys for i, loc in zip(m["item_id"], m["location_id"],
                                                         strict=True)]]  # fmt: skip
            if len(mine) == len(keys):
                per[str(model)] = float(mine["loss"].mean())
        out[str(seg)] = per
    return out


def decide_segment(
    champion: str, history: Sequence[dict[str, float]], drift_alarms: int,
    margin: float = MARGIN, weeks: int = WEEKS,
) -> Decision:  # fmt: skip
    """The policy of the module doc; ``history``: the segment's losses per candidate of the
    earlier evaluations and this one (oldest first, this one last)."""
    base = decide(champion, history, margin, weeks, LOSS, "{:.3f}".format)
    if base.promoted or drift_alarms == 0:
        return base
    now = history[-1]
    best = min(now, key=lambda name: now[name])
    if best != champion and now[best] < now[champion]:
        return Decision(
            best,
            True,
            f"on drift: {drift_alarms} CUSUM alarm(s) in the segment; re-selected {best}, "
            f"the lowest {LOSS} now ({now[best]:.3f} vs {champion} {now[champion]:.3f})",
            LOSS,
        )
    return Decision(champion, False, f"{base.reason}; drift alarm(s): {drift_alarms}, the "
                    "champion still has the lowest loss", LOSS)  # fmt: skip


def evaluate_challengers(
    db: str | None, dataset: str, margin: float = MARGIN, weeks: int = WEEKS,
    threshold: float | None = None,
) -> list[Evaluation]:  # fmt: skip
    """Evaluate every segment with a registered champion on the latest scored period (module
    doc) and record it; nothing when that period was evaluated already."""
    from echelon.monitor.champions import THRESHOLD
    from echelon.monitor.drift import alarms
    from echelon.storage.datastore import read_dataset, read_scores, registry_entries, store_runs
    from echelon.storage.promotions import last_rejection, registered_champions

    registered = registered_champions(db, dataset)
    scores = read_scores(db, dataset)
    if not registered or scores.empty:
        return []
    period = pd.Timestamp(scores["period_start"].max())
    runs = store_runs(db, dataset)
    days = runs[-1].period_days
    done = [e for s in registered for e in registry_entries(db, dataset, KIND + s)]
    if any(pd.Timestamp(e["data_start"]) == period for e in done):
        return []
    demand = read_dataset(db, dataset).tables["demand"]
    history = _periods(demand[~demand["imputed"].astype(bool)], period, days)
    latest = scores[scores["period_start"] == period]
    segments = latest.dropna(subset=["segment"])[["item_id", "location_id", "segment"]]
    champs = {s: m for s, (m, _) in registered.items()}
    per_segment = segment_losses(candidate_losses(history), segments.drop_duplicates(), champs)
    fired = [a for a in alarms(scores) if pd.Timestamp(a.period_start) == period]
    seg_of = dict(zip(zip(segments["item_id"], segments["location_id"], strict=True),
                      segments["segment"], strict=True))  # fmt: skip
    out = []
    for seg, now in per_segment.items():
        since = last_rejection(db, dataset, seg)  # wins before a rejection do not count
        earlier = [dict(e["metrics"]) for e in registry_entries(db, dataset, KIND + seg)
                   if int(e["id"]) > since]  # fmt: skip
        n_drift = sum(seg_of.get((a.item_id, a.location_id)) == seg for a in fired)
        recent = earlier[len(earlier) - (weeks - 1) :] if weeks > 1 else []
        decision = decide_segment(champs[seg], [*recent, now], n_drift, margin, weeks)
        out.append(_record(db, dataset, runs[-1].id, seg, period, days, now, decision, n_drift,
                           champs[seg], registered[seg][1],
                           THRESHOLD if threshold is None else threshold))  # fmt: skip
    return out


def _periods(demand: pd.DataFrame, period: pd.Timestamp, days: int) -> pd.DataFrame:
    """Demand per period up to and including the period starting ``period`` (the plan's
    calendar), the last :data:`HISTORY_PERIODS`."""
    from echelon.plan.calendar import PlanCalendar

    as_of = (period + pd.Timedelta(days=days)).date()
    cal = PlanCalendar(as_of, days, 1)
    return cal.bucket(demand[demand["ds"] < pd.Timestamp(as_of)], periods=HISTORY_PERIODS)


def _record(
    db: str | None, dataset: str, run_id: int, seg: str, period: pd.Timestamp, days: int,
    losses: dict[str, float], decision: Decision, n_drift: int, old: str, ssv: float,
    threshold: float,
) -> Evaluation:  # fmt: skip
    """Store one evaluation (and a promotion through the safety-stock gate)."""
    from echelon.monitor.champions import SegmentChampion, Verdict
    from echelon.storage.datastore import add_registry_entry
    from echelon.storage.promotions import record_verdicts

    first = period.date()
    window = (first, first + timedelta(days=days - 1))
    status = change = None
    if decision.promoted:
        ratio = losses[decision.model] / losses[old] if losses[old] > 0 else 1.0
        change = abs(ratio - 1.0)
        status = "promoted" if change <= threshold else "pending"
        champ = SegmentChampion(seg, decision.model, 0, 1.0, None, ssv * ratio)
        side = "within" if status == "promoted" else "above"
        wait = ": waits for approval" if status == "pending" else ""
        gate = (
            f"; estimated safety stock value change {change:.0%} (loss ratio), {side} "
            f"{threshold:.0%}{wait}"
        )
        verdict = Verdict(champ, old, change, status, f"retraining policy: {decision.reason}{gate}")
        record_verdicts(db, dataset, run_id, [verdict], window)
    add_registry_entry(
        db, dataset=dataset, kind=KIND + seg, model=decision.model if status != "pending" else old,
        data_start=window[0], data_end=window[1], features=sorted(losses), metrics=losses,
        promoted=status == "promoted", reason=decision.reason,
    )  # fmt: skip
    return Evaluation(seg, first, losses, decision, n_drift, status, change)


def pinned_champions(db: str | None, dataset: str) -> dict[tuple[str, str], str]:
    """Item × store → the registered champion of its segment (the segment of the latest
    scored period), for the plan to forecast with."""
    from echelon.storage.datastore import read_scores
    from echelon.storage.promotions import registered_champions

    registered = registered_champions(db, dataset)
    scores = read_scores(db, dataset).dropna(subset=["segment"])
    if scores.empty or not registered:
        return {}
    last = scores.sort_values(["period_start", "run_id"]).drop_duplicates(
        ["item_id", "location_id"], keep="last"
    )
    return {
        (str(i), str(loc)): registered[str(s)][0]
        for i, loc, s in zip(last["item_id"], last["location_id"], last["segment"], strict=True)
        if str(s) in registered
    }
