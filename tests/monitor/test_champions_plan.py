"""The forecast-promotion gate through real plans from the store: ``plan --from-store``
registers each segment's champion; a changed champion that moves safety stock above the
threshold makes a high exception and holds the segment's orders back from auto-approval."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from echelon.monitor.champions import SegmentChampion, Verdict
from echelon.plan.model import ExceptionKind
from echelon.storage import load_run
from echelon.storage.promotions import forecast_entries, promotions, record_verdicts
from monitor.stores import WEEKS, long_demand, tiny_load, write
from plan.bad_folders import TINY_RATES

sys.path.insert(0, str(Path(__file__).parents[1] / "cli"))
from cli_helpers import run_cli


def test_plans_from_the_store_register_and_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "store.db")
    folder = tiny_load(tmp_path / "data")
    write(folder / "demand.csv", long_demand(WEEKS * 7))
    code, _, err = run_cli(["ingest", str(folder), "--db", db, "--name", "t"], capsys)
    assert code == 0, err
    code, _, err = run_cli(["plan", "--from-store", "t", "--db", db, "--quiet"], capsys)
    assert code == 0, err
    first = forecast_entries(db, "t")
    assert first and all(e["promoted"] and e["reason"].startswith("first selection")
                         for e in first)  # fmt: skip
    run1 = load_run(db, 1)
    assert {str(e["kind"]).removeprefix("forecast:") for e in first} == {
        p.segment for p in run1.placements if (p.item, p.location) in TINY_RATES
    }
    assert str(first[0]["data_end"]) == "2024-04-21"
    # the registry says another model was the champion, planned with almost no safety stock
    fake = [
        Verdict(SegmentChampion(str(e["kind"]).removeprefix("forecast:"), "Zero", 1, 1.0,
                                None, 0.01), "Zero", 0.0, "promoted", "test: registered")
        for e in first
    ]  # fmt: skip
    record_verdicts(db, "t", 1, fake, (first[0]["data_start"], first[0]["data_end"]))
    week = write(tmp_path / "w1" / "demand.csv", long_demand(7, "2024-04-29"))
    code, _, err = run_cli(["ingest", str(week), "--db", db, "--name", "t"], capsys)
    assert code == 0, err
    code, out, err = run_cli(["plan", "--from-store", "t", "--db", db, "--quiet"], capsys)
    assert code == 0 and "Stored as run 2" in out, err
    run2 = load_run(db, 2)
    gated = [e for e in run2.exceptions if e.kind == ExceptionKind.LARGE_CHANGE
             and "waits for approval" in e.message]  # fmt: skip
    pending = promotions(db, "t")
    assert len(gated) == len(pending) == len(first)
    assert all(p["status"] == "pending" and p["old_model"] == "Zero" for p in pending)
    code, out, err = run_cli(
        ["auto-approve", "2", "--max-value", "1e9", "--with-exceptions", "--by", "ana",
         "--db", db], capsys,
    )  # fmt: skip
    assert code == 0, err
    stores = [r for r in load_run(db, 2).recommendations if (r.item, r.location) in TINY_RATES]
    assert stores and all(r.status.value == "proposed" for r in stores)
    for p in pending:
        args = ["monitor", "approve-promotion", str(p["id"]), "--by", "boss", "--db", db]
        code, _, err = run_cli(args, capsys)
        assert code == 0, err
    code, out, err = run_cli(
        ["auto-approve", "2", "--max-value", "1e9", "--with-exceptions", "--by", "ana",
         "--db", db], capsys,
    )  # fmt: skip
    assert code == 0, err
    stores = [r for r in load_run(db, 2).recommendations if (r.item, r.location) in TINY_RATES]
    assert all(r.status.value == "approved" for r in stores if r.kind.value == "order")
    assert any(r.kind.value == "order" for r in stores)
