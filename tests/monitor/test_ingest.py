"""``ingest``: idempotent by content, corrections audited, bad rows named, findings per load."""

from __future__ import annotations

import uuid
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from echelon.errors import DataError
from echelon.monitor.ingest import ingest
from echelon.plan.data import load_context
from echelon.storage.datastore import data_audit_log, read_dataset, save_imputations
from monitor.stores import data_counts, tiny_load, write

DEMAND_HEAD = "item_id,location_id,ds,y\n"


def test_the_same_load_twice_changes_nothing(db_url: str, tmp_path: Path) -> None:
    first = ingest(tiny_load(tmp_path / "data"), db_url, "tiny")
    assert first.applied
    assert first.counts["demand"] == {"added": 4 * 112, "corrected": 0, "unchanged": 0}
    assert first.counts["files"]["added"] == 5
    before = data_counts(db_url)
    again = ingest(tmp_path / "data", db_url, "tiny")
    assert not again.applied and again.load_id == first.load_id
    assert data_counts(db_url) == before


def test_overlapping_rows_are_unchanged_and_a_differing_row_is_a_correction(
    db_url: str, tmp_path: Path
) -> None:
    ingest(tiny_load(tmp_path / "data"), db_url, "tiny")
    stored = read_dataset(db_url, "tiny").tables["demand"]
    old = float(stored.loc[(stored.item_id == "A") & (stored.location_id == "S1")].iloc[-1].y)
    day = "2024-04-21"
    week = write(
        tmp_path / "w1" / "demand.csv",
        DEMAND_HEAD + f"A,S1,{day},{old + 5:g}\nA,S2,2024-04-22,9\n",
    )
    done = ingest(week, db_url, "tiny")
    assert done.counts["demand"] == {"added": 1, "corrected": 1, "unchanged": 0}
    demand = read_dataset(db_url, "tiny").tables["demand"]
    row = demand[(demand.item_id == "A") & (demand.location_id == "S1") & (demand.ds == day)]
    assert float(row.y.iloc[0]) == old + 5
    (audit,) = [a for a in data_audit_log(db_url, "tiny") if a["action"] == "correct"]
    assert audit["key"] == f"A|S1|{day}" and audit["load_id"] == done.load_id
    assert str(old) in audit["old"] and str(old + 5) in audit["new"]


def test_a_new_snapshot_file_replaces_the_stored_one_with_an_audit_entry(
    db_url: str, tmp_path: Path
) -> None:
    folder = tiny_load(tmp_path / "data")
    ingest(folder, db_url, "tiny")
    plan = write(tmp_path / "p" / "plan.yaml", "name: tiny\nperiod_days: 7\nsim_reps: 2\n")
    done = ingest(plan, db_url, "tiny")
    assert done.counts["files"] == {"added": 0, "corrected": 1, "unchanged": 0}
    assert read_dataset(db_url, "tiny").files["plan.yaml"] == plan.read_text()
    assert [a["action"] for a in data_audit_log(db_url, "tiny")] == ["file"]


def test_bad_rows_are_named_in_one_error_and_nothing_is_stored(db_url: str, tmp_path: Path) -> None:
    ingest(tiny_load(tmp_path / "data"), db_url, "tiny")
    before = data_counts(db_url)
    bad = write(
        tmp_path / "bad" / "demand.csv",
        DEMAND_HEAD
        + "A,S1,2024-04-22,3\nZ,S1,2024-04-22,1\nA,S9,2024-04-22,1\nA,DC,2024-04-22,2\n",
    )
    with pytest.raises(DataError) as err:
        ingest(bad, db_url, "tiny")
    text = err.value.one_line()
    assert str(bad) in text and "row 3" in text and "item_id" in text and "'Z'" in text
    assert data_counts(db_url) == before


def test_conflicting_duplicates_are_an_error_and_exact_ones_a_finding(
    db_url: str, tmp_path: Path
) -> None:
    ingest(tiny_load(tmp_path / "data"), db_url, "tiny")
    conflict = write(
        tmp_path / "c" / "demand.csv", DEMAND_HEAD + "A,S1,2024-04-22,3\nA,S1,2024-04-22,4\n"
    )
    with pytest.raises(DataError, match="row 3"):
        ingest(conflict, db_url, "tiny")
    exact = write(
        tmp_path / "e" / "demand.csv", DEMAND_HEAD + "A,S1,2024-04-22,3\nA,S1,2024-04-22,3\n"
    )
    done = ingest(exact, db_url, "tiny")
    assert done.counts["demand"]["added"] == 1
    assert any("1 duplicate rows dropped (rows 3)" in f.message for f in done.findings)


def test_a_store_that_did_not_report_is_late_and_its_days_are_missing(
    db_url: str, tmp_path: Path
) -> None:
    ingest(tiny_load(tmp_path / "data"), db_url, "tiny")
    rows = "".join(f"{i},S1,2024-04-2{d},5\n" for i in "AB" for d in (2, 3))
    done = ingest(write(tmp_path / "w" / "demand.csv", DEMAND_HEAD + rows), db_url, "tiny")
    messages = [f.message for f in done.findings]
    assert any("store 'S2' has not reported its last 2 day(s)" in m for m in messages)
    assert any("store 'S2' reported no demand for 2024-04-23" in m for m in messages)
    assert not any("'S1' has not reported" in m for m in messages)


