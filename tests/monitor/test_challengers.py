"""The forecast retraining policy: challengers scored weekly against each segment's champion,
promoted by margin over k weeks or on drift, through the safety-stock approval gate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from echelon.monitor import challengers as ch
from echelon.monitor.challengers import (
    candidate_losses,
    decide_segment,
    evaluate_challengers,
    pinned_champions,
    segment_losses,
)
from echelon.monitor.champions import SegmentChampion, Verdict
from echelon.storage import save_run
from echelon.storage.datastore import registry_entries, save_scores
from echelon.storage.promotions import (
    last_rejection,
    promotions,
    record_verdicts,
    registered_champions,
    reject_promotion,
)
from storage.factories import AS_OF, make_plan_result

BETTER = {"AutoETS": 1.0, "Naive": 0.8}  # Naive 20 % better than the champion AutoETS
CLOSE = {"AutoETS": 1.0, "Naive": 0.97}  # 3 % better: inside the 5 % margin


def test_a_challenger_needs_the_margin_in_k_consecutive_weeks() -> None:
    assert not decide_segment("AutoETS", [BETTER, BETTER], 0).promoted  # 2 weeks < k = 3
    assert not decide_segment("AutoETS", [BETTER, CLOSE, BETTER], 0).promoted
    d = decide_segment("AutoETS", [BETTER, BETTER, BETTER], 0)
    assert (d.model, d.promoted) == ("Naive", True) and "3 consecutive" in d.reason
    assert decide_segment("AutoETS", [BETTER, BETTER], 0, weeks=2).promoted


def test_a_drift_alarm_re_selects_the_best_model_now() -> None:
    d = decide_segment("AutoETS", [CLOSE], 2)
    assert (d.model, d.promoted) == ("Naive", True) and d.reason.startswith("on drift: 2")
    kept = decide_segment("AutoETS", [{"AutoETS": 0.5, "Naive": 0.9}], 1)
    assert not kept.promoted and "still has the lowest loss" in kept.reason


def test_segment_losses_compare_on_the_champion_series_only() -> None:
    losses = pd.DataFrame(
        [("A", "S1", "AutoETS", 1.0), ("A", "S1", "Naive", 0.5), ("B", "S1", "AutoETS", 3.0),
         ("B", "S1", "Naive", 1.5), ("C", "S1", "TSB", 9.0), ("A", "S1", "TSB", 0.1)],
        columns=["item_id", "location_id", "model", "loss"],
    )  # fmt: skip
    segments = pd.DataFrame(
        [("A", "S1", "AX"), ("B", "S1", "AX"), ("C", "S1", "CZ")],
        columns=["item_id", "location_id", "segment"],
    )
    out = segment_losses(losses, segments, {"AX": "AutoETS", "CZ": "Croston"})
    # TSB forecasts A only, not every series AutoETS forecasts: no challenger in AX
    assert out == {"AX": {"AutoETS": 2.0, "Naive": 1.0}}  # CZ: its champion has no loss


def test_candidate_losses_are_one_period_ahead_scaled_pinball() -> None:
    rng = np.random.default_rng(0)
    days = pd.date_range("2022-01-03", periods=60, freq="7D")
    rows = [("A", "S1", d, float(y)) for d, y in zip(days, rng.poisson(40, 60), strict=True)]
    rows += [("B", "S1", d, float(100 + 5 * t)) for t, d in enumerate(days)]  # a trend
    hist = pd.DataFrame(rows, columns=["item_id", "location_id", "ds", "y"])
    out = candidate_losses(hist)
    assert {"AutoETS", "Naive", "HistoricAverage"} <= set(out["model"])
    assert (out["loss"] >= 0).all() and set(out["item_id"]) == {"A", "B"}
    trend = out[out["item_id"] == "B"].set_index("model")["loss"]
    assert trend["Naive"] < trend["HistoricAverage"]  # the mean of a trend lags far behind


def _store(db: str) -> None:
    """A stored run (the factory's) with segment AX registered to AutoETS."""
    result = make_plan_result(parameters={"options": {"from_store": "d", "nowcast": False}})
    run = save_run(db, result).id
    champ = SegmentChampion("AX", "AutoETS", 2, 1.0, None, 1000.0)
    record_verdicts(db, "d", run, [Verdict(champ, None, 0.0, "promoted", "first selection")],
                    (AS_OF, AS_OF))  # fmt: skip


def _score(db: str, week: int, z: float = 0.0) -> None:
    start = pd.Timestamp(AS_OF) + pd.Timedelta(weeks=week)
    rows = [{"run_id": 1, "item_id": "FOODS_1", "location_id": loc, "segment": "AX",
             "period_start": start, "actual": 100.0 + 10 * z, "mean": 100.0, "std": 10.0}
            for loc in ("CA_1", "CA_2")]  # fmt: skip
    save_scores(db, "d", pd.DataFrame(rows))


def _losses(per_model: dict[str, float]):
    def fake(history: pd.DataFrame) -> pd.DataFrame:
        del history
        return pd.DataFrame(
            [("FOODS_1", loc, m, v) for loc in ("CA_1", "CA_2") for m, v in per_model.items()],
            columns=["item_id", "location_id", "model", "loss"],
        )

    return fake


@pytest.mark.parametrize(("naive", "status"), [(0.9, "promoted"), (0.5, "pending")])
def test_promotion_after_k_weeks_through_the_safety_stock_gate(
    tmp_path, monkeypatch: pytest.MonkeyPatch, naive: float, status: str
) -> None:
    db = str(tmp_path / "store.db")
    _store(db)
    monkeypatch.setattr(ch, "candidate_losses", _losses({"AutoETS": 1.0, "Naive": naive}))
    monkeypatch.setattr(ch, "_periods", lambda demand, period, days: demand)
    for week in range(3):
        _score(db, week)
        (ev,) = evaluate_challengers(db, "d")
        assert ev.decision.promoted == (week == 2) and ev.segment == "AX"
        assert evaluate_challengers(db, "d") == []  # the same period is evaluated once
    rows = registry_entries(db, "d", "challengers:AX")
    assert [r["metrics"]["Naive"] for r in rows] == [naive] * 3
    assert ev.status == status and ev.change == pytest.approx(1 - naive)
    reg = registered_champions(db, "d")["AX"][0]
    pending = [p for p in promotions(db, "d") if p["status"] == "pending"]
    if status == "promoted":  # 10 % estimated change, within the 20 % threshold
        assert reg == "Naive" and not pending
        assert pinned_champions(db, "d") == {("FOODS_1", "CA_1"): "Naive",
                                             ("FOODS_1", "CA_2"): "Naive"}  # fmt: skip
    else:  # 50 %: waits for approval, the old champion stays registered
        assert reg == "AutoETS" and len(pending) == 1 and pending[0]["new_model"] == "Naive"
        assert "beat AutoETS by more than 5% in 3 consecutive" in rows[-1]["reason"]
        gate = registry_entries(db, "d", "forecast:AX")[-1]["reason"]
        assert gate.startswith("retraining policy") and gate.endswith("waits for approval")
        assert set(pinned_champions(db, "d").values()) == {"AutoETS"}


def test_wins_before_a_rejection_do_not_count(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = str(tmp_path / "store.db")
    _store(db)
    monkeypatch.setattr(ch, "candidate_losses", _losses({"AutoETS": 1.0, "Naive": 0.5}))
    monkeypatch.setattr(ch, "_periods", lambda demand, period, days: demand)
    for week in range(3):
        _score(db, week)
        (ev,) = evaluate_challengers(db, "d")
    assert ev.status == "pending" and ev.decision.metric == "scaled pinball loss"
    assert "scaled pinball loss now 0.500 vs 1.000" in ev.decision.reason
    (pending,) = [p for p in promotions(db, "d") if p["status"] == "pending"]
    reject_promotion(db, pending["id"], "boss", "too much stock")
    assert last_rejection(db, "d", "AX") == registry_entries(db, "d", "forecast:AX")[-1]["id"]
    for week in range(3, 6):  # the same wins again: proposed only after 3 new ones
        _score(db, week)
        (ev,) = evaluate_challengers(db, "d")
        assert ev.decision.promoted == (week == 5), week
    assert registered_champions(db, "d")["AX"][0] == "AutoETS"
    assert [p["status"] for p in promotions(db, "d")] == ["rejected", "pending"]


def test_a_drift_alarm_promotes_without_waiting_k_weeks(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = str(tmp_path / "store.db")
    _store(db)
    monkeypatch.setattr(ch, "candidate_losses", _losses({"AutoETS": 1.0, "Naive": 0.97}))
    monkeypatch.setattr(ch, "_periods", lambda demand, period, days: demand)
    _score(db, 0)
    (quiet,) = evaluate_challengers(db, "d")
    assert not quiet.decision.promoted and quiet.drift_alarms == 0
    _score(db, 1, z=8.0)  # 8 σ above the forecast: a CUSUM alarm on both series
    (ev,) = evaluate_challengers(db, "d")
    assert ev.drift_alarms == 2 and ev.decision.promoted and ev.status == "promoted"
    assert registered_champions(db, "d")["AX"][0] == "Naive"


def test_the_history_ends_with_the_scored_period() -> None:
    days = pd.date_range("2024-01-01", "2024-03-03", freq="D")  # 9 whole weeks, Monday first
    demand = pd.DataFrame({"item_id": "A", "location_id": "S1", "ds": days, "y": 1.0})
    hist = ch._periods(demand, pd.Timestamp("2024-02-19"), 7)  # the 8th week, not the 9th
    assert hist["ds"].iloc[-1] == pd.Timestamp("2024-02-19") and len(hist) == 8
    assert (hist["y"] == 7.0).all()
