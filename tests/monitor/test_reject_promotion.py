"""Rejecting a forecast promotion that waits for approval: audited with its reason, the old
champion stays registered, the run's recommendations of the segment stay held."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from echelon.monitor.champions import Registered, forecast_card, gate, segment_champions
from echelon.storage import audit_log
from echelon.storage.db import StorageError
from echelon.storage.promotions import (
    approve_promotion,
    forecast_entries,
    held_segments_of,
    promotions,
    record_verdicts,
    registered_champions,
    reject_promotion,
)
from monitor.stores import MODELS, WINDOW, stored_run

sys.path.insert(0, str(Path(__file__).parents[1] / "cli"))
from cli_helpers import run_cli


def _pending(db: str) -> tuple[int, int]:
    """A run whose AX champion (AutoETS) waits for approval against a registered Zero."""
    run, result = stored_run(db, MODELS, "a")
    champs = {"AX": segment_champions(result)["AX"]}
    (pid,) = record_verdicts(db, "d", run, gate(champs, {"AX": Registered("Zero", 0.0)}), WINDOW)
    return run, pid


def test_a_rejected_promotion_keeps_the_old_champion_and_is_audited(db_url: str) -> None:
    run, pid = _pending(db_url)
    with pytest.raises(StorageError, match="without a reason"):
        reject_promotion(db_url, pid, "boss", "   ")
    row = reject_promotion(db_url, pid, "boss", "over-forecasts  the\npromotion weeks")
    assert row["status"] == "rejected" and row["decided_by"] == "boss"
    assert [p["status"] for p in promotions(db_url, "d")] == ["rejected"]
    assert registered_champions(db_url, "d")["AX"][0] == "Zero"  # the old one stays
    last = forecast_entries(db_url, "d")[-1]
    assert not last["promoted"] and last["model"] == "Zero"
    assert "rejected by boss: over-forecasts the promotion weeks" in last["reason"]
    (trail,) = [e for e in audit_log(db_url, run) if e.action == "reject_promotion"]
    assert trail.who == "boss" and trail.key == "promotion:AX"
    assert (trail.from_status, trail.to_status) == ("pending", "rejected")
    assert trail.comment is not None and "reason: over-forecasts the promotion weeks" in (
        trail.comment
    )
    assert held_segments_of(db_url, run) == {"AX"}  # planned with the rejected model: held
    for decide in (
        lambda: reject_promotion(db_url, pid, "boss", "again"),
        lambda: approve_promotion(db_url, pid, "boss"),
    ):
        with pytest.raises(StorageError, match="it is rejected"):
            decide()
    with pytest.raises(StorageError, match="cannot reject forecast promotion 999"):
        reject_promotion(db_url, 999, "boss", "no such")
    card = "\n".join(forecast_card(forecast_entries(db_url, "d"), promotions(db_url, "d")))
    assert f"promotion #{pid}" in card and "rejected by boss" in card and "PENDING" not in card


def test_reject_promotion_through_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "store.db")
    _, pid = _pending(db)
    base = ["monitor", "reject-promotion", str(pid), "--db", db, "--by", "boss"]
    code, _, err = run_cli(base, capsys)
    assert code == 2 and "--reason" in err and "Traceback" not in err
    code, out, err = run_cli([*base, "--reason", "too much stock"], capsys)
    assert code == 0, err
    assert "rejected by boss" in out and "stays forecast by Zero (not AutoETS)" in out
    code, _, err = run_cli([*base, "--reason", "again"], capsys)
    assert code == 2 and "cannot reject forecast promotion" in err and "Traceback" not in err
    code, out, _ = run_cli(["monitor", "--db", db, "--name", "d"], capsys)
    assert code == 0 and "segment AX: champion Zero" in out and "rejected by boss" in out
