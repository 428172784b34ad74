"""The plan from the store forecasts with the registered champions: the retraining policy
promotes a challenger → the next plan uses it; a changed pin is a new run key."""

from __future__ import annotations

from pathlib import Path

import pytest

from echelon.monitor.challengers import pinned_champions
from echelon.monitor.ingest import ingest
from echelon.monitor.store_plan import plan_from_store
from echelon.plan.forecast_fit import PLAN_CANDIDATES
from echelon.plan.service import pins_key
from echelon.storage.promotions import (
    registered_champions,
)
from monitor.stores import long_demand, rig_policy, tiny_load, write
from plan.bad_folders import TINY_RATES

HISTORY_DAYS = 30 * 7  # the hold-out fit keeps 26 periods: no series is short


def _models(stored) -> dict[tuple[str, str], str]:  # type: ignore[no-untyped-def]
    """(item, store) → the model of the run's forecasts (the hold-out fit's fan charts)."""
    return {(f.item, f.location): f.model for f in stored.result.forecasts}


def test_a_promoted_champion_is_planned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = str(tmp_path / "store.db")
    folder = tiny_load(tmp_path / "data")
    write(folder / "demand.csv", long_demand(HISTORY_DAYS))
    ingest(folder, db, "t")
    plan_from_store(db, "t")  # run 1: free choice, registered as the first champions
    first = {m for m, _ in registered_champions(db, "t").values()}
    new = next(m for m in PLAN_CANDIDATES["smooth"] if m not in first)
    rig_policy(monkeypatch, new, 0.9, 1)  # 10 % better: within the 20 % gate, promoted at once
    ingest(write(tmp_path / "w1" / "demand.csv", long_demand(7, "2024-04-29")), db, "t")
    assert {m for m, _ in registered_champions(db, "t").values()} == {new}
    assert pinned_champions(db, "t") == dict.fromkeys(TINY_RATES, new)
    run2 = plan_from_store(db, "t")
    assert run2.created and _models(run2) == dict.fromkeys(TINY_RATES, new)
    assert run2.result.parameters["options"]["pinned"] == pins_key(dict.fromkeys(TINY_RATES, new))
    assert not [w for w in run2.result.warnings if "pinned" in w.message]
    assert not plan_from_store(db, "t").created  # the same data and pins: the stored run


def test_the_pins_are_part_of_the_run_key() -> None:
    one = pins_key({("A", "S1"): "Naive", ("B", "S1"): "Naive"})
    assert one == pins_key({("B", "S1"): "Naive", ("A", "S1"): "Naive"})
    assert one["models"] == {"Naive": 2}
    assert one != pins_key({("A", "S1"): "Naive", ("B", "S1"): "AutoETS"})
    assert one != pins_key({("A", "S1"): "Naive", ("B", "S2"): "Naive"})
