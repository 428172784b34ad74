"""Robustness: a process killed with SIGKILL in the middle of saving a run leaves the database
as it was (no partial run, earlier runs and their reviews intact), and the next save works.

The child process installs :mod:`storage.pause_in_save`: ``save_run`` inserts the run row and
half of its recommendations, writes the marker file and sleeps before committing.
"""

from __future__ import annotations

from pathlib import Path

from echelon.storage import audit_log, list_runs, load_run, save_run, set_status
from storage.databases import row_counts
from storage.factories import make_plan_result
from storage.pause_in_save import kill_at_pause

CHILD = """
import sys
from storage.pause_in_save import install
install(sys.argv[2])
from storage.factories import make_plan_result
from echelon.storage import save_run
save_run(sys.argv[1], make_plan_result(name="killed", input_hash="b" * 64, n_orders=10))
print("committed")
"""


def test_sigkill_during_save_leaves_the_database_consistent(db_url: str, tmp_path: Path) -> None:
    first = make_plan_result(name="earlier")
    earlier = save_run(db_url, first).id
    set_status(db_url, earlier, [first.recommendations[0].key], "approve", "ana", "ok")
    before_counts = row_counts(db_url)
    before_run = load_run(db_url, earlier)
    before_audit = audit_log(db_url, earlier)

    out = kill_at_pause(CHILD, [db_url, str(tmp_path / "paused")], tmp_path / "paused")
    assert "committed" not in out

    # the killed run left no trace; the earlier run and its review are intact
    assert row_counts(db_url) == before_counts
    assert [r.name for r in list_runs(db_url)] == ["earlier"]
    assert load_run(db_url, earlier) == before_run
    assert audit_log(db_url, earlier) == before_audit
    (summary,) = list_runs(db_url)
    assert sum(summary.statuses.values()) == summary.n_recommendations

    # the next save succeeds and is whole
    again = save_run(db_url, make_plan_result(name="killed", input_hash="b" * 64, n_orders=10))
    assert again.created
    counts = row_counts(db_url)
    assert counts["runs"] == 2
    assert counts["recommendations"] == sum(r.n_recommendations for r in list_runs(db_url))
    assert len(load_run(db_url, again.id).recommendations) == 12