def test_an_outlier_day_is_a_finding(db_url: str, tmp_path: Path) -> None:
    ingest(tiny_load(tmp_path / "data"), db_url, "tiny")
    rows = "A,S1,2024-04-22,400\nA,S2,2024-04-22,12\nB,S1,2024-04-22,5\nB,S2,2024-04-22,3\n"
    done = ingest(write(tmp_path / "w" / "demand.csv", DEMAND_HEAD + rows), db_url, "tiny")
    flagged = [f for f in done.findings if "robust standard deviations" in f.message]
    assert [(f.item, f.location) for f in flagged] == [("A", "S1")]


def test_on_hand_is_reconciled_against_receipts_and_sales(db_url: str, tmp_path: Path) -> None:
    ingest(tiny_load(tmp_path / "data"), db_url, "tiny")  # A at S1: 60 on hand on 2024-04-22
    load = tmp_path / "w"
    write(load / "demand.csv", DEMAND_HEAD + "A,S1,2024-04-22,20\nA,S1,2024-04-23,15\n")
    write(load / "receipts.csv", "item_id,location_id,date,quantity\nA,S1,2024-04-23,30\n")
    # 60 + 30 − 35 = 55 expected for S1; S2's 40 with no sales and no receipts stays 40
    write(
        load / "inventory.csv",
        "item_id,location_id,on_hand,date\nA,S1,55,2024-04-24\nA,S2,31,2024-04-24\n",
    )
    done = ingest(load, db_url, "tiny")
    gaps = [f for f in done.findings if "receipts − sales gives" in f.message]
    assert [(f.location, f.value) for f in gaps] == [("S2", -9.0)]


def test_a_real_row_replaces_an_imputed_one(db_url: str, tmp_path: Path) -> None:
    ingest(tiny_load(tmp_path / "data"), db_url, "tiny")
    nowcast = pd.DataFrame(
        {
            "item_id": ["A"],
            "location_id": ["S2"],
            "ds": pd.to_datetime(["2024-04-22"]),
            "y": [11.5],
            "method": ["seasonal_naive"],
        }
    )
    assert save_imputations(db_url, "tiny", nowcast) == 1
    demand = read_dataset(db_url, "tiny").tables["demand"]
    row = demand[(demand.location_id == "S2") & (demand.ds == "2024-04-22")]
    assert len(row) == 1 and bool(row.imputed.iloc[0]) and row.method.iloc[0] == "seasonal_naive"
    done = ingest(
        write(tmp_path / "w" / "demand.csv", DEMAND_HEAD + "A,S2,2024-04-22,9\n"), db_url, "tiny"
    )
    assert done.counts["demand"]["corrected"] == 1
    demand = read_dataset(db_url, "tiny").tables["demand"]
    real = demand[(demand.location_id == "S2") & (demand.ds == "2024-04-22")]
    assert float(real.y.iloc[0]) == 9.0 and not bool(real.imputed.iloc[0])
    assert [a["action"] for a in data_audit_log(db_url, "tiny")] == ["impute", "actual"]
    assert save_imputations(db_url, "tiny", nowcast) == 0  # the real value stays


def test_the_store_written_out_loads_like_the_original_folder(db_url: str, tmp_path: Path) -> None:
    from echelon.monitor.store_plan import write_folder

    folder = tiny_load(tmp_path / "data")
    ingest(folder, db_url, "tiny")
    out = write_folder(read_dataset(db_url, "tiny"), tmp_path / "out", "tiny", False)
    original, stored = load_context(folder), load_context(out)
    assert stored.as_of == original.as_of
    pd.testing.assert_frame_equal(stored.history, original.history)
    assert stored.stock.positions == original.stock.positions
    assert stored.items == original.items
    cols = ["from_id", "to_id", "lead_time_days"]
    assert stored.lead_times is not None and original.lead_times is not None
    pd.testing.assert_frame_equal(
        stored.lead_times.sort_values(cols, ignore_index=True),
        original.lead_times.sort_values(cols, ignore_index=True),
    )


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.integers(0, 2), min_size=4 * 112, max_size=4 * 112), st.booleans())
def test_any_split_and_order_of_loads_stores_the_same_demand(
    tmp_path: Path, parts: list[int], twice: bool
) -> None:
    """The demand split into up to three loads, applied in any order (and again), is stored
    exactly as one load of the whole file."""
    folder = tiny_load(tmp_path / "data")
    whole = (folder / "demand.csv").read_text().splitlines()
    run = uuid.uuid4().hex
    one, many = str(tmp_path / f"one-{run}.db"), str(tmp_path / f"many-{run}.db")
    ingest(folder, one, "tiny")
    (folder / "demand.csv").write_text(whole[0] + "\n" + whole[1] + "\n")
    ingest(folder, many, "tiny")
    for k in (2, 0, 1) * (2 if twice else 1):
        rows = [line for line, p in zip(whole[1:], parts, strict=True) if p == k]
        if rows:
            ingest(
                write(
                    tmp_path / run / f"p{k}" / "demand.csv",
                    whole[0] + "\n" + "\n".join(rows) + "\n",
                ),
                many,
                "tiny",
            )
    a = read_dataset(one, "tiny").tables["demand"]
    b = read_dataset(many, "tiny").tables["demand"]
    pd.testing.assert_frame_equal(a, b)
