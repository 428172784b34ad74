"""The nowcaster's retraining policy and its registry (model card)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from echelon.monitor.ingest import ingest
from echelon.monitor.retrain import decide, model_card
from echelon.storage.datastore import registry_entries
from monitor.stores import tiny_load, write


def test_first_selection_takes_the_backtest_winner() -> None:
    d = decide(None, [{"seasonal_naive": 0.2, "lstm": 0.1}])
    assert (d.model, d.promoted) == ("lstm", True) and "first selection" in d.reason


def test_a_challenger_needs_the_margin_in_k_consecutive_backtests() -> None:
    champ = "seasonal_naive"
    better = {"seasonal_naive": 0.20, "lstm": 0.15}  # 25 % better
    close = {"seasonal_naive": 0.20, "lstm": 0.195}  # 2.5 % better: inside the margin
    assert decide(champ, [better]).model == champ  # one backtest is not enough (k = 2)
    assert decide(champ, [close, better]).model == champ
    d = decide(champ, [better, better])
    assert (d.model, d.promoted) == ("lstm", True)
    assert "beat seasonal_naive by more than 5% in 2 consecutive backtests" in d.reason
    kept = decide(champ, [better, close])
    assert kept.model == champ and not kept.promoted and "not by 5%" in kept.reason
    assert decide(champ, [better, {"seasonal_naive": 0.1, "lstm": 0.3}]).reason.startswith(
        "champion kept: lowest"
    )


def test_a_decision_carries_the_metric_it_compared_on() -> None:
    better = {"seasonal_naive": 0.20, "lstm": 0.15}
    d = decide("seasonal_naive", [better, better])
    assert d.metric == "backtest WAPE" and "backtest WAPE now 15.0% vs 20.0%" in d.reason
    loss = decide("seasonal_naive", [better], metric="pinball", show="{:.2f}".format)
    assert loss.metric == "pinball" and "(pinball 0.15 vs 0.20)" in loss.reason
    first = decide(None, [better], metric="pinball")
    assert first.reason == "first selection: lowest pinball 15.0%"


def test_the_registry_records_every_nowcast_and_why(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from echelon.monitor.store_plan import nowcast_dataset

    db = str(tmp_path / "store.db")
    ingest(tiny_load(tmp_path / "data"), db, "tiny")
    late = "item_id,location_id,ds,y\n" + "".join(
        f"{i},S1,2024-04-2{d},5\n" for i in "AB" for d in (2, 3)
    )
    ingest(write(tmp_path / "w" / "demand.csv", late), db, "tiny")
    first = nowcast_dataset(db, "tiny")
    second = nowcast_dataset(db, "tiny")  # the same data: the champion stays
    entries = registry_entries(db, "tiny", "nowcaster")
    assert [e["promoted"] for e in entries] == [True, False]
    assert entries[0]["model"] == min(first.scores, key=first.scores.__getitem__)
    assert entries[1]["model"] == entries[0]["model"] == second.method
    assert entries[0]["metrics"] == pytest.approx(first.scores)
    assert str(entries[0]["data_end"]) == "2024-04-23" and entries[0]["features"]
    card = model_card(entries)
    assert card[0].startswith(f"nowcaster champion: {entries[0]['model']}")
    assert any(line.startswith("promoted") and "first selection" in line for line in card)
    imputed = pd.DataFrame(first.rows)
    assert set(imputed.location_id) == {"S2"}
