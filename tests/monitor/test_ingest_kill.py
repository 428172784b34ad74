"""A process killed with SIGKILL in the middle of an ingest leaves the store as it was, and
the same load applies whole afterwards.

The child replaces :func:`echelon.storage.datastore.insert_rows` by one that inserts half of
the rows, writes the marker file and sleeps before the rest (inside the load's transaction).
"""

from __future__ import annotations

from pathlib import Path

from echelon.monitor.ingest import ingest
from echelon.storage.datastore import read_dataset
from monitor.stores import data_counts, tiny_load, write
from storage.pause_in_save import kill_at_pause

CHILD = """
import sys, time
from pathlib import Path
from echelon.storage import datastore
original = datastore.insert_rows
def paused(conn, table, rows):
    half = len(rows) // 2
    original(conn, table, rows[:half])
    Path(sys.argv[3]).write_text("paused")
    time.sleep(300)
    original(conn, table, rows[half:])
datastore.insert_rows = paused
from echelon.monitor.ingest import ingest
ingest(sys.argv[1], sys.argv[2], "tiny")
print("committed")
"""


def test_sigkill_during_ingest_leaves_the_store_as_before(db_url: str, tmp_path: Path) -> None:
    ingest(tiny_load(tmp_path / "data"), db_url, "tiny")
    before = data_counts(db_url)
    before_demand = read_dataset(db_url, "tiny").tables["demand"]
    rows = "".join(
        f"{i},{s},2024-04-{d},{k}\n"
        for k, (i, s, d) in enumerate(
            (i, s, d) for i in "AB" for s in ("S1", "S2") for d in range(22, 29)
        )
    )
    week = write(tmp_path / "w" / "demand.csv", "item_id,location_id,ds,y\n" + rows)
    marker = tmp_path / "paused"
    kill_at_pause(CHILD, [str(week), db_url, str(marker)], marker)
    assert data_counts(db_url) == before
    after = read_dataset(db_url, "tiny").tables["demand"]
    assert after.equals(before_demand)
    done = ingest(week, db_url, "tiny")
    assert done.applied and done.counts["demand"]["added"] == 28
    assert data_counts(db_url)["data_demand"] == before["data_demand"] + 28
