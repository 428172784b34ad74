"""The weekly loop end to end: a challenger wins enough weeks that its promotion moves safety
stock above the threshold and waits; the weekly plan in between keeps it pending; an approver
rejects (or approves) it with the CLI's service function; the next plan from the store
forecasts with the OLD champion when rejected and the NEW one when approved — in the
registry and in the plan's series models. A rejected challenger is not proposed again at once.

The history is 26 weeks: the hold-out fit (22 periods) sees every series as too short
(``GroupPrior``) while the plan fit forecasts it with a real candidate — the registry must
register the plan fit's model (``ForecastSeries.plan_model``)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from echelon.monitor.ingest import ingest
from echelon.monitor.store_plan import plan_from_store
from echelon.plan.forecast_fit import PLAN_CANDIDATES
from echelon.plan.service import StoredPlan
from echelon.storage.promotions import (
    approve_promotion,
    forecast_entries,
    held_segments_of,
    promotions,
    registered_champions,
    reject_promotion,
)
from monitor.stores import WEEKS, long_demand, rig_policy, tiny_load, write
from plan.bad_folders import TINY_AS_OF, TINY_RATES

WINS = 2  # consecutive weekly wins the (patched) policy asks for
LOSS = 0.5  # the challenger's loss relative to every other model: a 50 % estimated change


def _plan_models(stored: StoredPlan) -> dict[tuple[str, str], str | None]:
    """(item, store) → the model the plan fit forecast the series with."""
    return {(f.item, f.location): f.plan_model for f in stored.result.forecasts}


def _week(tmp: Path, db: str, k: int) -> None:
    """Ingest week ``k`` (1, 2, …) after the first load's history."""
    end = date.fromisoformat(TINY_AS_OF) + timedelta(weeks=k)
    ingest(write(tmp / f"w{k}" / "demand.csv", long_demand(7, end.isoformat())), db, "t")


def _pending(db: str) -> list[dict[str, object]]:
    return [p for p in promotions(db, "t") if p["status"] == "pending"]


@pytest.mark.parametrize("decision", ["rejected", "approved"])
def test_the_plan_after_a_decided_promotion(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, decision: str
) -> None:
    db = str(tmp_path / "store.db")
    folder = tiny_load(tmp_path / "data")
    write(folder / "demand.csv", long_demand(WEEKS * 7))
    ingest(folder, db, "t")
    run1 = plan_from_store(db, "t")  # free choice: the first selection
    old = registered_champions(db, "t")
    assert {(f.item, f.location): f.model for f in run1.result.forecasts} == dict.fromkeys(
        TINY_RATES, "GroupPrior"
    )  # the hold-out fit's model ...
    assert "GroupPrior" not in {m for m, _ in old.values()}  # ... is not what is registered
    (first,) = {m for m, _ in old.values()}
    assert _plan_models(run1) == dict.fromkeys(TINY_RATES, first)
    new = next(m for m in PLAN_CANDIDATES["smooth"] if m != first)
    rig_policy(monkeypatch, new, LOSS, WINS)

    _week(tmp_path, db, 1)  # win 1 of 2: nothing yet
    assert registered_champions(db, "t") == old and not promotions(db, "t")
    run2 = plan_from_store(db, "t")
    _week(tmp_path, db, 2)  # win 2: above the 20 % gate, the promotions wait
    pending = _pending(db)
    assert {p["segment"] for p in pending} == set(old)
    assert {(p["old_model"], p["new_model"], p["run_id"]) for p in pending} == {
        (first, new, run2.run_id)
    }
    assert {m for m, _ in registered_champions(db, "t").values()} == {first}
    run3 = plan_from_store(db, "t")  # the weekly plan before anyone decides
    assert run3.created and _plan_models(run3) == dict.fromkeys(TINY_RATES, first)
    assert [p["id"] for p in _pending(db)] == [p["id"] for p in pending]  # still decidable

    for p in pending:
        pid = int(str(p["id"]))
        if decision == "rejected":
            reject_promotion(db, pid, "boss", "over-forecasts the promotion weeks")
        else:
            approve_promotion(db, pid, "boss")
    assert {p["status"] for p in promotions(db, "t")} == {decision}
    held = {str(p["segment"]) for p in pending} if decision == "rejected" else set()
    assert held_segments_of(db, run2.run_id) == held

    _week(tmp_path, db, 3)  # the challenger wins again: once since the rejection, not twice
    assert not _pending(db)
    run4 = plan_from_store(db, "t")
    assert run4.created
    champion = first if decision == "rejected" else new
    assert {s: m for s, (m, _) in registered_champions(db, "t").items()} == dict.fromkeys(
        old, champion
    )
    assert _plan_models(run4) == dict.fromkeys(TINY_RATES, champion)
    assert run4.result.parameters["options"]["pinned"]["models"] == {champion: len(TINY_RATES)}
    latest = {str(e["kind"]): e for e in forecast_entries(db, "t")}
    assert all(e["model"] == champion for e in latest.values())
    if decision == "rejected":
        reasons = [str(e["reason"]) for e in forecast_entries(db, "t")]
        assert sum("rejected by boss: over-forecasts the promotion weeks" in r
                   for r in reasons) == len(old)  # fmt: skip
